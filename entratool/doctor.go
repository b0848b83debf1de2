package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/entratool/entratool/core/launch"
)

// checkEngineForDoctor is `entratool doctor`'s first check, made here in the front
// because the engine cannot report its own absence, nor a build of its own that does
// not match this one (SPEC §16). A missing or mismatched engine is one ✗ line and exit 1
// (done true). Otherwise the engine runs doctor as usual and prints what was found here,
// handed on in the environment Replace gives it.
func checkEngineForDoctor(ctx context.Context, args []string, stdout, stderr io.Writer) (code int, done bool) {
	if launch.Subcommand(args) != "doctor" {
		return 0, false
	}
	c := launch.CheckEngine(ctx, "entratool")
	if c.OK() {
		// If this fails, the engine's doctor says it was not checked: nothing worse.
		_ = os.Setenv(launch.EngineCheckedEnv, c.Path)
		return 0, false
	}
	fmt.Fprintln(stdout, c.Line())
	fmt.Fprintln(stderr, "entratool: doctor: 1 check(s) failed (every other check needs "+launch.EngineName+")")
	return 1, true
}
