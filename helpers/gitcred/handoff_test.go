package gitcred

import (
	"context"
	"strings"
	"testing"
	"time"
)

type fixedTokens struct {
	tok string
	exp time.Time
}

func (f fixedTokens) Token(context.Context, string) (string, time.Time, error) {
	return f.tok, f.exp, nil
}
func (f fixedTokens) Forget(context.Context, string) error { return nil }

// A token that would add lines to git's credential protocol, or carries an absurd
// expiry, is not answered: nothing on stdout, an error naming the authority.
func TestGetRefusesHostileTokens(t *testing.T) {
	const authority = "https://login.example.test"
	for _, c := range []fixedTokens{
		{"tok\nusername=attacker", time.Now().Add(time.Hour)},
		{"tok\rpassword=x", time.Now().Add(time.Hour)},
		{"tok x", time.Now().Add(time.Hour)},
		{"tok'", time.Now().Add(time.Hour)},
		{"a.b.c", time.Now().AddDate(247, 0, 0)},
	} {
		for _, bearer := range []bool{false, true} {
			h := &Helper{Bearer: bearer, Load: func(context.Context) (Profile, Tokens, error) {
				return Profile{Name: "git", ClientID: testClientID, Authority: authority}, c, nil
			}}
			r := &rig{h: h}
			out, err := r.run(t, "get", "capability[]=authtype\n"+azureGet)
			if out != "" || err == nil || !strings.Contains(err.Error(), authority) || !strings.Contains(err.Error(), "profile git") {
				t.Fatalf("%q (bearer %v): answered %q, %v", c.tok, bearer, out, err)
			}
		}
	}
}
