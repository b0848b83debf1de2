// Package tokencache is the part of the token pipeline a cache hit needs: the token
// type, the shared file cache with its cross-process lock, the key a profile's token is
// stored under, what is remembered of its certificate, and the once-a-day certificate
// expiry warning that hits and misses decide alike. It links nothing heavy — no TLS, HTTP, MSAL, PKCS#12 or
// keyring — so a helper answering from cache starts as fast as a minimal Go program.
package tokencache

import (
	"encoding/hex"
	"errors"
	"hash/fnv"
	"path/filepath"
	"strings"
	"time"

	"github.com/entratool/entratool/core/profile"
)

// Token is an access token with the facts every output format needs.
type Token struct {
	AccessToken string    `json:"accessToken"`
	TokenType   string    `json:"tokenType"`
	ExpiresOn   time.Time `json:"expiresOn"`
	Scope       string    `json:"scope"`
	TenantID    string    `json:"tenantId"`
	ClientID    string    `json:"clientId"`
}

// ErrMiss says the cache cannot answer: the token has to be fetched by the full
// pipeline (the engine).
var ErrMiss = errors.New("token not in cache")

// Dir resolves the cache directory: ENTRATOOL_CACHE_DIR, else HOME/cache.
func Dir(home string, getenv func(string) string) string {
	if getenv != nil {
		if d := getenv("ENTRATOOL_CACHE_DIR"); d != "" {
			return d
		}
	}
	return filepath.Join(home, "cache")
}

// MarginEnv names the variable that changes DefaultMargin (a Go duration, e.g. "10m").
const MarginEnv = "ENTRATOOL_REFRESH_MARGIN"

// Open returns the cache every entratool process shares: Dir(home, getenv), with the
// refresh margin from ENTRATOOL_REFRESH_MARGIN when it is a valid duration.
func Open(home string, getenv func(string) string) *Cache {
	c := &Cache{Dir: Dir(home, getenv)}
	if d, ok := envDuration(getenv, MarginEnv); ok {
		c.Margin = d
		if d == 0 {
			c.Margin = NoMargin // 0 asked for: served to the last second, not the default
		}
	}
	return c
}

// envDuration is the variable name as a valid, non-negative Go duration; ok is false
// when it is unset (or getenv nil) or anything else.
func envDuration(getenv func(string) string, name string) (d time.Duration, ok bool) {
	if getenv == nil {
		return 0, false
	}
	// Unset is the usual case, and parsing "" builds an error to throw away.
	v := getenv(name)
	if v == "" {
		return 0, false
	}
	d, err := time.ParseDuration(v)
	return d, err == nil && d >= 0
}

// CredentialID names a profile's key material without loading it (SPEC §14: cache keys
// name the credential): certificates "x5t:<thumbprint>" — plugin keys by their configured
// thumbprint, files by the thumbprint remembered against the file's identity — client
// secrets "secret:<digest of client id and secret-store slot>", federated profiles
// "fic:<source>", managed identities "mi:<client id>" or "mi:system". Only a
// certificate file can need a read; ok is false when it is new or changed and must be
// opened. Every other kind is named from the profile alone, so the fronts answer cache
// hits for every kind.
func CredentialID(p *profile.Profile, cacheDir string) (id string, ok bool) {
	id, _, ok = RememberedCredential(p, cacheDir)
	return id, ok
}

// RememberedCredential is CredentialID with what it read of a certificate file's memo
// (zero when it read none: other kinds and key-store certificates need no read), to
// hand on to ExpiryWarningOf so that a cache hit reads the memo once.
func RememberedCredential(p *profile.Profile, cacheDir string) (id string, c CertInfo, ok bool) {
	switch p.Method() {
	case profile.MethodSecret:
		return secretCredential(p), CertInfo{}, true
	case profile.MethodFederated:
		return federatedCredential(p), CertInfo{}, true
	case profile.MethodManagedIdentity:
		return managedIdentityCredential(p), CertInfo{}, true
	}
	if p.CertificateStore != "" {
		return "x5t:" + profile.NormThumbprint(p.CertificateThumbprint), CertInfo{}, true
	}
	c, ok = CertMemo{Dir: MemoDir(cacheDir)}.Lookup(p.CertificatePath)
	if !ok {
		return "", CertInfo{}, false
	}
	return "x5t:" + profile.NormThumbprint(c.Thumbprint), c, true
}

