//go:build !linux

package testbin

import (
	"os"
	"testing"
)

// testOwnerOS: without /proc every test process is its own owner.
func testOwnerOS(t *testing.T, pid int, _ string) {
	if pid != os.Getpid() {
		t.Fatalf("owner %d, want this process %d", pid, os.Getpid())
	}
}
