package tokencache

import (
	"encoding/json"
	"os"
	"path/filepath"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
)

// CertInfo is what is remembered of a certificate, so that a cache hit can name its key
// material and warn before it expires (ExpiryWarning) without opening it.
type CertInfo struct {
	Thumbprint string `json:"thumbprint"`
	// NotAfter is zero in memos written before expiry dates were remembered: such a
	// memo still names the key, and the next miss rewrites it.
	NotAfter time.Time `json:"notAfter,omitzero"`
	// Subject is how messages name the certificate: CN=… when it has a common name,
	// else its whole subject. It is the certificate's text, escaped where printed.
	Subject string `json:"subject,omitempty"`
}

// Same reports whether c and d say the same (the memo need not be rewritten).
func (c CertInfo) Same(d CertInfo) bool {
	return c.Thumbprint == d.Thumbprint && c.NotAfter.Equal(d.NotAfter) && c.Subject == d.Subject
}

// MemoDir is where the cache directory keeps its CertMemo.
func MemoDir(cacheDir string) string { return joinElem(cacheDir, "certs") }

// CertMemo remembers a certificate file's thumbprint (and expiry) against the file's
// identity, so the cache key can be computed with one stat instead of decrypting the
// PFX. Replacing the file changes its identity and so forces a fresh load. Key-store
// certificates, which never change under their thumbprint, are remembered by it.
type CertMemo struct{ Dir string }

// memoEntry is one memo file: Path and Identity for a certificate file, neither for a
// key-store certificate (found by thumbprint). The CertInfo fields are inline, so that
// the first format ({"path","identity","thumbprint"}) reads as a CertInfo without expiry.
type memoEntry struct {
	Path     string `json:"path,omitempty"`
	Identity string `json:"identity,omitempty"`
	CertInfo
}

// name is the memo file for key (a path, or a key-store certificate's "x5t:" name).
func (m CertMemo) name(key string) string {
	h := newFNV128a()
	h.writeString(key)
	d := h.sum()
	return digestPath(m.Dir, &d, ".json")
}

func (m CertMemo) file(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	return m.name(abs)
}

// keyFile is the memo of the key-store certificate thumbprint names. The prefix keeps
// it apart from any path's.
func (m CertMemo) keyFile(thumbprint string) string {
	return m.name("x5t:" + profile.NormThumbprint(thumbprint))
}

// read returns the memo file's entry when the memo directory and the file pass the trust
// rules (SPEC §12).
func (m CertMemo) read(file string) (memoEntry, bool) {
	var e memoEntry
	if fsutil.CheckDirs(filepath.Dir(m.Dir), m.Dir) != nil {
		return e, false
	}
	data, err := fsutil.ReadPrivate(file, fsutil.NoFollow, maxEntrySize)
	if err != nil || decodeMemo(data, &e) != nil || e.Thumbprint == "" {
		return memoEntry{}, false
	}
	return e, true
}

func (m CertMemo) write(file string, e memoEntry) error {
	data, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if err := fsutil.EnsurePrivateDirs(filepath.Dir(m.Dir), m.Dir); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(file, data, 0o600)
}

// Lookup returns what is remembered of the certificate file at path if the file is
// unchanged.
func (m CertMemo) Lookup(path string) (CertInfo, bool) {
	var buf [64]byte
	id, err := statIdentity(path, buf[:0])
	if err != nil {
		return CertInfo{}, false
	}
	e, ok := m.read(m.file(path))
	if !ok || e.Path != path || e.Identity != string(id) {
		return CertInfo{}, false
	}
	return e.CertInfo, true
}

// Store remembers c against path's current identity. When it fails, the file's
// thumbprint is simply not known without opening it (Lookup misses): the caller must key
// by the thumbprint of the certificate it loaded, never by the path, and should say once
// why every use opens the certificate.
func (m CertMemo) Store(path string, c CertInfo) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return m.write(m.file(path), memoEntry{Path: path, Identity: fileIdentity(fi), CertInfo: c})
}

// LookupKey returns what is remembered of the key-store certificate thumbprint names.
func (m CertMemo) LookupKey(thumbprint string) (CertInfo, bool) {
	e, ok := m.read(m.keyFile(thumbprint))
	if !ok || e.Path != "" || profile.NormThumbprint(e.Thumbprint) != profile.NormThumbprint(thumbprint) {
		return CertInfo{}, false
	}
	return e.CertInfo, true
}

// StoreKey remembers a key-store certificate under c.Thumbprint (the one its profile
// names). A thumbprint is a digest of the whole certificate, so what is stored under it
// never goes stale.
func (m CertMemo) StoreKey(c CertInfo) error {
	c.Thumbprint = profile.NormThumbprint(c.Thumbprint)
	return m.write(m.keyFile(c.Thumbprint), memoEntry{CertInfo: c})
}

// RememberedCert is what the cache directory remembers of p's certificate: the file's
// memo while the file is unchanged, the key-store certificate's by its thumbprint.
// ok is false for every other method and for certificates not (or no longer) remembered.
func RememberedCert(p *profile.Profile, cacheDir string) (CertInfo, bool) {
	m := CertMemo{Dir: MemoDir(cacheDir)}
	switch {
	case p.Method() != profile.MethodCertificate:
		return CertInfo{}, false
	case p.CertificateStore != "":
		return m.LookupKey(p.CertificateThumbprint)
	}
	return m.Lookup(p.CertificatePath)
}
