// Package launch is the contract between the lean fronts (entratool, git-credential-entra,
// kubectl-exec-entra, docker-credential-entra, az-entra) and entratool-engine: the
// typed token request and response, the one cache-hit lookup, the get-token flag
// grammar and the environment variables every program reads the same way. See
// docs/architecture.md for the split and what may be linked where.
package launch

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// EngineName is the heavy binary's name; it sits next to the front ends.
const EngineName = "entratool-engine"

// AsFlag, as the engine's first argument, names the entry point a front calls.
const AsFlag = "--as="

// The engine's entry points.
const (
	// EntryCLI is the whole entratool command line (the entratool front's miss path).
	EntryCLI = "entratool"
	// EntryToken answers one Request (its argument) with one Response on stdout.
	EntryToken = "token"
	// EntryDocker is the docker credential-helper protocol (stdin in, stdout out).
	EntryDocker = "docker-credential-entra"
	// EntryRefresh refreshes one cached token ahead of its expiry (SPEC §15), started
	// detached by a front's hit: RefreshArgs are its arguments; it answers nothing.
	EntryRefresh = "refresh"
	// EntryAz is the az shim (az-entra) for a command whose --query only the full
	// JMESPath evaluator can answer: its arguments are the mode ("az" or "azd", as
	// azcli.ModeFor decides it) and the command line after the program name; stdin,
	// stdout, stderr and the exit code are the shim's.
	EntryAz = "az"
)

// Engine finds entratool-engine: beside the running executable (symlinks resolved, so
// an `az` link to az-entra works), else on PATH.
func Engine() (string, error) {
	name := EngineName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		p := filepath.Join(filepath.Dir(exe), name)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s not found next to this program or on PATH: install every entratool binary together (make install)", EngineName)
	}
	return p, nil
}

// Delegate runs the engine's entry point with args, feeding it stdin (the bytes the
// front already read; nil means the process's own stdin) and passing its stdout,
// stderr and exit code through. program names the front in its own messages.
func Delegate(program, entry string, args []string, stdin []byte, stdout, stderr io.Writer) int {
	cmd, err := engineCommand(context.Background(), entry, args, stdin)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", program, err)
		return 1
	}
	cmd.Stdout, cmd.Stderr = stdout, stderr
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ee.ExitCode() >= 0 {
			return ee.ExitCode()
		}
		return 1
	default:
		fmt.Fprintf(stderr, "%s: run %s: %v\n", program, EngineName, err)
		return 1
	}
}

// engineCommand is the engine run at entry point entry with args. Its stdin is the
// given bytes ([]byte{} for none: it then sees no terminal and never prompts), or the
// process's own stdin when stdin is nil.
func engineCommand(ctx context.Context, entry string, args []string, stdin []byte) (*exec.Cmd, error) {
	engine, err := Engine()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, engine, append([]string{AsFlag + entry}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	} else {
		cmd.Stdin = os.Stdin
	}
	return cmd, nil
}

// startDetached starts the engine's entry point with args and does not wait for it:
// the refresh-ahead child (SPEC §15). Its stdin, stdout and stderr are the null device —
// git and kubectl read their helper's stdout until EOF, so the child must hold none of
// the front's streams — and it runs in a session (process group on Windows) of its own,
// so that it outlives the front and the host tool's signals. It bounds itself (the
// engine's refresh entry point stops at its request's timeout). A variable for tests.
var startDetached = func(entry string, args []string) (pid int, err error) {
	engine, err := Engine()
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(engine, append([]string{AsFlag + entry}, args...)...)
	// Stdin, Stdout and Stderr left nil: os/exec connects them to the null device.
	detach(cmd)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid = cmd.Process.Pid
	cmd.Process.Release() // never waited for; init (or the subreaper) reaps it
	return pid, nil
}
