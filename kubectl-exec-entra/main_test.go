package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/helpers/execcred"
	"github.com/entratool/entratool/internal/testkit"
)

// TestCacheHitAnswersWithoutEngine fills the shared cache as the engine would and checks
// the front end answers from it alone; a different scope is a miss that goes to the
// engine (absent here, so the failure is reported, not invented).
func TestCacheHitAnswersWithoutEngine(t *testing.T) {
	home := t.TempDir()
	t.Setenv("PATH", t.TempDir()) // no entratool-engine anywhere
	env := map[string]string{"ENTRATOOL_HOME": home}
	getenv := func(k string) string { return env[k] }
	p := &profile.Profile{Name: "aks", ClientID: testkit.ClientID, TenantID: testkit.TenantID, AuthorityHost: "https://127.0.0.1:1"}
	if err := (&profile.Store{Home: home}).Update(context.Background(), func(c *profile.Config) error { c.Put(p); return nil }); err != nil {
		t.Fatal(err)
	}
	scope := execcred.ScopeFor(execcred.DefaultServerID)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	tok := "cached." + strings.Repeat("x", 20) + ".sig"
	c := &tokencache.Cache{Dir: tokencache.Dir(home, getenv)}
	id, ok := tokencache.CredentialID(p, c.Dir)
	if !ok {
		t.Fatal("no credential id for a secret profile")
	}
	if err := c.Put(tokencache.KeyFor(p, scope, id), &tokencache.Token{AccessToken: tok, TokenType: "Bearer", ExpiresOn: exp, Scope: scope}); err != nil {
		t.Fatal(err)
	}

	var stderr bytes.Buffer
	src := source{getenv: getenv, stderr: &stderr}
	got, err := src.Credential(context.Background(), execcred.Request{Scope: scope})
	if err != nil || got.Token != tok || !got.ExpiresOn.Equal(exp) {
		t.Fatalf("hit: %+v, %v (stderr %q)", got, err, stderr.String())
	}

	// ENTRATOOL_DEBUG skips the cache so that the engine can log what it does; "0" and
	// "false" are off, as everywhere (they used to send every call to the engine).
	for _, v := range []string{"0", "false"} {
		env["ENTRATOOL_DEBUG"] = v
		if got, err := src.Credential(context.Background(), execcred.Request{Scope: scope}); err != nil || got.Token != tok {
			t.Fatalf("ENTRATOOL_DEBUG=%s: %+v, %v", v, got, err)
		}
	}
	env["ENTRATOOL_DEBUG"] = "1"
	_, err = src.Credential(context.Background(), execcred.Request{Scope: scope})
	if err == nil || !strings.Contains(err.Error(), "entratool-engine not found") {
		t.Fatalf("debug: %v", err)
	}
	delete(env, "ENTRATOOL_DEBUG")

	_, err = src.Credential(context.Background(), execcred.Request{Scope: "api://other/.default"})
	if err == nil || !strings.Contains(err.Error(), "entratool-engine not found") || stderr.Len() != 0 {
		t.Fatalf("miss: %v, stderr %q", err, stderr.String())
	}
}

// --version is answered like every entratool binary's, on stdout, exit 0, before any
// profile is looked up.
func TestVersion(t *testing.T) {
	want := version.Line("kubectl-exec-entra") + "\n"
	for _, args := range [][]string{{"--version"}, {"-version"}, {"--profile", "nope", "--version"}} {
		var out, errOut bytes.Buffer
		getenv := func(string) string { return "" }
		code := execcred.Run(context.Background(), execcred.Env{Args: args, Getenv: getenv, Stdout: &out, Stderr: &errOut}, source{getenv: getenv, stderr: &errOut})
		if code != 0 || out.String() != want || errOut.Len() != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %q", args, code, out.String(), errOut.String(), want)
		}
	}
}
