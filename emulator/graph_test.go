package emulator

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// objectID is the fixture app's application object id: deliberately unlike its client id,
// so that a client putting one where the other belongs is caught.
const objectID = "4c3b2a19-8d7e-4f60-9a5b-3c2d1e0f9a8b"

// A fourth client key for the Graph tests (the fixture's three are taken): generated once
// per test binary, as the others are.
var (
	graphKeyOnce sync.Once
	graphKey     *rsa.PrivateKey
)

func thirdKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	graphKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		graphKey = k
	})
	return graphKey
}

// newGraphFixture is newFixture with the app given an explicit object id.
func newGraphFixture(t testing.TB, opts Options) *fixture {
	t.Helper()
	f := newFixture(t, opts)
	f.e.RegisterApp(App{TenantID: tenantID, ClientID: clientID, ObjectID: objectID,
		Certificates: []*x509.Certificate{f.cert}, Secrets: []string{secret}})
	return f
}

// graphToken is an access token for the emulator's Graph, got with the fixture's secret.
func (f *fixture) graphToken(t *testing.T) string {
	t.Helper()
	return f.entraToken(t, f.e.GraphURL+"/.default")
}

// signJWT signs header and claims RS256 (or PS256 when pss), encoding every segment with
// enc, so tests can build proofs no JWT library would.
func signJWT(t testing.TB, key *rsa.PrivateKey, h, c map[string]any, enc *base64.Encoding, pss bool) string {
	t.Helper()
	hj, err := json.Marshal(h)
	if err != nil {
		t.Fatal(err)
	}
	cj, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	input := enc.EncodeToString(hj) + "." + enc.EncodeToString(cj)
	digest := sha256.Sum256([]byte(input))
	var sig []byte
	if pss {
		sig, err = rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest[:], &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	} else {
		sig, err = rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest[:])
	}
	if err != nil {
		t.Fatal(err)
	}
	return input + "." + enc.EncodeToString(sig)
}

func x5tOf(c *x509.Certificate) string {
	s := sha1.Sum(c.Raw)
	return base64.RawURLEncoding.EncodeToString(s[:])
}

