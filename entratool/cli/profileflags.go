package cli

import (
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// profileFlags are what config create and config edit accept instead of prompts.
type profileFlags struct {
	name, clientID, tenantID, certificate, scope, authorityHost, cloud, secretStore string
	certPasswordStdin, clientSecretStdin, sendX5C, makeDefault                      bool

	// A key that never leaves its store (SPEC §10): plugin name, certificate thumbprint,
	// store location, plugin options.
	certStore, thumbprint, storeLocation string
	storeOptions                         []string

	// The app registration's Object ID, for cert renew (SPEC §13).
	applicationObjectID string

	// SPEC §14: a federated token from a file or a CI system, and a managed identity.
	federatedTokenFile, federatedTokenSource, federatedAudience, serviceConnectionID string
	managedIdentity                                                                  bool
	managedIdentityClientID                                                          string
}

func (f *profileFlags) register(cmd *cobra.Command, create bool) {
	fl := cmd.Flags()
	if create {
		fl.StringVar(&f.name, "name", "", "profile name")
	}
	fl.StringVar(&f.clientID, "client-id", "", "application (client) ID of the app registration, a GUID")
	fl.StringVar(&f.tenantID, "tenant-id", "", "directory (tenant) ID, a GUID, or a domain like contoso.onmicrosoft.com")
	fl.StringVar(&f.certificate, "certificate", "", "PFX/P12 or PEM file with the certificate and its private key (certificate authentication)")
	fl.BoolVar(&f.certPasswordStdin, "certificate-password-stdin", false, "read the certificate password from stdin")
	fl.BoolVar(&f.clientSecretStdin, "client-secret-stdin", false, "read a client secret from stdin (client secret authentication)")
	fl.StringVar(&f.scope, "scope", "", "scope of the profile's tokens (default "+DefaultScope+")")
	fl.StringVar(&f.authorityHost, "authority-host", "", "authority host, e.g. https://login.microsoftonline.com")
	fl.StringVar(&f.cloud, "cloud", "", "public, usgov or china (shorthand for --authority-host)")
	fl.BoolVar(&f.sendX5C, "send-x5c", false, "send the certificate chain (x5c) with each assertion, for subject name + issuer authentication")
	fl.StringVar(&f.secretStore, "secret-store", "", "where the certificate password or client secret is kept: keyring, file or env")
	fl.BoolVar(&f.makeDefault, "default", false, "make it the default profile")
	fl.StringVar(&f.certStore, "certificate-store", "", "key-store plugin holding the key instead of a file (e.g. pkcs11); the password is its PIN")
	fl.StringVar(&f.thumbprint, "thumbprint", "", "thumbprint (SHA-1 or SHA-256 hex) of the certificate in --certificate-store")
	fl.StringVar(&f.storeLocation, "certificate-store-location", "", "store location for OS certificate stores (e.g. CurrentUser)")
	fl.StringVar(&f.applicationObjectID, "application-object-id", "", "the app registration's Object ID (its Overview page; not the client ID), for cert renew")
	fl.StringArrayVar(&f.storeOptions, "store-option", nil, "KEY=VALUE option of the key-store plugin (repeatable), e.g. module=/usr/lib/softhsm/libsofthsm2.so")
	fl.StringVar(&f.federatedTokenFile, "federated-token-file", "", "file holding an OIDC token to sign in with (workload identity federation; re-read at every token request)")
	fl.StringVar(&f.federatedTokenSource, "federated-token-source", "", "CI system to get the OIDC token from: "+strings.Join(federatedSources, " or "))
	fl.StringVar(&f.federatedAudience, "federated-audience", "", "audience of the federated token (default "+profile.DefaultFederatedAudience+")")
	fl.StringVar(&f.serviceConnectionID, "service-connection-id", "", "Azure Pipelines service connection ID (default $AZURESUBSCRIPTION_SERVICE_CONNECTION_ID)")
	fl.BoolVar(&f.managedIdentity, "managed-identity", false, "sign in as the Azure resource's managed identity (no secret, no certificate)")
	fl.StringVar(&f.managedIdentityClientID, "managed-identity-client-id", "", "client ID of a user-assigned managed identity (default: the system-assigned one)")
}

// federatedSources are the values of --federated-token-source.
var federatedSources = []string{profile.SourceGitHubActions, profile.SourceAzurePipelines}

// methodFlags are, by authentication method, the flags that choose it.
var methodFlags = []struct{ method, flags string }{
	{profile.MethodCertificate, "--certificate, --certificate-store"},
	{profile.MethodSecret, "--client-secret-stdin"},
	{profile.MethodFederated, "--federated-token-file, --federated-token-source"},
	{profile.MethodManagedIdentity, "--managed-identity"},
}

// methods are the authentication methods the flags choose, each with the first flag
// that chose it, in methodFlags' order. --certificate-password-stdin alone chooses none:
// in config edit it is a new password for the certificate in use.
func (f *profileFlags) methods() (methods, flags []string) {
	add := func(m, flag string) { methods, flags = append(methods, m), append(flags, flag) }
	switch {
	case f.certificate != "":
		add(profile.MethodCertificate, "--certificate")
	case f.certStore != "":
		add(profile.MethodCertificate, "--certificate-store")
	}
	if f.clientSecretStdin {
		add(profile.MethodSecret, "--client-secret-stdin")
	}
	switch {
	case f.federatedTokenFile != "":
		add(profile.MethodFederated, "--federated-token-file")
	case f.federatedTokenSource != "":
		add(profile.MethodFederated, "--federated-token-source")
	}
	if f.managedIdentity {
		add(profile.MethodManagedIdentity, "--managed-identity")
	}
	return methods, flags
}

// method is the one authentication method the flags choose, "" for none.
func (f *profileFlags) method() string {
	if m, _ := f.methods(); len(m) == 1 {
		return m[0]
	}
	return ""
}

// keyStoreDetails reports whether flags describe a key-store certificate.
func (f *profileFlags) keyStoreDetails() bool {
	return f.thumbprint != "" || f.storeLocation != "" || len(f.storeOptions) > 0
}

// storeOptionMap parses --store-option KEY=VALUE values.
func (f *profileFlags) storeOptionMap() (map[string]string, error) {
	if len(f.storeOptions) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(f.storeOptions))
	for _, o := range f.storeOptions {
		k, v, ok := strings.Cut(o, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return nil, usageErr("--store-option %q: give KEY=VALUE", o)
		}
		m[k] = v
	}
	return m, nil
}

