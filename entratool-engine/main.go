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

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/entratool/cli"
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
	}
	fmt.Fprintf(s.Err, "%s: unknown entry point %q: install every entratool binary together (make install)\n", launch.EngineName, termtext.Escape(entry))
	return 2
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
