package emulator

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAssertionValidation(t *testing.T) {
	f := newFixture(t, Options{})
	now := time.Now()
	b64url := func(c *x509.Certificate) string {
		s := sha256.Sum256(c.Raw)
		return base64.RawURLEncoding.EncodeToString(s[:])
	}
	x5c := func(c *x509.Certificate) []string { return []string{base64.StdEncoding.EncodeToString(c.Raw)} }
	ps := jwt.SigningMethodPS256

	cases := []struct {
		name   string
		make   func() string
		status int
		code   int
		want   string // in error_description
	}{
		{"msal shape accepted", func() string { return f.goodAssertion(t) }, 200, 0, ""},
		{"RS256 with x5t (SHA-1) accepted", func() string {
			return f.assertion(t, jwt.SigningMethodRS256, f.key, func(h map[string]any, c jwt.MapClaims) {
				delete(h, "x5t#S256")
				h["x5t"] = sha1b64(f.cert)
			})
		}, 200, 0, ""},
		{"x5t#S256 in base64url accepted", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { h["x5t#S256"] = b64url(f.cert) })
		}, 200, 0, ""},
		{"x5c naming the registered cert accepted", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { h["x5c"] = x5c(f.cert) })
		}, 200, 0, ""},
		{"aud by tenant domain accepted", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { c["aud"] = f.e.TokenEndpoint(domain) })
		}, 200, 0, ""},
		{"nbf within 5 min skew accepted", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { c["nbf"] = now.Add(4 * time.Minute).Unix() })
		}, 200, 0, ""},

		{"signed with a different key", func() string { return f.assertion(t, ps, f.other, nil) },
			401, CodeInvalidSignature, "The provided signature value did not match"},
		{"x5t#S256 of an unregistered cert", func() string {
			return f.assertion(t, ps, f.other, func(h map[string]any, c jwt.MapClaims) { h["x5t#S256"] = b64url(f.otherCe) })
		}, 401, CodeInvalidSignature, "The key was not found., Thumbprint of key used by client: '" + strings.ToUpper(hex.EncodeToString(sha256Of(f.otherCe))) + "'"},
		{"x5t of an unregistered cert", func() string {
			return f.assertion(t, jwt.SigningMethodRS256, f.other, func(h map[string]any, c jwt.MapClaims) {
				delete(h, "x5t#S256")
				h["x5t"] = sha1b64(f.otherCe)
			})
		}, 401, CodeInvalidSignature, "The key was not found"},
		{"garbage thumbprint", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { h["x5t#S256"] = "!!not base64!!" })
		}, 401, CodeInvalidSignature, "The key was not found"},
		{"no thumbprint header", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { delete(h, "x5t#S256") })
		}, 401, CodeInvalidSignature, "The key was not found"},
		{"x5c of another cert", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { h["x5c"] = x5c(f.otherCe) })
		}, 401, CodeInvalidSignature, "x5c"},
		{"x5c not certificates", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { h["x5c"] = []string{"bm90IGEgY2VydA=="} })
		}, 400, CodeMalformedJWT, "x5c"},
		{"alg none", func() string {
			return f.assertion(t, jwt.SigningMethodNone, nil, nil)
		}, 401, CodeInvalidSignature, "'none' is not supported"},
		{"alg HS256", func() string {
			return f.assertion(t, jwt.SigningMethodHS256, []byte("shared"), nil)
		}, 401, CodeInvalidSignature, "'HS256' is not supported"},
		{"alg RS384", func() string {
			return f.assertion(t, jwt.SigningMethodRS384, f.key, nil)
		}, 401, CodeInvalidSignature, "'RS384' is not supported"},
		{"header says RS256, signed PS256", func() string {
			s := f.goodAssertion(t)
			parts := strings.Split(s, ".")
			h := base64.RawURLEncoding.EncodeToString([]byte(fmt.Sprintf(`{"alg":"RS256","typ":"JWT","x5t#S256":%q}`, base64.StdEncoding.EncodeToString(sha256Of(f.cert)))))
			return h + "." + parts[1] + "." + parts[2]
		}, 401, CodeInvalidSignature, "signature value did not match"},
		{"payload altered after signing", func() string {
			s := f.goodAssertion(t)
			parts := strings.Split(s, ".")
			other := f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { c["jti"] = "attacker-chosen" })
			return parts[0] + "." + strings.Split(other, ".")[1] + "." + parts[2]
		}, 401, CodeInvalidSignature, "signature value did not match"},

		{"aud of the v1 endpoint", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { c["aud"] = f.e.URL + "/" + tenantID + "/oauth2/token" })
		}, 401, CodeAssertionAudience, "audience claim does not match"},
		{"aud of another tenant", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) {
				c["aud"] = f.e.TokenEndpoint("11111111-1111-1111-1111-111111111111")
			})
		}, 401, CodeAssertionAudience, "audience claim does not match"},
		{"aud of real Entra", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) {
				c["aud"] = "https://login.microsoftonline.com/" + tenantID + "/oauth2/v2.0/token"
			})
		}, 401, CodeAssertionAudience, "audience claim does not match"},
		{"aud missing", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { delete(c, "aud") })
		}, 401, CodeAssertionAudience, ""},
		{"two audiences", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) {
				c["aud"] = []string{f.e.TokenEndpoint(tenantID), "https://other.example"}
			})
		}, 401, CodeAssertionAudience, ""},
		{"wrong iss", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { c["iss"] = "someone-else" })
		}, 401, CodeAssertionAppIDMismatch, "doesn't match 'client_id'"},
		{"wrong sub", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { c["sub"] = "someone-else" })
		}, 401, CodeAssertionAppIDMismatch, "doesn't match 'client_id'"},
		{"expired", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) {
				c["nbf"] = now.Add(-20 * time.Minute).Unix()
				c["exp"] = now.Add(-10 * time.Minute).Unix()
			})
		}, 401, CodeAssertionTimeRange, "not within its valid time range"},
		{"nbf 10 min in the future", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) {
				c["nbf"] = now.Add(10 * time.Minute).Unix()
				c["exp"] = now.Add(20 * time.Minute).Unix()
			})
		}, 401, CodeAssertionTimeRange, "not within its valid time range"},
		{"lifetime over a day", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { c["exp"] = now.Add(48 * time.Hour).Unix() })
		}, 401, CodeAssertionTimeRange, "exceeds the maximum of 1 day"},
		{"no exp", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { delete(c, "exp") })
		}, 400, CodeMalformedJWT, "'exp'"},
		{"no jti", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { delete(c, "jti") })
		}, 400, CodeMalformedJWT, "'jti'"},
		{"exp not a number", func() string {
			return f.assertion(t, ps, f.key, func(h map[string]any, c jwt.MapClaims) { c["exp"] = "tomorrow" })
		}, 400, CodeMalformedJWT, "malformed"},
		{"not a JWT", func() string { return "not.a.jwt" }, 400, CodeMalformedJWT, "malformed"},
		{"empty assertion", func() string { return "" }, 400, CodeMalformedJWT, "malformed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.post(t, tenantID, assertionForm(tc.make()), nil)
			checkReply(t, r, tc.status, tc.code, tc.want)
		})
	}
}

