package tokencache

import (
	"context"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
)

// Refresh ahead (SPEC §15): a hit whose token has less than the window left (but more
// than the margin) is answered from the cache, and one detached engine refreshes the key
// in the background. These are the cache's parts of it; core/launch decides and starts.

// RefreshAheadEnv names the variable that sets the refresh-ahead window (a Go duration;
// "0" turns refresh ahead off).
const RefreshAheadEnv = "ENTRATOOL_REFRESH_AHEAD"

// DefaultRefreshAhead is the window when ENTRATOOL_REFRESH_AHEAD is unset or unreadable.
const DefaultRefreshAhead = 15 * time.Minute

// RefreshAhead is the one reading of ENTRATOOL_REFRESH_AHEAD, parsed as Open parses
// ENTRATOOL_REFRESH_MARGIN: a valid, non-negative Go duration, else the default. 0 is off.
func RefreshAhead(getenv func(string) string) time.Duration {
	if d, ok := envDuration(getenv, RefreshAheadEnv); ok {
		return d
	}
	return DefaultRefreshAhead
}

func (c *Cache) lockPath(k Key) string { return keyFile(c.tokensDir(), k, ".lock") }

// TryLock takes k's lock — the one a fetch on a miss holds (Lock) — only if no other
// process holds it, without waiting. ok is false when one does: it is fetching or
// refreshing this key already. The cache's directories are not created or re-checked:
// the caller has just read a hit from them.
func (c *Cache) TryLock(k Key) (unlock func(), ok bool, err error) {
	return fsutil.TryLock(c.lockPath(k))
}

// RefreshLock serialises the refresh-ahead children of k, waiting until ctx ends. It is
// not k's lock: the child holding it re-reads the entry and, if no one refreshed it in
// the meantime, fetches through Fetch, which takes k's lock itself.
func (c *Cache) RefreshLock(ctx context.Context, k Key) (func(), error) {
	if err := c.ensureDirs(); err != nil {
		return nil, err
	}
	return fsutil.Lock(ctx, keyFile(c.tokensDir(), k, ".refresh.lock"))
}

// HitKey is the key a Lookup hit for p and scope was read from, given the certificate
// information that Lookup returned: a certificate file is named by the thumbprint already
// read from its memo (no second read); every other kind is named from the profile alone.
func (c *Cache) HitKey(p *profile.Profile, scope string, cert CertInfo) (Key, bool) {
	if cert.Thumbprint != "" && p.Method() == profile.MethodCertificate && p.CertificateStore == "" {
		return KeyFor(p, scope, "x5t:"+profile.NormThumbprint(cert.Thumbprint)), true
	}
	id, _, ok := RememberedCredential(p, c.Dir)
	if !ok {
		return Key{}, false
	}
	return KeyFor(p, scope, id), true
}
