// Package tokencache is the part of the token pipeline a cache hit needs: the token
// type, the shared file cache with its cross-process lock, the key a profile's token is
// stored under, what is remembered of its certificate, and the once-a-day certificate
// expiry warning that hits and misses decide alike. It links nothing heavy — no TLS, HTTP, MSAL, PKCS#12 or
// keyring — so a helper answering from cache starts as fast as a minimal Go program.
package tokencache

import (
	"errors"
	"path/filepath"
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
	if getenv != nil {
		if d, err := time.ParseDuration(getenv(MarginEnv)); err == nil && d >= 0 {
			c.Margin = d
		}
	}
	return c
}

// CredentialID names a profile's key material without loading it: plugin keys by their
// configured thumbprint, client secrets by the profile name (changing the secret drops
// the profile's tokens), certificate files by the thumbprint remembered against the
// file's identity. ok is false when the file is new or changed and must be opened.
func CredentialID(p *profile.Profile, cacheDir string) (id string, ok bool) {
	id, _, ok = RememberedCredential(p, cacheDir)
	return id, ok
}

// RememberedCredential is CredentialID with what it read of a certificate file's memo
// (zero when it read none: client secrets and key-store certificates need no read), to
// hand on to ExpiryWarningOf so that a cache hit reads the memo once.
func RememberedCredential(p *profile.Profile, cacheDir string) (id string, c CertInfo, ok bool) {
	switch {
	case !p.UseCertificate:
		return "secret:" + p.Name, CertInfo{}, true
	case p.CertificateStore != "":
		return "x5t:" + profile.NormThumbprint(p.CertificateThumbprint), CertInfo{}, true
	}
	c, ok = CertMemo{Dir: MemoDir(cacheDir)}.Lookup(p.CertificatePath)
	if !ok {
		return "", CertInfo{}, false
	}
	return "x5t:" + profile.NormThumbprint(c.Thumbprint), c, true
}

// KeyFor is the cache key of p's token for scope with credential credID.
func KeyFor(p *profile.Profile, scope, credID string) Key {
	return Key{Authority: p.Authority(), TenantID: p.TenantID, ClientID: p.ClientID, Scope: scope, Credential: credID}
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
