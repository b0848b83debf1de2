// Command kubectl-exec-entra is a client-go exec credential plugin: kubectl (or any
// client-go program) runs it to get an Entra ID token for an AKS cluster.
//
// It is a lean front end (see core/launch): a cached token is answered here, linking
// neither MSAL nor TLS nor client-go; on a miss `entratool get-token -o json` runs in
// entratool-engine, which fetches the token once for every waiting process.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/helpers/execcred"
)

func main() {
	os.Exit(execcred.Run(context.Background(), execcred.Env{
		Args:     os.Args[1:],
		Getenv:   os.Getenv,
		Stdout:   os.Stdout,
		Stderr:   os.Stderr,
		StdinTTY: term.IsTerminal(int(os.Stdin.Fd())),
	}, source{getenv: os.Getenv, stderr: os.Stderr}))
}

// source answers from the shared cache, else asks the engine.
type source struct {
	getenv func(string) string
	stderr io.Writer
}

func (s source) Credential(ctx context.Context, r execcred.Request) (execcred.Credential, error) {
	if t, err := s.cached(r); err == nil {
		return execcred.Credential{Token: t.AccessToken, ExpiresOn: t.ExpiresOn}, nil
	}
	return s.engine(r)
}

// cached looks the token up without opening the certificate, the keyring or a socket.
// Any failure (no profile, a miss, --debug wanted) sends the request to the engine,
// which explains errors properly.
func (s source) cached(r execcred.Request) (*tokencache.Token, error) {
	if s.getenv("ENTRATOOL_DEBUG") != "" {
		return nil, tokencache.ErrMiss
	}
	home, err := profile.Home(s.getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := (&profile.Store{Home: home}).Load()
	if err != nil {
		return nil, err
	}
	p, err := cfg.Resolve(r.Profile, s.getenv)
	if err != nil {
		return nil, err
	}
	return tokencache.Open(home, s.getenv).Lookup(p, r.Scope)
}

// engine runs `entratool get-token -o json` in entratool-engine. Its stderr (errors,
// warnings, and prompts when interactive) goes straight to kubectl, which shows it to
// the user. Unless kubectl said the plugin may be interactive, the engine gets an empty
// stdin: it then sees no terminal and never prompts.
func (s source) engine(r execcred.Request) (execcred.Credential, error) {
	args := []string{"get-token", "--scope", r.Scope, "-o", "json"}
	if r.Profile != "" {
		args = append(args, "--profile", r.Profile)
	}
	stdin := []byte{}
	if r.Interactive {
		stdin = nil // the process's own stdin: kubectl handed over the user's terminal
	}
	var out bytes.Buffer
	if code := launch.Delegate("entratool", args, stdin, &out, s.stderr); code != 0 {
		return execcred.Credential{}, &execcred.ReportedError{Code: code}
	}
	var t struct {
		AccessToken string `json:"accessToken"`
		ExpiresOn   int64  `json:"expires_on"`
	}
	if err := json.Unmarshal(out.Bytes(), &t); err != nil {
		return execcred.Credential{}, fmt.Errorf("%s get-token printed no token JSON: %w", launch.EngineName, err)
	}
	if t.AccessToken == "" {
		return execcred.Credential{}, errors.New(launch.EngineName + " get-token printed no access token")
	}
	c := execcred.Credential{Token: t.AccessToken}
	if t.ExpiresOn > 0 {
		c.ExpiresOn = time.Unix(t.ExpiresOn, 0)
	}
	return c, nil
}
