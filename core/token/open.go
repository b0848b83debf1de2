package token

import (
	"os"

	"github.com/entratool/entratool/core/profile"
)

// ForProfile loads profiles.json, picks the profile (name, else ENTRATOOL_PROFILE, else
// the default, else the only one) and wires its pipeline. It is what the helper mains
// call; it reads one small file and opens nothing else.
func ForProfile(name string, o Options) (*Provider, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Home == "" {
		h, err := profile.Home(o.Getenv)
		if err != nil {
			return nil, err
		}
		o.Home = h
	}
	cfg, err := (&profile.Store{Home: o.Home}).Load()
	if err != nil {
		return nil, err
	}
	p, err := cfg.Resolve(name, o.Getenv)
	if err != nil {
		return nil, err
	}
	return NewProvider(p, o), nil
}
