package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/internal/testkit"
)

// fastHome makes a home with one secret-based profile and a cached token for it.
func fastHome(tb testing.TB) (home string, getenv func(string) string) {
	tb.Helper()
	home = tb.TempDir()
	p := &profile.Profile{Name: "p", ClientID: testkit.ClientID, TenantID: testkit.TenantID, Scope: "https://graph.microsoft.com/.default"}
	if err := (&profile.Store{Home: home}).Update(context.Background(), func(c *profile.Config) error { c.Put(p); return nil }); err != nil {
		tb.Fatal(err)
	}
	c := &tokencache.Cache{Dir: filepath.Join(home, "cache")}
	id, _ := tokencache.CredentialID(p, c.Dir)
	tok := &tokencache.Token{AccessToken: "cached-access-token", TokenType: "Bearer", ExpiresOn: time.Now().Add(time.Hour).Truncate(time.Second), Scope: p.Scope, TenantID: p.TenantID, ClientID: p.ClientID}
	if err := c.Put(tokencache.KeyFor(p, p.Scope, id), tok); err != nil {
		tb.Fatal(err)
	}
	env := map[string]string{"ENTRATOOL_HOME": home}
	return home, func(k string) string { return env[k] }
}

func TestFastGetTokenAnswersOnlyWhatItCan(t *testing.T) {
	_, getenv := fastHome(t)
	for _, c := range []struct {
		args []string
		hit  bool
		want string
	}{
		{[]string{"get-token"}, true, "cached-access-token\n"},
		{[]string{"get-token", "-p", "p", "--silent", "--timeout", "5s"}, true, "cached-access-token\n"},
		{[]string{"get-token", "--profile=p", "-ojson"}, true, `"accessToken": "cached-access-token"`},
		{[]string{"get-token", "-o", "env"}, true, "export ENTRA_ACCESS_TOKEN='cached-access-token'\n"},
		{[]string{"get-token", "--force-refresh"}, false, ""},
		{[]string{"get-token", "--scope", "https://management.azure.com/.default"}, false, ""},
		{[]string{"get-token", "-p", "missing"}, false, ""},
		{[]string{"get-token", "-o", "yaml"}, false, ""},
		{[]string{"get-token", "-p"}, false, ""},
		{[]string{"config", "list"}, false, ""},
		{[]string{}, false, ""},
	} {
		var out bytes.Buffer
		hit := fastGetToken(c.args, getenv, &out)
		if hit != c.hit || (hit && !bytes.Contains(out.Bytes(), []byte(c.want))) || (!hit && out.Len() > 0) {
			t.Errorf("%v: hit=%v out=%q", c.args, hit, out.String())
		}
	}
	debug := func(k string) string {
		if k == "ENTRATOOL_DEBUG" {
			return "1"
		}
		return getenv(k)
	}
	if fastGetToken([]string{"get-token"}, debug, &bytes.Buffer{}) {
		t.Error("--debug must go to the engine, which logs")
	}
}

func BenchmarkFastGetTokenHit(b *testing.B) {
	_, getenv := fastHome(b)
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	for b.Loop() {
		if !fastGetToken([]string{"get-token"}, getenv, devnull) {
			b.Fatal("miss")
		}
	}
}
