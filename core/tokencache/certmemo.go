package tokencache

import (
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"os"
	"path/filepath"

	"github.com/entratool/entratool/core/fsutil"
)

// CertMemo remembers a certificate file's thumbprint against the file's identity, so the
// cache key can be computed with one stat instead of decrypting the PFX. Replacing the
// file changes its identity and so forces a fresh load.
type CertMemo struct{ Dir string }

type memoEntry struct {
	Path       string `json:"path"`
	Identity   string `json:"identity"`
	Thumbprint string `json:"thumbprint"`
}

func (m CertMemo) file(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	h := fnv.New128a()
	h.Write([]byte(abs))
	return filepath.Join(m.Dir, hex.EncodeToString(h.Sum(nil))+".json")
}

// Lookup returns the remembered thumbprint if the file is unchanged.
func (m CertMemo) Lookup(path string) (string, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", false
	}
	if fsutil.CheckDirs(filepath.Dir(m.Dir), m.Dir) != nil {
		return "", false
	}
	data, err := fsutil.ReadPrivate(m.file(path), fsutil.NoFollow, maxEntrySize)
	if err != nil {
		return "", false
	}
	var e memoEntry
	if json.Unmarshal(data, &e) != nil || e.Path != path || e.Identity != fileIdentity(fi) || e.Thumbprint == "" {
		return "", false
	}
	return e.Thumbprint, true
}

// Store remembers path's thumbprint against its current identity. When it fails, the
// file's thumbprint is simply not known without opening it (Lookup misses): the caller
// must key by the thumbprint of the certificate it loaded, never by the path, and should
// say once why every use opens the certificate.
func (m CertMemo) Store(path, thumbprint string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	data, err := json.Marshal(memoEntry{Path: path, Identity: fileIdentity(fi), Thumbprint: thumbprint})
	if err != nil {
		return err
	}
	if err := fsutil.EnsurePrivateDirs(filepath.Dir(m.Dir), m.Dir); err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(m.file(path), data, 0o600)
}
