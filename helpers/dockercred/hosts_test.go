package dockercred

import (
	"context"
	"encoding/base64"
	"testing"

	"github.com/docker/docker-credential-helpers/credentials"
)

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

func TestNormalizeServerURL(t *testing.T) {
	for _, c := range []struct {
		in, want string
		ok       bool
	}{
		{"myreg.azurecr.io", "myreg.azurecr.io", true},
		{"  myreg.azurecr.io\n", "myreg.azurecr.io", true},
		{"MYREG.AZURECR.IO", "myreg.azurecr.io", true},
		{"myreg.azurecr.io:443", "myreg.azurecr.io", true},
		{"myreg.azurecr.io:5000", "myreg.azurecr.io:5000", true},
		{"https://myreg.azurecr.io/v2/repo", "myreg.azurecr.io", true},
		{"HTTPS://myreg.azurecr.io", "myreg.azurecr.io", true},
		{"https://myreg.azurecr.io:443/", "myreg.azurecr.io", true},
		{"myreg.azurecr.io/team/app", "myreg.azurecr.io", true},
		{"myreg.azurecr.io?x=1", "myreg.azurecr.io", true},
		{"127.0.0.1:41234", "127.0.0.1:41234", true},
		{"[::1]:5000", "[::1]:5000", true},
		{"[::1]", "[::1]", true},
		{"http://myreg.azurecr.io", "", false},
		{"ftp://myreg.azurecr.io", "", false},
		{"https://user@myreg.azurecr.io", "", false},
		{"myreg.azurecr.io@evil.com", "", false},
		{"myreg.azurecr.io.", "", false},
		{".myreg.azurecr.io", "", false},
		{"myreg..azurecr.io", "", false},
		{"myreg.azurecr.io:0", "", false},
		{"myreg.azurecr.io:65536", "", false},
		{"myreg.azurecr.io:", "", false},
		{"myreg.azurecr.io:44x", "", false},
		{"ｍyreg.azurecr.io", "", false},
		{"my reg.azurecr.io", "", false},
		{"[::1", "", false},
		{"[::1]x", "", false},
		{"[]", "", false},
		{"//myreg.azurecr.io", "", false},
		{"https://", "", false},
		{"", "", false},
	} {
		got, ok := NormalizeServerURL(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("NormalizeServerURL(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// Which profile, if any, serves what docker asks for.
func TestHostMatching(t *testing.T) {
	b := &memBackend{profiles: []Profile{
		{Name: "acr", Registries: []string{"myreg.azurecr.io"}},
		{Name: "ports", Registries: []string{"other.azurecr.io:5000", "MiXeD.AzureCR.io", "[::1]:5000", "bad/entry", "https://url.azurecr.io"}},
	}}
	s := (&Helper{Backend: b}).For(context.Background()).(*session)
	for _, c := range []struct{ in, profile string }{
		{"myreg.azurecr.io", "acr"},
		{"MYREG.AZURECR.IO", "acr"},
		{"myreg.azurecr.io:443", "acr"},
		{"https://myreg.azurecr.io/v2/repo", "acr"},
		{"myreg.azurecr.io/team/app", "acr"},
		{"mixed.azurecr.io", "ports"},
		{"other.azurecr.io:5000", "ports"},
		{"[::1]:5000", "ports"},
		// Not served:
		{"myreg.azurecr.io.evil.com", ""},
		{"evil-myreg.azurecr.io", ""},
		{"evil.myreg.azurecr.io", ""},
		{"myreg.azurecr.io:5000", ""},
		{"azurecr.io", ""},
		{"other.azurecr.io", ""},
		{"other.azurecr.io:443", ""},
		{"[::1]", ""},
		{"http://myreg.azurecr.io", ""},
		{"bad", ""},
		// A profile entry that is a URL is not a registry name; it never matches.
		{"url.azurecr.io", ""},
	} {
		_, p, err := s.resolve(c.in)
		got := ""
		if err == nil {
			got = p.Name
		} else if !credentials.IsErrCredentialsNotFound(err) {
			t.Errorf("%q: %v", c.in, err)
			continue
		}
		if got != c.profile {
			t.Errorf("%q served by %q, want %q", c.in, got, c.profile)
		}
	}
	if b.accounts != 0 {
		t.Fatalf("resolving opened %d accounts", b.accounts)
	}
}
