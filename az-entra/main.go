// Command az-entra is entratool's az shim: linked as `az` (and `azd`) by
// `entratool az-shim install`, it answers the Azure CLI's token commands for an
// entratool profile, so the Azure SDKs, Terraform and scripts get Entra ID tokens
// without `az login`. Other commands go to the real az, if one is on PATH.
//
// A lean front (docs/architecture.md): az's and azd's command lines are helpers/azcli,
// the token comes from launch.OpenLocal's cache lookup, else launch.Token.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/helpers/azcli"
)

const program = "az-entra"

func main() {
	launch.GrowStack()
	// The local zone is read now, two frames deep: read where a hit formats expiresOn,
	// /etc/localtime's 4 KB read buffer on the stack grew it a second time, copying a
	// dozen frames. A hit needs it; anything else is about to exec az or the engine.
	_ = time.Local.String()
	mode, args := azcli.ModeFor(os.Args)
	// os.Getenv, not launch.Getenv: the local zone has just asked syscall for TZ, which
	// copied the environment already.
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
	return launch.DebugEnabled(os.Getenv) || slices.Contains(args, "--debug")
}

// source is the profile (ENTRATOOL_PROFILE, else the default) and its tokens: from the
// shared cache, else from the engine.
type source struct {
	getenv func(string) string
	stderr io.Writer
	debug  bool

	l *launch.Local
}

func (s *source) load() (*launch.Local, error) {
	if s.l != nil {
		return s.l, nil
	}
	l, err := launch.OpenLocal(s.getenv, "")
	if err != nil {
		return nil, err
	}
	s.l = l
	return l, nil
}

func (s *source) Account() (azcli.Account, error) {
	l, err := s.load()
	if err != nil {
		return azcli.Account{}, err
	}
	p := l.Profile
	return azcli.Account{Profile: p.Name, TenantID: p.TenantID, ClientID: p.ClientID, SubscriptionID: p.SubscriptionID, Authority: p.Authority()}, nil
}

func (s *source) Token(ctx context.Context, scope string) (azcli.Token, error) {
	l, err := s.load()
	if err != nil {
		return azcli.Token{}, err
	}
	// The engine gets an empty stdin (the SDKs and Terraform own none; it must never
	// prompt) and the default bound. Its debug log goes to stderr as it happens.
	res, err := l.Token(ctx, launch.Request{Program: program, Scope: scope, Debug: s.debug}, s.stderr)
	if err != nil {
		return azcli.Token{}, err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(s.stderr, "WARNING: %s\n", termtext.Escape(w))
	}
	return azcli.Token{AccessToken: res.Token.AccessToken, ExpiresOn: res.Token.Expiry()}, nil
}