func sha256Of(c *x509.Certificate) []byte {
	s := sha256.Sum256(c.Raw)
	return s[:]
}

// checkReply asserts the status and, for refusals, Entra's whole error shape.
func checkReply(t *testing.T, r reply, status, code int, want string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, redact(r))
	}
	if r.header.Get("x-ms-request-id") == "" || r.header.Get("client-request-id") == "" {
		t.Errorf("missing x-ms-request-id / client-request-id: %v", r.header)
	}
	if status == 200 {
		if r.body["token_type"] != "Bearer" || r.body["access_token"] == nil || r.body["expires_in"] == nil || r.body["ext_expires_in"] == nil {
			t.Fatalf("success body %s", redact(r))
		}
		return
	}
	if r.code() != code {
		t.Fatalf("error_codes %v, want [%d]: %s", r.body["error_codes"], code, r.raw)
	}
	desc, _ := r.body["error_description"].(string)
	trace, _ := r.body["trace_id"].(string)
	corr, _ := r.body["correlation_id"].(string)
	ts, _ := r.body["timestamp"].(string)
	pattern := fmt.Sprintf(`^AADSTS%d: .+\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s$`,
		code, regexp.QuoteMeta(trace), regexp.QuoteMeta(corr), regexp.QuoteMeta(ts))
	if !regexp.MustCompile(`(?s)` + pattern).MatchString(desc) {
		t.Errorf("error_description not in Entra's shape: %q", desc)
	}
	if !strings.Contains(desc, want) {
		t.Errorf("error_description %q lacks %q", desc, want)
	}
	if _, err := time.Parse("2006-01-02 15:04:05Z", ts); err != nil {
		t.Errorf("timestamp %q: %v", ts, err)
	}
	if !isGUID(trace) || !isGUID(corr) || r.header.Get("x-ms-request-id") != trace || r.header.Get("client-request-id") != corr {
		t.Errorf("ids: trace %q corr %q headers %v", trace, corr, r.header)
	}
	if r.body["error_uri"] != fmt.Sprintf("%s/error?code=%d", strings.SplitN(r.body["error_uri"].(string), "/error", 2)[0], code) {
		t.Errorf("error_uri %v", r.body["error_uri"])
	}
	if e, _ := r.body["error"].(string); e == "" {
		t.Errorf("no error field: %s", r.raw)
	}
	if status == 401 && r.body["error"] != "invalid_client" {
		t.Errorf("401 with error %v", r.body["error"])
	}
}

