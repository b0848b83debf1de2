package tokencache

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
)

// expiryFixture is a certificate profile whose memo says the certificate expires on
// 2026-12-20, and a clock 17 days before that.
func expiryFixture(t testing.TB) (p *profile.Profile, cacheDir string, now time.Time) {
	t.Helper()
	dir := t.TempDir()
	pfx := filepath.Join(dir, "app.pfx")
	if err := os.WriteFile(pfx, []byte("pfx"), 0o600); err != nil {
		t.Fatal(err)
	}
	cacheDir = filepath.Join(dir, "cache")
	info := CertInfo{Thumbprint: "AB12", NotAfter: time.Date(2026, 12, 20, 8, 0, 0, 0, time.UTC), Subject: "CN=app"}
	if err := (CertMemo{Dir: MemoDir(cacheDir)}).Store(pfx, info); err != nil {
		t.Fatal(err)
	}
	p = &profile.Profile{Name: "prod", UseCertificate: true, CertificatePath: pfx}
	return p, cacheDir, time.Date(2026, 12, 3, 23, 30, 0, 0, time.UTC)
}

const wantExpiryText = "certificate CN=app of profile 'prod' expires on 2026-12-20 (17 days): renew it with 'entratool cert renew -p prod'"

func TestExpiryWarningOncePerDay(t *testing.T) {
	p, cacheDir, now := expiryFixture(t)
	stamp := ExpiryStampPath(cacheDir, p.Name)

	// More than 30 days left: nothing said, nothing written.
	if w := ExpiryWarning(p, cacheDir, now.AddDate(0, 0, -14)); w != "" {
		t.Fatalf("31 days before expiry: %q", w)
	}
	if _, err := os.Lstat(stamp); !os.IsNotExist(err) {
		t.Fatalf("stamp written when nothing was due: %v", err)
	}

	if w := ExpiryWarning(p, cacheDir, now); w != wantExpiryText {
		t.Fatalf("first warning = %q\nwant %q", w, wantExpiryText)
	}
	fi, err := os.Lstat(stamp)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm() != 0o600 {
		t.Fatalf("stamp %s: %v %v, want a regular 0600 file", stamp, fi, err)
	}
	// Same UTC day, later: already said.
	if w := ExpiryWarning(p, cacheDir, now.Add(20*time.Minute)); w != "" {
		t.Fatalf("second warning the same day: %q", w)
	}
	// 00:10 UTC the next day: said again, one day fewer.
	if w := ExpiryWarning(p, cacheDir, now.Add(40*time.Minute)); !strings.Contains(w, "(16 days)") {
		t.Fatalf("next day: %q", w)
	}
	// Another profile with the same certificate has its own stamp.
	q := *p
	q.Name = "staging"
	if w := ExpiryWarning(&q, cacheDir, now); !strings.Contains(w, "of profile 'staging'") || !strings.Contains(w, "cert renew -p staging") {
		t.Fatalf("other profile: %q", w)
	}
	// The last day, and an expired certificate (refused elsewhere, with its own error).
	if w := ExpiryWarning(p, cacheDir, time.Date(2026, 12, 20, 1, 0, 0, 0, time.UTC)); !strings.Contains(w, "expires on 2026-12-20 (today)") {
		t.Fatalf("last day: %q", w)
	}
	if w := ExpiryWarning(p, cacheDir, time.Date(2026, 12, 21, 1, 0, 0, 0, time.UTC)); w != "" {
		t.Fatalf("expired certificate: %q", w)
	}
}

