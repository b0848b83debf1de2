package tokencache

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCertMemoStoreReportsFailure(t *testing.T) {
	dir := t.TempDir()
	pfx := filepath.Join(dir, "c.pfx")
	if err := os.WriteFile(pfx, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The memo directory cannot be made: its parent is a regular file (root ignores modes).
	blocker := filepath.Join(dir, "cache")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := (CertMemo{Dir: filepath.Join(blocker, "certs")}).Store(pfx, CertInfo{Thumbprint: "AB"}); err == nil {
		t.Fatal("Store into an unusable directory reported no error")
	}
	if err := (CertMemo{Dir: filepath.Join(dir, "c2", "certs")}).Store(filepath.Join(dir, "missing.pfx"), CertInfo{Thumbprint: "AB"}); err == nil {
		t.Fatal("Store of a missing file reported no error")
	}
	m := CertMemo{Dir: filepath.Join(dir, "ok", "certs")}
	if err := m.Store(pfx, CertInfo{Thumbprint: "AB"}); err != nil {
		t.Fatal(err)
	}
	if c, ok := m.Lookup(pfx); !ok || c.Thumbprint != "AB" {
		t.Fatalf("Lookup = %+v, %v", c, ok)
	}
}
