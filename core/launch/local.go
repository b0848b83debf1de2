package launch

import (
	"context"
	"io"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
)

// Local is what a front reads itself: profiles.json and the shared token cache —
// never a certificate, the keyring, a plugin or a socket.
type Local struct {
	Home    string
	Config  *profile.Config
	Profile *profile.Profile // the profile served; nil from OpenConfig
	Cache   *tokencache.Cache
	// RefreshAhead is the refresh-ahead window (ENTRATOOL_REFRESH_AHEAD, SPEC §15): a
	// hit with less than this left starts a background refresh. 0 is off.
	RefreshAhead time.Duration
}

// OpenConfig reads profiles.json and opens the token cache, for a front that picks its
// profile itself (the docker helper, by registry).
func OpenConfig(getenv func(string) string) (*Local, error) {
	home, err := profile.Home(getenv)
	if err != nil {
		return nil, err
	}
	// LoadHit: the same trust rules and result as Load, decoded for a hit (ParseHit).
	cfg, err := (&profile.Store{Home: home}).LoadHit()
	if err != nil {
		return nil, err
	}
	return &Local{Home: home, Config: cfg, Cache: tokencache.Open(home, getenv), RefreshAhead: tokencache.RefreshAhead(getenv)}, nil
}

// OpenLocal resolves the profile a front serves: name, else ENTRATOOL_PROFILE, else
// the default profile.
func OpenLocal(getenv func(string) string, name string) (*Local, error) {
	l, err := OpenConfig(getenv)
	if err != nil {
		return nil, err
	}
	if l.Profile, err = l.Config.Resolve(name, getenv); err != nil {
		return nil, err
	}
	return l, nil
}

// Cached is the one cache-hit lookup: the profile's token for scope ("" → the
// profile's scope, else the default), or tokencache.ErrMiss. With it comes what the
// lookup read of the profile's certificate, for ExpiryWarning. A hit inside the
// refresh-ahead window also starts the key's background refresh (refresh.go).
func (l *Local) Cached(scope string) (*tokencache.Token, tokencache.CertInfo, error) {
	return l.cached(Request{Scope: scope}, nil)
}

// cached is Cached for r's scope; on a hit, refresh ahead, told to debug (nil: silent).
func (l *Local) cached(r Request, debug io.Writer) (*tokencache.Token, tokencache.CertInfo, error) {
	t, c, err := l.Cache.Lookup(l.Profile, l.Profile.TokenScope(r.Scope))
	if err == nil && l.RefreshAhead > 0 {
		l.refreshAhead(t, c, r, debug)
	}
	return t, c, err
}

// ExpiryWarning is the day's certificate warning for the profile served
// (tokencache.ExpiryWarningOf, SPEC §13), given what Cached read of the certificate; ""
// when none is due. A caller that will not show it (--silent) must not ask: asking uses
// up the day's warning.
func (l *Local) ExpiryWarning(c tokencache.CertInfo, now time.Time) string {
	return tokencache.ExpiryWarningOf(l.Profile, c, l.Cache.Dir, now)
}

// Token answers r for this profile: from the cache unless r.Debug (the engine logs
// every decision), else from the engine. r.Profile and r.Scope are filled in from the
// profile, so the engine serves exactly the token that was looked up. A hit carries the
// day's certificate warning as the engine's answer would: as data, for the front to show
// in its host tool's style. Under debug the front still makes the refresh-ahead decision
// (it is the front's) and says what it did.
func (l *Local) Token(ctx context.Context, r Request, stderr io.Writer) (Result, error) {
	r.Profile, r.Scope = l.Profile.Name, l.Profile.TokenScope(r.Scope)
	if r.Debug {
		l.cached(r, stderr) // for the refresh-ahead decision only: the engine answers
	} else if t, c, err := l.cached(r, nil); err == nil {
		res := Result{Token: NewTokenJSON(t)}
		if w := l.ExpiryWarning(c, time.Now()); w != "" {
			res.Warnings = []string{w}
		}
		return res, nil
	}
	return Token(ctx, r, stderr)
}

// GrowStack grows the calling goroutine's stack to what a cache hit needs, in one step.
// A front calls it first thing in main, while the stack holds two frames: a hit's call
// chain (profiles.json, the trust checks, the cache entry) would otherwise grow it from
// deep inside, copying the stack and unwinding every frame on it through the pc tables
// (runtime.newstack was ~4% of a helper's hit; called from OpenConfig, twelve frames
// deep, the one copy was still ~20K instructions). The array is never read, but it is
// zeroed, a page a 4 KB: it is no larger than it takes to make the runtime double the
// stack.
//
//go:noinline
func GrowStack() {
	var b [hitStack]byte
	stackSink(b[:])
}

// hitStack makes GrowStack's frame overflow the 4 KB stack a goroutine has after
// package init, so that the runtime doubles it to 8 KB: what a hit reaches (3.2 KB deep
// in git-credential-entra, kubectl-exec-entra and az-entra, found with a breakpoint on
// runtime.copystack). 3.5 KB from main's 300–450 bytes, plus the runtime's 928-byte
// guard, passes 4 KB, while the zeroed array stays within the stack's top page, which
// the hit touches anyway: each page first touched is a fault, ~5 µs here.
const hitStack = 3<<10 + 512

//go:noinline
func stackSink([]byte) {}
