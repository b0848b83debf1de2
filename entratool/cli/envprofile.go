package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// azureEnvSecrets is the secret store of the env profile (SPEC §14): the variables the
// Azure SDKs read, AZURE_CLIENT_SECRET and AZURE_CLIENT_CERTIFICATE_PASSWORD, whatever
// ENTRATOOL_SECRET_STORE or a secretStore says. It is named like the env store, so that
// everything that would store a secret there stores nothing.
type azureEnvSecrets struct{ getenv func(string) string }

func (azureEnvSecrets) Name() string { return secret.KindEnv }

// variable is the variable holding the secret of key's kind.
func (azureEnvSecrets) variable(key string) (string, error) {
	switch {
	case strings.HasSuffix(key, "/"+secret.CertificatePassword):
		return profile.EnvAzureCertPassword, nil
	case strings.HasSuffix(key, "/"+secret.ClientSecret):
		return profile.EnvAzureClientSecret, nil
	}
	return "", fmt.Errorf("profile '%s' has no secret %q: its secrets are %s and %s", profile.EnvName, key, profile.EnvAzureClientSecret, profile.EnvAzureCertPassword)
}

func (s azureEnvSecrets) Get(_ context.Context, key string) (string, error) {
	name, err := s.variable(key)
	if err != nil {
		return "", err
	}
	if v := s.getenv(name); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("%w: %s is not set (profile '%s')", secret.ErrNotFound, name, profile.EnvName)
}

func (s azureEnvSecrets) Set(_ context.Context, key, _ string) error {
	name, err := s.variable(key)
	if err != nil {
		return err
	}
	return fmt.Errorf("profile '%s' keeps nothing: export %s instead", profile.EnvName, name)
}

func (s azureEnvSecrets) Delete(_ context.Context, key string) error {
	name, err := s.variable(key)
	if err != nil {
		return err
	}
	return fmt.Errorf("profile '%s' keeps nothing: unset %s instead", profile.EnvName, name)
}

// secretStoreLabel is what show and doctor call a profile's secret store.
func (a *App) secretStoreLabel(p *profile.Profile) string {
	if p.FromEnvironment {
		return "the environment (" + profile.EnvAzureClientSecret + ", " + profile.EnvAzureCertPassword + ")"
	}
	return secret.Choose(p.SecretStore, a.Getenv)
}