// proof builds a key-rolling proof as SPEC §13 describes it, signed by key and naming
// cert; mutate may change header and claims first.
func proof(t testing.TB, key *rsa.PrivateKey, cert *x509.Certificate, obj string, mutate func(h, c map[string]any)) string {
	t.Helper()
	now := time.Now()
	h := map[string]any{"alg": "RS256", "typ": "JWT", "x5t": x5tOf(cert)}
	c := map[string]any{"aud": ProofAudience, "iss": obj, "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
	if mutate != nil {
		mutate(h, c)
	}
	return signJWT(t, key, h, c, base64.RawURLEncoding, false)
}

func addKeyBody(cert *x509.Certificate, display, proof string) map[string]any {
	return map[string]any{
		"keyCredential": map[string]any{
			"type":        "AsymmetricX509Cert",
			"usage":       "Verify",
			"key":         base64.StdEncoding.EncodeToString(cert.Raw),
			"displayName": display,
		},
		"passwordCredential": nil,
		"proof":              proof,
	}
}

func (g reply) errField(name string) string {
	e, _ := g.body["error"].(map[string]any)
	s, _ := e[name].(string)
	return s
}

// graphDo sends one request to the emulator's Graph. body is sent as is when a string,
// else as JSON; token "" sends no Authorization header.
func (f *fixture) graphDo(t testing.TB, method, path, token string, body any, hdr map[string]string) reply {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, f.e.GraphURL+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return f.do(t, req, hdr)
}

func (f *fixture) addKey(t testing.TB, token string, body any) reply {
	t.Helper()
	return f.graphDo(t, http.MethodPost, "/v1.0/applications/"+objectID+"/addKey", token, body, nil)
}

func (f *fixture) removeKey(t testing.TB, token, keyID, proof string) reply {
	t.Helper()
	return f.graphDo(t, http.MethodPost, "/v1.0/applications/"+objectID+"/removeKey", token,
		map[string]any{"keyId": keyID, "proof": proof}, nil)
}

// checkGraphError checks a refusal is in Graph's shape: the status, error.code, a
// one-line message holding want, and innerError's date and ids matching the headers.
func checkGraphError(t *testing.T, r reply, status int, code, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if got := r.errField("code"); got != code {
		t.Fatalf("error.code %q, want %q: %s", got, code, r.raw)
	}
	msg := r.errField("message")
	if !strings.Contains(msg, want) || strings.ContainsAny(msg, "\r\n") {
		t.Fatalf("error.message %q lacks %q (or is not one line)", msg, want)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	e, _ := r.body["error"].(map[string]any)
	inner, _ := e["innerError"].(map[string]any)
	date, _ := inner["date"].(string)
	rid, _ := inner["request-id"].(string)
	crid, _ := inner["client-request-id"].(string)
	if _, err := time.Parse("2006-01-02T15:04:05", date); err != nil {
		t.Errorf("innerError.date %q: %v", date, err)
	}
	if !isGUID(rid) || rid != r.header.Get("request-id") || crid == "" || crid != r.header.Get("client-request-id") {
		t.Errorf("ids: innerError %v, headers %v", inner, r.header)
	}
}

func TestGraphRollKeys(t *testing.T) {
	f := newGraphFixture(t, Options{})
	if !strings.HasPrefix(f.e.GraphURL, "https://127.0.0.1:") || f.e.GraphURL == f.e.URL {
		t.Fatalf("GraphURL %q (authority %q)", f.e.GraphURL, f.e.URL)
	}
	tok := f.graphToken(t)
	now := time.Now()
	newCert := selfSigned(t, f.other, "CN=entratool-test", now.Add(-time.Minute), now.Add(730*24*time.Hour))

	// The registered certificate is listed with a keyId, the key under $select.
	before := f.e.KeyCredentials(objectID)
	if len(before) != 1 || !isGUID(before[0].KeyID) || before[0].Certificate != f.cert {
		t.Fatalf("KeyCredentials before: %+v", before)
	}
	oldKeyID := before[0].KeyID

	r := f.addKey(t, tok, addKeyBody(newCert, "CN=entratool-test", proof(t, f.key, f.cert, objectID, nil)))
	if r.status != 200 {
		t.Fatalf("addKey: %d %s", r.status, r.raw)
	}
	s1 := sha1.Sum(newCert.Raw)
	keyID, _ := r.body["keyId"].(string)
	want := map[string]any{
		"@odata.context":      "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.keyCredential",
		"customKeyIdentifier": base64.StdEncoding.EncodeToString(s1[:]),
		"displayName":         "CN=entratool-test",
		"endDateTime":         newCert.NotAfter.UTC().Format(time.RFC3339),
		"key":                 nil,
		"keyId":               keyID,
		"startDateTime":       newCert.NotBefore.UTC().Format(time.RFC3339),
		"type":                "AsymmetricX509Cert",
		"usage":               "Verify",
	}
	if fmt.Sprint(r.body) != fmt.Sprint(want) || !isGUID(keyID) || keyID == oldKeyID {
		t.Fatalf("addKey answer %s\nwant %v", r.raw, want)
	}
	if !isGUID(r.header.Get("request-id")) {
		t.Errorf("request-id header %q", r.header.Get("request-id"))
	}
	if c := f.e.Counts(); c.GraphAddKey != 1 || c.GraphKeysAdded != 1 || c.Graph != 1 {
		t.Fatalf("counts %+v", c)
	}

	// The new key is accepted by the token endpoint at once; the old one still works.
	newAssertion := func(key *rsa.PrivateKey, cert *x509.Certificate) string {
		return f.assertion(t, jwt.SigningMethodPS256, key, func(h map[string]any, c jwt.MapClaims) {
			h["x5t#S256"] = base64.StdEncoding.EncodeToString(sha256Of(cert))
		})
	}
	checkReply(t, f.post(t, tenantID, assertionForm(newAssertion(f.other, newCert)), nil), 200, 0, "")
	checkReply(t, f.post(t, tenantID, assertionForm(f.goodAssertion(t)), nil), 200, 0, "")
	if got := f.e.KeyCredentials(objectID); len(got) != 2 || got[1].KeyID != keyID || got[1].Certificate.Equal(newCert) == false {
		t.Fatalf("KeyCredentials after addKey: %+v", got)
	}

	// GET ?$select=keyCredentials lists both, with the key, as Graph does for one object.
	g := f.graphDo(t, http.MethodGet, "/v1.0/applications/"+objectID+"?$select=keyCredentials", tok, nil, nil)
	list, _ := g.body["keyCredentials"].([]any)
	if g.status != 200 || len(list) != 2 || g.body["@odata.context"] != "https://graph.microsoft.com/v1.0/$metadata#applications(keyCredentials)/$entity" {
		t.Fatalf("GET: %d %s", g.status, g.raw)
	}
	second, _ := list[1].(map[string]any)
	if second["keyId"] != keyID || second["key"] != base64.StdEncoding.EncodeToString(newCert.Raw) {
		t.Fatalf("GET second key %v", second)
	}

	// removeKey of the old key, proved with the new one.
	r = f.removeKey(t, tok, oldKeyID, proof(t, f.other, newCert, objectID, nil))
	if r.status != http.StatusNoContent || len(r.raw) != 0 {
		t.Fatalf("removeKey: %d %s", r.status, r.raw)
	}
	checkReply(t, f.post(t, tenantID, assertionForm(f.goodAssertion(t)), nil), 401, CodeInvalidSignature, "The key was not found.")
	checkReply(t, f.post(t, tenantID, assertionForm(newAssertion(f.other, newCert)), nil), 200, 0, "")
	if got := f.e.KeyCredentials(objectID); len(got) != 1 || got[0].KeyID != keyID {
		t.Fatalf("KeyCredentials after removeKey: %+v", got)
	}
	// A removed key no longer proves anything.
	third := selfSigned(t, thirdKey(t), "CN=third", now.Add(-time.Minute), now.Add(time.Hour))
	r = f.addKey(t, tok, addKeyBody(third, "third", proof(t, f.key, f.cert, objectID, nil)))
	checkGraphError(t, r, 401, GraphCodeProofRefused, "not registered")
	// Removing it again: the keyId is gone.
	r = f.removeKey(t, tok, oldKeyID, proof(t, f.other, newCert, objectID, nil))
	checkGraphError(t, r, 400, GraphCodeBadRequest, oldKeyID)
	if c := f.e.Counts(); c.GraphAddKey != 2 || c.GraphKeysAdded != 1 || c.GraphRemoveKey != 2 || c.GraphKeysRemoved != 1 || c.GraphGet != 1 || c.Graph != 5 {
		t.Fatalf("counts %+v", c)
	}
}

func TestGraphProofValidation(t *testing.T) {
	f := newGraphFixture(t, Options{})
	tok := f.graphToken(t)
	now := time.Now()
	newCert := selfSigned(t, f.other, "CN=new", now.Add(-time.Minute), now.Add(time.Hour))
	unregistered := selfSigned(t, thirdKey(t), "CN=stranger", now.Add(-time.Minute), now.Add(time.Hour))
	good := func(mutate func(h, c map[string]any)) func() string {
		return func() string { return proof(t, f.key, f.cert, objectID, mutate) }
	}
	cases := []struct {
		name  string
		proof func() string
		want  string // in error.message
	}{
		{"Graph's app id as audience", good(func(h, c map[string]any) { c["aud"] = GraphAppID }), "audience"},
		{"Graph's URL as audience", good(func(h, c map[string]any) { c["aud"] = "https://graph.microsoft.com" }), "audience"},
		{"no audience", good(func(h, c map[string]any) { delete(c, "aud") }), "'aud'"},
		{"two audiences", good(func(h, c map[string]any) { c["aud"] = []string{ProofAudience, GraphAppID} }), "audience"},
		{"client id as issuer", good(func(h, c map[string]any) { c["iss"] = clientID }), "object id"},
		{"other issuer", good(func(h, c map[string]any) { c["iss"] = "11111111-2222-4333-8444-555555555555" }), "'iss'"},
		{"no issuer", good(func(h, c map[string]any) { delete(c, "iss") }), "'iss'"},
		{"nbf in the future", good(func(h, c map[string]any) {
			c["nbf"] = now.Add(3 * time.Minute).Unix()
			c["exp"] = now.Add(8 * time.Minute).Unix()
		}), "not yet valid"},
		{"expired", good(func(h, c map[string]any) {
			c["nbf"] = now.Add(-11 * time.Minute).Unix()
			c["exp"] = now.Add(-time.Minute).Unix()
		}), "expired"},
		{"lifetime over 10 minutes", good(func(h, c map[string]any) {
			c["nbf"] = now.Unix()
			c["exp"] = now.Add(10*time.Minute + time.Second).Unix()
		}), "10 minutes"},
		{"exp before nbf", good(func(h, c map[string]any) { c["exp"] = now.Add(-time.Second).Unix(); c["nbf"] = now.Unix() }), "expired"},
		{"no nbf", good(func(h, c map[string]any) { delete(c, "nbf") }), "'nbf'"},
		{"no exp", good(func(h, c map[string]any) { delete(c, "exp") }), "'exp'"},
		{"nbf as a string", good(func(h, c map[string]any) { c["nbf"] = fmt.Sprint(now.Unix()) }), "'nbf'"},
		{"alg PS256", func() string {
			h := map[string]any{"alg": "PS256", "typ": "JWT", "x5t": x5tOf(f.cert)}
			c := map[string]any{"aud": ProofAudience, "iss": objectID, "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
			return signJWT(t, f.key, h, c, base64.RawURLEncoding, true)
		}, "RS256"},
		{"alg none", func() string {
			h, _ := json.Marshal(map[string]any{"alg": "none", "typ": "JWT", "x5t": x5tOf(f.cert)})
			c, _ := json.Marshal(map[string]any{"aud": ProofAudience, "iss": objectID, "nbf": now.Unix(), "exp": now.Add(5 * time.Minute).Unix()})
			return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
		}, "RS256"},
		{"no typ", good(func(h, c map[string]any) { delete(h, "typ") }), "'typ'"},
		{"typ at+jwt", good(func(h, c map[string]any) { h["typ"] = "at+jwt" }), "'typ'"},
		{"no x5t", good(func(h, c map[string]any) { delete(h, "x5t") }), "'x5t'"},
		{"x5t#S256 instead of x5t", good(func(h, c map[string]any) {
			delete(h, "x5t")
			h["x5t#S256"] = base64.RawURLEncoding.EncodeToString(sha256Of(f.cert))
		}), "'x5t'"},
		{"x5t in padded standard base64", good(func(h, c map[string]any) { h["x5t"] = sha1b64(f.cert) }), "base64url"},
		{"x5t of an unregistered certificate", func() string { return proof(t, thirdKey(t), unregistered, objectID, nil) }, "not registered"},
		{"x5t of the certificate being added", func() string { return proof(t, f.other, newCert, objectID, nil) }, "not registered"},
		{"signed by another key", func() string { return proof(t, f.other, f.cert, objectID, nil) }, "signature"},
		{"padded segments", func() string {
			h := map[string]any{"alg": "RS256", "typ": "JWT", "x5t": x5tOf(f.cert)}
			c := map[string]any{"aud": ProofAudience, "iss": objectID, "nbf": now.Unix(), "exp": now.Add(10 * time.Minute).Unix()}
			return signJWT(t, f.key, h, c, base64.URLEncoding, false) // a 256-byte signature always pads
		}, "padding"},
		{"not a JWT", func() string { return "not-a-jwt" }, "JWT"},
		{"four segments", func() string { return good(nil)() + ".x" }, "JWT"},
		{"garbage header", func() string { p := good(nil)(); return "e30*" + p[strings.Index(p, "."):] }, "base64url"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.addKey(t, tok, addKeyBody(newCert, "new", tc.proof()))
			checkGraphError(t, r, 401, GraphCodeProofRefused, tc.want)
		})
	}
	if got := f.e.KeyCredentials(objectID); len(got) != 1 {
		t.Fatalf("a refused proof added a key: %+v", got)
	}
	// The skew allowance and a 10-minute lifetime exactly are accepted.
	r := f.addKey(t, tok, addKeyBody(newCert, "new", good(func(h, c map[string]any) {
		c["nbf"] = now.Add(30 * time.Second).Unix()
		c["exp"] = now.Add(30*time.Second + 10*time.Minute).Unix()
		c["aud"] = []string{ProofAudience} // golang-jwt marshals one audience as an array
	})()))
	if r.status != 200 {
		t.Fatalf("proof within the skew: %d %s", r.status, r.raw)
	}
	if c := f.e.Counts(); c.GraphKeysAdded != 1 || c.GraphAddKey != len(cases)+1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestGraphAuthorization(t *testing.T) {
	f := newGraphFixture(t, Options{})
	const otherClient = "99999999-1234-1234-1234-123456789abc"
	f.e.RegisterApp(App{TenantID: tenantID, ClientID: otherClient, ObjectID: "0d0d0d0d-1111-4222-8333-444444444444", Secrets: []string{"other-secret"}})
	const otherTenant = "0e0e0e0e-1111-4222-8333-444444444444"
	f.e.RegisterApp(App{TenantID: otherTenant, ClientID: clientID, Secrets: []string{secret}})
	tokenFor := func(tenant, client, sec, scope string) string {
		form := secretForm(sec)
		form.Set("client_id", client)
		form.Set("scope", scope)
		r := f.post(t, tenant, form, nil)
		tok, _ := r.body["access_token"].(string)
		if r.status != 200 {
			t.Fatalf("token: %d %s", r.status, r.raw)
		}
		return tok
	}
	get := func(token, obj string, hdr map[string]string) reply {
		return f.graphDo(t, http.MethodGet, "/v1.0/applications/"+obj+"?$select=keyCredentials", token, nil, hdr)
	}

	// Accepted audiences: the Graph URL, Graph's public resource URI and its app id.
	for _, scope := range []string{f.e.GraphURL + "/.default", "https://graph.microsoft.com/.default", GraphAppID + "/.default"} {
		if r := get(tokenFor(tenantID, clientID, secret, scope), objectID, nil); r.status != 200 {
			t.Fatalf("token for %s: %d %s", scope, r.status, r.raw)
		}
	}

	r := get("", objectID, map[string]string{"client-request-id": "0a1b2c3d-0000-4000-8000-000000000001"})
	checkGraphError(t, r, 401, GraphCodeInvalidToken, "Access token is empty")
	if r.errField("code") == "" || r.header.Get("client-request-id") != "0a1b2c3d-0000-4000-8000-000000000001" || !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer ") {
		t.Fatalf("client-request-id / challenge: %v", r.header)
	}
	r = get(tokenFor(tenantID, clientID, secret, "https://management.azure.com/.default"), objectID, nil)
	checkGraphError(t, r, 401, GraphCodeInvalidToken, "audience")
	tok := f.graphToken(t)
	r = get(tok[:len(tok)-4]+"AAAA", objectID, nil)
	checkGraphError(t, r, 401, GraphCodeInvalidToken, "Access token validation failure")
	r = f.graphDo(t, http.MethodGet, "/v1.0/applications/"+objectID, "", nil, map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("x:"+tok))})
	checkGraphError(t, r, 401, GraphCodeInvalidToken, "Access token is empty")
	// A token signed by someone else's key, with every claim right.
	forged := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"aud": f.e.GraphURL, "iss": TokenIssuer(tenantID), "tid": tenantID, "appid": clientID, "azp": clientID,
		"iat": time.Now().Unix(), "nbf": time.Now().Unix(), "exp": time.Now().Add(time.Hour).Unix(),
	})
	forged.Header["kid"] = f.e.signer.kid
	fs, err := forged.SignedString(f.other)
	if err != nil {
		t.Fatal(err)
	}
	checkGraphError(t, get(fs, objectID, nil), 401, GraphCodeInvalidToken, "Access token validation failure")

	// Unknown object ids, the client id in the path, and another tenant's token: 404.
	checkGraphError(t, get(tok, "12121212-3434-4565-8787-909090909090", nil), 404, GraphCodeNotFound, "12121212-3434-4565-8787-909090909090")
	checkGraphError(t, get(tok, clientID, nil), 404, GraphCodeNotFound, clientID)
	checkGraphError(t, get(tokenFor(otherTenant, clientID, secret, f.e.GraphURL+"/.default"), objectID, nil), 404, GraphCodeNotFound, objectID)
	checkGraphError(t, get(tok, "not-a-guid", nil), 400, GraphCodeBadRequest, "not-a-guid")

	// Another app's valid token may neither read nor roll this app's keys.
	otherTok := tokenFor(tenantID, otherClient, "other-secret", f.e.GraphURL+"/.default")
	checkGraphError(t, get(otherTok, objectID, nil), 403, GraphCodeDenied, "Insufficient privileges")
	now := time.Now()
	newCert := selfSigned(t, f.other, "CN=new", now.Add(-time.Minute), now.Add(time.Hour))
	r = f.addKey(t, otherTok, addKeyBody(newCert, "new", proof(t, f.key, f.cert, objectID, nil)))
	checkGraphError(t, r, 403, GraphCodeDenied, "Insufficient privileges")
	r = f.removeKey(t, otherTok, f.e.KeyCredentials(objectID)[0].KeyID, proof(t, f.key, f.cert, objectID, nil))
	checkGraphError(t, r, 403, GraphCodeDenied, "Insufficient privileges")
	if len(f.e.KeyCredentials(objectID)) != 1 {
		t.Fatal("a refused request changed the keys")
	}
}