func TestReplayAndCorrelation(t *testing.T) {
	f := newFixture(t, Options{})
	a := f.goodAssertion(t)
	checkReply(t, f.post(t, tenantID, assertionForm(a), nil), 200, 0, "")
	r := f.post(t, tenantID, assertionForm(a), map[string]string{"client-request-id": "0a1b2c3d-0000-4000-8000-000000000001"})
	checkReply(t, r, 401, CodeAssertionReplayed, "already been used")
	if r.body["correlation_id"] != "0a1b2c3d-0000-4000-8000-000000000001" || r.header.Get("client-request-id") != "0a1b2c3d-0000-4000-8000-000000000001" {
		t.Fatalf("client-request-id not echoed: %v %v", r.body["correlation_id"], r.header)
	}
	if c := f.e.Counts(); c.Token != 2 || c.TokenIssued != 1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestRequestValidation(t *testing.T) {
	f := newFixture(t, Options{})
	now := time.Now()
	expiredCert := selfSigned(t, f.other, "CN=expired", now.Add(-48*time.Hour), now.Add(-time.Hour))
	f.e.RegisterApp(App{TenantID: "22222222-2222-2222-2222-222222222222", ClientID: "expired-app", Certificates: []*x509.Certificate{expiredCert}})

	with := func(base url.Values, kv ...string) url.Values {
		v := url.Values{}
		for k, vs := range base {
			v[k] = append([]string(nil), vs...)
		}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "\x00" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	good := func() url.Values { return assertionForm(f.goodAssertion(t)) }

	cases := []struct {
		name   string
		tenant string
		form   url.Values
		status int
		code   int
		kind   string
	}{
		{"secret accepted", tenantID, secretForm(secret), 200, 0, ""},
		{"wrong secret", tenantID, secretForm("nope"), 401, CodeInvalidSecret, "invalid_client"},
		{"expired secret", tenantID, secretForm("old-" + secret), 401, CodeExpiredSecret, "invalid_client"},
		{"unknown tenant", "99999999-9999-9999-9999-999999999999", good(), 400, CodeTenantNotFound, "invalid_request"},
		{"unknown tenant domain", "fabrikam.onmicrosoft.com", secretForm(secret), 400, CodeTenantNotFound, "invalid_request"},
		{"unknown client", tenantID, with(secretForm(secret), "client_id", "aaaaaaaa-0000-0000-0000-000000000000"), 400, CodeAppNotFound, "unauthorized_client"},
		{"client of another tenant", "22222222-2222-2222-2222-222222222222", secretForm(secret), 400, CodeAppNotFound, "unauthorized_client"},
		{"no client_id", tenantID, with(secretForm(secret), "client_id", "\x00"), 400, CodeMissingParameter, "invalid_request"},
		{"no scope", tenantID, with(good(), "scope", "\x00"), 400, CodeInvalidScope, "invalid_scope"},
		{"only OIDC scopes", tenantID, with(good(), "scope", "openid profile offline_access"), 400, CodeInvalidScope, "invalid_scope"},
		{"scope without /.default", tenantID, with(good(), "scope", "https://graph.microsoft.com/User.Read"), 400, CodeInvalidScope, "invalid_scope"},
		{"two resources", tenantID, with(good(), "scope", graph+" https://management.azure.com/.default"), 400, CodeInvalidScope, "invalid_scope"},
		{"bare /.default", tenantID, with(good(), "scope", "/.default"), 400, CodeInvalidScope, "invalid_scope"},
		{"no grant_type", tenantID, with(good(), "grant_type", "\x00"), 400, CodeMissingParameter, "invalid_request"},
		{"password grant", tenantID, with(good(), "grant_type", "password"), 400, CodeUnsupportedGrantType, "unsupported_grant_type"},
		{"secret and assertion", tenantID, with(good(), "client_secret", secret), 400, CodeMalformedRequest, "invalid_request"},
		{"no credential", tenantID, with(secretForm(secret), "client_secret", "\x00"), 401, CodeMissingCredential, "invalid_client"},
		{"no assertion type", tenantID, with(good(), "client_assertion_type", "\x00"), 400, CodeMissingParameter, "invalid_request"},
		{"saml assertion type", tenantID, with(good(), "client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:saml2-bearer"), 400, CodeMalformedRequest, "invalid_request"},
		{"assertion naming another app's certificate", "22222222-2222-2222-2222-222222222222",
			with(good(), "client_id", "expired-app"), 401, CodeInvalidSignature, "invalid_client"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := f.post(t, tc.tenant, tc.form, nil)
			checkReply(t, r, tc.status, tc.code, "")
			if tc.status != 200 && r.body["error"] != tc.kind {
				t.Fatalf("error %v, want %s", r.body["error"], tc.kind)
			}
			if tc.status != 200 && strings.Contains(string(r.raw), secret) {
				t.Fatal("refusal echoes the secret")
			}
		})
	}

	t.Run("registered certificate expired", func(t *testing.T) {
		a := f.assertion(t, jwt.SigningMethodPS256, f.other, func(h map[string]any, c jwt.MapClaims) {
			h["x5t#S256"] = base64.StdEncoding.EncodeToString(sha256Of(expiredCert))
			c["iss"], c["sub"] = "expired-app", "expired-app"
			c["aud"] = f.e.TokenEndpoint("22222222-2222-2222-2222-222222222222")
		})
		r := f.post(t, "22222222-2222-2222-2222-222222222222", with(assertionForm(a), "client_id", "expired-app"), nil)
		checkReply(t, r, 401, CodeInvalidSignature, "The key used is expired")
	})

	t.Run("registered key not RSA-verifiable", func(t *testing.T) {
		// A registered cert whose key does not match the signature algorithm family.
		ecCert := f.e.ServerTLSConfig().Certificates[0].Leaf
		f.e.RegisterApp(App{TenantID: tenantID, ClientID: "ec-app", Certificates: []*x509.Certificate{ecCert}})
		a := f.assertion(t, jwt.SigningMethodPS256, f.key, func(h map[string]any, c jwt.MapClaims) {
			h["x5t#S256"] = base64.StdEncoding.EncodeToString(sha256Of(ecCert))
			c["iss"], c["sub"] = "ec-app", "ec-app"
		})
		r := f.post(t, tenantID, with(assertionForm(a), "client_id", "ec-app"), nil)
		checkReply(t, r, 401, CodeInvalidSignature, "use of the key to verify the signature failed")
	})

	t.Run("client_secret_basic", func(t *testing.T) {
		form := secretForm("")
		form.Del("client_secret")
		form.Del("client_id")
		auth := base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(clientID) + ":" + url.QueryEscape(secret)))
		r := f.post(t, tenantID, form, map[string]string{"Authorization": "Basic " + auth})
		checkReply(t, r, 200, 0, "")
	})

	t.Run("duplicate parameter", func(t *testing.T) {
		form := good()
		form.Add("client_assertion", f.goodAssertion(t))
		checkReply(t, f.post(t, tenantID, form, nil), 400, CodeMalformedRequest, "more than once")
	})

	t.Run("scope echoes audience", func(t *testing.T) {
		r := f.post(t, tenantID, with(good(), "scope", "api://my-api/.default openid"), nil)
		checkReply(t, r, 200, 0, "")
		c, err := f.e.Validate(r.body["access_token"].(string), "api://my-api")
		if err != nil {
			t.Fatal(err)
		}
		if c.Audience != "api://my-api" {
			t.Fatalf("aud %s", c.Audience)
		}
	})

	if c := f.e.Counts(); c.TokenIssued != 3 {
		t.Fatalf("issued %d tokens, want 3 (only the accepted cases)", c.TokenIssued)
	}
}

