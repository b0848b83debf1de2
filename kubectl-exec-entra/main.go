// Command kubectl-exec-entra is a client-go exec credential plugin: kubectl (or any
// client-go program) runs it to get an Entra ID token for an AKS cluster.
//
// A lean front (docs/architecture.md): the kubectl protocol is helpers/execcred, the
// token comes from launch.OpenLocal's cache lookup, else launch.Token.
package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"golang.org/x/term"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/helpers/execcred"
)

const program = "kubectl-exec-entra"

func main() {
	launch.GrowStack()
	getenv := launch.Getenv()
	os.Exit(execcred.Run(context.Background(), execcred.Env{
		Args:     os.Args[1:],
		Getenv:   getenv,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		StdinTTY: term.IsTerminal(int(os.Stdin.Fd())),
	}, source{getenv: getenv, stderr: os.Stderr}))
}

// source is the profile's token: from the shared cache, else from the engine.
type source struct {
	getenv func(string) string
	stderr io.Writer
}

func (s source) Credential(ctx context.Context, r execcred.Request) (execcred.Credential, error) {
	l, err := launch.OpenLocal(s.getenv, r.Profile)
	if err != nil {
		return execcred.Credential{}, err
	}
	// Unless kubectl said the plugin may be interactive, the engine gets an empty stdin:
	// it then sees no terminal and never prompts.
	res, err := l.Token(ctx, launch.Request{Program: program, Scope: r.Scope, Debug: launch.DebugEnabled(s.getenv), Interactive: r.Interactive}, s.stderr)
	if err != nil {
		return execcred.Credential{}, err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(s.stderr, "%s: warning: %s\n", program, termtext.Escape(w))
	}
	return execcred.Credential{Token: res.Token.AccessToken, ExpiresOn: res.Token.Expiry(), Issuer: l.Profile.Authority()}, nil
}
