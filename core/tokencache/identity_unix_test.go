//go:build unix

package tokencache

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// fileIdentity's form is what memos already on disk hold: it must not change.
func TestFileIdentityForm(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cert.pfx")
	if err := os.WriteFile(p, []byte("1234567"), 0o600); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	want := fmt.Sprintf("%d:%d", fi.Size(), fi.ModTime().UnixNano()) + fmt.Sprintf(":%d:%d", st.Dev, st.Ino)
	if got := fileIdentity(fi); got != want {
		t.Fatalf("fileIdentity = %q, want %q", got, want)
	}
}

func TestAppendDecimalIsPercentD(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 42, -2147483648, 2147483647, 1<<62 + 3} {
		if int64(int32(v)) == v {
			if got, want := string(appendDecimal(nil, int32(v))), fmt.Sprintf("%d", int32(v)); got != want {
				t.Errorf("int32 %d: %q, want %q", v, got, want)
			}
		}
		if got, want := string(appendDecimal(nil, v)), fmt.Sprintf("%d", v); got != want {
			t.Errorf("int64 %d: %q, want %q", v, got, want)
		}
	}
	for _, v := range []uint64{0, 7, 1<<64 - 1} {
		if got, want := string(appendDecimal(nil, v)), fmt.Sprintf("%d", v); got != want {
			t.Errorf("uint64 %d: %q, want %q", v, got, want)
		}
	}
}

// statIdentity (the hit's, from a Stat_t on Linux) says what fileIdentity of os.Stat
// says, through a symlink too, and fails as os.Stat does.
func TestStatIdentityIsFileIdentity(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "cert.pfx")
	if err := os.WriteFile(p, []byte("1234567"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.pfx")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{p, link} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := statIdentity(path, []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		if want := "x" + fileIdentity(fi); string(got) != want {
			t.Errorf("statIdentity(%s) = %q, want %q", path, got, want)
		}
	}
	if _, err := statIdentity(filepath.Join(dir, "missing"), nil); !os.IsNotExist(err) {
		t.Errorf("missing file: %v, want not-exist", err)
	}
}
