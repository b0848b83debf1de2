// Command entratool manages Entra ID service-principal profiles and prints their tokens.
//
// This is a lean front (docs/architecture.md): `get-token` answered from the cache is
// handled here; everything else becomes entratool-engine's whole command line.
package main

import (
	"os"

	"github.com/entratool/entratool/core/launch"
)

func main() {
	args := os.Args[1:]
	if fastGetToken(args, os.Getenv, os.Stdout) {
		return
	}
	os.Exit(launch.Replace("entratool", args))
}
