// Package dockercred is the docker credential helper protocol as docker-credential-entra
// speaks it, for Azure Container Registry: docker, buildkit, crane, helm and every
// go-containerregistry program run the helper with an action (get, store, erase, list,
// version) and talk to it over stdin and stdout.
//
// A registry is served only if some profile lists it in "registries" (exact name and
// port, case-insensitive). For it, `get` answers with the null-GUID user and an ACR
// refresh token: an Entra ID token for the registry's scope, traded at
// https://REGISTRY/oauth2/exchange, cached until shortly before the refresh token's own
// expiry. For any other registry it answers exactly "credentials not found in native
// keychain", which docker and go-containerregistry take as "go anonymous", after
// reading profiles.json and nothing else.
//
// The package links nothing heavy (no TLS or HTTP): the exchange itself is in package
// acr, which only entratool-engine links.
package dockercred

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
)

// Exit codes, as docker-credential-helpers' Serve uses them.
const (
	ExitOK      = 0
	ExitFailure = 1
)

// Profile is what the helper needs to know about one profile of profiles.json.
type Profile struct {
	Name       string
	TenantID   string
	Registries []string // as listed; entries that are not registry names never match
	Scope      string   // acrScope; "" → DefaultScope
}

func (p *Profile) scope() string {
	if p.Scope != "" {
		return p.Scope
	}
	return DefaultScope
}

// Backend is entratool's core behind the helper (the main wires it).
type Backend interface {
	// Profiles lists the profiles in file order. It reads profiles.json and nothing
	// else: no certificate, keyring or network.
	Profiles() ([]Profile, error)
	// Account opens the named profile's token pipeline; it too must not touch
	// certificates, keyrings or the network until a token is asked for.
	Account(ctx context.Context, profile string) (Account, error)
}

// Account is one profile's registry credentials.
type Account interface {
	// RefreshToken returns a refresh token for registry (a registry key): the cached
	// one while it has more than the cache margin left, else one exchanged from an
	// Entra ID token for scope (by one process on the machine at a time) and cached.
	RefreshToken(ctx context.Context, registry, scope string) (RefreshToken, error)
	// ForgetRefreshToken drops the cached refresh token for (registry, scope).
	ForgetRefreshToken(ctx context.Context, registry, scope string) error
}

// Helper answers docker's credential requests.
type Helper struct {
	Backend Backend
	// Getenv reads ENTRATOOL_PROFILE, which limits the helper to that one profile.
	Getenv func(string) string
	// Debug, if set, receives one line per decision (never a secret).
	Debug func(msg string, args ...any)
	// Version is printed by the version action; asked only then (version.Current reads the
	// build information, work a credential request has no use for).
	Version func() string
}

// For binds the helper to ctx as the credentials.Helper that docker-credential-helpers'
// HandleCommand drives: its interface has no context, and every request needs one.
func (h *Helper) For(ctx context.Context) credentials.Helper { return &session{h: h, ctx: ctx} }

// Usage is printed for a missing or extra argument, as credentials.Serve prints it.
const Usage = "Usage: docker-credential-entra <store|get|erase|list|version>"

// Run executes one invocation, args being os.Args[1:]: the action's answer on out, or
// an error as one line on out with ExitFailure, as docker's client package expects
// (stderr belongs to the user, and warnings go there).
func Run(ctx context.Context, h *Helper, args []string, in io.Reader, out io.Writer) int {
	if len(args) != 1 {
		fmt.Fprintln(out, Usage)
		return ExitFailure
	}
	switch args[0] {
	case "--version", "-v", credentials.ActionVersion:
		fmt.Fprintf(out, "docker-credential-entra (github.com/entratool/entratool) %s\n", h.Version())
		return ExitOK
	case "--help", "-h":
		fmt.Fprintln(out, Usage)
		return ExitOK
	case credentials.ActionGet, credentials.ActionStore, credentials.ActionErase, credentials.ActionList:
	default:
		fmt.Fprintf(out, "docker-credential-entra: unknown action %q: %s\n", args[0], Usage)
		return ExitFailure
	}
	act := credentials.HandleCommand
	if args[0] == credentials.ActionGet {
		act = get // credentials.Get, less encoding/json's reflection
	}
	if err := act(h.For(ctx), args[0], in, out); err != nil {
		// Errors quote the registry's own words: escaped, as docker shows them to people.
		fmt.Fprintln(out, termtext.Line(err.Error()))
		return ExitFailure
	}
	return ExitOK
}

// session is a Helper bound to one invocation's context.
type session struct {
	h   *Helper
	ctx context.Context
}

