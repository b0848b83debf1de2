//go:build unix

package tokencache

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// SPEC §12: the stamp is opened without following a symlink or blocking on a FIFO; such
// a file is refused (the warning is given, as if there were no stamp) and never written
// through, and nothing fails.
func TestExpiryStampRefusesSpecialFiles(t *testing.T) {
	for _, kind := range []string{"symlink", "fifo"} {
		t.Run(kind, func(t *testing.T) {
			p, cacheDir, now := expiryFixture(t)
			stamp := ExpiryStampPath(cacheDir, p.Name)
			if err := os.MkdirAll(filepath.Dir(stamp), 0o700); err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(t.TempDir(), "target")
			switch kind {
			case "symlink":
				// The link points at a genuine stamp of today: following it would
				// silence the warning.
				if w := ExpiryWarning(p, cacheDir, now); w == "" {
					t.Fatal("no first warning")
				}
				if err := os.Rename(stamp, target); err != nil {
					t.Fatal(err)
				}
				if err := os.Symlink(target, stamp); err != nil {
					t.Fatal(err)
				}
			case "fifo":
				if err := syscall.Mkfifo(stamp, 0o600); err != nil {
					t.Skipf("mkfifo: %v", err)
				}
			}
			before, _ := os.ReadFile(target)
			done := make(chan string, 1)
			go func() { done <- ExpiryWarning(p, cacheDir, now) }()
			select {
			case w := <-done:
				if w != wantExpiryText {
					t.Fatalf("warning = %q", w)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("blocked on the stamp")
			}
			if kind == "symlink" {
				if b, err := os.ReadFile(target); err != nil || string(b) != string(before) {
					t.Fatalf("symlink target now %q, %v; was %q", b, err, before)
				}
			}
		})
	}
}
