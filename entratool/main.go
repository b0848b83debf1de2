// Command entratool manages Entra ID service-principal profiles and prints their tokens.
package main

import (
	"context"
	"os"

	"github.com/entratool/entratool/entratool/cli"
)

func main() {
	os.Exit(cli.Run(context.Background(), cli.StdStreams(), os.Args[1:], os.Getenv))
}