func TestGraphBadRequests(t *testing.T) {
	f := newGraphFixture(t, Options{})
	tok := f.graphToken(t)
	now := time.Now()
	newCert := selfSigned(t, f.other, "CN=new", now.Add(-time.Minute), now.Add(time.Hour))
	expired := selfSigned(t, f.other, "CN=old", now.Add(-48*time.Hour), now.Add(-time.Hour))
	p := func() string { return proof(t, f.key, f.cert, objectID, nil) }
	withKC := func(change func(kc map[string]any)) map[string]any {
		b := addKeyBody(newCert, "new", p())
		change(b["keyCredential"].(map[string]any))
		return b
	}
	cases := []struct {
		name string
		body any
		want string
	}{
		{"not JSON", "{", "JSON"},
		{"trailing data", `{"keyCredential":null,"proof":"x"} {}`, "JSON"},
		{"unknown property", map[string]any{"keyCredential": addKeyBody(newCert, "", "")["keyCredential"], "proof": p(), "extra": 1}, "extra"},
		{"no keyCredential", map[string]any{"passwordCredential": nil, "proof": p()}, "keyCredential"},
		{"no proof", map[string]any{"keyCredential": addKeyBody(newCert, "", "")["keyCredential"], "passwordCredential": nil}, "proof"},
		{"password credential", map[string]any{"keyCredential": nil, "passwordCredential": map[string]any{"displayName": "x"}, "proof": p()}, "passwordCredential"},
		{"key not base64", withKC(func(kc map[string]any) { kc["key"] = "%%%" }), "base64"},
		{"key not a certificate", withKC(func(kc map[string]any) { kc["key"] = base64.StdEncoding.EncodeToString([]byte("not a certificate")) }), "not a certificate"},
		{"no key", withKC(func(kc map[string]any) { delete(kc, "key") }), "'key'"},
		{"symmetric type", withKC(func(kc map[string]any) { kc["type"] = "Symmetric" }), "AsymmetricX509Cert"},
		{"sign usage", withKC(func(kc map[string]any) { kc["usage"] = "Sign" }), "Verify"},
		{"unknown keyCredential property", withKC(func(kc map[string]any) { kc["thumbprint"] = "x" }), "thumbprint"},
		{"expired certificate", withKC(func(kc map[string]any) { kc["key"] = base64.StdEncoding.EncodeToString(expired.Raw) }), "expired"},
		{"certificate already on the app", withKC(func(kc map[string]any) { kc["key"] = base64.StdEncoding.EncodeToString(f.cert.Raw) }), "already"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			checkGraphError(t, f.addKey(t, tok, tc.body), 400, GraphCodeBadRequest, tc.want)
		})
	}
	rm := func(body any) reply {
		return f.graphDo(t, http.MethodPost, "/v1.0/applications/"+objectID+"/removeKey", tok, body, nil)
	}
	checkGraphError(t, rm(map[string]any{"keyId": "not-a-guid", "proof": p()}), 400, GraphCodeBadRequest, "keyId")
	checkGraphError(t, rm(map[string]any{"proof": p()}), 400, GraphCodeBadRequest, "keyId")
	checkGraphError(t, rm(map[string]any{"keyId": newGUID()}), 400, GraphCodeBadRequest, "proof")
	checkGraphError(t, rm(map[string]any{"keyId": newGUID(), "proof": p()}), 400, GraphCodeBadRequest, "No key credential")

	// Other shapes of request.
	r := f.graphDo(t, http.MethodGet, "/v1.0/applications/"+objectID+"/addKey", tok, nil, nil)
	checkGraphError(t, r, 405, GraphCodeBadRequest, "method")
	r = f.graphDo(t, http.MethodPost, "/v1.0/applications/"+objectID+"/rollKey", tok, map[string]any{}, nil)
	checkGraphError(t, r, 400, GraphCodeBadRequest, "rollKey")
	r = f.graphDo(t, http.MethodGet, "/v1.0/applications/"+objectID+"?$select=keyCredentials,secrets", tok, nil, nil)
	checkGraphError(t, r, 400, GraphCodeBadRequest, "secrets")
	r = f.graphDo(t, http.MethodPost, "/v1.0/applications/"+objectID+"/addKey", tok, addKeyBody(newCert, "new", p()), map[string]string{"Content-Type": "text/plain"})
	checkGraphError(t, r, 415, GraphCodeBadRequest, "Content-Type")
	r = f.graphDo(t, http.MethodPost, "/v1.0/applications/"+objectID+"/addKey", tok, `{"proof":"`+strings.Repeat("a", 2<<20)+`"}`, nil)
	checkGraphError(t, r, 400, GraphCodeBadRequest, "JSON")
	if got := f.e.KeyCredentials(objectID); len(got) != 1 || f.e.Counts().GraphKeysAdded != 0 {
		t.Fatalf("a bad request changed the keys: %+v", got)
	}

	// A display name longer than Graph keeps is shortened to 90 characters; none at all
	// gives the certificate's subject.
	r = f.addKey(t, tok, addKeyBody(newCert, strings.Repeat("é", 100), p()))
	if r.status != 200 || r.body["displayName"] != strings.Repeat("é", 90) {
		t.Fatalf("long displayName: %d %s", r.status, r.raw)
	}
	third := selfSigned(t, thirdKey(t), "third-cert", now.Add(-time.Minute), now.Add(time.Hour))
	b := addKeyBody(third, "", p())
	delete(b["keyCredential"].(map[string]any), "displayName")
	if r = f.addKey(t, tok, b); r.status != 200 || r.body["displayName"] != "CN=third-cert" {
		t.Fatalf("no displayName: %d %s", r.status, r.raw)
	}
}

