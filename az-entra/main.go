// Command az-entra is entratool's az shim: linked as `az` (and `azd`) by
// `entratool az-shim install`, it answers the Azure CLI's token commands for an
// entratool profile, so the Azure SDKs, Terraform and scripts get Entra ID tokens
// without `az login`. Other commands go to the real az, if one is on PATH.
//
// It is a lean front end (see core/launch): a cached token is answered here, linking
// neither MSAL nor TLS; on a miss `entratool get-token -o json` runs in
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
	"path/filepath"
	"strings"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/helpers/azcli"
)

func main() {
	mode, args := azcli.ModeFor(os.Args)
	env := azcli.Env{
		Args:   args,
		Getenv: os.Getenv,
		Stdout: os.Stdout,
		Stderr: os.Stderr,
		Local:  time.Local,
		Self:   self,
		Exec:   execReal,
	}
	src := &source{getenv: os.Getenv, stderr: os.Stderr, debug: debugWanted(args)}
	run := azcli.Run
	if mode == "azd" {
		run = azcli.RunAzd
	}
	os.Exit(run(context.Background(), env, src))
}

// self is this executable with links resolved, so the search for the real az can
// skip it however it was reached.
func self() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}

func debugWanted(args []string) bool {
	if v := os.Getenv("ENTRATOOL_DEBUG"); v == "1" || v == "true" {
		return true
	}
	for _, a := range args {
		if a == "--debug" {
			return true
		}
	}
	return false
}

// source is the profile (ENTRATOOL_PROFILE, else the default) and its tokens: from the
// shared cache, else from the engine.
type source struct {
	getenv func(string) string
	stderr io.Writer
	debug  bool

	p     *profile.Profile
	cache *tokencache.Cache
}

func (s *source) load() (*profile.Profile, error) {
	if s.p != nil {
		return s.p, nil
	}
	home, err := profile.Home(s.getenv)
	if err != nil {
		return nil, err
	}
	cfg, err := (&profile.Store{Home: home}).Load()
	if err != nil {
		return nil, err
	}
	p, err := cfg.Resolve("", s.getenv)
	if err != nil {
		return nil, err
	}
	s.p, s.cache = p, tokencache.Open(home, s.getenv)
	return p, nil
}

func (s *source) Account() (azcli.Account, error) {
	p, err := s.load()
	if err != nil {
		return azcli.Account{}, err
	}
	return azcli.Account{Profile: p.Name, TenantID: p.TenantID, ClientID: p.ClientID, SubscriptionID: p.SubscriptionID, Authority: p.Authority()}, nil
}

func (s *source) Token(ctx context.Context, scope string) (azcli.Token, error) {
	p, err := s.load()
	if err != nil {
		return azcli.Token{}, err
	}
	if !s.debug {
		if t, err := s.cache.Lookup(p, scope); err == nil {
			return azcli.Token{AccessToken: t.AccessToken, ExpiresOn: t.ExpiresOn}, nil
		}
	}
	// An empty stdin: the SDKs and Terraform own none, and the engine must never
	// prompt. The SDKs give az 10 s; the engine gets entratool's default bound.
	args := []string{"get-token", "--profile", p.Name, "--scope", scope, "-o", "json", "--timeout", "30s"}
	if s.debug {
		args = append(args, "--debug")
	}
	var out, errb bytes.Buffer
	stderr := io.Writer(&errb)
	if s.debug {
		stderr = s.stderr // the debug log as it happens
	}
	code := launch.Delegate("entratool", args, []byte{}, &out, stderr)
	if code != 0 {
		return azcli.Token{}, engineError(errb.String(), code)
	}
	// Warnings (a certificate near expiry) in az's style.
	for _, line := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
		if line = strings.TrimSpace(line); line != "" {
			fmt.Fprintf(s.stderr, "WARNING: %s\n", termtext.Escape(strings.TrimPrefix(strings.TrimPrefix(line, "entratool: "), "warning: ")))
		}
	}
	var j struct {
		AccessToken string `json:"accessToken"`
		ExpiresOn   int64  `json:"expires_on"`
	}
	if err := json.Unmarshal(out.Bytes(), &j); err != nil || j.AccessToken == "" || j.ExpiresOn == 0 {
		return azcli.Token{}, fmt.Errorf("%s get-token printed no access token", launch.EngineName)
	}
	return azcli.Token{AccessToken: j.AccessToken, ExpiresOn: time.Unix(j.ExpiresOn, 0)}, nil
}

// engineError turns the engine's "entratool: …" error lines into the one error the
// shim prints as "ERROR: …" (and the SDKs quote).
func engineError(stderr string, code int) error {
	var msgs []string
	for _, line := range strings.Split(stderr, "\n") {
		if line = strings.TrimSpace(line); line != "" {
			msgs = append(msgs, strings.TrimPrefix(line, "entratool: "))
		}
	}
	if len(msgs) == 0 {
		return fmt.Errorf("%s get-token failed (exit %d)", launch.EngineName, code)
	}
	return errors.New(strings.Join(msgs, "; "))
}
