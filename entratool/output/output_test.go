package output

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/internal/testkit"
)

func testProfile() *profile.Profile {
	return &profile.Profile{Name: "p", ClientID: testkit.ClientID, TenantID: testkit.TenantID, AuthorityHost: "https://login.example.test"}
}

// A token that breaks the rules of SPEC §12 prints nothing in any format, and the
// error names the authority.
func TestWriteRefusesBadTokens(t *testing.T) {
	p := testProfile()
	now := time.Now()
	for _, tok := range []*tokencache.Token{
		{AccessToken: "a.b.c'; touch pwned; '", ExpiresOn: now.Add(time.Hour)},
		{AccessToken: "a.b.c\u2019", ExpiresOn: now.Add(time.Hour)},
		{AccessToken: "a.b.c\nexport X=1", ExpiresOn: now.Add(time.Hour)},
		{AccessToken: "a.b.c $(id)", ExpiresOn: now.Add(time.Hour)},
		{AccessToken: "a.b.c", ExpiresOn: now.Add(-100 * time.Second)},
		{AccessToken: "a.b.c", ExpiresOn: now},
		{AccessToken: "a.b.c", ExpiresOn: now.AddDate(247, 0, 0)},
		{AccessToken: "", ExpiresOn: now.Add(time.Hour)},
	} {
		for _, f := range []string{"token", "json", "az", "env"} {
			var out bytes.Buffer
			err := Write(&out, f, tok, p)
			if err == nil || out.Len() != 0 {
				t.Fatalf("%q -o %s: printed %q, %v", tok.AccessToken, f, out.String(), err)
			}
			if !strings.Contains(err.Error(), p.Authority()) {
				t.Fatalf("%q: error does not name the authority: %v", tok.AccessToken, err)
			}
		}
	}
	var out bytes.Buffer
	good := &tokencache.Token{AccessToken: "eyJ0.eyJ1.c2ln-_~+/=", ExpiresOn: now.Add(time.Hour)}
	if err := Write(&out, "env", good, p); err != nil || !strings.Contains(out.String(), "export ENTRA_ACCESS_TOKEN='eyJ0.eyJ1.c2ln-_~+/='\n") {
		t.Fatalf("good token: %q %v", out.String(), err)
	}
}

// get-token -o az prints expiresOn as az does: local time by the C library's reading of
// TZ, POSIX strings included (Go's time.Local reads TZ=EST+5 as UTC).
func TestWriteAzExpiresOnFollowsPOSIXTZ(t *testing.T) {
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	for tz, offset := range map[string]time.Duration{"EST+5": -5 * time.Hour, "<+0530>-5:30": 5*time.Hour + 30*time.Minute} {
		t.Setenv("TZ", tz)
		var out bytes.Buffer
		tok := &tokencache.Token{AccessToken: "eyJ0.eyJ1.c2ln", ExpiresOn: exp}
		if err := Write(&out, "az", tok, testProfile()); err != nil {
			t.Fatal(err)
		}
		want := exp.UTC().Add(offset).Format("2006-01-02 15:04:05")
		if !strings.Contains(out.String(), `"expiresOn": "`+want+`.000000"`) {
			t.Errorf("TZ=%s: want expiresOn %s in\n%s", tz, want, out.String())
		}
	}
}
