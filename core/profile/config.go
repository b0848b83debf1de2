package profile

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Config is the whole of profiles.json.
type Config struct {
	DefaultProfile string
	Profiles       []*Profile
	// Path is the file the config was read from; it only appears in messages.
	Path string

	extra map[string]json.RawMessage // unknown top-level keys, raw value bytes
}

// Get returns the profile with exactly that name, or nil.
func (c *Config) Get(name string) *Profile {
	for _, p := range c.Profiles {
		if p != nil && p.Name == name {
			return p
		}
	}
	return nil
}

// Put adds p, or replaces the profile of the same name in place (keeping the file's order).
func (c *Config) Put(p *Profile) {
	for i, q := range c.Profiles {
		if q != nil && q.Name == p.Name {
			c.Profiles[i] = p
			return
		}
	}
	c.Profiles = append(c.Profiles, p)
}

// Delete removes the named profile and reports whether it existed. A defaultProfile that
// named it is cleared, since a default pointing nowhere would break every later command.
func (c *Config) Delete(name string) bool {
	found := false
	kept := c.Profiles[:0]
	for _, p := range c.Profiles {
		if p != nil && p.Name == name {
			found = true
			continue
		}
		kept = append(kept, p)
	}
	clear(c.Profiles[len(kept):])
	c.Profiles = kept
	if found && c.DefaultProfile == name {
		c.DefaultProfile = ""
	}
	return found
}

// Names lists the profile names in file order.
func (c *Config) Names() []string {
	names := make([]string, 0, len(c.Profiles))
	for _, p := range c.Profiles {
		if p != nil {
			names = append(names, p.Name)
		}
	}
	return names
}

// Validate checks every profile, that names are unique and that defaultProfile names one.
func (c *Config) Validate() error {
	seen := map[string]bool{}
	for i, p := range c.Profiles {
		if p == nil {
			return fmt.Errorf("profiles[%d] is empty", i)
		}
		if err := p.Validate(); err != nil {
			if p.Name == "" {
				return fmt.Errorf("profiles[%d]: %w", i, err)
			}
			return fmt.Errorf("profile %q: %w", p.Name, err)
		}
		if seen[p.Name] {
			return fmt.Errorf("two profiles are named %q: rename or delete one", p.Name)
		}
		seen[p.Name] = true
	}
	if c.DefaultProfile != "" && !seen[c.DefaultProfile] {
		return fmt.Errorf("defaultProfile %q names no profile: run 'entratool config use NAME' with one of: %s", c.DefaultProfile, list(c.Names()))
	}
	return nil
}

// Sentinels under every Resolve error, for mapping to exit codes.
var (
	// ErrNoProfile: nothing selected a profile (none exist, or several and no default).
	ErrNoProfile = errors.New("no profile selected")
	// ErrProfileNotFound: a profile was named but the file has none by that name.
	ErrProfileNotFound = errors.New("profile not found")
)

// ResolveError explains why no profile could be picked. errors.Is matches Err.
type ResolveError struct {
	Err    error    // ErrNoProfile or ErrProfileNotFound
	Name   string   // the name asked for, when Err is ErrProfileNotFound
	Source string   // where the name came from: "--profile", "ENTRATOOL_PROFILE" or "defaultProfile"
	Path   string   // the profiles file
	Have   []string // the names the file has
}

func (e *ResolveError) Unwrap() error { return e.Err }

func (e *ResolveError) Error() string {
	switch {
	case e.Err == ErrProfileNotFound:
		have := "have: " + list(e.Have)
		if len(e.Have) == 0 {
			have = "no profiles yet: run 'entratool config create'"
		}
		msg := fmt.Sprintf("profile %q not found in %s (%s)", e.Name, e.Path, have)
		switch e.Source {
		case "ENTRATOOL_PROFILE":
			msg += "; the name comes from ENTRATOOL_PROFILE"
		case "defaultProfile":
			msg += "; the name comes from defaultProfile: run 'entratool config use NAME'"
		}
		return msg
	case len(e.Have) == 0:
		return "no profiles yet: run 'entratool config create'"
	default:
		return fmt.Sprintf("no profile selected: pass --profile NAME, set ENTRATOOL_PROFILE, or run 'entratool config use NAME' (profiles: %s)", list(e.Have))
	}
}

func list(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Resolve picks the profile a command uses: flagName if given, else ENTRATOOL_PROFILE,
// else defaultProfile, else the only profile if there is exactly one.
func (c *Config) Resolve(flagName string, getenv func(string) string) (*Profile, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	path := c.Path
	if path == "" {
		path = "profiles.json"
	}
	name, source := flagName, "--profile"
	if name == "" {
		name, source = getenv("ENTRATOOL_PROFILE"), "ENTRATOOL_PROFILE"
	}
	if name == "" {
		name, source = c.DefaultProfile, "defaultProfile"
	}
	if name == EnvName {
		// Reserved: built from the AZURE_* variables, whatever profiles.json holds.
		return FromEnv(getenv)
	}
	if name != "" {
		if p := c.Get(name); p != nil {
			return p, nil
		}
		return nil, &ResolveError{Err: ErrProfileNotFound, Name: name, Source: source, Path: path, Have: c.Names()}
	}
	names := c.Names()
	if len(names) == 1 {
		return c.Get(names[0]), nil
	}
	if len(names) == 0 && EnvAvailable(getenv) {
		return FromEnv(getenv)
	}
	return nil, &ResolveError{Err: ErrNoProfile, Path: path, Have: names}
}

// Usable lists the profiles a helper that picks its profile by host (docker, by
// registry) may choose from: the stored ones, and the env profile when
// ENTRATOOL_PROFILE=env, or when none is stored and the environment names an app. An
// env profile the environment cannot complete is left out (the helper then says it has
// no credentials, as for any host no profile lists).
func (c *Config) Usable(getenv func(string) string) []*Profile {
	var out []*Profile
	for _, p := range c.Profiles {
		if p != nil {
			out = append(out, p)
		}
	}
	if getenv("ENTRATOOL_PROFILE") == EnvName || (len(out) == 0 && EnvAvailable(getenv)) {
		if p, err := FromEnv(getenv); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Find is Get for the profiles Usable lists: a stored profile, or the env profile.
func (c *Config) Find(name string, getenv func(string) string) *Profile {
	for _, p := range c.Usable(getenv) {
		if p.Name == name {
			return p
		}
	}
	return nil
}
