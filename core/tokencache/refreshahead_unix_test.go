//go:build unix

package tokencache

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/entratool/entratool/core/fsutil"
)

// SPEC §12: the lock file is opened without following a symlink and without blocking; a
// symlink or FIFO in its place is refused (no refresh), never waited on.
func TestTryLockRefusesSpecialFiles(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	if err := c.ensureDirs(); err != nil {
		t.Fatal(err)
	}
	k := testKey("s")
	lock := filepath.Join(c.Dir, "tokens", k.ID()+".lock")
	target := filepath.Join(t.TempDir(), "target")
	os.WriteFile(target, nil, 0o600)
	if err := os.Symlink(target, lock); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := c.TryLock(k); ok || !errors.Is(err, fsutil.ErrUntrusted) {
		t.Fatalf("symlink: ok=%v err=%v", ok, err)
	}
	os.Remove(lock)
	if err := syscall.Mkfifo(lock, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, ok, err := c.TryLock(k); ok || err == nil {
			t.Errorf("fifo: ok=%v err=%v", ok, err)
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("TryLock blocked on a FIFO")
	}
}
