package cli

import (
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// CommandTree returns entratool's command tree as Run builds it, for what is generated
// from it rather than run: the man pages and shell completion scripts `make dist` ships
// (tools/gendocs). Its App has empty streams: nothing is read or written until a
// command runs, and none is meant to.
func CommandTree() *cobra.Command {
	a := &App{
		Streams: Streams{In: strings.NewReader(""), Out: io.Discard, Err: io.Discard},
		Getenv:  os.Getenv,
		Now:     time.Now,
	}
	return a.rootCmd()
}