func TestGraphPropagationDelay(t *testing.T) {
	const delay = time.Second
	f := newGraphFixture(t, Options{GraphPropagationDelay: delay})
	tok := f.graphToken(t)
	now := time.Now()
	newCert := selfSigned(t, f.other, "CN=new", now.Add(-time.Minute), now.Add(time.Hour))
	third := selfSigned(t, thirdKey(t), "CN=third", now.Add(-time.Minute), now.Add(time.Hour))
	assertWith := func(key *rsa.PrivateKey, cert *x509.Certificate) reply {
		a := f.assertion(t, jwt.SigningMethodPS256, key, func(h map[string]any, c jwt.MapClaims) {
			h["x5t#S256"] = base64.StdEncoding.EncodeToString(sha256Of(cert))
		})
		return f.post(t, tenantID, assertionForm(a), nil)
	}
	oldKeyID := f.e.KeyCredentials(objectID)[0].KeyID
	p := proof(t, f.key, f.cert, objectID, nil)
	// The key becomes usable between sent+delay and answered+delay.
	sent := time.Now()
	r := f.addKey(t, tok, addKeyBody(newCert, "new", p))
	answered := time.Now()
	if r.status != 200 {
		t.Fatalf("addKey: %d %s", r.status, r.raw)
	}
	newKeyID := r.body["keyId"].(string)
	checkReply(t, assertWith(f.other, newCert), 401, CodeInvalidSignature, "The key was not found.")
	// Graph itself knows the new key at once: it proves a removeKey during the delay, and
	// the removed key is refused by the token endpoint at once.
	if r := f.removeKey(t, tok, oldKeyID, proof(t, f.other, newCert, objectID, nil)); r.status != 204 {
		t.Fatalf("removeKey proved by a propagating key: %d %s", r.status, r.raw)
	}
	if time.Since(sent) < delay {
		checkReply(t, assertWith(f.other, newCert), 401, CodeInvalidSignature, "The key was not found.")
	}
	checkReply(t, f.post(t, tenantID, assertionForm(f.goodAssertion(t)), nil), 401, CodeInvalidSignature, "The key was not found.")
	for time.Since(answered) < delay {
		time.Sleep(20 * time.Millisecond)
	}
	checkReply(t, assertWith(f.other, newCert), 200, 0, "")

	// The delay is set per emulator: without it a key works at once.
	f.e.SetGraphPropagationDelay(0)
	if r := f.addKey(t, tok, addKeyBody(third, "third", proof(t, f.other, newCert, objectID, nil))); r.status != 200 {
		t.Fatalf("addKey: %d %s", r.status, r.raw)
	}
	checkReply(t, assertWith(thirdKey(t), third), 200, 0, "")
	f.e.SetGraphPropagationDelay(time.Hour) // removal never waits
	if r := f.removeKey(t, tok, newKeyID, proof(t, thirdKey(t), third, objectID, nil)); r.status != 204 {
		t.Fatalf("removeKey: %d %s", r.status, r.raw)
	}
	checkReply(t, assertWith(f.other, newCert), 401, CodeInvalidSignature, "The key was not found.")
	checkReply(t, assertWith(thirdKey(t), third), 200, 0, "")
}

