package tokencache

import (
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
)

// ExpiryWarningWindow is how close to expiry a certificate draws a warning (SPEC §3, §13).
const ExpiryWarningWindow = 30 * 24 * time.Hour

// ExpiryWarning is SPEC §13's warning for p's certificate, decided the same way by every
// binary on every path: the text (without a "warning: " prefix, which each program adds
// in its host tool's style) when the certificate expires within ExpiryWarningWindow of
// now and p was not warned yet this UTC day, else "". Giving it records the day in p's
// stamp file in cacheDir (ExpiryStampPath), so that git, which shows its helper's stderr
// on every fetch, hears it once a day. The certificate is not opened: its expiry is what
// the cache remembers of it (RememberedCert); a certificate not remembered yet, or
// already expired (refused with its own error), gets "".
func ExpiryWarning(p *profile.Profile, cacheDir string, now time.Time) string {
	return ExpiryWarningOf(p, CertInfo{}, cacheDir, now)
}

// ExpiryWarningOf is ExpiryWarning for a certificate whose memo the caller read already
// (Cache.Lookup's CertInfo, or the certificate a miss loaded): known is used when it
// names a thumbprint, else RememberedCert is read.
func ExpiryWarningOf(p *profile.Profile, known CertInfo, cacheDir string, now time.Time) string {
	if p.Method() != profile.MethodCertificate {
		return ""
	}
	c := known
	if c.Thumbprint == "" {
		var ok bool
		if c, ok = RememberedCert(p, cacheDir); !ok {
			return ""
		}
	}
	left := c.NotAfter.Sub(now)
	if c.NotAfter.IsZero() || left <= 0 || left > ExpiryWarningWindow {
		return ""
	}
	today := now.UTC().Format(time.DateOnly)
	stamp := ExpiryStampPath(cacheDir, p.Name)
	if warnedOn(stamp) == today {
		return ""
	}
	// A stamp that cannot be written (read-only or untrusted cache directory) only means
	// the warning may come again: it never fails the command that asked.
	_ = writeStamp(cacheDir, stamp, today)
	return expiryText(p.Name, c, now)
}

// expiryText is the warning's one line. The subject is the certificate's own text and the
// profile name the user's: both are escaped for the terminal (SPEC §12).
func expiryText(name string, c CertInfo, now time.Time) string {
	subject := c.Subject
	if subject == "" {
		subject = "with thumbprint " + c.Thumbprint
	}
	name = termtext.Escape(name)
	return fmt.Sprintf("certificate %s of profile '%s' expires on %s (%s): renew it with 'entratool cert renew -p %s'",
		termtext.Escape(subject), name, c.NotAfter.UTC().Format(time.DateOnly), daysLeft(c.NotAfter, now), name)
}

// daysLeft counts calendar days (UTC) from now to the expiry date, so that it agrees with
// the date printed beside it.
func daysLeft(notAfter, now time.Time) string {
	day := func(t time.Time) time.Time {
		y, m, d := t.UTC().Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	switch n := int(day(notAfter).Sub(day(now)) / (24 * time.Hour)); n {
	case 0:
		return "today"
	case 1:
		return "1 day"
	default:
		return fmt.Sprintf("%d days", n)
	}
}

// stampDir holds one stamp per profile: the UTC day it was last warned.
const stampDir = "expiry-warned"

// maxStampSize bounds what is read of a stamp: it holds one date.
const maxStampSize = 64

// ExpiryStampPath is the file that remembers the day profile name was last warned about
// its certificate. The name is digested (as cache entries' are): profile names may be
// long or differ only in case.
func ExpiryStampPath(cacheDir, name string) string {
	h := fnv.New128a()
	h.Write([]byte(name))
	return filepath.Join(cacheDir, stampDir, hex.EncodeToString(h.Sum(nil)))
}

// warnedOn is the day the stamp records, or "" when there is none usable. The cache
// directories and the stamp must pass the trust rules (SPEC §12): the stamp is opened
// without following a symlink or blocking on a FIFO, and such a file is refused — the
// warning is then given, which is the safe side.
func warnedOn(stamp string) string {
	dir := filepath.Dir(stamp)
	if fsutil.CheckDirs(filepath.Dir(dir), dir) != nil {
		return ""
	}
	data, err := fsutil.ReadPrivate(stamp, fsutil.NoFollow, maxStampSize)
	if err != nil || len(data) == 0 || data[len(data)-1] != '\n' {
		return ""
	}
	return string(data[:len(data)-1])
}

// writeStamp records day atomically (temp file and rename: a reader sees the old day or
// the new, and a symlink or FIFO planted at the stamp is replaced, never written
// through), in directories made private or refused by EnsurePrivateDirs.
func writeStamp(cacheDir, stamp, day string) error {
	if err := fsutil.EnsurePrivateDirs(cacheDir, filepath.Dir(stamp)); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(stamp, []byte(day+"\n"), 0o600)
}
