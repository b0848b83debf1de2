package profile

import (
	"errors"
	"strconv"
	"strings"
)

// EnvName is the reserved profile built from the environment the Azure SDKs read.
const EnvName = "env"

// The Azure SDKs' variables (SPEC §14), and entratool's for the env profile's
// allow-lists.
const (
	EnvAzureTenantID       = "AZURE_TENANT_ID"
	EnvAzureClientID       = "AZURE_CLIENT_ID"
	EnvAzureClientSecret   = "AZURE_CLIENT_SECRET"
	EnvAzureCertPath       = "AZURE_CLIENT_CERTIFICATE_PATH"
	EnvAzureCertPassword   = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
	EnvAzureSendChain      = "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"
	EnvAzureFederatedToken = "AZURE_FEDERATED_TOKEN_FILE"
	EnvAzureAuthorityHost  = "AZURE_AUTHORITY_HOST"
	EnvGitHosts            = "ENTRATOOL_GIT_HOSTS"
	EnvRegistries          = "ENTRATOOL_REGISTRIES"
)

// ErrNoEnvCredential: the env profile has ids but no credential variable.
var ErrNoEnvCredential = errors.New("no credential in the environment")

// FromEnv builds the env profile from the environment (getenv). Its secrets are the
// environment's (AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PASSWORD) and are never
// written anywhere: FromEnvironment marks it. When several credential variables are
// set, the first of AZURE_CLIENT_SECRET, AZURE_CLIENT_CERTIFICATE_PATH,
// AZURE_FEDERATED_TOKEN_FILE wins, as in azidentity's EnvironmentCredential.
func FromEnv(getenv func(string) string) (*Profile, error) {
	p := &Profile{Name: EnvName, TenantID: getenv(EnvAzureTenantID), ClientID: getenv(EnvAzureClientID),
		AuthorityHost: getenv(EnvAzureAuthorityHost), FromEnvironment: true,
		GitHosts: splitList(getenv(EnvGitHosts)), Registries: splitList(getenv(EnvRegistries))}
	switch {
	case getenv(EnvAzureClientSecret) != "":
		p.SetMethod(MethodSecret)
	case getenv(EnvAzureCertPath) != "":
		p.SetMethod(MethodCertificate)
		p.CertificatePath = getenv(EnvAzureCertPath)
		p.SendX5C, _ = strconv.ParseBool(getenv(EnvAzureSendChain))
	case getenv(EnvAzureFederatedToken) != "":
		p.SetMethod(MethodFederated)
		p.FederatedTokenFile = getenv(EnvAzureFederatedToken)
	default:
		return nil, &FieldError{Field: EnvName, Msg: "profile 'env': " + ErrNoEnvCredential.Error() +
			": set one of " + EnvAzureClientSecret + ", " + EnvAzureCertPath + " or " + EnvAzureFederatedToken +
			" (with " + EnvAzureTenantID + " and " + EnvAzureClientID + ")"}
	}
	if err := p.Validate(); err != nil {
		return nil, &FieldError{Field: EnvName, Msg: "profile 'env' (from " + EnvAzureTenantID + ", " + EnvAzureClientID + ", …): " + err.Error()}
	}
	return p, nil
}

// EnvAvailable reports whether the environment names an app (AZURE_CLIENT_ID and
// AZURE_TENANT_ID): with no stored profile, the env profile is then the one used.
func EnvAvailable(getenv func(string) string) bool {
	return getenv(EnvAzureClientID) != "" && getenv(EnvAzureTenantID) != ""
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}
