//go:build windows

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// execReal runs the real az as a child (Windows has no exec) and returns its exit code.
func execReal(path string, args []string, extraEnv []string) int {
	c := exec.Command(path, args...)
	c.Stdin, c.Stdout, c.Stderr = os.Stdin, os.Stdout, os.Stderr
	c.Env = append(os.Environ(), extraEnv...)
	err := c.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "ERROR: run %s: %v\n", path, err)
		return 1
	}
	return 0
}
