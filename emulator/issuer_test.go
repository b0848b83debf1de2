package emulator

import (
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

type httpReply struct {
	status int
	body   map[string]any
	raw    []byte
}

func do(t *testing.T, c *http.Client, method, u, auth string) httpReply {
	t.Helper()
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := httpReply{status: resp.StatusCode, raw: raw}
	json.Unmarshal(raw, &r.body)
	return r
}

// publishedIssuerKey reads the issuer's discovery document and JWKS as a relying party would and
// returns the key published under kid.
func publishedIssuerKey(t *testing.T, f *fixture, kid string) *rsa.PublicKey {
	t.Helper()
	c := f.e.HTTPClient()
	disc := do(t, c, "GET", f.e.IssuerURL+"/.well-known/openid-configuration", "")
	if disc.status != 200 || disc.body["issuer"] != f.e.IssuerURL {
		t.Fatalf("discovery: %d %s", disc.status, disc.raw)
	}
	jwksURI, _ := disc.body["jwks_uri"].(string)
	if !strings.HasPrefix(jwksURI, f.e.IssuerURL+"/") {
		t.Fatalf("jwks_uri %q", jwksURI)
	}
	var jwks struct {
		Keys []struct{ Kty, Kid, Use, Alg, N, E string }
	}
	r := do(t, c, "GET", jwksURI, "")
	if err := json.Unmarshal(r.raw, &jwks); err != nil || r.status != 200 {
		t.Fatalf("jwks: %d %s", r.status, r.raw)
	}
	for _, k := range jwks.Keys {
		if k.Kid == kid && k.Kty == "RSA" && k.Alg == "RS256" && k.Use == "sig" {
			n, _ := base64.RawURLEncoding.DecodeString(k.N)
			e, _ := base64.RawURLEncoding.DecodeString(k.E)
			return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}
		}
	}
	t.Fatalf("kid %q not in %s", kid, r.raw)
	return nil
}

// verifyIDToken checks an ID token against the issuer's published key, as Entra does.
func verifyIDToken(t *testing.T, f *fixture, raw string) jwt.MapClaims {
	t.Helper()
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(f.e.IssuerURL), jwt.WithExpirationRequired()).
		ParseWithClaims(raw, claims, func(tok *jwt.Token) (any, error) {
			kid, _ := tok.Header["kid"].(string)
			return publishedIssuerKey(t, f, kid), nil
		})
	if err != nil {
		t.Fatalf("ID token: %v", err)
	}
	for _, k := range []string{"iat", "nbf", "exp", "jti", "sub", "aud"} {
		if claims[k] == nil {
			t.Fatalf("ID token has no %s: %v", k, claims)
		}
	}
	return claims
}

