package main

import (
	"bufio"
	"fmt"
	"io"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/entratool/output"
)

// fastGetToken answers `entratool get-token …` from the cache alone. The command line
// is read by launch.ParseGetToken — the grammar and value checks the engine's cobra
// command uses — so a command line the engine would refuse is never answered here.
// It reports false, having written nothing, whenever the engine must run: other
// commands, anything the grammar refuses, --debug or ENTRATOOL_DEBUG, --force-refresh,
// a miss, or any error (the engine then reports it properly). The day's certificate
// expiry warning goes to stderr, as the engine's get-token writes it, unless --silent.
func fastGetToken(args []string, getenv func(string) string, stdout, stderr io.Writer) bool {
	if len(args) == 0 || args[0] != "get-token" || launch.DebugEnabled(getenv) {
		return false
	}
	o, err := launch.ParseGetToken(args[1:])
	if err != nil || o.Debug || o.ForceRefresh {
		return false
	}
	l, err := launch.OpenLocal(getenv, o.Profile)
	if err != nil {
		return false
	}
	t, c, err := l.Cached(o.RequestScope())
	if err != nil {
		return false
	}
	w := bufio.NewWriterSize(stdout, fsutil.SmallBuffer) // the span the files' buffers started
	if output.Write(w, o.Output, t, l.Profile) != nil {
		return false
	}
	if w.Flush() != nil {
		return false
	}
	// After the token is out: from here on the command has answered, whatever stderr does.
	if !o.Silent {
		if msg := l.ExpiryWarning(c, time.Now()); msg != "" {
			fmt.Fprintf(stderr, "warning: %s\n", termtext.Escape(msg))
		}
	}
	return true
}
