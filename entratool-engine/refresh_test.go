package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
)

// refreshHome has a client-secret profile "s" whose authority refuses connections, and
// its token cached, expiring at exp.
func refreshHome(t *testing.T, exp time.Time) (env map[string]string, cacheDir string) {
	t.Helper()
	home := t.TempDir()
	p := &profile.Profile{Name: "s", ClientID: "11111111-1111-1111-1111-111111111111", TenantID: "22222222-2222-2222-2222-222222222222",
		AuthorityHost: "https://127.0.0.1:1", Scope: profile.DefaultScope}
	if err := (&profile.Store{Home: home}).Update(context.Background(), func(c *profile.Config) error { c.Put(p); return nil }); err != nil {
		t.Fatal(err)
	}
	cacheDir = filepath.Join(home, "cache")
	id, _ := tokencache.CredentialID(p, cacheDir)
	tok := &tokencache.Token{AccessToken: "eyJ0eXAiOiJKV1QifQ.e30.sig", TokenType: "Bearer", ExpiresOn: exp, Scope: p.Scope}
	if err := (&tokencache.Cache{Dir: cacheDir}).Put(tokencache.KeyFor(p, p.Scope, id), tok); err != nil {
		t.Fatal(err)
	}
	return map[string]string{"ENTRATOOL_HOME": home, "ENTRATOOL_SECRET_STORE": "env", "ENTRATOOL_CLIENT_SECRET": "hunter2-secret"}, cacheDir
}

func runRefresh(t *testing.T, env map[string]string, args []string) (string, string, int) {
	t.Helper()
	stopped := false
	code := refresh(context.Background(), args, func(k string) string { return env[k] }, func() { stopped = true })
	if stopped {
		t.Fatal("watchdog fired")
	}
	return "", "", code
}

// The child re-checks under the refresh lock: an entry whose expiry is not the one the
// front saw was refreshed already, and nothing is asked (here the authority refuses
// connections, so a request would fail and be logged).
func TestRefreshSkipsATokenRefreshedSinceTheFrontLooked(t *testing.T) {
	exp := time.Now().Add(10 * time.Minute)
	env, cacheDir := refreshHome(t, exp)
	r := launch.Request{Program: "git-credential-entra", Profile: "s", Scope: profile.DefaultScope, Timeout: 5 * time.Second}
	if _, _, code := runRefresh(t, env, launch.RefreshArgs(r, exp.Add(-time.Hour))); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(cacheDir, "refresh.log")); err == nil {
		t.Fatal("a request was made for a token already refreshed")
	}
	// The expiry the front saw: the refresh is asked for, fails, and is logged — the
	// caller is told nothing (no streams), the log holds no secret.
	if _, _, code := runRefresh(t, env, launch.RefreshArgs(r, exp)); code != 1 {
		t.Fatalf("exit %d, want 1 (authority unreachable)", code)
	}
	log := filepath.Join(cacheDir, "refresh.log")
	fi, err := os.Stat(log)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Fatalf("refresh.log mode %v", fi.Mode().Perm())
	}
	b, _ := os.ReadFile(log)
	if !strings.Contains(string(b), "git-credential-entra: could not refresh the token of profile 's'") || strings.Contains(string(b), "hunter2") {
		t.Fatalf("refresh.log: %s", b)
	}
	if strings.Count(string(b), "\n") != 1 {
		t.Fatalf("one failure, %d lines", strings.Count(string(b), "\n"))
	}
}

// An unreadable request is logged too, and refresh.log stays bounded.
func TestRefreshLogIsBounded(t *testing.T) {
	env, cacheDir := refreshHome(t, time.Now().Add(time.Hour))
	for range 1500 {
		if _, _, code := runRefresh(t, env, []string{"{", "x"}); code != 2 {
			t.Fatalf("exit %d", code)
		}
	}
	b, err := os.ReadFile(filepath.Join(cacheDir, "refresh.log"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 64<<10 || !strings.HasPrefix(string(b), "20") || !strings.Contains(string(b), "unreadable token request") {
		t.Fatalf("refresh.log: %d bytes, starts %q", len(b), string(b[:min(80, len(b))]))
	}
}
