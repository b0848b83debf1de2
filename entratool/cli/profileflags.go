package cli

import (
	"fmt"
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