func TestValidate(t *testing.T) {
	clock := time.Now()
	f := newFixture(t, Options{Now: func() time.Time { return clock }})
	r := f.post(t, tenantID, secretForm(secret), nil)
	tok := r.body["access_token"].(string)
	if _, err := f.e.Validate(tok, "https://graph.microsoft.com"); err != nil {
		t.Fatal(err)
	}
	for name, aud := range map[string]string{"other audience": "https://management.azure.com", "empty audience": ""} {
		if _, err := f.e.Validate(tok, aud); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
	parts := strings.Split(tok, ".")
	claims, _ := base64.RawURLEncoding.DecodeString(parts[1])
	forged := strings.Replace(string(claims), clientID, "aaaaaaaa-0000-0000-0000-000000000000", 1)
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(forged)) + "." + parts[2]
	if _, err := f.e.Validate(tampered, "https://graph.microsoft.com"); err == nil {
		t.Error("tampered token accepted")
	}

	// Same claims, signed by a key that is not the emulator's.
	other := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims{
		"aud": "https://graph.microsoft.com", "iss": TokenIssuer(tenantID), "tid": tenantID, "appid": clientID,
		"iat": clock.Unix(), "nbf": clock.Unix(), "exp": clock.Add(time.Hour).Unix(),
	})
	other.Header["kid"] = f.e.signer.kid
	s, _ := other.SignedString(f.other)
	if _, err := f.e.Validate(s, "https://graph.microsoft.com"); err == nil {
		t.Error("token signed by another key accepted")
	}
	// A token from another emulator (another key) is refused.
	g := newFixture(t, Options{SigningKey: testKey(t, 1)})
	r2 := g.post(t, tenantID, secretForm(secret), nil)
	if _, err := f.e.Validate(r2.body["access_token"].(string), "https://graph.microsoft.com"); err == nil {
		t.Error("another emulator's token accepted")
	}

	clock = clock.Add(time.Hour + time.Second)
	_, err := f.e.Validate(tok, "https://graph.microsoft.com")
	if err == nil || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired token: %v", err)
	}
	if err != nil && strings.Contains(err.Error(), parts[2]) {
		t.Error("error quotes the token")
	}
}

// redact keeps issued tokens out of failure output.
func redact(r reply) string {
	if _, ok := r.body["access_token"]; ok {
		return strings.Replace(string(r.raw), r.body["access_token"].(string), "<access token>", 1)
	}
	return string(r.raw)
}
