//go:build !windows

package azcli

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// ExecReal is Env.Exec for a real process: it replaces this process with the real az
// (or azd), whose stdin, stdout, stderr, signals and exit code are then the caller's,
// exactly as if the shim had not been on PATH. It returns only on failure.
func ExecReal(path string, args []string, extraEnv []string) int {
	argv := append([]string{filepath.Base(path)}, args...)
	err := syscall.Exec(path, argv, append(os.Environ(), extraEnv...))
	fmt.Fprintf(os.Stderr, "ERROR: run %s: %v\n", path, err)
	return 1
}