func TestExpiryWarningNeedsWhatWasRemembered(t *testing.T) {
	p, cacheDir, now := expiryFixture(t)
	// A memo written before expiry dates were remembered: still names the key, no
	// warning until a miss has rewritten it.
	old := `{"path":"` + p.CertificatePath + `","identity":"` + identityOf(t, p.CertificatePath) + `","thumbprint":"AB12"}`
	if err := os.WriteFile((CertMemo{Dir: MemoDir(cacheDir)}).file(p.CertificatePath), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	if id, ok := CredentialID(p, cacheDir); !ok || id != "x5t:AB12" {
		t.Fatalf("old memo: CredentialID = %q, %v", id, ok)
	}
	if w := ExpiryWarning(p, cacheDir, now); w != "" {
		t.Fatalf("old memo: %q", w)
	}
	// A changed certificate file is not the remembered one.
	p2, cacheDir2, now2 := expiryFixture(t)
	if err := os.WriteFile(p2.CertificatePath, []byte("another pfx"), 0o600); err != nil {
		t.Fatal(err)
	}
	if w := ExpiryWarning(p2, cacheDir2, now2); w != "" {
		t.Fatalf("changed file: %q", w)
	}
	// Client secrets have no certificate.
	if w := ExpiryWarning(&profile.Profile{Name: "s"}, cacheDir, now); w != "" {
		t.Fatalf("secret profile: %q", w)
	}
}

func TestExpiryWarningKeyStoreProfile(t *testing.T) {
	cacheDir := filepath.Join(t.TempDir(), "cache")
	p := &profile.Profile{Name: "hsm", UseCertificate: true, CertificateStore: "pkcs11", CertificateThumbprint: "ab:12"}
	now := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	if w := ExpiryWarning(p, cacheDir, now); w != "" {
		t.Fatalf("nothing remembered yet: %q", w)
	}
	m := CertMemo{Dir: MemoDir(cacheDir)}
	if err := m.StoreKey(CertInfo{Thumbprint: "AB12", NotAfter: now.AddDate(0, 0, 5), Subject: "CN=hsm"}); err != nil {
		t.Fatal(err)
	}
	if c, ok := RememberedCert(p, cacheDir); !ok || c.Subject != "CN=hsm" {
		t.Fatalf("RememberedCert = %+v, %v", c, ok)
	}
	if w := ExpiryWarning(p, cacheDir, now); !strings.HasPrefix(w, "certificate CN=hsm of profile 'hsm' expires on 2026-12-08 (5 days)") {
		t.Fatalf("key-store profile: %q", w)
	}
}

func TestExpiryWarningEscapesTheSubject(t *testing.T) {
	p, cacheDir, now := expiryFixture(t)
	c := CertInfo{Thumbprint: "AB12", NotAfter: now.AddDate(0, 0, 3), Subject: "CN=a\x1b[2J\nentratool: forged"}
	w := ExpiryWarningOf(p, c, cacheDir, now)
	if strings.ContainsAny(w, "\x1b\n") || !strings.Contains(w, `CN=a\x1b[2J\nentratool: forged of profile 'prod'`) {
		t.Fatalf("warning = %q", w)
	}
}

// A stamp that cannot be written never fails the command: the warning is given, and may
// be given again.
func TestExpiryStampUnwritable(t *testing.T) {
	p, cacheDir, now := expiryFixture(t)
	// The stamps' directory cannot be made: a regular file is in its place (root ignores
	// modes, so a read-only directory would not do).
	if err := os.WriteFile(filepath.Dir(ExpiryStampPath(cacheDir, p.Name)), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		if w := ExpiryWarning(p, cacheDir, now); w != wantExpiryText {
			t.Fatalf("call %d: %q", i, w)
		}
	}
	// A cache directory that does not exist at all (nothing remembered) says nothing.
	if w := ExpiryWarning(p, filepath.Join(t.TempDir(), "none"), now); w != "" {
		t.Fatalf("no cache: %q", w)
	}
}

func TestCertMemoRemembersExpiry(t *testing.T) {
	p, cacheDir, _ := expiryFixture(t)
	c, ok := RememberedCert(p, cacheDir)
	if !ok || c.Thumbprint != "AB12" || c.Subject != "CN=app" || !c.NotAfter.Equal(time.Date(2026, 12, 20, 8, 0, 0, 0, time.UTC)) {
		t.Fatalf("RememberedCert = %+v, %v", c, ok)
	}
	// The cache hit reads the memo once and hands on what it read.
	k := KeyFor(p, "s", "x5t:AB12")
	cache := &Cache{Dir: cacheDir}
	if err := cache.Put(k, &Token{AccessToken: "at", ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	tok, got, err := cache.Lookup(p, "s")
	if err != nil || tok.AccessToken != "at" || got != c {
		t.Fatalf("Lookup = %v, %+v, %v", tok, got, err)
	}
}

func identityOf(t testing.TB, path string) string {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileIdentity(fi)
}
