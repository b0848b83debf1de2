package token

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/internal/testkit"
)

// EntraSource checks what the authority said before anything is cached or printed:
// expires_in within [60 s, 48 h] as MSAL read it (the boundaries themselves accepted),
// and an access token of JWT/base64url characters. Refusals name the authority.
func TestEntraSourceHoldsTheAuthorityToSPEC12(t *testing.T) {
	const tenant, client, secret = testkit.TenantID, testkit.ClientID, "s3cret-value"
	emu, err := emulator.Start(emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	emu.RegisterApp(emulator.App{TenantID: tenant, ClientID: client, Secrets: []string{secret}})
	cred, err := confidential.NewCredFromSecret(secret)
	if err != nil {
		t.Fatal(err)
	}
	src := &EntraSource{Authority: emu.URL, TenantID: tenant, ClientID: client, Credential: cred, HTTPClient: emu.HTTPClient()}
	authority := emu.URL + "/" + tenant
	answer := func(expiresIn, tok string) string {
		return `{"token_type":"Bearer","expires_in":` + expiresIn + `,"access_token":"` + tok + `"}`
	}
	const jwt = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2ln-_~+/="

	for _, c := range []struct {
		body string
		life time.Duration
	}{
		{answer("60", jwt), 60 * time.Second},
		{answer("3599", jwt), 3599 * time.Second},
		{answer(`"3599"`, jwt), 3599 * time.Second},
		{answer("172800", jwt), 48 * time.Hour},
	} {
		emu.QueueFaults(emulator.Fault{Body: c.body})
		start := time.Now()
		tok, err := src.Token(context.Background(), "https://graph.microsoft.com/.default")
		if err != nil {
			t.Fatalf("%s: %v", c.body, err)
		}
		if life := tok.ExpiresOn.Sub(start); tok.AccessToken != jwt || life < c.life-2*time.Second || life > c.life+time.Second {
			t.Fatalf("%s: %q valid for %v", c.body, tok.AccessToken, life)
		}
	}

	for _, c := range []struct{ body, want string }{
		{answer("59", jwt), "59s"},
		{answer("0", jwt), "0s"},
		{answer("-100", jwt), "-1m40s"},
		{answer("172801", jwt), "48h0m1s"},
		{answer("99999999999", jwt), "246 years"},
		{answer("9300000000", jwt), "years"}, // MSAL's overflow to the past
		{`{"token_type":"Bearer","expires_on":4102444800,"access_token":"` + jwt + `"}`, "out of range"},
		{`{"token_type":"Bearer","access_token":"` + jwt + `"}`, "expires_in and expires_on are both missing"},
		{answer("3599", jwt+`'`), `"'"`},
		{answer("3599", jwt+`\u2018`), "U+2018"},
		{answer("3599", jwt+`\r\n`), "control character 0x0d"},
	} {
		emu.QueueFaults(emulator.Fault{Body: c.body})
		tok, err := src.Token(context.Background(), "https://graph.microsoft.com/.default")
		if err == nil || tok != nil || !strings.Contains(err.Error(), authority) || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%s: %v, %v (want %q)", c.body, tok, err, c.want)
		}
		// All but the unreadable answer (MSAL's own error) are refused by CheckToken.
		var te *tokencache.TokenError
		if !strings.Contains(c.want, "missing") && !errors.As(err, &te) {
			t.Fatalf("%s: not a TokenError: %T", c.body, err)
		}
		if _, retried := retryAfter(err); retried {
			t.Fatalf("%s: a refused token would be retried", c.body)
		}
	}
}

// Entra's words reach the terminal with their control characters escaped.
func TestMapErrorEscapesServerText(t *testing.T) {
	body := `{"error":"invalid_client\u001b[2J","error_description":"AADSTS700016: Application \u001b]0;owned\u0007 \u202eevil\u0085 not found.\r\nentratool: forged line","error_codes":[700016],"trace_id":"t\u001b[31m","correlation_id":"c\u202e"}`
	err := mapEntraAnswer(400, body)
	var ee *EntraError
	if !errors.As(err, &ee) {
		t.Fatalf("not an EntraError: %v", err)
	}
	for what, s := range map[string]string{"message": err.Error(), "debug ids": ee.DebugIDs(), "error name": ee.ErrorName} {
		for _, r := range s {
			if r < 0x20 || r >= 0x7f && r <= 0x9f || r == '\u202e' {
				t.Fatalf("%s: raw %U in %q", what, r, s)
			}
		}
		if strings.Contains(s, "forged line") {
			t.Fatalf("%s: %q", what, s)
		}
	}
	if !strings.Contains(err.Error(), `Application \x1b]0;owned\x07 \u202eevil\u0085 not found.`) || !strings.Contains(ee.DebugIDs(), `trace-id=t\x1b[31m correlation-id=c\u202e`) {
		t.Fatalf("message %q, ids %q", err.Error(), ee.DebugIDs())
	}
}
