package emulator

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/golang-jwt/jwt/v5"

	"github.com/entratool/entratool/internal/testkit"
)

const (
	tenantID = testkit.TenantID
	clientID = testkit.ClientID
	domain   = "contoso.onmicrosoft.com"
	graph    = "https://graph.microsoft.com/.default"
	secret   = "s3cret~value.for.tests"
)

// Keys are generated once per test binary: RSA-2048 generation dominates run time on
// the 2-core machines this runs on.
var (
	keysOnce sync.Once
	keys     [4]*rsa.PrivateKey // [0] client, [1] an unregistered client key, [2] emulator signing key, [3] OIDC issuer key
)

func testKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	keysOnce.Do(func() {
		for j := range keys {
			k, err := rsa.GenerateKey(rand.Reader, 2048)
			if err != nil {
				panic(err)
			}
			keys[j] = k
		}
	})
	return keys[i]
}

func selfSigned(t testing.TB, key *rsa.PrivateKey, cn string, notBefore, notAfter time.Time) *x509.Certificate {
	t.Helper()
	serial, _ := rand.Int(rand.Reader, big.NewInt(1<<62))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixture is an emulator with one tenant (with a domain) and one app that has a
// certificate and a secret registered.
type fixture struct {
	e       *Emulator
	key     *rsa.PrivateKey
	cert    *x509.Certificate
	other   *rsa.PrivateKey // not registered
	otherCe *x509.Certificate
}

func newFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	if opts.SigningKey == nil {
		opts.SigningKey = testKey(t, 2)
	}
	if opts.IssuerSigningKey == nil {
		opts.IssuerSigningKey = testKey(t, 3)
	}
	e, err := Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	now := time.Now()
	f := &fixture{
		e:     e,
		key:   testKey(t, 0),
		other: testKey(t, 1),
	}
	f.cert = selfSigned(t, f.key, "CN=entratool-test", now.Add(-time.Hour), now.Add(48*time.Hour))
	f.otherCe = selfSigned(t, f.other, "CN=not-uploaded", now.Add(-time.Hour), now.Add(48*time.Hour))
	e.AddTenant(tenantID, domain)
	e.RegisterApp(App{
		TenantID:       tenantID,
		ClientID:       clientID,
		Certificates:   []*x509.Certificate{f.cert},
		Secrets:        []string{secret},
		ExpiredSecrets: []string{"old-" + secret},
	})
	return f
}

// assertion builds a client assertion the way MSAL Go v1.10.1 does (PS256, x5t#S256 in
// standard base64, aud = token endpoint, iss = sub = client id, nbf = now,
// exp = now + 10 min, a fresh jti); mutate may change header and claims first.
func (f *fixture) assertion(t testing.TB, method jwt.SigningMethod, key any, mutate func(h map[string]any, c jwt.MapClaims)) string {
	t.Helper()
	now := time.Now()
	sum := sha256.Sum256(f.cert.Raw)
	claims := jwt.MapClaims{
		"aud": f.e.TokenEndpoint(tenantID),
		"iss": clientID,
		"sub": clientID,
		"jti": newGUID(),
		"nbf": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(),
	}
	tok := jwt.NewWithClaims(method, claims)
	tok.Header = map[string]any{
		"alg":      method.Alg(),
		"typ":      "JWT",
		"x5t#S256": base64.StdEncoding.EncodeToString(sum[:]),
	}
	if mutate != nil {
		mutate(tok.Header, claims)
	}
	if method == jwt.SigningMethodNone {
		s, err := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (f *fixture) goodAssertion(t testing.TB) string {
	return f.assertion(t, jwt.SigningMethodPS256, f.key, nil)
}

func sha1b64(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return base64.StdEncoding.EncodeToString(s[:])
}

func assertionForm(assertion string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"client_id":             {clientID},
		"scope":                 {graph + " openid offline_access profile"},
		"client_assertion_type": {clientAssertionType},
		"client_assertion":      {assertion},
		"client_info":           {"1"},
	}
}

func secretForm(s string) url.Values {
	return url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {clientID},
		"scope":         {graph},
		"client_secret": {s},
	}
}

type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

func (r reply) code() int {
	codes, _ := r.body["error_codes"].([]any)
	if len(codes) != 1 {
		return 0
	}
	n, _ := codes[0].(float64)
	return int(n)
}

func (f *fixture) post(t testing.TB, tenant string, form url.Values, hdr map[string]string) reply {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, f.e.TokenEndpoint(tenant), strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.do(t, req, hdr)
}

// do sends req, with the headers hdr added, through the emulator's client and reads the
// answer (body decoded when it is a JSON object).
func (f *fixture) do(t testing.TB, req *http.Request, hdr map[string]string) reply {
	t.Helper()
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := f.e.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	json.Unmarshal(raw, &r.body)
	return r
}

func (f *fixture) msal(t testing.TB, tenant string, cred confidential.Credential, opts ...confidential.Option) confidential.Client {
	t.Helper()
	opts = append([]confidential.Option{
		confidential.WithHTTPClient(f.e.HTTPClient()),
		confidential.WithInstanceDiscovery(false),
	}, opts...)
	c, err := confidential.New(f.e.Authority(tenant), clientID, cred, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fixture) certCred(t testing.TB) confidential.Credential {
	t.Helper()
	cred, err := confidential.NewCredFromCert([]*x509.Certificate{f.cert}, f.key)
	if err != nil {
		t.Fatal(err)
	}
	return cred
}
