// Command entratool manages Entra ID service-principal profiles and prints their tokens.
//
// This is the lean front: `get-token` answered from the cache is handled here, with
// nothing heavy linked; everything else (and every cache miss) becomes
// entratool-engine, which holds the full CLI (see core/launch).
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
