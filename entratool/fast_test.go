package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
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
		hit := fastGetToken(c.args, getenv, &out, io.Discard)
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
	if fastGetToken([]string{"get-token"}, debug, &bytes.Buffer{}, io.Discard) {
		t.Error("--debug must go to the engine, which logs")
	}
}

func BenchmarkFastGetTokenHit(b *testing.B) {
	_, getenv := fastHome(b)
	devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	defer devnull.Close()
	for b.Loop() {
		if !fastGetToken([]string{"get-token"}, getenv, devnull, devnull) {
			b.Fatal("miss")
		}
	}
}

// certFastHome is fastHome's shape for a certificate profile whose remembered
// certificate expires in days.
func certFastHome(tb testing.TB, days int) (cacheDir string, getenv func(string) string) {
	tb.Helper()
	home := tb.TempDir()
	pfx := filepath.Join(home, "soon.pfx")
	if err := os.WriteFile(pfx, []byte("pfx"), 0o600); err != nil {
		tb.Fatal(err)
	}
	p := &profile.Profile{Name: "soon", ClientID: testkit.ClientID, TenantID: testkit.TenantID, UseCertificate: true, CertificatePath: pfx, Scope: "https://graph.microsoft.com/.default"}
	if err := (&profile.Store{Home: home}).Update(context.Background(), func(c *profile.Config) error { c.Put(p); return nil }); err != nil {
		tb.Fatal(err)
	}
	cacheDir = filepath.Join(home, "cache")
	if err := (tokencache.CertMemo{Dir: tokencache.MemoDir(cacheDir)}).Store(pfx, tokencache.CertInfo{Thumbprint: "AB12", NotAfter: time.Now().AddDate(0, 0, days), Subject: "CN=soon"}); err != nil {
		tb.Fatal(err)
	}
	tok := &tokencache.Token{AccessToken: "cached-access-token", TokenType: "Bearer", ExpiresOn: time.Now().Add(time.Hour).Truncate(time.Second), Scope: p.Scope, TenantID: p.TenantID, ClientID: p.ClientID}
	if err := (&tokencache.Cache{Dir: cacheDir}).Put(tokencache.KeyFor(p, p.Scope, "x5t:AB12"), tok); err != nil {
		tb.Fatal(err)
	}
	env := map[string]string{"ENTRATOOL_HOME": home}
	return cacheDir, func(k string) string { return env[k] }
}

// The fast path warns as the engine's get-token does (once a day, on stderr), and
// --silent neither warns nor uses up the day's warning.
func TestFastGetTokenWarnsOnceADay(t *testing.T) {
	cacheDir, getenv := certFastHome(t, 10)
	var out, errb bytes.Buffer
	if !fastGetToken([]string{"get-token", "--silent"}, getenv, &out, &errb) || errb.Len() != 0 {
		t.Fatalf("--silent: stderr %q", errb.String())
	}
	if _, err := os.Lstat(tokencache.ExpiryStampPath(cacheDir, "soon")); !os.IsNotExist(err) {
		t.Fatalf("--silent used up the day's warning: %v", err)
	}
	for i, want := range []string{"warning: certificate CN=soon of profile 'soon' expires on ", ""} {
		out.Reset()
		errb.Reset()
		if !fastGetToken([]string{"get-token"}, getenv, &out, &errb) || out.String() != "cached-access-token\n" {
			t.Fatalf("call %d: not answered: %q", i, out.String())
		}
		if !strings.HasPrefix(errb.String(), want) || (want == "" && errb.Len() != 0) || strings.Count(errb.String(), "\n") > 1 {
			t.Fatalf("call %d: stderr %q, want %q…", i, errb.String(), want)
		}
	}
}

// What the expiry warning costs a hit: a certificate profile with a year left (the memo
// read the hit makes anyway, then a comparison), and one within 30 days whose warning was
// given today (plus one read of the stamp).
func BenchmarkFastGetTokenHitCertificate(b *testing.B) {
	for _, c := range []struct {
		name string
		days int
	}{{"NotDue", 365}, {"DueStamped", 10}} {
		b.Run(c.name, func(b *testing.B) {
			_, getenv := certFastHome(b, c.days)
			devnull, _ := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
			defer devnull.Close()
			for b.Loop() {
				if !fastGetToken([]string{"get-token"}, getenv, devnull, devnull) {
					b.Fatal("miss")
				}
			}
		})
	}
}
