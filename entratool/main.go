// Command entratool manages Entra ID service-principal profiles and prints their tokens.
//
// This is a lean front (docs/architecture.md): `get-token` answered from the cache is
// handled here; everything else becomes entratool-engine's whole command line.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/version"
)

func main() {
	launch.GrowStack()
	args := os.Args[1:]
	// --version needs nothing of the engine: answered here it costs no exec, and it still
	// answers when the engine is missing (the cobra root in the engine says the same).
	if version.Requested(args) {
		fmt.Println(version.Line("entratool"))
		return
	}
	if fastGetToken(args, launch.Getenv(), os.Stdout, os.Stderr) {
		return
	}
	// `entratool version` is this build's, and says whether the engine is missing or of
	// another build: answered here, where both can be told (SPEC §16). A line cobra would
	// not run as it stands (--help, a bad -o) is the engine's to answer.
	if output, ok := launch.ParseVersion(args); ok {
		if err := launch.WriteVersion(context.Background(), "entratool", output, os.Stdout, os.Stderr); err != nil {
			fmt.Fprintf(os.Stderr, "entratool: version: %v\n", err)
			os.Exit(1)
		}
		return
	}
	if code, done := checkEngineForDoctor(context.Background(), args, os.Stdout, os.Stderr); done {
		os.Exit(code)
	}
	os.Exit(launch.Replace("entratool", args))
}