func TestIssuerMintIDToken(t *testing.T) {
	f := newFixture(t, Options{})
	if !strings.HasPrefix(f.e.IssuerURL, "https://127.0.0.1:") || f.e.IssuerURL == f.e.URL || f.e.IssuerURL == f.e.GraphURL {
		t.Fatalf("IssuerURL %q", f.e.IssuerURL)
	}
	tok, err := f.e.MintIDToken("system:serviceaccount:ns:sa", "api://AzureADTokenExchange", 30*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	c := verifyIDToken(t, f, tok)
	exp, _ := c.GetExpirationTime()
	if c["sub"] != "system:serviceaccount:ns:sa" || c["aud"] != "api://AzureADTokenExchange" || time.Until(exp.Time) > 31*time.Minute || time.Until(exp.Time) < 29*time.Minute {
		t.Fatalf("claims %v", c)
	}
	// An ID token is no access token: the emulator's resources refuse it.
	if _, err := f.e.Validate(tok, "api://AzureADTokenExchange"); err == nil {
		t.Fatal("Validate accepted an ID token")
	}
	for _, bad := range []struct {
		sub, aud string
		life     time.Duration
	}{{"", "a", time.Hour}, {"s", "", time.Hour}, {"s", "a", 0}} {
		if _, err := f.e.MintIDToken(bad.sub, bad.aud, bad.life); err == nil {
			t.Errorf("MintIDToken(%q, %q, %s) gave no error", bad.sub, bad.aud, bad.life)
		}
	}
	if f.e.Counts().IDToken != 0 {
		t.Fatalf("MintIDToken counted: %+v", f.e.Counts())
	}
}

func TestIssuerGitHubActions(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.e.HTTPClient()
	// Not configured: nothing is served.
	if r := do(t, c, "GET", f.e.IssuerURL+"/github/token?api-version=2.0&audience=x", "bearer tok"); r.status != 404 {
		t.Fatalf("unconfigured GitHub endpoint: %d %s", r.status, r.raw)
	}
	const sub = "repo:contoso/app:ref:refs/heads/main"
	u := f.e.GitHubActions("request-token-1", sub)
	if u != f.e.IssuerURL+"/github/token?api-version=2.0" {
		t.Fatalf("request URL %q", u)
	}
	r := do(t, c, "GET", u+"&audience=api://AzureADTokenExchange", "bearer request-token-1")
	value, _ := r.body["value"].(string)
	if r.status != 200 || value == "" {
		t.Fatalf("GitHub token: %d %s", r.status, r.raw)
	}
	claims := verifyIDToken(t, f, value)
	if claims["sub"] != sub || claims["aud"] != "api://AzureADTokenExchange" || claims["repository"] != "contoso/app" {
		t.Fatalf("claims %v", claims)
	}
	// The scheme is case-insensitive (the toolkit sends "bearer"); without audience GitHub
	// gives the owner's URL.
	r = do(t, c, "GET", u, "Bearer request-token-1")
	value, _ = r.body["value"].(string)
	if r.status != 200 || verifyIDToken(t, f, value)["aud"] != "https://github.com/contoso" {
		t.Fatalf("default audience: %d %s", r.status, r.raw)
	}
	for name, auth := range map[string]string{"none": "", "wrong token": "bearer other", "basic": "Basic cmVxdWVzdC10b2tlbi0xOg=="} {
		if r := do(t, c, "GET", u+"&audience=a", auth); r.status != 401 {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	if r := do(t, c, "POST", u+"&audience=a", "bearer request-token-1"); r.status != 405 {
		t.Errorf("POST: %d", r.status)
	}
	if n := f.e.Counts().IDToken; n != 2 {
		t.Fatalf("IDToken count %d, want 2", n)
	}
}

func TestIssuerAzurePipelines(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.e.HTTPClient()
	const conn, sub = "7f2b6a3e-1111-4222-8333-444455556666", "sc://contoso/project/prod-connection"
	uri := f.e.AzurePipelines("system-access-token", map[string]string{conn: sub})
	if uri != f.e.IssuerURL+"/azdo/oidctoken" {
		t.Fatalf("request URI %q", uri)
	}
	full := uri + "?api-version=7.1&serviceConnectionId=" + conn
	r := do(t, c, "POST", full, "Bearer system-access-token")
	value, _ := r.body["oidcToken"].(string)
	if r.status != 200 || value == "" {
		t.Fatalf("AzDO token: %d %s", r.status, r.raw)
	}
	claims := verifyIDToken(t, f, value)
	if claims["sub"] != sub || claims["aud"] != DefaultFederatedAudience {
		t.Fatalf("claims %v", claims)
	}
	for name, tc := range map[string]struct {
		method, url, auth string
		status            int
	}{
		"wrong token":        {"POST", full, "Bearer other", 401},
		"no token":           {"POST", full, "", 401},
		"unknown connection": {"POST", uri + "?api-version=7.1&serviceConnectionId=00000000-0000-4000-8000-000000000000", "Bearer system-access-token", 404},
		"no connection":      {"POST", uri + "?api-version=7.1", "Bearer system-access-token", 400},
		"no api-version":     {"POST", uri + "?serviceConnectionId=" + conn, "Bearer system-access-token", 400},
		"GET":                {"GET", full, "Bearer system-access-token", 405},
	} {
		if r := do(t, c, tc.method, tc.url, tc.auth); r.status != tc.status {
			t.Errorf("%s: %d %s; want %d", name, r.status, r.raw, tc.status)
		}
	}
	if n := f.e.Counts().IDToken; n != 1 {
		t.Fatalf("IDToken count %d, want 1", n)
	}
}

// The CI endpoints' tokens work as federated credentials end to end.
func TestIssuerTokensFederate(t *testing.T) {
	f := newFixture(t, Options{})
	const ghSub, scSub = "repo:contoso/app:ref:refs/heads/main", "sc://contoso/project/conn"
	f.e.RegisterApp(App{TenantID: tenantID, ClientID: ficClient, FederatedCredentials: []FederatedCredential{
		{Issuer: f.e.IssuerURL, Subject: ghSub}, {Issuer: f.e.IssuerURL, Subject: scSub},
	}})
	c := f.e.HTTPClient()
	gh := do(t, c, "GET", f.e.GitHubActions("rt", ghSub)+"&audience="+DefaultFederatedAudience, "bearer rt")
	az := do(t, c, "POST", f.e.AzurePipelines("at", map[string]string{"c1": scSub})+"?api-version=7.1&serviceConnectionId=c1", "Bearer at")
	for _, tok := range []any{gh.body["value"], az.body["oidcToken"]} {
		s, _ := tok.(string)
		if r := f.post(t, tenantID, ficForm(s), nil); r.status != 200 {
			t.Fatalf("federated: %d %s", r.status, r.raw)
		}
	}
}
