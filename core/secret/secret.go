// Package secret keeps the certificate passwords and client secrets of profiles in one of
// three stores: the OS keyring, a 0600 JSON file in the entratool home, or (read-only)
// environment variables for CI.
//
// No error text produced here contains a secret value.
package secret

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
)

// ErrNotFound is wrapped by Get when the store has no value for the key.
var ErrNotFound = errors.New("secret not found")

// Kinds of secret a profile can have.
const (
	CertificatePassword = "certificate-password"
	ClientSecret        = "client-secret"
)

// Names of the stores, as profiles.json's secretStore and ENTRATOOL_SECRET_STORE spell them.
const (
	KindKeyring = "keyring"
	KindFile    = "file"
	KindEnv     = "env"
)

// Environment variables of the env store.
const (
	EnvCertPassword = "ENTRATOOL_CERT_PASSWORD"
	EnvClientSecret = "ENTRATOOL_CLIENT_SECRET"
)

// Words names a secret kind for people: "certificate password", "client secret".
func Words(kind string) string { return strings.ReplaceAll(kind, "-", " ") }

// Key names a secret: "<profile>/<kind>". Profile names cannot contain "/".
func Key(profile, kind string) string { return profile + "/" + kind }

// kindOf is the part of a key after its last "/".
func kindOf(key string) string { return key[strings.LastIndexByte(key, '/')+1:] }

// Store is one place secrets live.
type Store interface {
	Name() string
	// Get returns the value, or an error wrapping ErrNotFound when there is none.
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string) error
	// Delete removes the value; an absent value is not an error.
	Delete(ctx context.Context, key string) error
}

// Choose is the store kind to use: ENTRATOOL_SECRET_STORE, else the profile's
// secretStore, else the keyring.
func Choose(profileStore string, getenv func(string) string) string {
	if getenv == nil {
		getenv = os.Getenv
	}
	if k := getenv("ENTRATOOL_SECRET_STORE"); k != "" {
		return k
	}
	if profileStore != "" {
		return profileStore
	}
	return KindKeyring
}

// Open returns the store of that kind. home is the entratool home (for the file store);
// getenv reads the environment (for the env store; nil means os.Getenv).
func Open(kind, home string, getenv func(string) string) (Store, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	switch kind {
	case KindKeyring:
		return NewKeyring(DefaultKeyringTimeout), nil
	case KindFile:
		if home == "" {
			return nil, errors.New("file secret store: no entratool home directory given")
		}
		return NewFile(home), nil
	case KindEnv:
		return &Env{getenv: getenv}, nil
	default:
		return nil, fmt.Errorf("unknown secret store %q: choose keyring, file or env", kind)
	}
}
