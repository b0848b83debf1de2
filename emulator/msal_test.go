package emulator

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/golang-jwt/jwt/v5"
)

func TestMSALCertificate(t *testing.T) {
	for _, x5c := range []bool{false, true} {
		name := "x5t#S256"
		if x5c {
			name = "x5c"
		}
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, Options{})
			var opts []confidential.Option
			if x5c {
				opts = append(opts, confidential.WithX5C())
			}
			c := f.msal(t, tenantID, f.certCred(t), opts...)
			res, err := c.AcquireTokenByCredential(context.Background(), []string{graph})
			if err != nil {
				t.Fatal(err)
			}
			if got := f.e.Counts(); got != (Counts{Metadata: 1, Token: 1, TokenIssued: 1, Total: 2}) {
				t.Fatalf("first token cost %+v, want exactly metadata + token", got)
			}
			claims, err := f.e.Validate(res.AccessToken, "https://graph.microsoft.com")
			if err != nil {
				t.Fatal(err)
			}
			if claims.AppID != clientID || claims.TenantID != tenantID || claims.Issuer != TokenIssuer(tenantID) {
				t.Fatalf("claims %+v", claims)
			}
			for k, want := range map[string]any{"idtyp": "app", "appidacr": "2", "azp": clientID, "ver": "1.0"} {
				if claims.Raw[k] != want {
					t.Errorf("claim %s = %v, want %v", k, claims.Raw[k], want)
				}
			}
			if claims.Raw["oid"] == "" || claims.Raw["sub"] != claims.Raw["oid"] || claims.Raw["uti"] == "" {
				t.Errorf("oid/sub/uti claims wrong: %v", claims.Raw)
			}
			if d := claims.ExpiresAt.Sub(claims.IssuedAt); d != time.Hour {
				t.Errorf("token lifetime %s, want the default 1h", d)
			}
			if left := time.Until(res.ExpiresOn); left < 59*time.Minute || left > time.Hour+time.Minute {
				t.Errorf("MSAL sees expiry in %s", left)
			}

			// MSAL serves the second request from its own cache: no further traffic.
			if _, err := c.AcquireTokenByCredential(context.Background(), []string{graph}); err != nil {
				t.Fatal(err)
			}
			if got := f.e.Counts().Total; got != 2 {
				t.Fatalf("cached token made requests: total %d", got)
			}
			// A new client (empty cache) gets a different token.
			res2, err := f.msal(t, tenantID, f.certCred(t), opts...).AcquireTokenByCredential(context.Background(), []string{graph})
			if err != nil {
				t.Fatal(err)
			}
			if res2.AccessToken == res.AccessToken {
				t.Fatal("two token requests returned the same token")
			}
		})
	}
}

func TestMSALSecret(t *testing.T) {
	f := newFixture(t, Options{TokenLifetime: 10 * time.Minute})
	cred, err := confidential.NewCredFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	res, err := f.msal(t, tenantID, cred).AcquireTokenByCredential(context.Background(), []string{"https://management.azure.com/.default"})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := f.e.Validate(res.AccessToken, "https://management.azure.com")
	if err != nil {
		t.Fatal(err)
	}
	if claims.Raw["appidacr"] != "1" {
		t.Errorf("appidacr = %v, want 1 for a secret", claims.Raw["appidacr"])
	}
	if d := claims.ExpiresAt.Sub(claims.IssuedAt); d != 10*time.Minute {
		t.Errorf("lifetime %s, want Options.TokenLifetime", d)
	}

	for _, tc := range []struct{ secret, code string }{{"wrong", "AADSTS7000215"}, {"old-" + secret, "AADSTS7000222"}} {
		bad, _ := confidential.NewCredFromSecret(tc.secret)
		_, err := f.msal(t, tenantID, bad).AcquireTokenByCredential(context.Background(), []string{graph})
		if err == nil || !strings.Contains(err.Error(), tc.code) {
			t.Fatalf("secret %q: got %v, want %s", tc.secret, err, tc.code)
		}
		if strings.Contains(err.Error(), tc.secret) {
			t.Fatalf("the refused secret is echoed in the error")
		}
	}
}