func checkThumbprint(s string) error {
	t := profile.NormThumbprint(s)
	ok := len(t) == 40 || len(t) == 64
	for i := 0; ok && i < len(t); i++ {
		ok = '0' <= t[i] && t[i] <= '9' || 'A' <= t[i] && t[i] <= 'F'
	}
	if !ok {
		return fmt.Errorf("thumbprint %q is not 40 (SHA-1) or 64 (SHA-256) hex digits", s)
	}
	return nil
}

// check rejects flag combinations that cannot mean anything.
func (f *profileFlags) check() error {
	switch {
	case f.certPasswordStdin && f.clientSecretStdin:
		return usageErr("--certificate-password-stdin and --client-secret-stdin both read stdin: give one")
	case f.certificate != "" && f.clientSecretStdin:
		return usageErr("--certificate and --client-secret-stdin choose different authentication methods: give one")
	case f.authorityHost != "" && f.cloud != "":
		return usageErr("--authority-host and --cloud both set the authority: give one")
	case f.certStore != "" && f.certificate != "":
		return usageErr("--certificate (a file) and --certificate-store (a key store) are alternatives: give one")
	case f.certStore != "" && f.clientSecretStdin:
		return usageErr("--certificate-store and --client-secret-stdin choose different authentication methods: give one")
	case f.certificate != "" && f.keyStoreDetails():
		return usageErr("--thumbprint, --certificate-store-location and --store-option are for --certificate-store, not --certificate")
	}
	if err := f.checkMethods(); err != nil {
		return err
	}
	if _, err := f.storeOptionMap(); err != nil {
		return err
	}
	switch f.secretStore {
	case "", secret.KindKeyring, secret.KindFile, secret.KindEnv:
	default:
		return usageErr("--secret-store %q: use keyring, file or env", f.secretStore)
	}
	switch f.cloud {
	case "", "public", "usgov", "china":
	default:
		return usageErr("--cloud %q: use public, usgov or china", f.cloud)
	}
	if f.applicationObjectID != "" && !profile.ValidGUID(f.applicationObjectID) {
		return usageErr("--application-object-id %q is not a GUID: it is the Object ID on the app registration's Overview page", f.applicationObjectID)
	}
	return nil
}

