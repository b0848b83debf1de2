package acr

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/internal/testkit"
)

const (
	tenantID     = testkit.TenantID
	clientID     = testkit.ClientID
	clientSecret = "test-secret-value"
	acrScope     = "https://containerregistry.azure.net/.default"
)

type fixture struct {
	emu *emulator.Emulator
	reg *emulator.Registry
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	emu, err := emulator.Start(emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Secrets: []string{clientSecret}})
	reg, err := emu.StartRegistry(emulator.RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: emu, reg: reg}
}

func (f *fixture) entraToken(t *testing.T, scope string) string {
	t.Helper()
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {clientSecret}, "scope": {scope}}
	resp, err := f.emu.HTTPClient().PostForm(f.emu.TokenEndpoint(tenantID), form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || body.AccessToken == "" {
		t.Fatalf("token for %s: %d %v", scope, resp.StatusCode, err)
	}
	return body.AccessToken
}

func TestExchange(t *testing.T) {
	f := newFixture(t)
	at := f.entraToken(t, acrScope)
	rt, err := Exchange(context.Background(), f.emu.HTTPClient(), f.reg.Host, tenantID, at)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Until(rt.ExpiresOn); d < 179*time.Minute || d > 181*time.Minute {
		t.Fatalf("expiry in %v, want 3h", d)
	}
	if c := f.reg.Counts(); c.ExchangeIssued != 1 {
		t.Fatalf("registry %+v", c)
	}
}

