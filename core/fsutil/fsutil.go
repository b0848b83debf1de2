// Package fsutil holds the file primitives every stateful part of entratool shares:
// private directories, atomic writes and advisory locks.
package fsutil

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"
)

// SmallBuffer is the size a cache hit's buffers start at: the files it reads
// (profiles.json, the certificate memo, the cache entry) and the answer it writes. The
// Go allocator keeps each size class in spans of its own, and a fresh process pays for
// every span it starts — its pages first touched, ~5 µs each here: buffers of one class
// share one span, where buffers sized to their contents took one each (SPEC §11).
const SmallBuffer = 2048

// EnsurePrivateDir creates dir (and missing parents) as 0700 and checks it with the
// trust rules: an existing directory must be the user's and not writable by group or
// others, or it is refused (ErrUntrusted) and left exactly as it is — it may hold files
// another user planted, and a shared directory such as /tmp is not ours to chmod. One
// that is only readable by group or others is tightened to 0700: it holds credentials.
func EnsurePrivateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	fi, err := checkDir(dir, OwnerSelf)
	if err != nil {
		return err
	}
	if modeBitsMeaningful && fi.Mode().Perm()&0o077 != 0 {
		if err := os.Chmod(dir, fi.Mode().Perm()&0o700); err != nil {
			return fmt.Errorf("restrict %s to 0700: %w", dir, err)
		}
	}
	return nil
}

// EnsurePrivateDirs applies EnsurePrivateDir to each directory in turn (a cache
// directory, then the subdirectory a file goes into), so that no directory is created
// inside one that fails the trust rules.
func EnsurePrivateDirs(dirs ...string) error {
	for _, d := range dirs {
		if err := EnsurePrivateDir(d); err != nil {
			return err
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
	removeStaleTemps(path)
	return nil
}

// StaleTempAge is how old a leftover temp file of WriteFileAtomic must be before a later
// write of the same file removes it; younger ones may belong to a writer still running.
const StaleTempAge = time.Minute

// removeStaleTemps deletes temp files a killed writer of path left behind (a process
// killed between CreateTemp and Rename cannot clean up). They are hidden and private,
// but secrets.json's would keep secrets on disk after the profile is gone.
func removeStaleTemps(path string) {
	dir, prefix := filepath.Dir(path), "."+filepath.Base(path)+".tmp-"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, de := range ents {
		if !de.Type().IsRegular() || !strings.HasPrefix(de.Name(), prefix) {
			continue
		}
		if fi, err := de.Info(); err == nil && time.Since(fi.ModTime()) > StaleTempAge {
			os.Remove(filepath.Join(dir, de.Name()))
		}
	}
}

// ErrLockTimeout is returned when a lock could not be taken before the context ended.
var ErrLockTimeout = errors.New("timed out waiting for lock")

// Lock takes an exclusive advisory lock on path (created 0600 if missing), polling until
// ctx ends. The returned function releases it. The lock file is opened without following
// a symlink and without blocking, and must turn out to be a regular file of the user's:
// a FIFO or symlink planted in its place is refused, never waited on or written through.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	if fi, err := os.Lstat(path); err == nil {
		if err := CheckFile(path, fi); err != nil {
			return nil, err
		}
	}
	l := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDONLY|openFlagsNoFollow), flock.SetPermissions(0o600))
	ok, err := l.TryLockContext(ctx, 5*time.Millisecond)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("%w %s: %w", ErrLockTimeout, path, ctx.Err())
		}
		if isSymlinkRefusal(err) {
			return nil, &UntrustedError{Path: path, Problem: "is a symlink", Fix: "remove it"}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, fmt.Errorf("%w %s", ErrLockTimeout, path)
	}
	// Checked again on what was opened: the path may have been swapped after Lstat.
	fi, err := l.Stat()
	if err == nil {
		err = CheckFile(path, fi)
	}
	if err != nil {
		l.Unlock()
		return nil, err
	}
	return func() { l.Unlock() }, nil
}