// An app whose certificates have all expired (or are not valid yet) cannot roll its
// keys: Graph refuses it as lacking permission, and a proof signed by a key that is not
// valid now counts for nothing even when the app has another.
func TestGraphExpiredAppCannotRoll(t *testing.T) {
	f := newFixture(t, Options{})
	now := time.Now()
	old := selfSigned(t, f.key, "CN=expired", now.Add(-48*time.Hour), now.Add(-time.Minute))
	future := selfSigned(t, thirdKey(t), "CN=future", now.Add(time.Hour), now.Add(48*time.Hour))
	register := func(certs ...*x509.Certificate) {
		f.e.RegisterApp(App{TenantID: tenantID, ClientID: clientID, ObjectID: objectID, Certificates: certs, Secrets: []string{secret}})
	}
	register(old)
	tok := f.graphToken(t)
	newCert := selfSigned(t, f.other, "CN=new", now.Add(-time.Minute), now.Add(time.Hour))
	r := f.addKey(t, tok, addKeyBody(newCert, "new", proof(t, f.key, old, objectID, nil)))
	checkGraphError(t, r, 403, GraphCodeDenied, "no valid certificate")
	oldKeyID := f.e.KeyCredentials(objectID)[0].KeyID
	checkGraphError(t, f.removeKey(t, tok, oldKeyID, proof(t, f.key, old, objectID, nil)), 403, GraphCodeDenied, "no valid certificate")
	register(old, future)
	r = f.addKey(t, tok, addKeyBody(newCert, "new", proof(t, thirdKey(t), future, objectID, nil)))
	checkGraphError(t, r, 403, GraphCodeDenied, "no valid certificate")

	// With a valid certificate beside them, the expired and the future one still cannot
	// sign a proof.
	current := selfSigned(t, f.other, "CN=current", now.Add(-time.Hour), now.Add(time.Hour))
	register(old, future, current)
	r = f.addKey(t, tok, addKeyBody(newCert, "new", proof(t, f.key, old, objectID, nil)))
	checkGraphError(t, r, 401, GraphCodeProofRefused, "expired")
	r = f.addKey(t, tok, addKeyBody(newCert, "new", proof(t, thirdKey(t), future, objectID, nil)))
	checkGraphError(t, r, 401, GraphCodeProofRefused, "not valid until")
	if got := f.e.KeyCredentials(objectID); len(got) != 3 || f.e.Counts().GraphKeysAdded != 0 {
		t.Fatalf("keys %+v", got)
	}
	if r = f.addKey(t, tok, addKeyBody(newCert, "new", proof(t, f.other, current, objectID, nil))); r.status != 200 {
		t.Fatalf("proof by the valid certificate: %d %s", r.status, r.raw)
	}
}

