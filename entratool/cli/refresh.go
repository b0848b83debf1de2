package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
)

// Refresh is the engine's refresh-ahead entry point (launch.EntryRefresh, SPEC §15),
// started detached by a front whose hit had less than ENTRATOOL_REFRESH_AHEAD left, with
// seen, the expiry of the token it served. Step 2 of core/launch/refresh.go: under the
// key's refresh lock (which serialises refresh children), the entry is read again; if its
// expiry is no longer seen, another child or a fetch has already refreshed it and nothing
// is asked. Otherwise the token is fetched, forced, through the cache's single flight,
// and written like any fetch. No prompt, no warning (the day's certificate warning is left
// for a command the user sees), no output: the caller's streams are not this process's.
// ctx bounds it; the caller logs the error (LogRefreshFailure).
func Refresh(ctx context.Context, getenv func(string) string, r launch.Request, seen time.Time) error {
	a := &App{Streams: Streams{In: bytes.NewReader(nil), Out: io.Discard, Err: io.Discard}, Getenv: getenv, Now: time.Now}
	p, _, err := a.loadNamedProfile(r.Profile)
	if err != nil {
		return err
	}
	pr, err := a.provider(p, true)
	if err != nil {
		return err
	}
	cache, scope := pr.Cache(), pr.Scope(r.Scope)
	id, _, ok := tokencache.RememberedCredential(p, cache.Dir)
	if !ok {
		return nil // the certificate changed since the hit: the next call misses and fetches
	}
	k := tokencache.KeyFor(p, scope, id)
	unlock, err := cache.RefreshLock(ctx, k)
	if err != nil {
		return err
	}
	defer unlock()
	if e := cache.Entry(k); e == nil || !e.ExpiresOn.Equal(seen) {
		return nil // refreshed (or dropped) since the front looked
	}
	_, err = pr.Token(ctx, scope, true)
	return err
}

// RefreshLogName is the refresh-ahead failure log, in the cache directory.
const RefreshLogName = "refresh.log"

// maxRefreshLog bounds refresh.log: past it, the oldest lines are dropped down to half.
const maxRefreshLog = 64 << 10

// LogRefreshFailure appends one line for a failed refresh ahead to the cache's
// refresh.log (0600, bounded, written atomically under its own lock): the time, the
// front, the profile and scope, and the error's one-line text, escaped — never a secret
// (the request holds none, and the pipeline's errors name servers and files, not
// credentials). Nothing is shown to anyone: the caller got its token from the cache and
// gets a normal miss once the token reaches the margin. A log that cannot be written is
// given up.
func LogRefreshFailure(getenv func(string) string, r launch.Request, failure error, now time.Time) {
	home, err := profile.Home(getenv)
	if err != nil {
		return
	}
	dir := tokencache.Dir(home, getenv)
	if fsutil.CheckDir(dir) != nil {
		return // never write into a cache directory the trust rules refuse
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	path := filepath.Join(dir, RefreshLogName)
	unlock, err := fsutil.Lock(ctx, path+".lock")
	if err != nil {
		return
	}
	defer unlock()
	old, err := fsutil.ReadPrivate(path, fsutil.NoFollow, 4*maxRefreshLog)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		old = nil // unreadable or planted: replaced (the rename does not write through it)
	}
	line := fmt.Sprintf("%s %s: could not refresh the token of profile '%s' for %s ahead of its expiry: %s\n",
		now.UTC().Format(time.RFC3339), termtext.Line(r.Program), termtext.Line(r.Profile), termtext.Line(r.Scope), termtext.Line(failure.Error()))
	data := append(old, line...)
	if len(data) > maxRefreshLog {
		data = data[len(data)-maxRefreshLog/2:]
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:]
		}
	}
	fsutil.WriteFileAtomic(path, data, 0o600)
}
