package execcred

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// kubectl gets no ExecCredential with a token that is not made of token characters or
// claims an absurd expiry; the one error line is escaped.
func TestRunRefusesHostileTokens(t *testing.T) {
	for _, c := range []Credential{
		{Token: "a.b.c\"}, \"x\": \"y", ExpiresOn: time.Now().Add(time.Hour), Issuer: "https://login.example.test"},
		{Token: "a.b.c\u2019", ExpiresOn: time.Now().Add(time.Hour), Issuer: "https://login.example.test"},
		{Token: "a.b.c", ExpiresOn: time.Now().AddDate(247, 0, 0), Issuer: "https://login.example.test"},
	} {
		code, out, errOut := runPlugin(t, &recordingSource{cred: c}, "", false)
		if code != ExitFailure || out != "" || strings.Count(errOut, "\n") != 1 || !strings.Contains(errOut, "https://login.example.test") {
			t.Fatalf("%q: exit %d, stdout %q, stderr %q", c.Token, code, out, errOut)
		}
	}
	code, _, errOut := runPlugin(t, &recordingSource{err: errors.New("CN=evil\x1b[31m\u202e")}, "", false)
	if code != ExitFailure || !strings.Contains(errOut, `CN=evil\x1b[31m\u202e`) {
		t.Fatalf("error line: %d %q", code, errOut)
	}
}