var _ credentials.Helper = (*session)(nil)

// Get answers with the null GUID and a refresh token for a served registry.
func (s *session) Get(serverURL string) (string, string, error) {
	host, p, err := s.resolve(serverURL)
	if err != nil {
		return "", "", err
	}
	scope := p.scope()
	acct, err := s.h.Backend.Account(s.ctx, p.Name)
	if err != nil {
		return "", "", fmt.Errorf("profile %s: %w", p.Name, err)
	}
	rt, err := acct.RefreshToken(s.ctx, host, scope)
	if err != nil {
		return "", "", fmt.Errorf("profile %s, registry %s: %w", p.Name, host, err)
	}
	if rt.Token == "" {
		return "", "", fmt.Errorf("profile %s, registry %s: empty refresh token", p.Name, host)
	}
	// The secret goes into docker's JSON, and from there into HTTP headers.
	if err := tokencache.CheckHandOff(rt.Token, rt.ExpiresOn, "registry "+host, time.Now()); err != nil {
		return "", "", fmt.Errorf("profile %s: %w", p.Name, err)
	}
	s.debug("answering", "registry", host, "profile", p.Name, "expires", rt.ExpiresOn.UTC())
	return NullUser, rt.Token, nil
}

// Delete is `docker logout`: forget the cached refresh token, so that the next get
// makes a new one (the registry may have stopped honouring the old).
func (s *session) Delete(serverURL string) error {
	host, p, err := s.resolve(serverURL)
	if err != nil {
		return err
	}
	acct, err := s.h.Backend.Account(s.ctx, p.Name)
	if err != nil {
		return fmt.Errorf("profile %s: %w", p.Name, err)
	}
	s.debug("forgetting the cached refresh token", "registry", host, "profile", p.Name)
	if err := acct.ForgetRefreshToken(s.ctx, host, p.scope()); err != nil {
		return fmt.Errorf("profile %s, registry %s: %w", p.Name, host, err)
	}
	return nil
}

// Add is `docker login` storing a password: there is nothing to store.
func (s *session) Add(c *credentials.Credentials) error {
	host, ok := NormalizeServerURL(c.ServerURL)
	if !ok {
		host = c.ServerURL
	}
	return fmt.Errorf("docker-credential-entra does not store credentials: it mints them from Entra ID for the registries a profile lists; run `entratool docker setup -p PROFILE --registry %s` instead of docker login", host)
}

// List names the served registries, each with the null-GUID user.
func (s *session) List() (map[string]string, error) {
	ps, err := s.profiles()
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, p := range ps {
		for _, r := range p.Registries {
			if k, ok := RegistryKey(r); ok {
				m[k] = NullUser
			}
		}
	}
	return m, nil
}

// resolve finds the profile serving serverURL, or credentials' not-found error.
func (s *session) resolve(serverURL string) (string, *Profile, error) {
	host, ok := NormalizeServerURL(serverURL)
	if !ok {
		s.debug("not a registry this helper serves", "serverURL", serverURL)
		return "", nil, credentials.NewErrCredentialsNotFound()
	}
	ps, err := s.profiles()
	if err != nil {
		return "", nil, err
	}
	for i := range ps {
		for _, r := range ps[i].Registries {
			if k, ok := RegistryKey(r); ok && k == host {
				return host, &ps[i], nil
			}
		}
	}
	s.debug("no profile lists the registry", "registry", host)
	return "", nil, credentials.NewErrCredentialsNotFound()
}

// profiles are the profiles the helper may use: all of them in file order (the first
// that lists a registry serves it), or only ENTRATOOL_PROFILE's when it is set.
func (s *session) profiles() ([]Profile, error) {
	if s.h.Backend == nil {
		return nil, errors.New("docker-credential-entra: no profile backend configured")
	}
	ps, err := s.h.Backend.Profiles()
	if err != nil {
		return nil, err
	}
	only := ""
	if s.h.Getenv != nil {
		only = s.h.Getenv("ENTRATOOL_PROFILE")
	}
	if only == "" {
		return ps, nil
	}
	names := make([]string, 0, len(ps))
	for _, p := range ps {
		if p.Name == only {
			return []Profile{p}, nil
		}
		names = append(names, p.Name)
	}
	sort.Strings(names)
	have := strings.Join(names, ", ")
	if have == "" {
		have = "none"
	}
	return nil, fmt.Errorf("ENTRATOOL_PROFILE names profile %q, which profiles.json does not have (profiles: %s)", only, have)
}

func (s *session) debug(msg string, args ...any) {
	if s.h.Debug != nil {
		s.h.Debug(msg, args...)
	}
}
