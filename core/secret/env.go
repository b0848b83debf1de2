package secret

import (
	"context"
	"fmt"
	"strings"
)

// Env reads secrets from ENTRATOOL_CERT_PASSWORD and ENTRATOOL_CLIENT_SECRET, for CI and
// containers where nothing should be stored. The variables apply to whichever profile is
// in use.
type Env struct {
	getenv func(string) string
}

// NewEnv returns the env store reading variables through getenv.
func NewEnv(getenv func(string) string) *Env { return &Env{getenv: getenv} }

func (e *Env) Name() string { return KindEnv }

// EnvVar is the env store's variable for a secret of kind, "" for a kind it has none for.
func EnvVar(kind string) string {
	switch kind {
	case CertificatePassword:
		return EnvCertPassword
	case ClientSecret:
		return EnvClientSecret
	}
	return ""
}

func envVar(key string) (string, error) {
	if v := EnvVar(kindOf(key)); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("env secret store has no variable for %q (only %s and %s)", key, CertificatePassword, ClientSecret)
}

func (e *Env) Get(_ context.Context, key string) (string, error) {
	name, err := envVar(key)
	if err != nil {
		return "", err
	}
	v := e.getenv(name)
	if v == "" {
		return "", fmt.Errorf("%w: %s is not set (env secret store)", ErrNotFound, name)
	}
	return v, nil
}

func (e *Env) Set(_ context.Context, key, _ string) error {
	name, err := envVar(key)
	if err != nil {
		return err
	}
	return fmt.Errorf("the env secret store is read-only: export %s instead of storing it, or choose --secret-store keyring or file", name)
}

func (e *Env) Delete(_ context.Context, key string) error {
	name, err := envVar(key)
	if err != nil {
		return err
	}
	return fmt.Errorf("the env secret store is read-only: unset %s in your environment instead", name)
}

// IsSecretEnv reports whether an environment variable carries a secret of the env
// store, so that processes entratool starts (exec's command, key-store plugins) can be
// given an environment without it. Case-insensitive, as Windows treats names.
func IsSecretEnv(name string) bool {
	return strings.EqualFold(name, EnvCertPassword) || strings.EqualFold(name, EnvClientSecret)
}
