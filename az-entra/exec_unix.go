//go:build !windows

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// execReal replaces this process with the real az: its stdin, stdout, stderr, signals
// and exit code are then the caller's, exactly as if the shim had not been on PATH.
func execReal(path string, args []string, extraEnv []string) int {
	argv := append([]string{filepath.Base(path)}, args...)
	err := syscall.Exec(path, argv, append(os.Environ(), extraEnv...))
	fmt.Fprintf(os.Stderr, "ERROR: run %s: %v\n", path, err)
	return 1
}
