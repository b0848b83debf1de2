package testkit

import (
	"bytes"
	"errors"
	"os/exec"
	"testing"
)

// Run runs cmd and returns its stdout, stderr and exit code (-1 for a death by signal).
// Only a failure to start it fails the test: any exit is the program's answer, for the
// test to judge.
func Run(t testing.TB, cmd *exec.Cmd) (stdout, stderr string, code int) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		code = ee.ExitCode()
	default:
		t.Fatalf("run %s: %v", cmd.Path, err)
	}
	return out.String(), errb.String(), code
}