func TestGraphGet(t *testing.T) {
	f := newGraphFixture(t, Options{})
	tok := f.graphToken(t)
	get := func(query string) reply {
		return f.graphDo(t, http.MethodGet, "/v1.0/applications/"+objectID+query, tok, nil, nil)
	}
	s1 := sha1.Sum(f.cert.Raw)
	r := get("")
	list, _ := r.body["keyCredentials"].([]any)
	if r.status != 200 || r.body["id"] != objectID || r.body["appId"] != clientID || len(list) != 1 {
		t.Fatalf("GET: %d %s", r.status, r.raw)
	}
	kc := list[0].(map[string]any)
	if kc["key"] != nil || kc["customKeyIdentifier"] != base64.StdEncoding.EncodeToString(s1[:]) || kc["displayName"] != f.cert.Subject.String() {
		t.Fatalf("without $select, key is null: %v", kc)
	}
	r = get("?$select=id,keyCredentials")
	if r.status != 200 || r.body["id"] != objectID || r.body["appId"] != nil {
		t.Fatalf("$select=id,keyCredentials: %s", r.raw)
	}
	kc = r.body["keyCredentials"].([]any)[0].(map[string]any)
	if kc["key"] != base64.StdEncoding.EncodeToString(f.cert.Raw) {
		t.Fatalf("$select=keyCredentials gives the key: %v", kc)
	}

	// An app registered to hide key values answers null keys even under $select, and one
	// denied reading itself gets 403, as where it lacks Application.Read permission.
	f.e.RegisterApp(App{TenantID: tenantID, ClientID: clientID, ObjectID: objectID, Certificates: []*x509.Certificate{f.cert},
		Secrets: []string{secret}, GraphKeyValuesHidden: true})
	kc = get("?$select=keyCredentials").body["keyCredentials"].([]any)[0].(map[string]any)
	if kc["key"] != nil || kc["customKeyIdentifier"] != base64.StdEncoding.EncodeToString(s1[:]) {
		t.Fatalf("hidden key values: %v", kc)
	}
	f.e.RegisterApp(App{TenantID: tenantID, ClientID: clientID, ObjectID: objectID, Certificates: []*x509.Certificate{f.cert},
		Secrets: []string{secret}, GraphReadDenied: true})
	checkGraphError(t, get("?$select=keyCredentials"), 403, GraphCodeDenied, "Insufficient privileges")
	// Rolling keys needs no permission: addKey still works for such an app.
	now := time.Now()
	newCert := selfSigned(t, f.other, "CN=new", now.Add(-time.Minute), now.Add(time.Hour))
	if r := f.addKey(t, tok, addKeyBody(newCert, "new", proof(t, f.key, f.cert, objectID, nil))); r.status != 200 {
		t.Fatalf("addKey by an app that cannot read itself: %d %s", r.status, r.raw)
	}
	if c := f.e.Counts(); c.GraphGet != 4 {
		t.Fatalf("counts %+v", c)
	}
}

