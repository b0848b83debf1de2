// Package launch splits every entratool binary into a lean front and a shared engine.
//
// git, kubectl and docker start a helper for every operation, so a cached answer must
// cost about as much as starting a minimal Go program. Linking MSAL, TLS, PKCS#12 and
// the keyring roughly doubles a Go program's start-up even when none of it runs (their
// package initialisation and page faults are paid on every start). So each binary
// links only what a cache hit needs — profiles.json, the token cache, the protocol —
// and on a miss hands the whole request (arguments and the stdin it already read) to
// entratool-engine, which links everything and does the work once for all processes.
package launch

import (
	"bytes"
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

// AsFlag, as the engine's first argument, names the front end whose request it serves.
const AsFlag = "--as="

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

// Delegate runs the engine as front end `as` with args, feeding it stdin (the bytes the
// front end already read; nil means the process's own stdin) and passing its stdout,
// stderr and exit code through.
func Delegate(as string, args []string, stdin []byte, stdout, stderr io.Writer) int {
	engine, err := Engine()
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", as, err)
		return 1
	}
	cmd := exec.Command(engine, append([]string{AsFlag + as}, args...)...)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	} else {
		cmd.Stdin = os.Stdin
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
		fmt.Fprintf(stderr, "%s: run %s: %v\n", as, EngineName, err)
		return 1
	}
}