// An authority given by domain name works as with Entra: the metadata names the tenant's
// GUID, and the token's tid is the GUID.
func TestMSALDomainAuthority(t *testing.T) {
	f := newFixture(t, Options{})
	res, err := f.msal(t, domain, f.certCred(t)).AcquireTokenByCredential(context.Background(), []string{"499b84ac-1321-427f-aa17-267ca6975798/.default"})
	if err != nil {
		t.Fatal(err)
	}
	claims, err := f.e.Validate(res.AccessToken, "499b84ac-1321-427f-aa17-267ca6975798")
	if err != nil {
		t.Fatal(err)
	}
	if claims.TenantID != tenantID {
		t.Fatalf("tid %s", claims.TenantID)
	}
}

// Options.Now skews the service clock: MSAL's assertion (nbf = now, exp = now + 10 min)
// is refused the way Entra refuses it from a client with a wrong clock.
func TestMSALClockSkew(t *testing.T) {
	for _, skew := range []time.Duration{11 * time.Minute, -6 * time.Minute} {
		f := newFixture(t, Options{Now: func() time.Time { return time.Now().Add(skew) }})
		_, err := f.msal(t, tenantID, f.certCred(t)).AcquireTokenByCredential(context.Background(), []string{graph})
		if err == nil || !strings.Contains(err.Error(), "AADSTS700024") {
			t.Fatalf("skew %s: got %v, want AADSTS700024", skew, err)
		}
	}
	// Within Entra's five minutes the same client succeeds.
	f := newFixture(t, Options{Now: func() time.Time { return time.Now().Add(-4 * time.Minute) }})
	if _, err := f.msal(t, tenantID, f.certCred(t)).AcquireTokenByCredential(context.Background(), []string{graph}); err != nil {
		t.Fatal(err)
	}
}

func TestMetadataAndKeys(t *testing.T) {
	f := newFixture(t, Options{})
	for _, name := range []string{tenantID, domain, strings.ToUpper(domain)} {
		resp, err := f.e.HTTPClient().Get(f.e.URL + "/" + name + "/v2.0/.well-known/openid-configuration")
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("%s: status %d", name, resp.StatusCode)
		}
		want := map[string]string{
			"token_endpoint":         f.e.URL + "/" + tenantID + "/oauth2/v2.0/token",
			"authorization_endpoint": f.e.URL + "/" + tenantID + "/oauth2/v2.0/authorize",
			"issuer":                 f.e.URL + "/" + tenantID + "/v2.0",
			"jwks_uri":               f.e.URL + "/" + tenantID + "/discovery/v2.0/keys",
			"tenant_region_scope":    "NA",
		}
		for k, v := range want {
			if doc[k] != v {
				t.Errorf("%s: %s = %v, want %s", name, k, doc[k], v)
			}
		}
		for k, v := range doc {
			if s, ok := v.(string); ok && strings.HasPrefix(s, "https://") && k != "rbac_url" && !strings.HasPrefix(s, f.e.URL+"/") {
				t.Errorf("%s points off the emulator: %s", k, s)
			}
		}
	}

	// The JWKS verifies a token the emulator issued.
	r := f.post(t, tenantID, assertionForm(f.goodAssertion(t)), nil)
	if r.status != 200 {
		t.Fatalf("token: %d %s", r.status, r.raw)
	}
	resp, err := f.e.HTTPClient().Get(f.e.URL + "/" + tenantID + "/discovery/v2.0/keys")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var set struct{ Keys []JWK }
	if err := json.NewDecoder(resp.Body).Decode(&set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("jwks: %v %+v", err, set)
	}
	k := set.Keys[0]
	n, _ := base64.RawURLEncoding.DecodeString(k.N)
	ex, _ := base64.RawURLEncoding.DecodeString(k.E)
	pub := &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(ex).Int64())}
	tok, err := jwt.Parse(r.body["access_token"].(string), func(tk *jwt.Token) (any, error) { return pub, nil }, jwt.WithValidMethods([]string{"RS256"}))
	if err != nil {
		t.Fatalf("token does not verify with the published JWKS: %v", err)
	}
	if tok.Header["kid"] != k.Kid {
		t.Fatalf("kid %v, JWKS kid %s", tok.Header["kid"], k.Kid)
	}
	der, _ := base64.StdEncoding.DecodeString(k.X5c[0])
	if c, err := x509.ParseCertificate(der); err != nil || !c.PublicKey.(*rsa.PublicKey).Equal(pub) {
		t.Fatalf("x5c does not hold the signing key: %v", err)
	}

	// Unknown tenant: Entra's 400 AADSTS90002.
	resp2, err := f.e.HTTPClient().Get(f.e.URL + "/nosuch.onmicrosoft.com/v2.0/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	defer resp2.Body.Close()
	var eb errorBody
	json.NewDecoder(resp2.Body).Decode(&eb)
	if resp2.StatusCode != 400 || len(eb.ErrorCodes) != 1 || eb.ErrorCodes[0] != CodeTenantNotFound || !strings.HasPrefix(eb.ErrorDescription, "AADSTS90002: Tenant 'nosuch.onmicrosoft.com' not found") {
		t.Fatalf("unknown tenant: %d %+v", resp2.StatusCode, eb)
	}
	if got := f.e.Counts(); got.Metadata != 4 || got.Token != 1 || got.TokenIssued != 1 || got.Total != 6 {
		t.Fatalf("counts %+v", got)
	}
	f.e.ResetCounts()
	if got := f.e.Counts(); got != (Counts{}) {
		t.Fatalf("after reset %+v", got)
	}
}

