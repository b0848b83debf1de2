package token

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"

	"github.com/entratool/entratool/core/fsutil"
)

// certMemo remembers a certificate file's thumbprint against the file's identity, so the
// cache key can be computed with one stat instead of decrypting the PFX. Replacing the
// file changes its identity and so forces a fresh load.
type certMemo struct{ dir string }

type memoEntry struct {
	Path       string `json:"path"`
	Identity   string `json:"identity"`
	Thumbprint string `json:"thumbprint"`
}

func (m certMemo) file(path string) string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	sum := sha256.Sum256([]byte(abs))
	return filepath.Join(m.dir, hex.EncodeToString(sum[:16])+".json")
}

func (m certMemo) lookup(path string) (string, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", false
	}
	data, err := os.ReadFile(m.file(path))
	if err != nil {
		return "", false
	}
	var e memoEntry
	if json.Unmarshal(data, &e) != nil || e.Identity != fileIdentity(fi) || e.Thumbprint == "" {
		return "", false
	}
	return e.Thumbprint, true
}

func (m certMemo) store(path, thumbprint string) {
	fi, err := os.Stat(path)
	if err != nil {
		return
	}
	data, _ := json.Marshal(memoEntry{Path: path, Identity: fileIdentity(fi), Thumbprint: thumbprint})
	if fsutil.EnsurePrivateDir(filepath.Dir(m.dir)) == nil && fsutil.EnsurePrivateDir(m.dir) == nil {
		_ = fsutil.WriteFileAtomic(m.file(path), data, 0o600)
	}
}
