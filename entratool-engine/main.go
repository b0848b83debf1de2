// Command entratool-engine is the one binary that links everything: MSAL, TLS, PKCS#12,
// the keyring, the plugins and the full CLI. The lean fronts answer cache hits
// themselves and call one of its entry points for everything else (see
// docs/architecture.md and core/launch). Run without --as it is entratool.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/entratool/cli"
	"github.com/entratool/entratool/helpers/azcli"
	"github.com/entratool/entratool/helpers/azcli/azjmes"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], cli.StdStreams(), os.Getenv))
}

// run dispatches to the entry point the first argument names (launch.AsFlag).
func run(ctx context.Context, args []string, s cli.Streams, getenv func(string) string) int {
	// Asked directly, the engine names itself; through the entratool front
	// (--as=entratool --version) the CLI answers as entratool.
	if version.Requested(args) {
		fmt.Fprintln(s.Out, version.Line(launch.EngineName))
		return 0
	}
	entry := launch.EntryCLI
	if len(args) > 0 && strings.HasPrefix(args[0], launch.AsFlag) {
		entry, args = strings.TrimPrefix(args[0], launch.AsFlag), args[1:]
	}
	switch entry {
	case launch.EntryCLI:
		return cli.Run(ctx, s, args, getenv)
	case launch.EntryDocker:
		return cli.Run(ctx, s, append([]string{"docker", "credential-helper"}, args...), getenv)
	case launch.EntryToken:
		return serveToken(ctx, args, s, getenv)
	case launch.EntryRefresh:
		return refresh(ctx, args, getenv, func() { os.Exit(1) })
	case launch.EntryAz:
		return runAz(ctx, args, s, getenv)
	}
	fmt.Fprintf(s.Err, "%s: unknown entry point %q: install every entratool binary together (make install)\n", launch.EngineName, termtext.Escape(entry))
	return 2
}

// refreshGrace is how long past its request's bound a refresh may run before it is
// stopped outright, whatever it is stuck in.
const refreshGrace = 5 * time.Second

// refresh is the refresh-ahead entry point (SPEC §15): started detached by a front, its
// streams on the null device, it refreshes one token (cli.Refresh) and answers nothing;
// a failure goes to the cache's refresh.log, never to the caller. It never outlives its
// request's bound: the context ends there, and stop (os.Exit) runs if it is still going
// refreshGrace later.
func refresh(ctx context.Context, args []string, getenv func(string) string, stop func()) int {
	r, seen, err := launch.ParseRefreshArgs(args)
	if err != nil {
		cli.LogRefreshFailure(getenv, launch.Request{Program: launch.EngineName}, err, time.Now())
		return 2
	}
	bound := r.Timeout
	if bound <= 0 {
		bound = launch.DefaultTimeout
	}
	watchdog := time.AfterFunc(bound+refreshGrace, stop)
	defer watchdog.Stop()
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	if err := cli.Refresh(ctx, getenv, r, seen); err != nil {
		cli.LogRefreshFailure(getenv, r, err, time.Now())
		return 1
	}
	return 0
}

// serveToken answers one launch.Request (the only argument) with one launch.Response
// on stdout; the exit code is the response's.
func serveToken(ctx context.Context, args []string, s cli.Streams, getenv func(string) string) int {
	var resp launch.Response
	if len(args) != 1 {
		resp.Error = &launch.ErrorJSON{Message: fmt.Sprintf("%s %s%s takes one request, got %d arguments", launch.EngineName, launch.AsFlag, launch.EntryToken, len(args)), Code: 2}
	} else if r, err := launch.DecodeRequest(args[0]); err != nil {
		resp.Error = &launch.ErrorJSON{Message: err.Error(), Code: 2}
	} else {
		resp = cli.ServeToken(ctx, s, getenv, r)
	}
	if err := launch.EncodeResponse(s.Out, resp); err != nil {
		fmt.Fprintf(s.Err, "%s: write the response: %v\n", launch.EngineName, err)
		return 1
	}
	if resp.Error != nil {
		return resp.Error.Code
	}
	return 0
}

// azProgram is the front the az entry point acts for: it names itself in messages.
const azProgram = "az-entra"

// runAz is the az shim's entry point (launch.EntryAz): az-entra hands it a command
// whose --query only the full JMESPath evaluator can answer, as its mode ("az" or
// "azd") and its arguments. It runs azcli.Run (or RunAzd) exactly as the front does —
// the same Source, streams, environment and local zone — but compiles --query with
// azjmes, and has no engine to hand a query on to.
func runAz(ctx context.Context, args []string, s cli.Streams, getenv func(string) string) int {
	if len(args) == 0 || (args[0] != "az" && args[0] != "azd") {
		fmt.Fprintf(s.Err, "%s: %s%s takes the mode (az or azd), then the command line: install every entratool binary together (make install)\n", launch.EngineName, launch.AsFlag, launch.EntryAz)
		return azcli.ExitUsage
	}
	mode, args := args[0], args[1:]
	env := azcli.Env{
		Args:   args,
		Getenv: getenv,
		Stdout: s.Out,
		Stderr: s.Err,
		Local:  time.Local,
		Self:   azcli.Self,
		Exec:   azcli.ExecReal,
		Query:  azjmes.Compile,
	}
	src := &azcli.LocalSource{Program: azProgram, Getenv: getenv, Stderr: s.Err, Debug: azcli.DebugWanted(getenv, args)}
	if mode == "azd" {
		return azcli.RunAzd(ctx, env, src)
	}
	return azcli.Run(ctx, env, src)
}
