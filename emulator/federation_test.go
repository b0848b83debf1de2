package emulator

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/golang-jwt/jwt/v5"
)

const (
	ficClient  = "f1c0f1c0-1234-4234-8234-123456789abc"
	ficSubject = "system:serviceaccount:default:workload"
)

// ficFixture is the fixture plus an app whose only credential is a federated one, trusting
// the emulator's own OIDC issuer for ficSubject.
func newFICFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	f := newFixture(t, opts)
	f.e.RegisterApp(App{
		TenantID:             tenantID,
		ClientID:             ficClient,
		FederatedCredentials: []FederatedCredential{{Issuer: f.e.IssuerURL, Subject: ficSubject}},
	})
	return f
}

func ficForm(assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {ficClient},
		"scope":                 {graph},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
	}
}

// externalToken signs claims with key under kid, as some OIDC issuer would.
func externalToken(t *testing.T, key *rsa.PrivateKey, kid string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestFederatedCredentialMSAL(t *testing.T) {
	f := newFICFixture(t, Options{})
	idToken, err := f.e.MintIDToken(ficSubject, DefaultFederatedAudience, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	cred := confidential.NewCredFromAssertionCallback(func(context.Context, confidential.AssertionRequestOptions) (string, error) {
		calls++
		return idToken, nil
	})
	c, err := confidential.New(f.e.Authority(tenantID), ficClient, cred,
		confidential.WithHTTPClient(f.e.HTTPClient()), confidential.WithInstanceDiscovery(false))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.AcquireTokenByCredential(context.Background(), []string{AKSServerID + "/.default"})
	if err != nil {
		t.Fatalf("federated token: %v", err)
	}
	claims, err := f.e.Validate(res.AccessToken, AKSServerID)
	if err != nil || claims.AppID != ficClient || claims.TenantID != tenantID || claims.Raw["appidacr"] != "2" {
		t.Fatalf("claims %+v: %v", claims, err)
	}
	// The token is one the emulator's resources take, like any other.
	k, err := f.e.StartKubeAPI()
	if err != nil {
		t.Fatal(err)
	}
	if r := kubeGet(t, f, k, "/version", "", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+res.AccessToken) }); r.status != 200 {
		t.Fatalf("kube API with a federated token: %d %s", r.status, r.body)
	}
	// Entra lets the same external token be used again within its lifetime.
	if r := f.post(t, tenantID, ficForm(idToken), nil); r.status != 200 {
		t.Fatalf("replayed external token: %d %s", r.status, r.raw)
	}
}

func TestFederatedCredentialRefusals(t *testing.T) {
	f := newFICFixture(t, Options{IssuerSigningKey: testKey(t, 3)})
	now := time.Now()
	claims := func(mutate func(jwt.MapClaims)) jwt.MapClaims {
		c := jwt.MapClaims{
			"iss": f.e.IssuerURL, "sub": ficSubject, "aud": DefaultFederatedAudience,
			"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(time.Hour).Unix(), "jti": newGUID(),
		}
		if mutate != nil {
			mutate(c)
		}
		return c
	}
	is, err := f.e.issuerSigner()
	if err != nil {
		t.Fatal(err)
	}
	issuerKid := is.kid
	signed := func(mutate func(jwt.MapClaims)) string {
		return externalToken(t, testKey(t, 3), issuerKid, claims(mutate))
	}
	if r := f.post(t, tenantID, ficForm(signed(nil)), nil); r.status != 200 {
		t.Fatalf("good external token: %d %s", r.status, r.raw)
	}
	noMatch := func(iss, sub, aud string) string {
		return "No matching federated identity record found for presented assertion. Assertion Issuer: '" + iss +
			"'. Assertion Subject: '" + sub + "'. Assertion Audience: '" + aud + "'."
	}
	cases := []struct {
		name      string
		assertion string
		status    int
		code      int
		want      string
	}{
		{"other subject", signed(func(c jwt.MapClaims) { c["sub"] = "repo:contoso/app:ref:refs/heads/dev" }), 400, CodeNoMatchingFederatedRecord,
			noMatch(f.e.IssuerURL, "repo:contoso/app:ref:refs/heads/dev", DefaultFederatedAudience)},
		{"subject differs in case", signed(func(c jwt.MapClaims) { c["sub"] = strings.ToUpper(ficSubject) }), 400, CodeNoMatchingFederatedRecord, "Assertion Subject: '" + strings.ToUpper(ficSubject) + "'"},
		{"other audience", signed(func(c jwt.MapClaims) { c["aud"] = "api://other" }), 400, CodeNoMatchingFederatedRecord,
			noMatch(f.e.IssuerURL, ficSubject, "api://other")},
		{"other issuer", signed(func(c jwt.MapClaims) { c["iss"] = "https://token.actions.githubusercontent.com" }), 400, CodeNoMatchingFederatedRecord,
			noMatch("https://token.actions.githubusercontent.com", ficSubject, DefaultFederatedAudience)},
		{"issuer with a trailing slash", signed(func(c jwt.MapClaims) { c["iss"] = f.e.IssuerURL + "/" }), 400, CodeNoMatchingFederatedRecord, "Assertion Issuer: '" + f.e.IssuerURL + "/'"},
		{"signed by another key", externalToken(t, testKey(t, 1), issuerKid, claims(nil)), 401, CodeFederatedSignature, "signature"},
		{"unknown kid", externalToken(t, testKey(t, 3), "no-such-kid", claims(nil)), 401, CodeFederatedSignature, "The key was not found"},
		{"unsigned", func() string {
			s, _ := jwt.NewWithClaims(jwt.SigningMethodNone, claims(nil)).SignedString(jwt.UnsafeAllowNoneSignatureType)
			return s
		}(), 401, CodeFederatedSignature, "signing algorithm"},
		{"expired", signed(func(c jwt.MapClaims) {
			c["iat"], c["nbf"], c["exp"] = now.Add(-2*time.Hour).Unix(), now.Add(-2*time.Hour).Unix(), now.Add(-time.Hour).Unix()
		}), 401, CodeAssertionTimeRange, "not within its valid time range"},
		{"not yet valid", signed(func(c jwt.MapClaims) { c["nbf"] = now.Add(time.Hour).Unix() }), 401, CodeAssertionTimeRange, "not within its valid time range"},
		{"no exp", signed(func(c jwt.MapClaims) { delete(c, "exp") }), 400, CodeMalformedJWT, "'exp'"},
		{"not a JWT", "not-a-jwt", 400, CodeMalformedJWT, "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.post(t, tenantID, ficForm(tc.assertion), nil)
			desc, _ := r.body["error_description"].(string)
			if r.status != tc.status || r.code() != tc.code || !strings.Contains(desc, tc.want) {
				t.Fatalf("got %d AADSTS%d %q; want %d AADSTS%d containing %q", r.status, r.code(), desc, tc.status, tc.code, tc.want)
			}
		})
	}
	// An app with no federated credential refuses an external token the same way.
	form := ficForm(signed(nil))
	form.Set("client_id", clientID)
	if r := f.post(t, tenantID, form, nil); r.status != 400 || r.code() != CodeNoMatchingFederatedRecord {
		t.Fatalf("app without federated credentials: %d %s", r.status, r.raw)
	}
	// The certificate app's own assertions are unaffected.
	if r := f.post(t, tenantID, assertionForm(f.goodAssertion(t)), nil); r.status != 200 {
		t.Fatalf("certificate assertion: %d %s", r.status, r.raw)
	}
}