func TestGraphFaults(t *testing.T) {
	f := newGraphFixture(t, Options{})
	tok := f.graphToken(t)
	f.e.QueueGraphFaults(Fault{Status: 429, RetryAfter: "3"}, Fault{Status: 503, RetryAfter: "1"})
	p := proof(t, f.key, f.cert, objectID, nil)
	now := time.Now()
	newCert := selfSigned(t, f.other, "CN=new", now.Add(-time.Minute), now.Add(time.Hour))
	r := f.addKey(t, tok, addKeyBody(newCert, "new", p))
	checkGraphError(t, r, 429, "TooManyRequests", "retry")
	if r.header.Get("Retry-After") != "3" {
		t.Fatalf("429 Retry-After %q", r.header.Get("Retry-After"))
	}
	// Graph faults leave the token endpoint alone.
	checkReply(t, f.post(t, tenantID, secretForm(secret), nil), 200, 0, "")
	r = f.addKey(t, tok, addKeyBody(newCert, "new", p))
	checkGraphError(t, r, 503, "serviceNotAvailable", "unavailable")
	if r.header.Get("Retry-After") != "1" {
		t.Fatalf("503 Retry-After %q", r.header.Get("Retry-After"))
	}
	// Faults strike before validation: the same request then succeeds.
	if r = f.addKey(t, tok, addKeyBody(newCert, "new", p)); r.status != 200 {
		t.Fatalf("after the faults: %d %s", r.status, r.raw)
	}
	if c := f.e.Counts(); c.GraphAddKey != 3 || c.GraphKeysAdded != 1 {
		t.Fatalf("counts %+v", c)
	}
	f.e.SetPermanentGraphFault(&Fault{Status: 503})
	f.e.QueueFaults(Fault{Status: 500}) // token-endpoint faults leave Graph alone
	checkGraphError(t, f.graphDo(t, http.MethodGet, "/v1.0/applications/"+objectID, tok, nil, nil), 503, "serviceNotAvailable", "")
	checkGraphError(t, f.graphDo(t, http.MethodGet, "/v1.0/applications/"+objectID, tok, nil, nil), 503, "serviceNotAvailable", "")
	f.e.SetPermanentGraphFault(nil)
	if r := f.graphDo(t, http.MethodGet, "/v1.0/applications/"+objectID, tok, nil, nil); r.status != 200 {
		t.Fatalf("after clearing: %d", r.status)
	}
	f.e.QueueGraphFaults(Fault{Body: `{"keyId":`})
	if r := f.addKey(t, tok, addKeyBody(newCert, "new", p)); r.status != 200 || string(r.raw) != `{"keyId":` {
		t.Fatalf("raw body fault: %d %q", r.status, r.raw)
	}
}

func TestRegisterAppObjectID(t *testing.T) {
	f := newFixture(t, Options{})
	derived := f.e.ApplicationObjectID(tenantID, clientID)
	if !isGUID(derived) || strings.EqualFold(derived, clientID) {
		t.Fatalf("derived object id %q", derived)
	}
	// Deterministic: another emulator derives the same id for the same app.
	g := newFixture(t, Options{})
	if got := g.e.ApplicationObjectID(strings.ToUpper(tenantID), strings.ToUpper(clientID)); got != derived {
		t.Fatalf("derived ids differ: %q and %q", derived, got)
	}
	if f.e.ApplicationObjectID(tenantID, "55555555-1234-1234-1234-123456789abc") != "" {
		t.Fatal("object id for an unknown app")
	}
	keyID := f.e.KeyCredentials(derived)[0].KeyID

	// An explicit id replaces it (upper case normalised); re-registering without one, or
	// with the same certificate, keeps the id and the certificate's keyId.
	f.e.RegisterApp(App{TenantID: tenantID, ClientID: clientID, ObjectID: strings.ToUpper(objectID), Certificates: []*x509.Certificate{f.cert}})
	if got := f.e.ApplicationObjectID(tenantID, clientID); got != objectID {
		t.Fatalf("explicit object id: %q", got)
	}
	if f.e.KeyCredentials(derived) != nil {
		t.Fatal("the replaced object id still answers")
	}
	f.e.RegisterApp(App{TenantID: tenantID, ClientID: clientID, Certificates: []*x509.Certificate{f.cert, f.otherCe}})
	kcs := f.e.KeyCredentials(objectID)
	if f.e.ApplicationObjectID(tenantID, clientID) != objectID || len(kcs) != 2 || kcs[0].KeyID != keyID || kcs[1].KeyID == keyID {
		t.Fatalf("re-registered: %q %+v", f.e.ApplicationObjectID(tenantID, clientID), kcs)
	}
	if kcs[1].DisplayName != f.otherCe.Subject.String() || kcs[1].Type != "AsymmetricX509Cert" || kcs[1].Usage != "Verify" || !kcs[1].EndDateTime.Equal(f.otherCe.NotAfter) {
		t.Fatalf("registered key credential %+v", kcs[1])
	}

	mustPanic := func(name string, a App, want string) {
		t.Helper()
		defer func() {
			p := recover()
			if p == nil || !strings.Contains(fmt.Sprint(p), want) {
				t.Fatalf("%s: panic %v, want %q", name, p, want)
			}
		}()
		f.e.RegisterApp(a)
	}
	mustPanic("taken", App{TenantID: tenantID, ClientID: "55555555-1234-1234-1234-123456789abc", ObjectID: objectID}, "already")
	mustPanic("not a GUID", App{TenantID: tenantID, ClientID: "55555555-1234-1234-1234-123456789abc", ObjectID: "app-1"}, "GUID")
	mustPanic("client id", App{TenantID: tenantID, ClientID: "55555555-1234-1234-1234-123456789abc", ObjectID: "55555555-1234-1234-1234-123456789ABC"}, "client id")
}

