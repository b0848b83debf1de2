package tokencache

import (
	"errors"
	"strings"
	"testing"
	"time"
)

const issuer = "https://login.example.test/tenant"

func TestValidTokenChars(t *testing.T) {
	for _, s := range []string{"eyJ0eXAi.eyJhdWQi.c2ln-_", "abc~+/==", "A"} {
		if !ValidTokenChars(s) {
			t.Errorf("%q refused", s)
		}
	}
	for _, s := range []string{"", "a b", "it's", `a"b`, "$(id)", "a\nb", "a\u2019b", "a`b", "a;b", "a\\b", "a\x00b", "a%b", "é"} {
		if ValidTokenChars(s) {
			t.Errorf("%q accepted", s)
		}
	}
}

func TestCheckToken(t *testing.T) {
	answered := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	tok := func(s string, lifetime time.Duration) *Token {
		return &Token{AccessToken: s, ExpiresOn: answered.Add(lifetime)}
	}
	for _, c := range []struct {
		t    *Token
		want string // "" → accepted
	}{
		{tok("eyJ.eyJ.sig", 3599*time.Second), ""},
		{tok("eyJ.eyJ.sig", 60*time.Second), ""},
		{tok("eyJ.eyJ.sig", 48*time.Hour), ""},
		// MSAL reads the answer a little after the request: 60 s seen from slightly later.
		{tok("eyJ.eyJ.sig", 60*time.Second-300*time.Microsecond), ""},
		{tok("eyJ.eyJ.sig", 59*time.Second), "59s"},
		{tok("eyJ.eyJ.sig", 0), "0s"},
		{tok("eyJ.eyJ.sig", -100*time.Second), "-1m40s"},
		{tok("eyJ.eyJ.sig", 48*time.Hour+time.Second), "48h0m1s"},
		{tok("eyJ.eyJ.sig", 246*8766*time.Hour), "246 years"},
		{&Token{AccessToken: "eyJ.eyJ.sig"}, "years"}, // no expiry at all
		{tok("", time.Hour), "no access token"},
		{nil, "no access token"},
		{tok("eyJ.eyJ'; rm -rf ~; '", time.Hour), `"'" at byte 7`},
		{tok("a b", time.Hour), "a space at byte 1"},
		{tok("ab\n", time.Hour), "control character 0x0a at byte 2"},
		{tok("ab\u2019c", time.Hour), "U+2019 at byte 2"},
		{tok(strings.Repeat("a", MaxTokenLength+1), time.Hour), "bytes long"},
	} {
		err := CheckToken(c.t, issuer, answered)
		switch {
		case c.want == "" && err != nil:
			t.Errorf("%+v refused: %v", c.t, err)
		case c.want != "" && err == nil:
			t.Errorf("%+v accepted", c.t)
		case c.want != "":
			var te *TokenError
			msg := err.Error()
			if !errors.As(err, &te) || !strings.Contains(msg, issuer) || !strings.Contains(msg, c.want) {
				t.Errorf("%+v: %q, want the issuer and %q", c.t, msg, c.want)
			}
			if c.t != nil && len(c.t.AccessToken) > 3 && strings.Contains(msg, c.t.AccessToken) {
				t.Errorf("the error quotes the token: %q", msg)
			}
			for _, b := range []byte(msg) {
				if b < 0x20 {
					t.Errorf("raw control byte in %q", msg)
				}
			}
		}
	}
}

func TestCheckServable(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ok := []time.Duration{time.Second, 4 * time.Minute, time.Hour, 48 * time.Hour}
	for _, left := range ok {
		if err := CheckServable(&Token{AccessToken: "a.b.c", ExpiresOn: now.Add(left)}, issuer, now); err != nil {
			t.Errorf("%v left: %v", left, err)
		}
	}
	for _, c := range []struct {
		t    *Token
		want string
	}{
		{&Token{AccessToken: "a.b.c", ExpiresOn: now}, "expired"},
		{&Token{AccessToken: "a.b.c", ExpiresOn: now.Add(-time.Hour)}, "expired"},
		{&Token{AccessToken: "a.b.c"}, "no expiry"},
		{&Token{AccessToken: "a.b.c", ExpiresOn: now.AddDate(247, 0, 0)}, "more than 48 h"},
		{&Token{AccessToken: "a.b.c'", ExpiresOn: now.Add(time.Hour)}, "not a JWT/base64url character"},
	} {
		err := CheckServable(c.t, issuer, now)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), issuer) {
			t.Errorf("%+v: %v, want %q", c.t, err, c.want)
		}
	}
}

func BenchmarkCheckServable(b *testing.B) {
	tok := &Token{AccessToken: strings.Repeat("eyJhbGciOiJSUzI1NiJ9.", 100), ExpiresOn: time.Now().Add(time.Hour)}
	now := time.Now()
	for b.Loop() {
		if CheckServable(tok, issuer, now) != nil {
			b.Fatal("refused")
		}
	}
}

func TestCheckHandOff(t *testing.T) {
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, exp := range []time.Time{{}, now.Add(time.Hour), now.Add(48 * time.Hour), now.AddDate(-1, 0, 0)} {
		if err := CheckHandOff("a.b.c", exp, issuer, now); err != nil {
			t.Errorf("expiry %v: %v", exp, err)
		}
	}
	for _, c := range []struct {
		tok  string
		exp  time.Time
		want string
	}{
		{"a.b.c", now.AddDate(247, 0, 0), "more than 48 h"},
		{"", now.Add(time.Hour), "no access token"},
		{"a\nb", now.Add(time.Hour), "control character 0x0a"},
		{"a\u2018b", now.Add(time.Hour), "U+2018"},
	} {
		if err := CheckHandOff(c.tok, c.exp, issuer, now); err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), issuer) {
			t.Errorf("%q %v: %v, want %q", c.tok, c.exp, err, c.want)
		}
	}
}

// The table accepts exactly the characters SPEC §12 allows in a token, each as 1: the
// scan ANDs entries, and two accepted bytes of different values could AND to zero.
func TestTokenBytesIsTheSpecAlphabet(t *testing.T) {
	for c := 0; c < 256; c++ {
		want := byte(0)
		if strings.IndexByte(specAlphabet, byte(c)) >= 0 {
			want = 1
		}
		if tokenBytes[c] != want {
			t.Errorf("tokenBytes[%#02x] = %d, want %d", c, tokenBytes[c], want)
		}
	}
}
