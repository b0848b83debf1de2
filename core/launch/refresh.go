package launch

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
)

// Refresh ahead (SPEC §15). A hit whose token has less than the window
// (ENTRATOOL_REFRESH_AHEAD, Local.RefreshAhead) left — and, being a hit, more than the
// margin — is answered from the cache at once, and the front starts one detached engine
// (EntryRefresh) to refresh that key. Outside the window a hit pays one comparison.
//
// Single flight, in two steps:
//
//  1. The front tries the key's lock (tokencache.Cache.TryLock: the lock a fetch on a
//     miss holds), never waiting. If another process holds it — fetching on a miss, or a
//     refresh already under way — nothing is started. Otherwise the front starts the
//     child while holding the lock and then releases it: a flock cannot be handed to a
//     child across exec portably (Windows' LockFileEx belongs to the handle and process),
//     so the child takes the locks itself.
//  2. The child (the engine's refresh entry point) takes the key's refresh lock
//     (tokencache.Cache.RefreshLock), which serialises refresh children, and re-reads the
//     entry: if its expiry is no longer the one the front saw, another child (or a fetch)
//     has refreshed it and this one asks nothing. Otherwise it fetches — forced, through
//     the cache's own single flight (the key's lock), and writes the cache like any
//     fetch. Fronts that hit meanwhile find the key's lock held and start nothing.
//
// So however many fronts win step 1 in the moment between a front's release and its
// child's fetch, exactly one token request results. The child's streams are the null
// device and its failure goes to the cache's refresh.log, never to the caller, who gets a
// normal miss once the token reaches the margin.

// RefreshArgs are EntryRefresh's arguments: the request (no secret: it is on a command
// line) and the expiry of the token the front saw, to the nanosecond, for the child's
// re-check.
func RefreshArgs(r Request, seen time.Time) []string {
	return []string{EncodeRequest(r), seen.UTC().Format(time.RFC3339Nano)}
}

// ParseRefreshArgs reads RefreshArgs, with DecodeRequest's checks.
func ParseRefreshArgs(args []string) (Request, time.Time, error) {
	if len(args) != 2 {
		return Request{}, time.Time{}, fmt.Errorf("%s %s%s takes a request and an expiry, got %d arguments", EngineName, AsFlag, EntryRefresh, len(args))
	}
	r, err := DecodeRequest(args[0])
	if err != nil {
		return Request{}, time.Time{}, err
	}
	seen, err := time.Parse(time.RFC3339Nano, args[1])
	if err != nil {
		return Request{}, time.Time{}, fmt.Errorf("unreadable expiry in the refresh request: %w", err)
	}
	return r, seen, nil
}

// refreshDue reports whether a hit's token, expiring at expiresOn, has less than window
// left (window 0: refresh ahead is off).
func refreshDue(expiresOn, now time.Time, window time.Duration) bool {
	return window > 0 && expiresOn.Sub(now) < window
}

// refreshAhead is run on every hit: when t is due, it starts the refresh of its key
// (step 1 above). debug, when not nil, is told what was done. Nothing is ever reported to
// the caller otherwise: the hit is the answer.
func (l *Local) refreshAhead(t *tokencache.Token, cert tokencache.CertInfo, r Request, debug io.Writer) {
	now := time.Now()
	if !refreshDue(t.ExpiresOn, now, l.RefreshAhead) {
		return
	}
	if r.Program == "" {
		r.Program = frontName()
	}
	scope := l.Profile.TokenScope(r.Scope)
	req := Request{Program: r.Program, Profile: l.Profile.Name, Scope: scope, Timeout: DefaultTimeout}
	pid, err := l.startRefresh(t, cert, req)
	if debug == nil {
		return
	}
	left := t.ExpiresOn.Sub(now).Round(time.Second)
	switch {
	case err == nil:
		fmt.Fprintf(debug, "%s: debug: refresh ahead: started %s (pid %d) to refresh the token of profile '%s' for %s: it expires in %s, within %s=%s\n",
			r.Program, EngineName, pid, termtext.Escape(l.Profile.Name), termtext.Escape(scope), left, tokencache.RefreshAheadEnv, l.RefreshAhead)
	case errors.Is(err, errRefreshHeld):
		fmt.Fprintf(debug, "%s: debug: refresh ahead: the token expires in %s; none started: %v\n", r.Program, left, err)
	default:
		fmt.Fprintf(debug, "%s: debug: refresh ahead: the token expires in %s; none started: %s\n", r.Program, left, termtext.Line(err.Error()))
	}
}

// errRefreshHeld: another process holds the key's lock (fetching, or refreshing).
var errRefreshHeld = errors.New("another process is fetching or refreshing this token")

// startRefresh is step 1: try the key's lock, start the child holding it, release.
func (l *Local) startRefresh(t *tokencache.Token, cert tokencache.CertInfo, r Request) (int, error) {
	k, ok := l.Cache.HitKey(l.Profile, r.Scope, cert)
	if !ok {
		return 0, errors.New("the profile's credential is not known without opening it")
	}
	unlock, ok, err := l.Cache.TryLock(k)
	if err != nil {
		return 0, err
	}
	if !ok {
		return 0, errRefreshHeld
	}
	defer unlock()
	return startDetached(EntryRefresh, RefreshArgs(r, t.ExpiresOn))
}

// frontName is the running front's name, for a request that Cached makes (a Request
// names its program; Local.Token's caller names it itself).
func frontName() string {
	n := strings.TrimSuffix(filepath.Base(os.Args[0]), ".exe")
	if n == "" || n == "." || n == string(filepath.Separator) {
		return "entratool"
	}
	return n
}