// Tokens and key rolls at once: the token endpoint must never see an app record being
// changed under it (run with -race).
func TestGraphConcurrentWithTokens(t *testing.T) {
	f := newGraphFixture(t, Options{})
	tok := f.graphToken(t)
	now := time.Now()
	cert := selfSigned(t, f.other, "CN=a", now.Add(-time.Minute), now.Add(time.Hour))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			select {
			case <-stop:
				return
			default:
			}
			form := assertionForm(f.goodAssertion(t))
			body := strings.NewReader(form.Encode())
			req, _ := http.NewRequest(http.MethodPost, f.e.TokenEndpoint(tenantID), body)
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := f.e.HTTPClient().Do(req)
			if err == nil {
				resp.Body.Close()
			}
		}
	}()
	for range 5 {
		r := f.addKey(t, tok, addKeyBody(cert, "a", proof(t, f.key, f.cert, objectID, nil)))
		if r.status != 200 {
			t.Fatalf("addKey: %d %s", r.status, r.raw)
		}
		if r := f.removeKey(t, tok, r.body["keyId"].(string), proof(t, f.key, f.cert, objectID, nil)); r.status != 204 {
			t.Fatalf("removeKey: %d %s", r.status, r.raw)
		}
	}
	close(stop)
	wg.Wait()
}

// FuzzGraphAddKey: whatever the body, addKey answers Graph's JSON, never 5xx, and adds a
// key only for a proof signed by the registered certificate.
func FuzzGraphAddKey(fz *testing.F) {
	f := newGraphFixture(fz, Options{})
	now := time.Now()
	newCert := selfSigned(fz, f.other, "CN=new", now.Add(-time.Minute), now.Add(time.Hour))
	good, _ := json.Marshal(addKeyBody(newCert, "new", proof(fz, f.key, f.cert, objectID, nil)))
	fz.Add(string(good))
	fz.Add(`{"keyCredential":{"type":"AsymmetricX509Cert","usage":"Verify","key":"AAAA"},"proof":"a.b.c"}`)
	fz.Add(`{"keyCredential":null,"passwordCredential":null,"proof":"e30.e30.e30"}`)
	fz.Add(`[]`)
	tok := ""
	{
		form := secretForm(secret)
		form.Set("scope", f.e.GraphURL+"/.default")
		r := f.post(fz, tenantID, form, nil)
		tok, _ = r.body["access_token"].(string)
	}
	fz.Fuzz(func(t *testing.T, body string) {
		if got := f.e.KeyCredentials(objectID); len(got) != 1 {
			// A key was added by an earlier input: only the seeded good body may do that.
			f.e.RegisterApp(App{TenantID: tenantID, ClientID: clientID, ObjectID: objectID, Certificates: []*x509.Certificate{f.cert}, Secrets: []string{secret}})
		}
		req, _ := http.NewRequest(http.MethodPost, "/v1.0/applications/"+objectID+"/addKey", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok)
		rec := httptest.NewRecorder()
		f.e.graphSrv.Handler.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("non-JSON answer %q", rec.Body.String())
		}
		if rec.Code != 200 {
			if _, ok := doc["error"]; !ok {
				t.Fatalf("refusal without error: %s", rec.Body.String())
			}
			return
		}
		var in struct{ Proof string }
		json.Unmarshal([]byte(body), &in)
		parts := strings.Split(in.Proof, ".")
		if len(parts) != 3 {
			t.Fatalf("key added without a three-part proof: %q", body)
		}
		sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
		digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
		if err := rsa.VerifyPKCS1v15(f.cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], sig); err != nil {
			t.Fatalf("key added for a proof the registered certificate did not sign: %q", body)
		}
	})
}

// The request log names Graph's routes and refusals, never a token or a proof.
func TestGraphLogNeverHoldsTokens(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	f := newGraphFixture(t, Options{Logf: func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		lines = append(lines, fmt.Sprintf(format, args...))
	}})
	tok := f.graphToken(t)
	now := time.Now()
	newCert := selfSigned(t, f.other, "CN=new", now.Add(-time.Minute), now.Add(time.Hour))
	good := proof(t, f.key, f.cert, objectID, nil)
	bad := proof(t, f.key, f.cert, objectID, func(h, c map[string]any) { c["aud"] = GraphAppID })
	f.addKey(t, tok, addKeyBody(newCert, "new", bad))
	if r := f.addKey(t, tok, addKeyBody(newCert, "new", good)); r.status != 200 {
		t.Fatalf("addKey: %d %s", r.status, r.raw)
	}
	mu.Lock()
	all := strings.Join(lines, "\n")
	mu.Unlock()
	if !strings.Contains(all, "POST /v1.0/applications/"+objectID+"/addKey -> 401") || !strings.Contains(all, GraphCodeProofRefused) ||
		!strings.Contains(all, "POST /v1.0/applications/"+objectID+"/addKey -> 200") {
		t.Fatalf("log lacks the request lines:\n%s", all)
	}
	for _, p := range []string{tok, good, bad} {
		if strings.Contains(all, p[strings.LastIndex(p, ".")+1:]) || strings.Contains(all, p[:strings.Index(p, ".")+10]) {
			t.Fatalf("log holds a token or proof:\n%s", all)
		}
	}
}