func TestExchangeRefusals(t *testing.T) {
	f := newFixture(t)
	at := f.entraToken(t, acrScope)
	closed, err := f.emu.StartRegistry(emulator.RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closedHost := closed.Host
	closed.Close()
	authority := strings.TrimPrefix(f.emu.URL, "https://")
	client := f.emu.HTTPClient()
	ctx := context.Background()
	check := func(name string, err error, status int, want ...string) {
		t.Helper()
		if err == nil {
			t.Fatalf("%s: no error", name)
		}
		var ee *ExchangeError
		if status != 0 && (!errors.As(err, &ee) || ee.Status != status) {
			t.Fatalf("%s: %v, want status %d", name, err, status)
		}
		for _, w := range want {
			if !strings.Contains(err.Error(), w) {
				t.Fatalf("%s: %q lacks %q", name, err, w)
			}
		}
		if strings.Contains(err.Error(), at) || strings.Contains(err.Error(), "\n") {
			t.Fatalf("%s: %q quotes the token or spans lines", name, err)
		}
	}
	_, err = Exchange(ctx, client, f.reg.Host, "11111111-2222-3333-4444-555555555555", at)
	check("tenant", err, 401, "refused the Entra ID token (401 UNAUTHORIZED: tenant", "11111111-2222-3333-4444-555555555555")
	_, err = Exchange(ctx, client, f.reg.Host, tenantID, f.entraToken(t, "https://graph.microsoft.com/.default"))
	check("audience", err, 401, "token has invalid audience", "acrScope")
	f.reg.SetAADDisabled(true)
	_, err = Exchange(ctx, client, f.reg.Host, tenantID, at)
	check("aad disabled", err, 401, "Azure AD authentication is disabled for this registry")
	f.reg.SetAADDisabled(false)
	_, err = Exchange(ctx, client, closedHost, tenantID, at)
	check("unreachable", err, 0, "registry "+closedHost+" unreachable", "connection refused")
	_, err = Exchange(ctx, client, authority, tenantID, at)
	check("not an ACR", err, 404, "no Azure Container Registry token exchange (404")
	// A TLS failure (a CA nobody trusts) is reported as unreachable with the cause.
	_, err = Exchange(ctx, &http.Client{}, f.reg.Host, tenantID, at)
	check("untrusted", err, 0, "unreachable", "certificate")
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestJWTExpiry(t *testing.T) {
	enc := func(payload string) string { return "eyJhbGciOiJIUzI1NiJ9." + b64(payload) + ".sig" }
	for _, c := range []struct {
		tok  string
		want int64
		ok   bool
	}{
		{enc(`{"exp":1700000000}`), 1700000000, true},
		{enc(`{"exp":1700000000.5}`), 1700000000, true},
		{enc(`{"sub":"x"}`), 0, false},
		{enc(`{"exp":"soon"}`), 0, false},
		{enc(`{"exp":-1}`), 0, false},
		{enc(`{"exp":1e300}`), 0, false},
		{"not-a-jwt", 0, false},
		{"a.!!!.c", 0, false},
	} {
		got, ok := JWTExpiry(c.tok)
		if ok != c.ok || (ok && got.Unix() != c.want) {
			t.Errorf("%q: %v %v", c.tok, got, ok)
		}
	}
}

func TestParseErrorBody(t *testing.T) {
	for _, c := range []struct{ body, code, msg string }{
		{`{"errors":[{"code":"UNAUTHORIZED","message":"bad\ntoken"}]}`, "UNAUTHORIZED", "bad token"},
		{`{"error":"invalid_request","error_description":"nope"}`, "invalid_request", "nope"},
		{`<html>502</html>`, "", ""},
		{`{"errors":[{"code":"X","message":"` + strings.Repeat("é", 400) + `"}]}`, "X", strings.Repeat("é", 150) + "…"},
	} {
		code, msg := ParseErrorBody([]byte(c.body))
		if code != c.code || msg != c.msg {
			t.Errorf("%.40q: %q %q", c.body, code, msg)
		}
	}
}

// FuzzJWTExpiry: any string from a registry is read without panicking, and only a
// plausible expiry is reported.
func FuzzJWTExpiry(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJleHAiOjE3MDAwMDAwMDB9.sig")
	f.Add("a.b.c")
	f.Add("..")
	f.Add("eyJhbGciOiJIUzI1NiJ9." + b64(`{"exp":1e400}`) + ".x")
	f.Fuzz(func(t *testing.T, tok string) {
		exp, ok := JWTExpiry(tok)
		if ok && (exp.Unix() <= 0 || exp.Year() > 9999) {
			t.Fatalf("%q: implausible expiry %v", tok, exp)
		}
		if !ok && !exp.IsZero() {
			t.Fatalf("%q: not ok but %v", tok, exp)
		}
	})
}

// FuzzParseErrorBody: whatever a registry answers, the message is one line of bounded
// length.
func FuzzParseErrorBody(f *testing.F) {
	f.Add([]byte(`{"errors":[{"code":"UNAUTHORIZED","message":"x"}]}`))
	f.Add([]byte(`{"error":"a","error_description":"b\r\nc"}`))
	f.Add([]byte(`<html>`))
	f.Fuzz(func(t *testing.T, body []byte) {
		code, msg := ParseErrorBody(body)
		for _, s := range []string{code, msg} {
			if strings.ContainsAny(s, "\r\n\x00") || len(s) > 304 {
				t.Fatalf("%q → %q", body, s)
			}
		}
	})
}

// A redirect from the exchange is refused before anything reaches its Location, even
// with a caller's client that would follow it.
func TestExchangeRefusesRedirects(t *testing.T) {
	f := newFixture(t)
	at := f.entraToken(t, acrScope)
	var got atomic.Int32
	target, err := f.emu.StartServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		http.NotFound(w, r)
	}))
	if err != nil {
		t.Fatal(err)
	}
	f.reg.SetExchangeRedirect(target.URL + "/oauth2/exchange")
	follower := &http.Client{Transport: f.emu.HTTPClient().Transport}
	_, err = Exchange(context.Background(), follower, f.reg.Host, tenantID, at)
	var re *RedirectError
	if !errors.As(err, &re) || re.Status != 307 {
		t.Fatalf("err %v, want a *RedirectError for 307", err)
	}
	msg := err.Error()
	for _, want := range []string{"registry " + f.reg.Host, target.Host, "HTTP 307", "never follows redirects"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("%q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, at) || strings.Contains(msg, "\n") {
		t.Fatalf("%q quotes the token or spans lines", msg)
	}
	if n := got.Load(); n != 0 {
		t.Fatalf("the redirect target received %d requests", n)
	}
	if c := f.reg.Counts(); c.Exchange != 1 || c.ExchangeIssued != 0 {
		t.Fatalf("registry %+v", c)
	}
}
