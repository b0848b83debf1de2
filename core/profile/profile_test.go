package profile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entratool/entratool/internal/testkit"
)

const (
	guid1 = testkit.ClientID
	guid2 = testkit.TenantID
)

// The seed's documented file: no defaultProfile, useCertificate after certificatePath.
const seedFile = `{
"profiles": [
{
"name": "production-service",
"clientId": "12345678-1234-1234-1234-123456789abc",
"tenantId": "87654321-4321-4321-4321-cba987654321",
"certificatePath": "/path/to/certificate.pfx",
"useCertificate": true,
"scope": "https://graph.microsoft.com/.default"
}
]
}
`

func newStore(t *testing.T) *Store {
	t.Helper()
	return &Store{Home: filepath.Join(t.TempDir(), "home")}
}

func writeFile(t *testing.T, s *Store, content string) {
	t.Helper()
	if err := os.MkdirAll(s.Home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.Path(), []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

func readFile(t *testing.T, s *Store) string {
	t.Helper()
	b, err := os.ReadFile(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func validProfile(name string) *Profile {
	return &Profile{Name: name, ClientID: guid1, TenantID: guid2, UseCertificate: true, CertificatePath: "/c/" + name + ".pfx"}
}

func TestLoadMissingFileIsEmptyAndCreatesNothing(t *testing.T) {
	s := newStore(t)
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Profiles) != 0 || c.DefaultProfile != "" {
		t.Fatalf("want empty config, got %+v", c)
	}
	if _, err := os.Stat(s.Home); !os.IsNotExist(err) {
		t.Fatalf("Load created %s (stat err %v)", s.Home, err)
	}
}

func TestSeedLoadsAndRewritesInStructOrder(t *testing.T) {
	s := newStore(t)
	writeFile(t, s, seedFile)
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.Resolve("", func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	want := &Profile{Name: "production-service", ClientID: guid1, TenantID: guid2, UseCertificate: true,
		CertificatePath: "/path/to/certificate.pfx", Scope: "https://graph.microsoft.com/.default"}
	if !reflect.DeepEqual(p, want) {
		t.Fatalf("got %+v\nwant %+v", p, want)
	}
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(*Config) error { return nil }); err != nil {
		t.Fatal(err)
	}
	const golden = `{
  "profiles": [
    {
      "name": "production-service",
      "clientId": "12345678-1234-1234-1234-123456789abc",
      "tenantId": "87654321-4321-4321-4321-cba987654321",
      "useCertificate": true,
      "certificatePath": "/path/to/certificate.pfx",
      "scope": "https://graph.microsoft.com/.default"
    }
  ]
}
`
	if got := readFile(t, s); got != golden {
		t.Fatalf("rewrite:\n%s\nwant:\n%s", got, golden)
	}
}

func TestSpecExampleRoundTripsUnchanged(t *testing.T) {
	// SPEC §2's example is already in canonical form: an Update that changes nothing
	// must reproduce it byte for byte.
	const spec = `{
  "defaultProfile": "production-service",
  "profiles": [
    {
      "name": "production-service",
      "clientId": "12345678-1234-1234-1234-123456789abc",
      "tenantId": "87654321-4321-4321-4321-cba987654321",
      "useCertificate": true,
      "certificatePath": "/home/me/.entratool/certs/certificate.pfx",
      "scope": "https://graph.microsoft.com/.default",
      "authorityHost": "https://login.microsoftonline.com",
      "secretStore": "keyring",
      "gitHosts": ["dev.azure.com"],
      "registries": ["myregistry.azurecr.io"]
    }
  ]
}
`
	s := newStore(t)
	writeFile(t, s, spec)
	if err := s.Update(context.Background(), func(*Config) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := readFile(t, s); got != spec {
		t.Fatalf("rewrite:\n%s\nwant:\n%s", got, spec)
	}
}

func TestCorruptFiles(t *testing.T) {
	tests := []struct {
		name      string
		content   string
		line, col int
		msg       string
	}{
		{"truncated", "{\n  \"profiles\": [\n    {\"name\": \"a\"", 3, 17, "unexpected end of JSON input"},
		{"truncated after newline", "{\n  \"profiles\": [\n", 3, 1, "unexpected end of JSON input"},
		{"empty", "", 1, 1, "unexpected end of JSON input"},
		{"trailing comma", "{\n  \"profiles\": [],\n}\n", 3, 1, "invalid character '}'"},
		{"trailing comma in profile", "{\"profiles\": [\n  {\n    \"name\": \"a\",\n  }\n]}", 4, 3, "invalid character '}'"},
		{"useCertificate string", "{\n  \"profiles\": [\n    {\n      \"name\": \"a\",\n      \"useCertificate\": \"yes\"\n    }\n  ]\n}\n", 5, 25,
			`profiles[0].useCertificate must be true or false, not a string`},
		{"clientId number", "{\"profiles\": [{\"name\": \"a\"}, {\"clientId\": 12}]}", 1, 43, `profiles[1].clientId must be a string, not a number`},
		{"gitHosts element", "{\"profiles\": [{\n\"gitHosts\": [\"dev.azure.com\", 5]}]}", 2, 31, `profiles[0].gitHosts[1] must be a string, not a number`},
		{"options value", "{\"profiles\": [{\n\"certificateStoreOptions\": {\"module\": true}}]}", 2, 39, `profiles[0].certificateStoreOptions.module must be a string, not a boolean`},
		{"profiles object", "{\n\"profiles\": {}}", 2, 13, `profiles must be a JSON array, not an object`},
		{"profile null", "{\"profiles\": [null]}", 1, 15, `profiles[0] must be a JSON object, not null`},
		{"top-level array", "  []", 1, 3, `the file must be a JSON object, not an array`},
		{"defaultProfile bool", "{\"defaultProfile\": false}", 1, 20, `defaultProfile must be a string, not a boolean`},
		{"garbage after", "{}\nx", 2, 1, "invalid character 'x' after top-level value"},
		{"non-ASCII column", "{\"profiles\": [{\"name\": \"é\", \"sendX5C\": 1}]}", 1, 40, "profiles[0].sendX5C must be true or false"},
		{"BOM", "\uFEFF{\"profiles\": 1}", 1, 14, "profiles must be a JSON array, not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newStore(t)
			writeFile(t, s, tt.content)
			before, _ := os.Stat(s.Path())
			_, err := s.Load()
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("Load error = %v (%T), want *SyntaxError", err, err)
			}
			if se.Path != s.Path() || se.Line != tt.line || se.Column != tt.col || !strings.Contains(se.Msg, tt.msg) {
				t.Fatalf("got %s:%d:%d %q, want %s:%d:%d containing %q", se.Path, se.Line, se.Column, se.Msg, s.Path(), tt.line, tt.col, tt.msg)
			}
			if want := fmt.Sprintf("%s:%d:%d: %s", s.Path(), tt.line, tt.col, se.Msg); err.Error() != want || strings.Contains(se.Msg, "\n") {
				t.Fatalf("Error() = %q, want %q on one line", err.Error(), want)
			}

			called := false
			err = s.Update(context.Background(), func(c *Config) error {
				called = true
				c.Put(validProfile("new"))
				return nil
			})
			if !errors.As(err, &se) || called {
				t.Fatalf("Update error = %v, fn called = %v; want the SyntaxError and no call", err, called)
			}
			if got := readFile(t, s); got != tt.content {
				t.Fatalf("file changed:\n%q\nwant\n%q", got, tt.content)
			}
			after, _ := os.Stat(s.Path())
			if !after.ModTime().Equal(before.ModTime()) || !os.SameFile(before, after) {
				t.Fatal("file was replaced")
			}
			assertNoTempFiles(t, s.Home)
		})
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Fatalf("temp file left behind: %s", e.Name())
		}
	}
}

func TestUnknownFieldsSurviveUpdate(t *testing.T) {
	// Raw values with unusual spelling (escapes, exponent, odd spacing, nesting) must come
	// back exactly as written.
	const topRaw = `{ "nested" : [1, 2.50, {"x": "\u00e9"}],
    "n": null }`
	const profRaw = `1.0E+3`
	const profRaw2 = `"a\/b \ud83d\ude00"`
	content := `{
  "zeta": ` + topRaw + `,
  "defaultProfile": "a",
  "alpha": true,
  "profiles": [
    {
      "name": "a",
      "futureKnob": ` + profRaw + `,
      "clientId": "` + guid1 + `",
      "tenantId": "contoso.onmicrosoft.com",
      "ClientId": "case differs, so unknown",
      "aaa": ` + profRaw2 + `,
      "useCertificate": false
    }
  ]
}
`
	s := newStore(t)
	writeFile(t, s, content)
	err := s.Update(context.Background(), func(c *Config) error {
		c.Get("a").Scope = "api://x/.default"
		c.Put(validProfile("b"))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	got := readFile(t, s)
	for _, raw := range []string{`"zeta": ` + topRaw, `"alpha": true`, `"futureKnob": ` + profRaw, `"aaa": ` + profRaw2, `"ClientId": "case differs, so unknown"`} {
		if !strings.Contains(got, raw) {
			t.Errorf("rewritten file lacks %s:\n%s", raw, got)
		}
	}
	// Known keys first in struct order, then unknown keys sorted.
	order := []string{`"defaultProfile"`, `"profiles"`, `"name": "a"`, `"clientId"`, `"tenantId"`, `"useCertificate"`, `"scope"`, `"ClientId"`, `"aaa"`, `"futureKnob"`, `"name": "b"`, `"alpha"`, `"zeta"`}
	last := -1
	for _, k := range order {
		i := strings.Index(got, k)
		if i <= last {
			t.Fatalf("%s out of order in\n%s", k, got)
		}
		last = i
	}
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := c.Get("a").Extra("futureKnob"); !ok || string(v) != profRaw {
		t.Fatalf("futureKnob = %q, %v", v, ok)
	}
	// A second rewrite is a fixed point.
	if err := s.Update(context.Background(), func(*Config) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if again := readFile(t, s); again != got {
		t.Fatalf("second rewrite differs:\n%s\nvs\n%s", again, got)
	}
}

func TestUpdateCreatesPrivateFiles(t *testing.T) {
	s := newStore(t)
	s.Home = filepath.Join(s.Home, "nested")
	if err := s.Update(context.Background(), func(c *Config) error { c.Put(validProfile("a")); return nil }); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]os.FileMode{s.Home: 0o700, s.Path(): 0o600} {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", path, fi.Mode().Perm(), want)
		}
	}
	// A file left world-readable by hand is tightened by the next write.
	if err := os.Chmod(s.Path(), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.Update(context.Background(), func(*Config) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(s.Path()); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode after rewrite %v, want 0600", fi.Mode().Perm())
	}
	if !strings.HasSuffix(readFile(t, s), "}\n") {
		t.Error("file lacks a trailing newline")
	}
}

func TestUpdateWritesNothingOnFailure(t *testing.T) {
	s := newStore(t)
	writeFile(t, s, seedFile)
	boom := errors.New("boom")
	if err := s.Update(context.Background(), func(c *Config) error {
		c.Put(validProfile("x"))
		return boom
	}); !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	if readFile(t, s) != seedFile {
		t.Fatal("fn error still wrote the file")
	}
	err := s.Update(context.Background(), func(c *Config) error {
		c.Put(&Profile{Name: "bad", ClientID: "nope", TenantID: guid2})
		return nil
	})
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Field != "clientId" || !strings.Contains(err.Error(), `profile "bad": clientId "nope" is not a GUID`) {
		t.Fatalf("err = %v, want clientId FieldError", err)
	}
	if readFile(t, s) != seedFile {
		t.Fatal("invalid config was written")
	}
	assertNoTempFiles(t, s.Home)
}

func TestUpdateHonoursContextWhileLocked(t *testing.T) {
	s := newStore(t)
	inside := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- s.Update(context.Background(), func(*Config) error {
			close(inside)
			<-release
			return nil
		})
	}()
	<-inside
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := s.Update(ctx, func(*Config) error { t.Error("fn ran without the lock"); return nil })
	if err == nil || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a lock timeout", err)
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestConfigValidate(t *testing.T) {
	c := &Config{Profiles: []*Profile{validProfile("a"), validProfile("a")}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `two profiles are named "a"`) {
		t.Fatalf("duplicate names: %v", err)
	}
	c = &Config{DefaultProfile: "zz", Profiles: []*Profile{validProfile("a")}}
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `defaultProfile "zz" names no profile`) {
		t.Fatalf("dangling default: %v", err)
	}
	c.DefaultProfile = "a"
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestGetPutDelete(t *testing.T) {
	c := &Config{DefaultProfile: "b"}
	c.Put(validProfile("a"))
	c.Put(validProfile("b"))
	c.Put(validProfile("c"))
	repl := validProfile("b")
	repl.Scope = "s"
	c.Put(repl)
	if got := c.Names(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Fatalf("names %v", got)
	}
	if c.Get("b").Scope != "s" || c.Get("B") != nil {
		t.Fatal("Get is not an exact-name lookup of the replaced profile")
	}
	if !c.Delete("b") || c.Delete("b") {
		t.Fatal("Delete should report true once, then false")
	}
	if c.DefaultProfile != "" {
		t.Fatal("deleting the default profile must clear defaultProfile")
	}
	if got := c.Names(); !reflect.DeepEqual(got, []string{"a", "c"}) {
		t.Fatalf("names %v", got)
	}
}

func TestResolve(t *testing.T) {
	two := func() *Config {
		return &Config{Path: "/h/profiles.json", Profiles: []*Profile{validProfile("a"), validProfile("b")}}
	}
	tests := []struct {
		name    string
		cfg     *Config
		flag    string
		env     string
		want    string
		wantErr error
		errText string
	}{
		{"flag wins over env and default", func() *Config { c := two(); c.DefaultProfile = "a"; return c }(), "b", "a", "b", nil, ""},
		{"env wins over default", func() *Config { c := two(); c.DefaultProfile = "a"; return c }(), "", "b", "b", nil, ""},
		{"default", func() *Config { c := two(); c.DefaultProfile = "b"; return c }(), "", "", "b", nil, ""},
		{"only profile", &Config{Profiles: []*Profile{validProfile("solo")}}, "", "", "solo", nil, ""},
		{"several, none chosen", two(), "", "", "", ErrNoProfile,
			"no profile selected: pass --profile NAME, set ENTRATOOL_PROFILE, or run 'entratool config use NAME' (profiles: a, b)"},
		{"no profiles", &Config{Path: "/h/profiles.json"}, "", "", "", ErrNoProfile, "no profiles yet: run 'entratool config create'"},
		{"flag names missing", two(), "x", "", "", ErrProfileNotFound, `profile "x" not found in /h/profiles.json (have: a, b)`},
		{"flag names missing, none exist", &Config{Path: "/h/profiles.json"}, "x", "", "", ErrProfileNotFound,
			`profile "x" not found in /h/profiles.json (no profiles yet: run 'entratool config create')`},
		{"env names missing", two(), "", "x", "", ErrProfileNotFound,
			`profile "x" not found in /h/profiles.json (have: a, b); the name comes from ENTRATOOL_PROFILE`},
		{"flag not confused by env", two(), "x", "a", "", ErrProfileNotFound, `profile "x" not found in /h/profiles.json (have: a, b)`},
		{"default names missing", func() *Config { c := two(); c.DefaultProfile = "gone"; return c }(), "", "", "", ErrProfileNotFound,
			`profile "gone" not found in /h/profiles.json (have: a, b); the name comes from defaultProfile`},
		{"only profile but env names another", &Config{Path: "p", Profiles: []*Profile{validProfile("solo")}}, "", "x", "", ErrProfileNotFound, `profile "x" not found in p (have: solo)`},
		{"exact match only", two(), "A", "", "", ErrProfileNotFound, `profile "A" not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "ENTRATOOL_PROFILE" {
					return tt.env
				}
				return ""
			}
			p, err := tt.cfg.Resolve(tt.flag, getenv)
			if tt.wantErr != nil {
				var re *ResolveError
				if !errors.Is(err, tt.wantErr) || !errors.As(err, &re) || !strings.HasPrefix(err.Error(), tt.errText) || p != nil {
					t.Fatalf("got %v, %v; want %v with text %q", p, err, tt.wantErr, tt.errText)
				}
				return
			}
			if err != nil || p == nil || p.Name != tt.want {
				t.Fatalf("got %v, %v; want %s", p, err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	mod := func(f func(*Profile)) *Profile { p := validProfile("ok"); f(p); return p }
	tests := []struct {
		name  string
		p     *Profile
		field string // "" = valid
		text  string
	}{
		{"valid", validProfile("ok"), "", ""},
		{"domain tenant", mod(func(p *Profile) { p.TenantID = "contoso.onmicrosoft.com" }), "", ""},
		{"upper-case GUID", mod(func(p *Profile) { p.ClientID = strings.ToUpper(guid1) }), "", ""},
		{"client secret profile", mod(func(p *Profile) { p.UseCertificate = false; p.CertificatePath = "" }), "", ""},
		{"thumbprint and store", mod(func(p *Profile) {
			p.CertificatePath = ""
			p.CertificateThumbprint = strings.Repeat("AB", 20)
			p.CertificateStore = "pkcs11"
			p.CertificateStoreOptions = map[string]string{"module": "/usr/lib/softhsm/libsofthsm2.so"}
		}), "", ""},
		{"sha256 thumbprint", mod(func(p *Profile) { p.CertificateThumbprint = strings.Repeat("0f", 32) }), "", ""},
		{"every cloud", mod(func(p *Profile) { p.Cloud = "china" }), "", ""},
		{"local authority", mod(func(p *Profile) { p.AuthorityHost = "https://127.0.0.1:8443/" }), "", ""},
		{"all stores", mod(func(p *Profile) { p.SecretStore = "env" }), "", ""},
		{"hosts", mod(func(p *Profile) {
			p.GitHosts = []string{"dev.azure.com", "*.visualstudio.com"}
			p.Registries = []string{"r.azurecr.io", "localhost:5000"}
			p.SubscriptionID = guid2
		}), "", ""},
		{"empty name", mod(func(p *Profile) { p.Name = "" }), "name", "name is missing"},
		{"slash in name", mod(func(p *Profile) { p.Name = "a/b" }), "name", `name "a/b" must not contain '/'`},
		{"space in name", mod(func(p *Profile) { p.Name = "a b" }), "name", `name "a b" must not contain spaces`},
		{"tab in name", mod(func(p *Profile) { p.Name = "a\tb" }), "name", "must not contain spaces"},
		{"dash name", mod(func(p *Profile) { p.Name = "-p" }), "name", "must not start with '-'"},
		{"dot name", mod(func(p *Profile) { p.Name = ".." }), "name", "reserved"},
		{"missing client", mod(func(p *Profile) { p.ClientID = "" }), "clientId", "clientId is missing"},
		{"bad client", mod(func(p *Profile) { p.ClientID = "12345678-1234-1234-1234-123456789abz" }), "clientId", "is not a GUID"},
		{"braced client", mod(func(p *Profile) { p.ClientID = "{" + guid1 + "}" }), "clientId", "is not a GUID"},
		{"missing tenant", mod(func(p *Profile) { p.TenantID = "" }), "tenantId", "tenantId is missing"},
		{"single-label tenant", mod(func(p *Profile) { p.TenantID = "contoso" }), "tenantId", `tenantId "contoso" is neither a GUID nor a domain`},
		{"IP tenant", mod(func(p *Profile) { p.TenantID = "10.0.0.1" }), "tenantId", "neither"},
		{"URL tenant", mod(func(p *Profile) { p.TenantID = "https://contoso.com" }), "tenantId", "neither"},
		{"no certificate", mod(func(p *Profile) { p.CertificatePath = "" }), "certificatePath", "useCertificate is true but neither certificatePath"},
		{"bad thumbprint", mod(func(p *Profile) { p.CertificateThumbprint = "AB:CD" }), "certificateThumbprint", "hex digits"},
		{"bad cloud", mod(func(p *Profile) { p.Cloud = "germany" }), "cloud", `cloud "germany" must be public, usgov or china`},
		{"http authority", mod(func(p *Profile) { p.AuthorityHost = "http://127.0.0.1:8080" }), "authorityHost", "must use https://"},
		{"authority with tenant path", mod(func(p *Profile) { p.AuthorityHost = "https://login.microsoftonline.com/contoso" }), "authorityHost", "must be just scheme and host"},
		{"authority not URL", mod(func(p *Profile) { p.AuthorityHost = "login.microsoftonline.com" }), "authorityHost", "is not a URL"},
		{"bad store", mod(func(p *Profile) { p.SecretStore = "vault" }), "secretStore", `secretStore "vault" must be keyring, file or env`},
		{"URL registry", mod(func(p *Profile) { p.Registries = []string{"https://r.azurecr.io"} }), "registries[0]", "not a URL"},
		{"empty git host", mod(func(p *Profile) { p.GitHosts = []string{"dev.azure.com", ""} }), "gitHosts[1]", "gitHosts[1] is empty"},
		{"bad subscription", mod(func(p *Profile) { p.SubscriptionID = "sub" }), "subscriptionId", "not a GUID"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || !strings.Contains(err.Error(), tt.text) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("got %v, want field %s and text %q", err, tt.field, tt.text)
			}
			if !strings.Contains(err.Error(), strings.Split(tt.field, "[")[0]) && tt.field != "certificatePath" {
				t.Fatalf("%q does not name the field %s", err, tt.field)
			}
		})
	}
}

func TestValidGUIDAndTenant(t *testing.T) {
	for s, want := range map[string]bool{guid1: true, strings.ToUpper(guid2): true, "": false, guid1 + "0": false, strings.ReplaceAll(guid1, "-", ""): false, "12345678_1234-1234-1234-123456789abc": false} {
		if ValidGUID(s) != want {
			t.Errorf("ValidGUID(%q) = %v", s, !want)
		}
	}
	for s, want := range map[string]bool{guid1: true, "contoso.onmicrosoft.com": true, "a-b.example.co.uk": true, "x.io": true,
		"contoso": false, "-a.com": false, "a-.com": false, "a..com": false, "a.com.": false, "1.2.3.4": false, "a_b.com": false, strings.Repeat("a", 64) + ".com": false} {
		if ValidTenant(s) != want {
			t.Errorf("ValidTenant(%q) = %v", s, !want)
		}
	}
}

func TestAuthority(t *testing.T) {
	for _, tt := range []struct{ host, cloud, want string }{
		{"", "", "https://login.microsoftonline.com"},
		{"", "public", "https://login.microsoftonline.com"},
		{"", "usgov", "https://login.microsoftonline.us"},
		{"", "china", "https://login.chinacloudapi.cn"},
		{"https://127.0.0.1:8443/", "china", "https://127.0.0.1:8443"},
		{"https://login.microsoftonline.us", "", "https://login.microsoftonline.us"},
	} {
		p := &Profile{AuthorityHost: tt.host, Cloud: tt.cloud}
		if got := p.Authority(); got != tt.want {
			t.Errorf("Authority(%q, %q) = %q, want %q", tt.host, tt.cloud, got, tt.want)
		}
	}
}

func TestHome(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	h, err := Home(env(map[string]string{"ENTRATOOL_HOME": "/srv/et"}))
	if err != nil || h != "/srv/et" {
		t.Fatalf("Home = %q, %v", h, err)
	}
	h, err = Home(env(map[string]string{"ENTRATOOL_HOME": "rel"}))
	wd, _ := os.Getwd()
	if err != nil || h != filepath.Join(wd, "rel") {
		t.Fatalf("relative Home = %q, %v", h, err)
	}
	t.Setenv("HOME", "/home/someone")
	h, err = Home(env(nil))
	if err != nil || h != "/home/someone/.entratool" {
		t.Fatalf("default Home = %q, %v", h, err)
	}
	// HOME is read through getenv, like every variable (a front's getenv is
	// launch.Getenv); the process's HOME is only the fallback.
	h, err = Home(env(map[string]string{"HOME": "/home/given"}))
	if err != nil || h != "/home/given/.entratool" {
		t.Fatalf("Home with getenv's HOME = %q, %v", h, err)
	}
	t.Setenv("HOME", "")
	if _, err := Home(env(nil)); err == nil || !strings.Contains(err.Error(), "set ENTRATOOL_HOME") {
		t.Fatalf("no HOME anywhere: %v", err)
	}
}

// Every field of Profile must survive Marshal→Parse: this fails when a field is added
// with a type the reflective codec does not handle.
func TestEveryFieldRoundTrips(t *testing.T) {
	p := &Profile{}
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.CanSet() || v.Type().Field(i).Tag.Get("json") == "-" {
			continue // never written: FromEnvironment
		}
		switch f.Kind() {
		case reflect.String:
			f.SetString("v" + strconv.Itoa(i) + ` "q" & <tag> é`)
		case reflect.Bool:
			f.SetBool(true)
		case reflect.Slice:
			f.Set(reflect.ValueOf([]string{"x" + strconv.Itoa(i), "y"}))
		case reflect.Map:
			f.Set(reflect.ValueOf(map[string]string{"k": "v", "a": "b"}))
		default:
			t.Fatalf("field %s has kind %s", v.Type().Field(i).Name, f.Kind())
		}
	}
	c := &Config{DefaultProfile: p.Name, Profiles: []*Profile{p}}
	out := c.Marshal()
	back, err := Parse("x", out)
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !reflect.DeepEqual(back.Profiles[0], p) {
		t.Fatalf("round trip lost data:\n%+v\n%+v", back.Profiles[0], p)
	}
	if !strings.Contains(string(out), `& <tag>`) {
		t.Error("strings were HTML-escaped")
	}
	j, err := p.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	var q Profile
	if err := q.UnmarshalJSON(j); err != nil || !reflect.DeepEqual(&q, p) {
		t.Fatalf("MarshalJSON/UnmarshalJSON round trip: %v\n%+v", err, q)
	}
}

func TestProfileJSONKeepsUnknownKeys(t *testing.T) {
	var p Profile
	if err := p.UnmarshalJSON([]byte(`{"name":"a","x-later":{"deep":[1]}}`)); err != nil {
		t.Fatal(err)
	}
	c := p.Clone()
	out, _ := c.MarshalJSON()
	if !strings.Contains(string(out), `"x-later": {"deep":[1]}`) {
		t.Fatalf("unknown key lost: %s", out)
	}
	if err := p.UnmarshalJSON([]byte(`{"useCertificate":"yes"}`)); err == nil || !strings.Contains(err.Error(), "profile.useCertificate must be true or false") {
		t.Fatalf("err = %v", err)
	}
}

// --- concurrency ---------------------------------------------------------------------

const rounds = 50

func addProfiles(ctx context.Context, s *Store, prefix string) error {
	for i := range rounds {
		name := fmt.Sprintf("%s-%d", prefix, i)
		if err := s.Update(ctx, func(c *Config) error {
			c.Put(validProfile(name))
			return nil
		}); err != nil {
			return err
		}
	}
	return nil
}

func checkAll(t *testing.T, s *Store, prefixes ...string) {
	t.Helper()
	c, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Profiles) != len(prefixes)*rounds {
		t.Fatalf("have %d profiles, want %d", len(c.Profiles), len(prefixes)*rounds)
	}
	for _, pre := range prefixes {
		for i := range rounds {
			if c.Get(fmt.Sprintf("%s-%d", pre, i)) == nil {
				t.Fatalf("lost %s-%d", pre, i)
			}
		}
	}
}

func TestConcurrentUpdatesGoroutines(t *testing.T) {
	s := newStore(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for _, pre := range []string{"g1", "g2"} {
		wg.Go(func() { errs <- addProfiles(ctx, s, pre) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	checkAll(t, s, "g1", "g2")
}

// TestHelperProcess is the body of the child processes TestConcurrentUpdatesProcesses
// starts; it does nothing in a normal run.
func TestHelperProcess(t *testing.T) {
	prefix := os.Getenv("PROFILE_TEST_WORKER")
	if prefix == "" {
		t.Skip("child process body for TestConcurrentUpdatesProcesses")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := addProfiles(ctx, &Store{Home: os.Getenv("ENTRATOOL_HOME")}, prefix); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentUpdatesProcesses(t *testing.T) {
	s := newStore(t)
	var cmds []*exec.Cmd
	var outs []*strings.Builder
	for _, pre := range []string{"p1", "p2"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PROFILE_TEST_WORKER="+pre, "ENTRATOOL_HOME="+s.Home)
		out := &strings.Builder{}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		outs = append(outs, out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("worker %d: %v\n%s", i, err, outs[i])
		}
	}
	checkAll(t, s, "p1", "p2")
}

func TestCheckScope(t *testing.T) {
	for _, tc := range []struct{ scope, suggest string }{
		{"https://management.azure.com", "did you mean https://management.azure.com/.default?"},
		{"https://management.azure.com/", "did you mean https://management.azure.com/.default?"},
		{"api://my-app", "did you mean api://my-app/.default?"},
		{"499b84ac-1321-427f-aa17-267ca6975798", "did you mean 499b84ac-1321-427f-aa17-267ca6975798/.default?"},
		{"https://graph.microsoft.com/.default https://vault.azure.net", "did you mean https://vault.azure.net/.default?"},
	} {
		err := CheckScope(tc.scope)
		if err == nil || !strings.Contains(err.Error(), tc.suggest) {
			t.Errorf("CheckScope(%q) = %v, want %q", tc.scope, err, tc.suggest)
		}
	}
	for _, ok := range []string{"", "https://graph.microsoft.com/.default", "https://management.core.windows.net//.default",
		"499b84ac-1321-427f-aa17-267ca6975798/.default", "https://graph.microsoft.com/User.Read", "api://app/access_as_user",
		"openid", "User.Read"} {
		if err := CheckScope(ok); err != nil {
			t.Errorf("CheckScope(%q): %v", ok, err)
		}
	}
	if got := ResourceScope("https://management.core.windows.net/"); got != "https://management.core.windows.net//.default" {
		t.Errorf("ResourceScope keeps the resource verbatim, as az does: %q", got)
	}
}

func TestGraphEndpoint(t *testing.T) {
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == EnvGraphEndpoint {
				return v
			}
			return ""
		}
	}
	for _, tc := range []struct {
		p    Profile
		env  string
		want string
	}{
		{Profile{}, "", GraphPublic},
		{Profile{Cloud: "usgov"}, "", GraphUSGov},
		{Profile{Cloud: "china"}, "", GraphChina},
		{Profile{AuthorityHost: "https://login.microsoftonline.us/"}, "", GraphUSGov},
		{Profile{AuthorityHost: "https://127.0.0.1:8443"}, "https://127.0.0.1:9443/", "https://127.0.0.1:9443"},
		{Profile{AuthorityHost: "https://127.0.0.1:8443", GraphEndpoint: "https://graph.local/"}, "https://other", "https://graph.local"},
	} {
		got, err := tc.p.Graph(env(tc.env))
		if err != nil || got != tc.want {
			t.Errorf("%+v env %q: %q, %v; want %q", tc.p, tc.env, got, err, tc.want)
		}
	}
	p := Profile{Name: "x", AuthorityHost: "https://login.contoso.test"}
	if _, err := p.Graph(env("")); err == nil || !strings.Contains(err.Error(), "graphEndpoint") || !strings.Contains(err.Error(), EnvGraphEndpoint) {
		t.Errorf("custom authority without a Graph endpoint: %v", err)
	}
	if _, err := p.Graph(env("http://graph.test")); err == nil {
		t.Error("http:// Graph endpoint accepted")
	}
	bad := Profile{Name: "x", ClientID: "12345678-1234-1234-1234-123456789abc", TenantID: "t.onmicrosoft.com", ApplicationObjectID: "12345678-1234-1234-1234-123456789abc"}
	if err := bad.Validate(); err != nil {
		t.Errorf("valid renewal fields: %v", err)
	}
	bad.ApplicationObjectID = "myapp"
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "Object ID") {
		t.Errorf("applicationObjectId not a GUID: %v", err)
	}
}

func TestEnvProfile(t *testing.T) {
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	ids := []string{EnvAzureTenantID, "87654321-4321-4321-4321-cba987654321", EnvAzureClientID, "12345678-1234-1234-1234-123456789abc"}
	// azidentity's order: secret, then certificate, then federated token file.
	p, err := FromEnv(env(append(ids, EnvAzureFederatedToken, "/var/run/token", EnvAzureCertPath, "/c.pfx", EnvAzureClientSecret, "s")...))
	if err != nil || p.Method() != MethodSecret || !p.FromEnvironment || p.Name != EnvName {
		t.Fatalf("secret first: %+v %v", p, err)
	}
	p, err = FromEnv(env(append(ids, EnvAzureFederatedToken, "/var/run/token", EnvAzureCertPath, "/c.pfx", EnvAzureSendChain, "true",
		EnvGitHosts, "git.example.com, dev.azure.com", EnvRegistries, "r.azurecr.io")...))
	if err != nil || p.Method() != MethodCertificate || p.CertificatePath != "/c.pfx" || !p.SendX5C ||
		len(p.GitHosts) != 2 || p.Registries[0] != "r.azurecr.io" {
		t.Fatalf("certificate: %+v %v", p, err)
	}
	p, err = FromEnv(env(append(ids, EnvAzureFederatedToken, "/var/run/token", EnvAzureAuthorityHost, "https://login.microsoftonline.us")...))
	if err != nil || p.Method() != MethodFederated || p.FederatedSource() != "file:/var/run/token" || p.Authority() != AuthorityUSGov {
		t.Fatalf("federated: %+v %v", p, err)
	}
	if _, err := FromEnv(env(ids...)); err == nil || !strings.Contains(err.Error(), EnvAzureClientSecret) || !strings.Contains(err.Error(), EnvAzureFederatedToken) {
		t.Errorf("no credential: %v", err)
	}
	// Resolution: -p env beside stored profiles; implicit with none stored.
	c := &Config{Profiles: []*Profile{{Name: "a", ClientID: "12345678-1234-1234-1234-123456789abc", TenantID: "t.onmicrosoft.com"}, {Name: "b"}}}
	withSecret := env(append(ids, EnvAzureClientSecret, "s")...)
	if p, err := c.Resolve("env", withSecret); err != nil || !p.FromEnvironment {
		t.Errorf("-p env: %+v %v", p, err)
	}
	if _, err := c.Resolve("", withSecret); err == nil {
		t.Error("with stored profiles and no default, the environment was used implicitly")
	}
	if p, err := (&Config{}).Resolve("", withSecret); err != nil || !p.FromEnvironment {
		t.Errorf("implicit: %+v %v", p, err)
	}
	if _, err := (&Config{}).Resolve("", env(EnvAzureClientSecret, "s")); err == nil {
		t.Error("implicit env profile without ids")
	}
}