// An external issuer is trusted only through its published keys, found from its discovery
// document, and only on loopback: the emulator never reaches out to the internet.
func TestFederatedExternalIssuer(t *testing.T) {
	f := newFixture(t, Options{})
	key := testKey(t, 1)
	var iss string
	mux := http.NewServeMux()
	mux.HandleFunc("GET /oidc/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"issuer": iss, "jwks_uri": iss + "/keys"})
	})
	mux.HandleFunc("GET /oidc/keys", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{"keys": []map[string]any{{
			"kty": "RSA", "kid": "ext-1", "use": "sig", "alg": "RS256",
			"n": base64.RawURLEncoding.EncodeToString(key.N.Bytes()),
			"e": base64.RawURLEncoding.EncodeToString(big.NewInt(int64(key.E)).Bytes()),
		}}})
	})
	srv, err := f.e.StartServer(mux)
	if err != nil {
		t.Fatal(err)
	}
	iss = srv.URL + "/oidc"
	const sub = "repo:contoso/app:environment:prod"
	f.e.RegisterApp(App{TenantID: tenantID, ClientID: ficClient, FederatedCredentials: []FederatedCredential{
		{Issuer: iss, Subject: sub, Audiences: []string{"api://custom"}},
		{Issuer: "https://token.actions.githubusercontent.com", Subject: sub},
	}})
	now := time.Now()
	tok := func(issuer, aud string, k *rsa.PrivateKey) string {
		return externalToken(t, k, "ext-1", jwt.MapClaims{"iss": issuer, "sub": sub, "aud": aud, "iat": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()})
	}
	if r := f.post(t, tenantID, ficForm(tok(iss, "api://custom", key)), nil); r.status != 200 {
		t.Fatalf("external issuer: %d %s", r.status, r.raw)
	}
	if r := f.post(t, tenantID, ficForm(tok(iss, DefaultFederatedAudience, key)), nil); r.code() != CodeNoMatchingFederatedRecord {
		t.Fatalf("default audience on a custom-audience record: %d %s", r.status, r.raw)
	}
	if r := f.post(t, tenantID, ficForm(tok(iss, "api://custom", testKey(t, 0))), nil); r.code() != CodeFederatedSignature {
		t.Fatalf("forged external token: %d %s", r.status, r.raw)
	}
	r := f.post(t, tenantID, ficForm(tok("https://token.actions.githubusercontent.com", DefaultFederatedAudience, key)), nil)
	if r.status != 401 || r.code() != CodeExternalOIDCFailed {
		t.Fatalf("non-loopback issuer: %d %s", r.status, r.raw)
	}
}

func TestFederatedCredentialRegistrationPanics(t *testing.T) {
	f := newFixture(t, Options{})
	for name, fc := range map[string]FederatedCredential{
		"no issuer":      {Subject: "s"},
		"no subject":     {Issuer: f.e.IssuerURL},
		"http issuer":    {Issuer: "http://127.0.0.1:1/x", Subject: "s"},
		"empty audience": {Issuer: f.e.IssuerURL, Subject: "s", Audiences: []string{""}},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: RegisterApp did not panic", name)
				}
			}()
			f.e.RegisterApp(App{TenantID: tenantID, ClientID: ficClient, FederatedCredentials: []FederatedCredential{fc}})
		}()
	}
}

// The registered record is kept as given, with the default audience filled in.
func TestFederatedCredentialsDefaultAudience(t *testing.T) {
	f := newFICFixture(t, Options{})
	a := f.e.lookupApp(tenantID, ficClient)
	if len(a.FederatedCredentials) != 1 || len(a.FederatedCredentials[0].Audiences) != 1 || a.FederatedCredentials[0].Audiences[0] != "api://AzureADTokenExchange" {
		t.Fatalf("records %+v", a.FederatedCredentials)
	}
	data, _ := json.Marshal(a.FederatedCredentials)
	if !strings.Contains(string(data), f.e.IssuerURL) {
		t.Fatalf("issuer not kept: %s", data)
	}
}
