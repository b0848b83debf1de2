//go:build windows

package azcli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
)

// ExecReal is Env.Exec for a real process: it runs the real az (or azd) as a child
// (Windows has no exec) with this process's streams and returns its exit code.
func ExecReal(path string, args []string, extraEnv []string) int {
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
