package tokencache

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/entratool/entratool/core/fsutil"
)

// Fetch returns the token cached under k, or calls fetch to make one. Across every
// process on the machine only one calls fetch for a key at a time: the others wait on
// the key's file lock and then find the new entry in the cache. With force the cache
// is bypassed (but the result is still stored).
//
// If fetch fails while an older entry is still unexpired (it was only inside the
// refresh margin), that entry is served and warn is told why. If the cache directory
// cannot be locked or written (read-only, full), the token is still fetched and
// returned, with a warning.
func (c *Cache) Fetch(ctx context.Context, k Key, force bool, fetch func(context.Context) (*Token, error), warn func(string)) (*Token, error) {
	if warn == nil {
		warn = func(string) {}
	}
	if !force {
		if t, ok := c.Get(k); ok {
			return t, nil
		}
	}
	unlock, err := c.Lock(ctx, k)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("waiting for another entratool process to fetch the token: %w", err)
		}
		warn(cacheWarning(err))
		return fetch(ctx)
	}
	defer unlock()
	stale, err := c.entry(k)
	if errors.Is(err, fsutil.ErrUntrusted) {
		// Never read; the fetched token replaces it (rename over the planted file).
		warn(cacheWarning(err))
	}
	if !force && stale != nil && c.Fresh(stale) {
		return stale, nil
	}
	t, err := fetch(ctx)
	if err != nil {
		if !force && stale != nil && c.Usable(stale) {
			warn(fmt.Sprintf("warning: could not refresh the token (%v); using the cached token, valid until %s", err, stale.ExpiresOn.UTC().Format(time.RFC3339)))
			return stale, nil
		}
		return nil, err
	}
	if err := c.Put(k, t); err != nil {
		warn(fmt.Sprintf("warning: could not write the token cache: %v", err))
	}
	return t, nil
}

// cacheWarning is the one line a command prints when it goes on without the cache.
func cacheWarning(err error) string {
	if errors.Is(err, fsutil.ErrUntrusted) {
		return fmt.Sprintf("warning: not using the token cache: %v (or set ENTRATOOL_CACHE_DIR to a private directory)", err)
	}
	return fmt.Sprintf("warning: token cache unavailable (%v); continuing without it", err)
}
