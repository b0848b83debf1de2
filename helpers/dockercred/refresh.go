package dockercred

import (
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
)

// DefaultScope is the Entra scope of Azure Container Registry's data plane; a profile's
// acrScope replaces it (ARM-audience tokens, other clouds).
const DefaultScope = "https://containerregistry.azure.net/.default"

// NullUser is the username that goes with an ACR refresh token, as `az acr login`
// hands it to docker.
const NullUser = "00000000-0000-0000-0000-000000000000"

// CacheKind marks refresh tokens in the shared token cache, beside access tokens.
const CacheKind = "acr-refresh"

// RefreshToken is a registry refresh token and when the registry stops honouring it.
type RefreshToken struct {
	Token     string
	ExpiresOn time.Time
}

// Profiles is what the helper needs of the profiles it may use (profile.Config.Usable:
// profiles.json in file order, and the env profile when the environment is in use).
func Profiles(cfg *profile.Config, getenv func(string) string) []Profile {
	usable := cfg.Usable(getenv)
	out := make([]Profile, 0, len(usable))
	for _, p := range usable {
		out = append(out, Profile{Name: p.Name, TenantID: p.TenantID, Registries: p.Registries, Scope: p.ACRScope})
	}
	return out
}

// RefreshKey is the cache key of p's refresh token for registry (a registry key),
// exchanged from a token for scope obtained with credential credID (as
// tokencache.CredentialID names it: a new certificate never reuses an old one's token).
func RefreshKey(p *profile.Profile, registry, scope, credID string) tokencache.Key {
	return tokencache.Key{Kind: CacheKind, Authority: registry, TenantID: p.TenantID, ClientID: p.ClientID, Scope: scope, Credential: credID}
}

// CachedRefreshToken answers from the cache alone — one stat for the certificate's
// remembered thumbprint and one file read, no PFX, keyring or socket. ok is false when
// the full pipeline must run.
func CachedRefreshToken(c *tokencache.Cache, p *profile.Profile, registry, scope string) (RefreshToken, bool) {
	rt, _, ok := CachedRefreshTokenCert(c, p, registry, scope)
	return rt, ok
}

// CachedRefreshTokenCert is CachedRefreshToken with what it read of the profile's
// certificate, for the day's expiry warning (tokencache.ExpiryWarningOf): the hit reads
// the certificate's memo once.
func CachedRefreshTokenCert(c *tokencache.Cache, p *profile.Profile, registry, scope string) (RefreshToken, tokencache.CertInfo, bool) {
	id, cert, ok := tokencache.RememberedCredential(p, c.Dir)
	if !ok {
		return RefreshToken{}, tokencache.CertInfo{}, false
	}
	t, ok := c.Get(RefreshKey(p, registry, scope, id))
	if !ok {
		return RefreshToken{}, tokencache.CertInfo{}, false
	}
	return RefreshToken{Token: t.AccessToken, ExpiresOn: t.ExpiresOn}, cert, true
}

// ForgetRefreshTokens drops p's cached refresh tokens for registry and scope, whatever
// credential they were made with, without opening the certificate to name the current one.
func ForgetRefreshTokens(c *tokencache.Cache, p *profile.Profile, registry, scope string) error {
	_, err := c.DeleteMatching(func(k tokencache.Key) bool {
		return k.Kind == CacheKind && k.OfApp(p) && SameRegistry(k.Authority, registry) && k.Scope == scope
	})
	return err
}