// checkMethods rejects flags of two authentication methods, and values of SPEC §14's
// flags that cannot be right whatever the profile.
func (f *profileFlags) checkMethods() error {
	if _, flags := f.methods(); len(flags) > 1 {
		return usageErr("%s and %s choose different authentication methods: give one", flags[0], flags[1])
	}
	m := f.method()
	switch {
	case f.federatedTokenFile != "" && f.federatedTokenSource != "":
		return usageErr("--federated-token-file and --federated-token-source are alternatives: give one")
	case f.federatedTokenSource != "" && !slices.Contains(federatedSources, f.federatedTokenSource):
		return usageErr("--federated-token-source %q: use %s", f.federatedTokenSource, strings.Join(federatedSources, " or "))
	case f.certPasswordStdin && (m == profile.MethodFederated || m == profile.MethodManagedIdentity):
		return usageErr("--certificate-password-stdin is for a certificate; a %s needs no password", methodWords(m))
	case f.managedIdentityClientID != "" && !profile.ValidGUID(f.managedIdentityClientID):
		return usageErr("--managed-identity-client-id %q is not a GUID: it is the user-assigned identity's Client ID (not its object or resource ID)", f.managedIdentityClientID)
	case f.managedIdentity && f.clientID != "":
		return usageErr("--client-id is the app registration's: a user-assigned managed identity's client ID goes in --managed-identity-client-id")
	case f.serviceConnectionID != "" && (f.federatedTokenFile != "" || f.federatedTokenSource == profile.SourceGitHubActions):
		return usageErr("--service-connection-id needs --federated-token-source %s", profile.SourceAzurePipelines)
	case f.federatedAudience != "" && m != "" && m != profile.MethodFederated:
		return usageErr("--federated-audience needs --federated-token-file or --federated-token-source")
	case f.managedIdentityClientID != "" && m != "" && m != profile.MethodManagedIdentity:
		return usageErr("--managed-identity-client-id needs --managed-identity")
	}
	return nil
}

// methodWords names an authentication method for people.
func methodWords(m string) string {
	switch m {
	case profile.MethodFederated:
		return "federated token"
	case profile.MethodManagedIdentity:
		return "managed identity"
	case profile.MethodSecret:
		return "client secret"
	}
	return "certificate"
}

// checkDetails rejects SPEC §14's detail flags without a method they belong to: m is
// the method the profile will have (create: the flags'; edit: the flags', else the
// profile's).
func (f *profileFlags) checkDetails(m string) error {
	switch {
	case f.federatedAudience != "" && m != profile.MethodFederated:
		return usageErr("--federated-audience needs --federated-token-file or --federated-token-source")
	case f.serviceConnectionID != "" && m != profile.MethodFederated:
		return usageErr("--service-connection-id needs --federated-token-source %s", profile.SourceAzurePipelines)
	case f.managedIdentityClientID != "" && m != profile.MethodManagedIdentity:
		return usageErr("--managed-identity-client-id needs --managed-identity")
	}
	return nil
}

// suppliedSecret is the kind of secret the flags bring on stdin, "" for none.
func (f *profileFlags) suppliedSecret() string {
	switch {
	case f.certPasswordStdin:
		return secret.CertificatePassword
	case f.clientSecretStdin:
		return secret.ClientSecret
	}
	return ""
}

// usesStdin reports whether a secret is read from stdin, which then cannot answer prompts.
func (f *profileFlags) usesStdin() bool { return f.certPasswordStdin || f.clientSecretStdin }

// mayPrompt is the prompting decision of config create and edit: stdin is a terminal
// (inTTY) and does not carry a secret.
func (f *profileFlags) mayPrompt(inTTY bool) bool { return inTTY && !f.usesStdin() }
