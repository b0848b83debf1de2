package token

import (
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
)

func TestForgetAllDropsTheAppsTokensAndDerivedCredentials(t *testing.T) {
	p := &profile.Profile{Name: "p", ClientID: "c", TenantID: "t", AuthorityHost: "https://login.example"}
	pr := NewProvider(p, Options{Home: t.TempDir(), Getenv: func(string) string { return "" }})
	c := pr.Cache()
	tok := &Token{AccessToken: "x", ExpiresOn: time.Now().Add(time.Hour)}
	mine := []Key{
		{Authority: "https://login.example", TenantID: "t", ClientID: "c", Scope: "a", Credential: "x5t:1"},
		{Authority: "https://login.example/", TenantID: "T", ClientID: "C", Scope: "b", Credential: "x5t:2"},
		{Kind: "acr-refresh", Authority: "myreg.azurecr.io", TenantID: "t", ClientID: "c", Scope: "s", Credential: "x5t:1"},
	}
	others := []Key{
		{Authority: "https://login.example", TenantID: "t", ClientID: "other", Scope: "a", Credential: "x5t:1"},
		{Authority: "https://login.other", TenantID: "t", ClientID: "c", Scope: "a", Credential: "x5t:1"},
		{Kind: "acr-refresh", Authority: "myreg.azurecr.io", TenantID: "t", ClientID: "other", Scope: "s", Credential: "x5t:1"},
	}
	for _, k := range append(append([]Key{}, mine...), others...) {
		if err := c.Put(k, tok); err != nil {
			t.Fatal(err)
		}
	}
	n, err := pr.ForgetAll()
	if err != nil || n != len(mine) {
		t.Fatalf("ForgetAll = %d, %v; want %d", n, err, len(mine))
	}
	for _, k := range others {
		if _, ok := c.Get(k); !ok {
			t.Fatalf("%+v was removed", k)
		}
	}
}
