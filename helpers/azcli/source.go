package azcli

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/termtext"
)

// LocalSource is the Source of az-entra, and of entratool-engine's az entry point
// (launch.EntryAz) acting for it: the profile (ENTRATOOL_PROFILE, else the default)
// and its tokens from the shared cache, else from the engine (launch.Local.Token). One
// type, so that a command the front hands to the engine is answered as the front would.
type LocalSource struct {
	Program string // the front the user ran, named in the engine's messages
	Getenv  func(string) string
	Stderr  io.Writer // the engine's debug log and the WARNING lines
	Debug   bool      // --debug or ENTRATOOL_DEBUG: the engine answers and logs

	l *launch.Local
}

func (s *LocalSource) load() (*launch.Local, error) {
	if s.l != nil {
		return s.l, nil
	}
	l, err := launch.OpenLocal(s.Getenv, "")
	if err != nil {
		return nil, err
	}
	s.l = l
	return l, nil
}

// Account is the profile as az's signed-in account.
func (s *LocalSource) Account() (Account, error) {
	l, err := s.load()
	if err != nil {
		return Account{}, err
	}
	p := l.Profile
	return Account{Profile: p.Name, TenantID: p.TenantID, ClientID: p.ClientID, SubscriptionID: p.SubscriptionID, Authority: p.Authority()}, nil
}

// Token is the profile's token for scope: a cache hit, else the engine's answer. Its
// warnings go to Stderr in az's style.
func (s *LocalSource) Token(ctx context.Context, scope string) (Token, error) {
	l, err := s.load()
	if err != nil {
		return Token{}, err
	}
	// The engine gets an empty stdin (the SDKs and Terraform own none; it must never
	// prompt) and the default bound. Its debug log goes to stderr as it happens.
	res, err := l.Token(ctx, launch.Request{Program: s.Program, Scope: scope, Debug: s.Debug}, s.Stderr)
	if err != nil {
		return Token{}, err
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(s.Stderr, "WARNING: %s\n", termtext.Escape(w))
	}
	return Token{AccessToken: res.Token.AccessToken, ExpiresOn: res.Token.Expiry()}, nil
}

// DebugWanted is the front's --debug decision: ENTRATOOL_DEBUG, or --debug anywhere on
// the command line.
func DebugWanted(getenv func(string) string, args []string) bool {
	return launch.DebugEnabled(getenv) || slices.Contains(args, "--debug")
}
