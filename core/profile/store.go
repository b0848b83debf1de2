package profile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/entratool/entratool/core/fsutil"
)

// Home is entratool's state directory: ENTRATOOL_HOME, else ~/.entratool. A relative
// ENTRATOOL_HOME is made absolute, so that a helper started from another directory by
// git or kubectl finds the same files.
func Home(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if h := getenv("ENTRATOOL_HOME"); h != "" {
		abs, err := filepath.Abs(h)
		if err != nil {
			return "", fmt.Errorf("ENTRATOOL_HOME %q: %w", h, err)
		}
		return abs, nil
	}
	u, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("cannot find the home directory (%w): set ENTRATOOL_HOME", err)
	}
	return filepath.Join(u, ".entratool"), nil
}

// Store is profiles.json in a home directory.
type Store struct{ Home string }

// Path is the profiles file.
func (s *Store) Path() string { return filepath.Join(s.Home, "profiles.json") }

// MaxFileSize bounds profiles.json: hundreds of profiles fit in far less.
const MaxFileSize = 16 << 20

// Load reads the file; a missing home or file is an empty Config. It never writes. The
// home and the file must pass the trust rules (fsutil.CheckDir, fsutil.OpenPrivate):
// a profile planted by another user could send the stored secret anywhere.
func (s *Store) Load() (*Config, error) {
	path := s.Path()
	if err := fsutil.CheckDir(s.Home); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return &Config{Path: path}, nil
		}
		return nil, homeError(err)
	}
	data, err := fsutil.ReadPrivate(path, fsutil.FollowOwnLink, MaxFileSize)
	if errors.Is(err, fs.ErrNotExist) {
		return &Config{Path: path}, nil
	}
	if err != nil {
		if errors.Is(err, fsutil.ErrUntrusted) {
			return nil, err
		}
		return nil, fmt.Errorf("read profiles: %w", err)
	}
	return Parse(path, data)
}

// homeError adds where the home came from to a refusal, so the fix can be to point
// ENTRATOOL_HOME elsewhere.
func homeError(err error) error {
	if errors.Is(err, fsutil.ErrUntrusted) {
		return fmt.Errorf("%w (the entratool home: ENTRATOOL_HOME, else ~/.entratool)", err)
	}
	return fmt.Errorf("entratool home: %w", err)
}

// Update applies fn to the current file content under an exclusive lock and writes the
// result atomically (0600, home 0700). If the file does not parse, fn fails, or the
// result does not validate, the file is left as it was.
func (s *Store) Update(ctx context.Context, fn func(*Config) error) error {
	if err := fsutil.EnsurePrivateDir(s.Home); err != nil {
		return homeError(err)
	}
	path := s.Path()
	unlock, err := fsutil.Lock(ctx, path+".lock")
	if err != nil {
		return err
	}
	defer unlock()
	// Re-read under the lock: another process may have written since the caller looked.
	c, err := s.Load()
	if err != nil {
		return err
	}
	if err := fn(c); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return fmt.Errorf("%s not saved: %w", path, err)
	}
	return fsutil.WriteFileAtomic(path, c.Marshal(), 0o600)
}
