package profile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

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
	u := getenv(homeVariable())
	if u == "" {
		// os.UserHomeDir's answer where the variable is unset: its error, or the fixed
		// home of a mobile system.
		var err error
		if u, err = os.UserHomeDir(); err != nil {
			return "", fmt.Errorf("cannot find the home directory (%w): set ENTRATOOL_HOME", err)
		}
	}
	return filepath.Join(u, ".entratool"), nil
}

// homeVariable is the variable os.UserHomeDir reads. Home reads it through getenv, as
// every other variable: os.UserHomeDir's os.Getenv would copy the whole environment
// into a map on a cache hit's first lookup, the cost launch.Getenv exists to avoid.
func homeVariable() string {
	switch runtime.GOOS {
	case "windows":
		return "USERPROFILE"
	case "plan9":
		return "home"
	}
	return "HOME"
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
func (s *Store) Load() (*Config, error) { return s.load(Parse) }

// LoadHit is Load for a front's cache hit: the same trust rules on the home and the
// file, the same Config or error, decoded by ParseHit. Anything that writes the file
// reads it with Load (Update does).
func (s *Store) LoadHit() (*Config, error) { return s.load(ParseHit) }

func (s *Store) load(parse func(path string, data []byte) (*Config, error)) (*Config, error) {
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
	return parse(path, data)
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

// ErrProfileDeleted is under the error of a change to a profile that another command
// deleted after this one read it: nothing was saved.
var ErrProfileDeleted = errors.New("profile was deleted meanwhile")

// deletedError is the one message form of ErrProfileDeleted.
type deletedError struct{ name string }

func (e *deletedError) Error() string {
	return fmt.Sprintf("profile '%s' was deleted meanwhile; nothing was saved", e.name)
}

func (e *deletedError) Unwrap() error { return ErrProfileDeleted }

// Existing returns the named profile for a change under Update, or, when it is gone, an
// error wrapping ErrProfileDeleted: the caller read it before taking the lock, and another
// command may have deleted it since.
func (c *Config) Existing(name string) (*Profile, error) {
	if p := c.Get(name); p != nil {
		return p, nil
	}
	return nil, &deletedError{name: name}
}

// UpdateProfile applies fn to the named profile as the file holds it now, under the
// store's lock, and saves the file atomically (see Update). When another command deleted
// the profile since the caller read it, the error wraps ErrProfileDeleted; when fn fails
// or the result does not validate, that is the error; either way nothing is saved. fn
// may not rename the profile. It returns a copy of the profile as saved.
func (s *Store) UpdateProfile(ctx context.Context, name string, fn func(*Profile) error) (*Profile, error) {
	var saved *Profile
	err := s.Update(ctx, func(c *Config) error {
		p, err := c.Existing(name)
		if err != nil {
			return err
		}
		if err := fn(p); err != nil {
			return err
		}
		if p.Name != name {
			return fmt.Errorf("profile '%s' cannot be renamed to '%s' by a change; nothing was saved", name, p.Name)
		}
		saved = p.Clone()
		return nil
	})
	if err != nil {
		return nil, err
	}
	return saved, nil
}
