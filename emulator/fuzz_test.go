package emulator

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/golang-jwt/jwt/v5"
)

// serve runs one request through the authority's handler in-process (no sockets), so a
// fuzzer can drive it fast.
func (f *fixture) serve(method, path, contentType, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	f.e.srv.Handler.ServeHTTP(rec, req)
	return rec
}

// FuzzTokenEndpoint: whatever the form, the endpoint answers JSON in Entra's shape, never
// 5xx, and issues a token only to a caller who presented the registered secret or an
// assertion that verifies with the registered certificate.
func FuzzTokenEndpoint(fz *testing.F) {
	f := newFixture(fz, Options{})
	fz.Add(secretForm(secret).Encode())
	fz.Add(secretForm("wrong").Encode())
	fz.Add(assertionForm(f.goodAssertion(fz)).Encode())
	fz.Add(assertionForm("e30.e30.").Encode())
	fz.Add("grant_type=client_credentials&client_id=" + clientID + "&scope=%2F.default&client_secret=x")
	fz.Add("scope=a%20b%20c&grant_type=password")
	fz.Add("%zz&&==")
	fz.Fuzz(func(t *testing.T, body string) {
		path := "/" + tenantID + "/oauth2/v2.0/token"
		rec := f.serve(http.MethodPost, path, "application/x-www-form-urlencoded", body)
		if rec.Code >= 500 {
			t.Fatalf("status %d for %q", rec.Code, body)
		}
		var doc map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &doc); err != nil {
			t.Fatalf("non-JSON answer %q", rec.Body.String())
		}
		if rec.Code != 200 {
			if _, ok := doc["error_codes"]; !ok {
				t.Fatalf("refusal without error_codes: %s", rec.Body.String())
			}
			return
		}
		form, _ := url.ParseQuery(body)
		switch {
		case form.Get("client_secret") == secret:
		case form.Get("client_assertion") != "":
			if _, err := jwt.Parse(form.Get("client_assertion"), func(*jwt.Token) (any, error) { return f.cert.PublicKey, nil },
				jwt.WithValidMethods([]string{"PS256", "RS256"}), jwt.WithoutClaimsValidation()); err != nil {
				t.Fatalf("token issued for an assertion that does not verify: %v", err)
			}
		default:
			t.Fatalf("token issued without a valid credential: %q", body)
		}
		resource, se := parseScope(form.Get("scope"))
		if se != nil {
			t.Fatalf("token issued for scope %q", form.Get("scope"))
		}
		if _, err := f.e.Validate(doc["access_token"].(string), resource); err != nil {
			t.Fatalf("issued token does not validate: %v", err)
		}
	})
}

// FuzzValidate: Validate never panics, and accepts only tokens the emulator minted.
func FuzzValidate(fz *testing.F) {
	f := newFixture(fz, Options{})
	issued := map[string]bool{}
	for range 2 {
		r := f.serve(http.MethodPost, "/"+tenantID+"/oauth2/v2.0/token", "application/x-www-form-urlencoded", secretForm(secret).Encode())
		var doc map[string]any
		json.Unmarshal(r.Body.Bytes(), &doc)
		tok := doc["access_token"].(string)
		c, err := f.e.Validate(tok, "https://graph.microsoft.com")
		if err != nil {
			fz.Fatal(err)
		}
		issued[c.Raw["uti"].(string)] = true
		fz.Add(tok)
	}
	fz.Add("")
	fz.Add("a.b.c")
	fz.Add("eyJhbGciOiJub25lIn0.e30.")
	fz.Fuzz(func(t *testing.T, token string) {
		c, err := f.e.Validate(token, "https://graph.microsoft.com")
		if err != nil {
			return
		}
		if uti, _ := c.Raw["uti"].(string); !issued[uti] {
			t.Fatalf("accepted a token the emulator did not mint: %v", c.Raw)
		}
	})
}
