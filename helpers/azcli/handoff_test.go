package azcli

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// The shim prints no token that is not made of token characters or claims an absurd
// expiry, as az or as azd; the ERROR line names the authority and is escaped.
func TestShimRefusesHostileTokens(t *testing.T) {
	for _, tok := range []Token{
		{AccessToken: fakeJWT(tenantA) + "'", ExpiresOn: time.Now().Add(time.Hour)},
		{AccessToken: fakeJWT(tenantA) + "\u201b", ExpiresOn: time.Now().Add(time.Hour)},
		{AccessToken: fakeJWT(tenantA), ExpiresOn: time.Now().AddDate(247, 0, 0)},
	} {
		src := newSource()
		src.tok = tok
		for _, r := range []runResult{
			runAz(t, src, Env{}, "account", "get-access-token"),
			runAz(t, src, Env{}, "account", "get-access-token", "--query", "accessToken", "-o", "tsv"),
			runAzd(t, src, Env{}, "auth", "token", "--output", "json", "--scope", "https://management.azure.com//.default"),
		} {
			if r.code != ExitFailure || r.out != "" || !strings.Contains(r.err, "https://login.microsoftonline.com") {
				t.Fatalf("%q: %+v", tok.AccessToken, r)
			}
		}
	}
	src := newSource()
	src.err = errors.New("certificate CN=evil\nERROR: forged\x1b[31m\u202e")
	r := runAz(t, src, Env{}, "account", "get-access-token")
	if r.code != ExitFailure || strings.Count(r.err, "\n") != 1 || !strings.Contains(r.err, `forged\x1b[31m\u202e`) {
		t.Fatalf("error line: %+v", r)
	}
}
