package emulator

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FederatedCredential is one federated identity credential of an app registration
// (portal: Certificates & secrets → Federated credentials). Entra compares all three
// exactly, case included.
type FederatedCredential struct {
	Issuer    string   // https URL, e.g. Emulator.IssuerURL or https://token.actions.githubusercontent.com
	Subject   string   // e.g. repo:contoso/app:ref:refs/heads/main, system:serviceaccount:ns:sa
	Audiences []string // default [DefaultFederatedAudience]
}

const (
	// oidcFetchTimeout bounds the fetch of an issuer's discovery document and keys.
	oidcFetchTimeout = 10 * time.Second
	maxOIDCBytes     = 1 << 20
)

// copyFederatedCredentials copies the records RegisterApp stores, with the default
// audience filled in. It panics on a record Entra would refuse to save: a test set up so
// would exercise nothing.
func copyFederatedCredentials(in []FederatedCredential) []FederatedCredential {
	var out []FederatedCredential
	for _, fc := range in {
		u, err := url.Parse(fc.Issuer)
		if fc.Issuer == "" || err != nil || u.Scheme != "https" || u.Host == "" {
			panic(fmt.Sprintf("emulator: RegisterApp: federated credential issuer %q is not an https URL", fc.Issuer))
		}
		if fc.Subject == "" {
			panic(fmt.Sprintf("emulator: RegisterApp: federated credential for issuer %q has no subject", fc.Issuer))
		}
		auds := append([]string(nil), fc.Audiences...)
		if len(auds) == 0 {
			auds = []string{DefaultFederatedAudience}
		}
		for _, a := range auds {
			if a == "" {
				panic(fmt.Sprintf("emulator: RegisterApp: federated credential for issuer %q has an empty audience", fc.Issuer))
			}
		}
		out = append(out, FederatedCredential{Issuer: fc.Issuer, Subject: fc.Subject, Audiences: auds})
	}
	return out
}

// isFederatedAssertion tells an external token from an app's own certificate-signed
// assertion: an external token's issuer is an https URL (federated credentials take
// nothing else), an app's is a client id. One with a URL issuer that names a registered
// certificate is still the app's own (with a wrong iss, refused as AADSTS700021).
func (a *app) isFederatedAssertion(raw string) bool {
	var claims jwt.RegisteredClaims
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &claims)
	if err != nil || strings.EqualFold(claims.Issuer, a.ClientID) {
		return false
	}
	if u, err := url.Parse(claims.Issuer); err != nil || u.Scheme != "https" || u.Host == "" {
		return false
	}
	rc, _ := a.findKey(tok.Header)
	return rc == nil
}

// checkFederatedAssertion validates an external OIDC token presented as the client
// assertion: a record matching iss, sub and aud exactly; then the signature, with the
// issuer's published keys; then exp/nbf. Nothing in the token is trusted before the
// signature check but the claims used to pick a record. Replay is allowed, as Entra
// allows an external token to be reused within its lifetime.
func (e *Emulator) checkFederatedAssertion(a *app, raw string) *stsError {
	var claims jwt.RegisteredClaims
	tok, _, err := jwt.NewParser().ParseUnverified(raw, &claims)
	if err != nil {
		return malformedJWT("")
	}
	if !a.matchesFederatedRecord(&claims) {
		return invalidRequest(CodeNoMatchingFederatedRecord,
			"No matching federated identity record found for presented assertion. Assertion Issuer: '%s'. Assertion Subject: '%s'. Assertion Audience: '%s'. "+
				"https://learn.microsoft.com/entra/workload-id/workload-identity-federation",
			claims.Issuer, claims.Subject, strings.Join(claims.Audience, ","))
	}
	alg, _ := tok.Header["alg"].(string)
	switch alg {
	case "RS256", "RS384", "RS512", "PS256", "PS384", "PS512":
	default:
		return invalidClient(CodeFederatedSignature, "Assertion failed signature validation. [Reason - The signing algorithm '%s' is not supported.]", alg)
	}
	keys, se := e.issuerKeys(claims.Issuer)
	if se != nil {
		return se
	}
	kid, _ := tok.Header["kid"].(string)
	key := keys[kid]
	if key == nil && kid == "" && len(keys) == 1 {
		for _, k := range keys {
			key = k
		}
	}
	if key == nil {
		return invalidClient(CodeFederatedSignature,
			"Assertion failed signature validation. [Reason - The key was not found., Key identifier used by the issuer: '%s', Issuer: '%s']", kid, claims.Issuer)
	}
	_, err = jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(raw, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return key, nil })
	if err != nil {
		return invalidClient(CodeFederatedSignature,
			"Assertion failed signature validation. [Reason - The provided signature value did not match the expected signature value., Issuer: '%s']", claims.Issuer)
	}
	// External tokens' lifetimes are their issuer's business (Kubernetes may project
	// tokens for days): only the time range is checked.
	if _, se := checkAssertionTimes(&claims, e.now(), 0); se != nil {
		return se
	}
	return nil
}

