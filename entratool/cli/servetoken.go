package cli

import (
	"context"
	"strings"
	"time"

	"github.com/entratool/entratool/core/launch"
)

// ServeToken is the engine's token entry point (launch.EntryToken): the work of
// `entratool get-token` for a front's Request, with the token, the warnings and any
// error returned as data for the front to show in its host tool's style. Only the
// debug log and, for an interactive request, prompts go to s.Err.
func ServeToken(ctx context.Context, s Streams, getenv func(string) string, r launch.Request) launch.Response {
	var warnings []string
	a := &App{Streams: s, Getenv: getenv, Now: time.Now, debug: r.Debug}
	a.InTTY = s.InTTY && r.Interactive
	a.onWarn = func(msg string) { warnings = append(warnings, strings.TrimPrefix(msg, "warning: ")) }
	a.startDebug()
	f := launch.NewGetToken()
	f.Profile, f.Scope = r.Profile, r.Scope
	if r.Timeout > 0 {
		f.Timeout = r.Timeout
	}
	t, _, err := a.fetchToken(ctx, &f)
	if err != nil {
		a.debugIDs(r.Program, err)
		return launch.Response{Error: &launch.ErrorJSON{Message: oneLine(err.Error()), Code: max(exitCode(err), ExitFailure)}}
	}
	j := launch.NewTokenJSON(t)
	return launch.Response{Token: &j, Warnings: warnings}
}
