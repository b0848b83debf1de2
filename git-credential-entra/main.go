// Command git-credential-entra is a git credential helper: git runs it to get an Entra
// ID access token for Azure Repos over HTTPS (see `entratool git setup`).
//
// It is a lean front end (see core/launch): the allow-list and a cached token are
// handled here, linking neither MSAL nor TLS; on a miss `entratool get-token -o json`
// runs in entratool-engine, which fetches the token once for every waiting process.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/helpers/gitcred"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
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
	if err != nil {
		fmt.Fprintf(stderr, "git-credential-entra: %s\n%s", termtext.Escape(err.Error()), gitcred.Usage)
		return 2
	}
	if v := getenv("ENTRATOOL_DEBUG"); v == "1" || v == "true" {
		args.Debug = true
	}
	h := &gitcred.Helper{
		Bearer: args.Bearer,
		Load: func(ctx context.Context) (gitcred.Profile, gitcred.Tokens, error) {
			home, err := profile.Home(getenv)
			if err != nil {
				return gitcred.Profile{}, nil, err
			}
			cfg, err := (&profile.Store{Home: home}).Load()
			if err != nil {
				return gitcred.Profile{}, nil, err
			}
			p, err := cfg.Resolve(args.Profile, getenv)
			if err != nil {
				return gitcred.Profile{}, nil, err
			}
			t := &tokens{p: p, cache: tokencache.Open(home, getenv), args: args, stderr: stderr}
			return gitcred.Profile{Name: p.Name, ClientID: p.ClientID, Hosts: p.GitHosts, Scope: p.GitScope, Authority: p.Authority()}, t, nil
		},
	}
	if args.Debug {
		h.Debug = func(msg string, kv ...any) {
			fmt.Fprintf(stderr, "git-credential-entra: debug: %s %s\n", msg, strings.TrimSuffix(fmt.Sprintln(kv...), "\n"))
		}
	}
	err = h.Run(ctx, args.Action, stdin, stdout)
	var reported *gitcred.ReportedError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &reported):
		return reported.Code
	default:
		// Errors quote servers and certificates: escaped for the terminal git shows them on.
		fmt.Fprintf(stderr, "git-credential-entra: %s\n", termtext.Escape(err.Error()))
		return 1
	}
}

// tokens answers from the shared cache, else asks the engine.
type tokens struct {
	p      *profile.Profile
	cache  *tokencache.Cache
	args   gitcred.Args
	stderr io.Writer
}

func (t *tokens) Token(ctx context.Context, scope string) (string, time.Time, error) {
	if !t.args.Debug {
		if tk, err := t.cache.Lookup(t.p, scope); err == nil {
			return tk.AccessToken, tk.ExpiresOn, nil
		}
	}
	// The engine's stderr (errors, warnings) goes to git, which shows it. An empty stdin:
	// git's own stdin carried the request, and the engine must never prompt.
	args := []string{"get-token", "--profile", t.p.Name, "--scope", scope, "-o", "json", "--timeout", t.args.Timeout.String()}
	if t.args.Debug {
		args = append(args, "--debug")
	}
	var out bytes.Buffer
	if code := launch.Delegate("entratool", args, []byte{}, &out, t.stderr); code != 0 {
		return "", time.Time{}, &gitcred.ReportedError{Code: code}
	}
	var j struct {
		AccessToken string `json:"accessToken"`
		ExpiresOn   int64  `json:"expires_on"`
	}
	if err := json.Unmarshal(out.Bytes(), &j); err != nil || j.AccessToken == "" {
		return "", time.Time{}, fmt.Errorf("%s get-token printed no access token", launch.EngineName)
	}
	return j.AccessToken, time.Unix(j.ExpiresOn, 0), nil
}

// Forget drops every cached token of the profile's app for scope, whatever credential
// it was fetched with — without opening the certificate to name the current one.
func (t *tokens) Forget(ctx context.Context, scope string) error {
	authority := strings.ToLower(strings.TrimRight(t.p.Authority(), "/"))
	_, err := t.cache.DeleteMatching(func(k tokencache.Key) bool {
		return k.Kind == "" && k.Scope == scope && strings.EqualFold(k.TenantID, t.p.TenantID) &&
			strings.EqualFold(k.ClientID, t.p.ClientID) && strings.ToLower(strings.TrimRight(k.Authority, "/")) == authority
	})
	return err
}
