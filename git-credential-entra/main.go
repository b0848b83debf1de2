// Command git-credential-entra is a git credential helper: git runs it to get an Entra
// ID access token for Azure Repos over HTTPS (see `entratool git setup`).
//
// A lean front (docs/architecture.md): git's protocol and the allow-list are
// helpers/gitcred, the token comes from launch.OpenLocal's cache lookup, else
// launch.Token.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/helpers/gitcred"
)

const program = "git-credential-entra"

func main() {
	launch.GrowStack()
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, launch.Getenv()))
}

// run maps the helper's outcome to an exit code: 0 for an answer or "don't know", 1
// (or the engine's code) for a failure — git ignores the code but shows stderr — and 2
// for a bad command line.
func run(ctx context.Context, argv []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	args, err := gitcred.ParseArgs(argv)
	if errors.Is(err, gitcred.ErrHelp) {
		fmt.Fprint(stderr, gitcred.Usage)
		return 0
	}
	if errors.Is(err, gitcred.ErrVersion) {
		fmt.Fprintln(stdout, version.Line(program))
		return 0
	}
	if err != nil {
		// One line, as every error: git shows the helper's stderr to the user as it is.
		launch.Report(stderr, program, fmt.Errorf("%w (see %s --help)", err, program))
		return 2
	}
	if launch.DebugEnabled(getenv) {
		args.Debug = true
	}
	h := &gitcred.Helper{
		Bearer: args.Bearer,
		Load: func(ctx context.Context) (gitcred.Profile, gitcred.Tokens, error) {
			l, err := launch.OpenLocal(getenv, args.Profile)
			if err != nil {
				return gitcred.Profile{}, nil, err
			}
			p := l.Profile
			return gitcred.Profile{Name: p.Name, ClientID: p.ClientID, Hosts: p.GitHosts, Scope: p.GitScope, Authority: p.Authority()}, &tokens{l: l, args: args, stderr: stderr}, nil
		},
	}
	if args.Debug {
		h.Debug = func(msg string, kv ...any) {
			fmt.Fprintf(stderr, "%s: debug: %s %s\n", program, msg, strings.TrimSuffix(fmt.Sprintln(kv...), "\n"))
		}
	}
	if err := h.Run(ctx, args.Action, stdin, stdout); err != nil {
		return launch.Report(stderr, program, err)
	}
	return 0
}

// tokens answers from the shared cache, else asks the engine.
type tokens struct {
	l      *launch.Local
	args   gitcred.Args
	stderr io.Writer
}

func (t *tokens) Token(ctx context.Context, scope string) (string, time.Time, error) {
	// The engine gets an empty stdin: git's own stdin carried the request, and the
	// engine must never prompt. Its debug log goes to git, which shows stderr.
	res, err := t.l.Token(ctx, launch.Request{Program: program, Scope: scope, Timeout: t.args.Timeout, Debug: t.args.Debug}, t.stderr)
	if err != nil {
		return "", time.Time{}, err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(t.stderr, "warning: %s\n", termtext.Escape(w))
	}
	return res.Token.AccessToken, res.Token.Expiry(), nil
}

// Forget drops every cached token of the profile's app for scope, whatever credential
// it was fetched with — without opening the certificate to name the current one.
func (t *tokens) Forget(ctx context.Context, scope string) error {
	_, err := t.l.Cache.DeleteMatching(func(k tokencache.Key) bool {
		return k.Kind == "" && k.Scope == scope && k.OfApp(t.l.Profile)
	})
	return err
}
