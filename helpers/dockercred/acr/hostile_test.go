package acr

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/tokencache"
)

// hostileRegistry answers every exchange with status and body.
func hostileRegistry(t *testing.T, status int, body string) (registry string, client *http.Client) {
	t.Helper()
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "https://"), srv.Client()
}

func refreshJWT(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(fmt.Sprintf(`{"exp":%d}`, exp.Unix()))) + ".c2ln"
}

// A registry's refresh token is held to the rules of an access token: token characters
// only, and a JWT exp between 60 s and 48 h away. Anything else is an error naming the
// registry, and no token comes back.
func TestExchangeRefusesHostileRefreshTokens(t *testing.T) {
	now := time.Now()
	good := refreshJWT(now.Add(3 * time.Hour))
	for _, c := range []struct{ name, tok, want string }{
		{"exp 59 s", refreshJWT(now.Add(59 * time.Second)), "out of range"},
		{"exp past", refreshJWT(now.Add(-time.Hour)), "out of range"},
		{"exp 49 h", refreshJWT(now.Add(49 * time.Hour)), "out of range"},
		{"exp 2273", refreshJWT(now.AddDate(247, 0, 0)), "out of range"},
		{"no exp", "opaque-refresh-token", "not a JWT with a numeric exp"},
		{"quote", good + `'`, `"'"`},
		{"newline", good + `\n`, "control character 0x0a"},
		{"U+2019", good + "\u2019", "U+2019"},
	} {
		registry, client := hostileRegistry(t, http.StatusOK, `{"refresh_token":"`+c.tok+`"}`)
		rt, err := Exchange(context.Background(), client, registry, tenantID, "eyJ.at.sig")
		var te *tokencache.TokenError
		if err == nil || rt.Token != "" || !errors.As(err, &te) || !strings.Contains(err.Error(), "registry "+registry) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %+v, %v (want %q)", c.name, rt, err, c.want)
		}
	}
	registry, client := hostileRegistry(t, http.StatusOK, `{"refresh_token":"`+good+`"}`)
	rt, err := Exchange(context.Background(), client, registry, tenantID, "eyJ.at.sig")
	if err != nil || rt.Token != good || rt.ExpiresOn.Unix() != now.Add(3*time.Hour).Unix() {
		t.Fatalf("3 h refresh token: %+v, %v", rt, err)
	}
}

// The registry's error text reaches the user with its control characters escaped.
func TestExchangeErrorTextEscaped(t *testing.T) {
	registry, client := hostileRegistry(t, http.StatusUnauthorized, `{"errors":[{"code":"UNAUTHORIZED\u001b[2J","message":"denied\u001b]0;owned\u0007 \u202eevil \u0085 \u009b31m"}]}`)
	_, err := Exchange(context.Background(), client, registry, tenantID, "eyJ.at.sig")
	if err == nil {
		t.Fatal("accepted")
	}
	msg := err.Error()
	for _, r := range msg {
		if r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f || r == '\u202e' {
			t.Fatalf("raw %U in %q", r, msg)
		}
	}
	// U+0085 (NEL) is white space to strings.Fields: the one-line cut makes it a space.
	for _, want := range []string{`UNAUTHORIZED\x1b[2J`, `denied\x1b]0;owned\x07 \u202eevil \u009b31m`} {
		if !strings.Contains(msg, want) {
			t.Fatalf("%q lacks %q", msg, want)
		}
	}
}
