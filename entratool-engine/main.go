// Command entratool-engine is the one binary that links everything: MSAL, TLS, PKCS#12,
// the keyring, the plugins and the full CLI. The lean front ends (entratool and the
// helpers) answer cache hits themselves and hand every other request to it — as
// `entratool-engine --as=NAME ARGS…` with the stdin they read — so the work and its
// cross-process single flight happen in one place. Run without --as it is entratool.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/entratool/cli"
)

// frontEnds maps a front end's name to the full implementation of its request.
var frontEnds = map[string]func(args []string) int{
	"entratool": func(args []string) int {
		return cli.Run(context.Background(), cli.StdStreams(), args, os.Getenv)
	},
}

func main() {
	args := os.Args[1:]
	as := "entratool"
	if len(args) > 0 && strings.HasPrefix(args[0], launch.AsFlag) {
		as, args = strings.TrimPrefix(args[0], launch.AsFlag), args[1:]
	}
	run, ok := frontEnds[as]
	if !ok {
		fmt.Fprintf(os.Stderr, "%s: unknown front end %q\n", launch.EngineName, as)
		os.Exit(2)
	}
	os.Exit(run(args))
}