// ClientSecretSlot is where a profile's client secret is kept in its secret store:
// secret.Key(name, secret.ClientSecret), spelt out here because a front may not link
// core/secret (core/token's tests hold the two together). The env profile's secret
// is AZURE_CLIENT_SECRET, never stored: its slot names that variable.
func ClientSecretSlot(p *profile.Profile) string {
	if p.FromEnvironment {
		return "$" + profile.EnvAzureClientSecret
	}
	return p.Name + "/client-secret"
}

// secretCredential is "secret:" and a digest of the client id and the secret's slot: the
// secret itself cannot name its tokens (a hit must not read the keyring), and changing
// it drops the app's tokens where it is changed (config edit's ForgetAll). The client id
// is in the digest so that a profile moved to another app never meets its old tokens.
func secretCredential(p *profile.Profile) string {
	return "secret:" + credentialDigest(strings.ToLower(p.ClientID)+"\x00"+ClientSecretSlot(p))
}

// maxCredentialName bounds a readable credential name; longer ones (a deep token-file
// path, a long audience) are digested.
const maxCredentialName = 256

// federatedCredential is "fic:" and where the external token comes from (FederatedSource),
// with the audience when it is not the default and the Azure Pipelines service connection
// when the profile names one: each is a different federated credential of the app.
func federatedCredential(p *profile.Profile) string {
	name := p.FederatedSource()
	if p.FederatedTokenSource == profile.SourceAzurePipelines && p.ServiceConnectionID != "" {
		name += " sc=" + p.ServiceConnectionID
	}
	if p.FederatedAudience != "" && p.FederatedAudience != profile.DefaultFederatedAudience {
		name += " aud=" + p.FederatedAudience
	}
	if len(name) > maxCredentialName {
		kind := p.FederatedTokenSource
		if p.FederatedTokenFile != "" {
			kind = "file"
		}
		name = kind + ":#" + credentialDigest(name)
	}
	return "fic:" + name
}

// managedIdentityCredential is "mi:" and the user-assigned identity's client id, or
// "mi:system".
func managedIdentityCredential(p *profile.Profile) string {
	if id := p.ManagedIdentityClientID; id != "" {
		return "mi:" + strings.ToLower(id)
	}
	return "mi:system"
}

// credentialDigest is FNV-128a in hex, as Key.ID: the names it digests hold no secret
// (client ids, slots, paths), it only has to keep them apart, and crypto packages cost
// the fronts start-up time.
func credentialDigest(s string) string {
	h := fnv.New128a()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

// KeyFor is the cache key of p's token for scope with credential credID. A managed
// identity's profile may have no clientId: its key then names the user-assigned
// identity's, so that OfApp tells its tokens from another identity's.
func KeyFor(p *profile.Profile, scope, credID string) Key {
	return Key{Authority: p.Authority(), TenantID: p.TenantID, ClientID: keyClientID(p), Scope: scope, Credential: credID}
}

func keyClientID(p *profile.Profile) string {
	if p.ClientID == "" && p.Method() == profile.MethodManagedIdentity {
		return p.ManagedIdentityClientID
	}
	return p.ClientID
}

// Lookup answers from the cache alone — no PFX, keyring, plugin or socket. It returns
// ErrMiss when the full pipeline must run (no entry, entry within the margin, or a
// certificate file that changed since its thumbprint was remembered). With the token
// comes what the lookup read of the certificate file's memo (zero when it read none),
// for ExpiryWarningOf: a hit reads the memo once.
func (c *Cache) Lookup(p *profile.Profile, scope string) (*Token, CertInfo, error) {
	id, cert, ok := RememberedCredential(p, c.Dir)
	if !ok {
		return nil, CertInfo{}, ErrMiss
	}
	t, ok := c.Get(KeyFor(p, scope, id))
	if !ok {
		return nil, CertInfo{}, ErrMiss
	}
	return t, cert, nil
}