func TestCAFile(t *testing.T) {
	dir := t.TempDir()
	f := newFixture(t, Options{Dir: dir + "/sub"})
	data, err := os.ReadFile(f.e.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(f.e.CAFile, dir+"/sub/") {
		t.Fatalf("CA file %s not in Options.Dir", f.e.CAFile)
	}
	b, _ := pem.Decode(data)
	ca, err := x509.ParseCertificate(b.Bytes)
	if err != nil || !ca.IsCA {
		t.Fatalf("ca.pem: %v", err)
	}
	// The CA file alone is enough to trust the authority (what SSL_CERT_FILE gives).
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(data)
	leaf := f.e.ServerTLSConfig("registry.test").Certificates[0].Leaf
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "registry.test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, DNSName: "127.0.0.1"}); err != nil {
		t.Fatal(err)
	}

	// Without Options.Dir the temp dir is the emulator's and goes with it.
	g := newFixture(t, Options{})
	g.e.Close()
	if _, err := os.Stat(g.e.CAFile); !os.IsNotExist(err) {
		t.Fatalf("temp CA file left behind: %v", err)
	}
	if err := g.e.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	// With Options.Dir the file stays for the caller.
	f.e.Close()
	if _, err := os.Stat(f.e.CAFile); err != nil {
		t.Fatal(err)
	}
	// A shared directory keeps its mode: ca.pem is public, nothing to tighten.
	shared := t.TempDir()
	os.Chmod(shared, 0o755)
	h := newFixture(t, Options{Dir: shared})
	if fi, err := os.Stat(shared); err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("Options.Dir mode changed: %v %v", fi.Mode(), err)
	}
	if fi, err := os.Stat(h.e.CAFile); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("ca.pem: %v", err)
	}
}

func TestLogNeverHoldsSecrets(t *testing.T) {
	var lines []string
	f := newFixture(t, Options{Logf: func(format string, args ...any) {
		lines = append(lines, strings.TrimSpace(strings.ReplaceAll(fmt.Sprintf(format, args...), "\n", " ")))
	}})
	a := f.goodAssertion(t)
	f.post(t, tenantID, assertionForm(a), nil)
	f.post(t, tenantID, secretForm(secret), nil)
	f.post(t, tenantID, secretForm("wrong-"+secret), nil)
	r := f.post(t, tenantID, assertionForm(a), nil) // replay
	if r.status == 200 {
		t.Fatal("replay accepted")
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "POST /"+tenantID+"/oauth2/v2.0/token -> 200") || !strings.Contains(all, "AADSTS7000215") {
		t.Fatalf("log lacks the request lines:\n%s", all)
	}
	sig := a[strings.LastIndex(a, ".")+1:]
	for _, s := range []string{secret, sig, url.QueryEscape(secret)} {
		if strings.Contains(all, s) {
			t.Fatalf("log holds a secret:\n%s", all)
		}
	}
}

func TestLoopbackOnly(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", ":0", "192.0.2.1:0", "example.com:443", "no-port"} {
		if e, err := Start(Options{Addr: addr, SigningKey: testKey(t, 2)}); err == nil {
			e.Close()
			t.Errorf("Start(%q) succeeded", addr)
		}
	}
	e, err := Start(Options{Addr: "localhost:0", SigningKey: testKey(t, 2)})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if !strings.HasPrefix(e.URL, "https://127.0.0.1:") && !strings.HasPrefix(e.URL, "https://[::1]:") {
		t.Fatalf("URL %s", e.URL)
	}
}
