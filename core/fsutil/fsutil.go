// Package fsutil holds the file primitives every stateful part of entratool shares:
// private directories, atomic writes and advisory locks.
package fsutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// EnsurePrivateDir creates dir (and parents) as 0700. An existing directory keeps its
// mode unless it is readable by group or others, which is tightened to 0700: the
// directory holds credentials.
func EnsurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return fmt.Errorf("restrict %s to 0700: %w", dir, err)
		}
	}
	return nil
}

// WriteFileAtomic replaces path with data so that a reader (or a crash) sees either the
// old content or the new, never a mix: temp file in the same directory, fsync, rename,
// fsync of the directory.
func WriteFileAtomic(path string, data []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := f.Chmod(perm); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	ok = true
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}

// ErrLockTimeout is returned when a lock could not be taken before the context ended.
var ErrLockTimeout = errors.New("timed out waiting for lock")

// Lock takes an exclusive advisory lock on path (created if missing), polling until ctx
// ends. The returned function releases it.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	l := flock.New(path)
	ok, err := l.TryLockContext(ctx, 5*time.Millisecond)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrLockTimeout, path, ctx.Err())
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w %s", ErrLockTimeout, path)
	}
	return func() { l.Unlock() }, nil
}