func (a *app) matchesFederatedRecord(c *jwt.RegisteredClaims) bool {
	for _, fc := range a.FederatedCredentials {
		if fc.Issuer != c.Issuer || fc.Subject != c.Subject {
			continue
		}
		for _, want := range fc.Audiences {
			for _, got := range c.Audience {
				if got == want {
					return true
				}
			}
		}
	}
	return false
}

// issuerKeys fetches issuer's RSA signing keys by kid, as Entra does: the discovery
// document at issuer+"/.well-known/openid-configuration", whose issuer must be issuer,
// then its jwks_uri. Only loopback issuers are fetched (with the emulator's CA): the
// emulator is a local fixture and never reaches out to the internet.
func (e *Emulator) issuerKeys(issuer string) (map[string]*rsa.PublicKey, *stsError) {
	failed := func(format string, args ...any) *stsError {
		return invalidClient(CodeExternalOIDCFailed, "Request to External OIDC endpoint failed. [Issuer: '%s', Reason - %s]", issuer, fmt.Sprintf(format, args...))
	}
	ctx, cancel := context.WithTimeout(context.Background(), oidcFetchTimeout)
	defer cancel()
	var doc struct {
		Issuer  string `json:"issuer"`
		JWKSURI string `json:"jwks_uri"`
	}
	if err := e.fetchOIDC(ctx, strings.TrimSuffix(issuer, "/")+"/.well-known/openid-configuration", &doc); err != nil {
		return nil, failed("discovery document: %v", err)
	}
	if doc.Issuer != issuer {
		return nil, failed("the discovery document names issuer '%s'", doc.Issuer)
	}
	var jwks struct {
		Keys []struct {
			Kty string `json:"kty"`
			Kid string `json:"kid"`
			Use string `json:"use"`
			N   string `json:"n"`
			E   string `json:"e"`
		} `json:"keys"`
	}
	if err := e.fetchOIDC(ctx, doc.JWKSURI, &jwks); err != nil {
		return nil, failed("jwks_uri: %v", err)
	}
	keys := map[string]*rsa.PublicKey{}
	for _, k := range jwks.Keys {
		if k.Kty != "RSA" || (k.Use != "" && k.Use != "sig") {
			continue
		}
		n, err1 := base64.RawURLEncoding.DecodeString(k.N)
		ex, err2 := base64.RawURLEncoding.DecodeString(k.E)
		if err1 != nil || err2 != nil || len(n) == 0 || len(ex) == 0 || len(ex) > 4 {
			continue
		}
		keys[k.Kid] = &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
	}
	return keys, nil
}

// fetchOIDC GETs an https URL on a loopback host and decodes its JSON into v.
func (e *Emulator) fetchOIDC(ctx context.Context, rawURL string, v any) error {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "https" {
		return fmt.Errorf("'%s' is not an https URL", rawURL)
	}
	if ip := net.ParseIP(u.Hostname()); u.Hostname() != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("'%s' is not on this machine, and the emulator fetches nothing from elsewhere", u.Host)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := e.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("HTTP %d", resp.StatusCode)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxOIDCBytes))
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return errors.New("not a JSON document")
	}
	return nil
}
