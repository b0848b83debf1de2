package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/helpers/dockercred"
	"github.com/entratool/entratool/internal/testbin"
	"github.com/entratool/entratool/internal/testkit"
)

const (
	tenantID = testkit.TenantID
	clientID = testkit.ClientID
)

// One emulator for the package, and entratool-engine built once: the front end under
// test hands cache misses to the real engine, a separate process that inherits this
// process's environment (SSL_CERT_FILE for the emulator's CA, PATH to find it).
var emu *emulator.Emulator

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "dce-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	bin, err := testbin.Dir("./entratool-engine")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	emu, err = emulator.Start(emulator.Options{Dir: filepath.Join(dir, "emulator")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer emu.Close()
	os.Setenv("SSL_CERT_FILE", emu.CAFile)
	os.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	os.Unsetenv("ENTRATOOL_PROFILE")
	os.Unsetenv("ENTRATOOL_DEBUG")
	os.Unsetenv("ENTRATOOL_CACHE_DIR")
	return m.Run()
}

// world is an ENTRATOOL_HOME with one certificate profile, set in the environment.
type world struct {
	t    *testing.T
	home string
	pfx  string
}

func newWorld(t *testing.T, registries ...string) *world {
	t.Helper()
	dir := t.TempDir()
	w := &world{t: t, home: filepath.Join(dir, "home"), pfx: filepath.Join(dir, "app.pfx")}
	t.Setenv("ENTRATOOL_HOME", w.home)
	t.Setenv("ENTRATOOL_SECRET_STORE", "file")
	c, err := cert.Create(cert.CreateOptions{Subject: "CN=docker-test", Days: 30})
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.WritePFX(w.pfx, c, "pfx-pw"); err != nil {
		t.Fatal(err)
	}
	emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Certificates: []*x509.Certificate{c.Leaf}})
	w.put(&profile.Profile{Name: "ci", ClientID: clientID, TenantID: tenantID, UseCertificate: true, CertificatePath: w.pfx,
		AuthorityHost: emu.URL, Registries: registries})
	s, err := secret.Open("file", w.home, os.Getenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(context.Background(), secret.Key("ci", secret.CertificatePassword), "pfx-pw"); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) put(p *profile.Profile) {
	w.t.Helper()
	err := (&profile.Store{Home: w.home}).Update(context.Background(), func(c *profile.Config) error { c.Put(p); return nil })
	if err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) run(stdin string, args ...string) (string, string, int) {
	w.t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, os.Getenv)
	return out.String(), errb.String(), code
}

func (w *world) get(host string) string {
	w.t.Helper()
	out, errOut, code := w.run(host+"\n", "get")
	if code != 0 {
		w.t.Fatalf("get %s: exit %d\nstdout: %s\nstderr: %s", host, code, out, errOut)
	}
	var c struct{ ServerURL, Username, Secret string }
	if err := json.Unmarshal([]byte(out), &c); err != nil || c.Username != dockercred.NullUser || c.Secret == "" {
		w.t.Fatalf("get %s printed %q (%v)", host, out, err)
	}
	return c.Secret
}

func startRegistry(t *testing.T, o emulator.RegistryOptions) *emulator.Registry {
	t.Helper()
	r, err := emu.StartRegistry(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// A cache hit is one file read (and a stat of the certificate, whose thumbprint names
// the key): no Entra request, no exchange, no PFX decrypted — its password is gone by
// then — and no engine.
func TestCachedRefreshTokenNeedsNothingElse(t *testing.T) {
	reg := startRegistry(t, emulator.RegistryOptions{})
	w := newWorld(t, reg.Host)
	emu.ResetCounts()
	first := w.get(reg.Host)
	if c, rc := emu.Counts(), reg.Counts(); c.TokenIssued != 1 || rc.ExchangeIssued != 1 {
		t.Fatalf("first get: entra %+v, registry %+v", c, rc)
	}
	claims := emu.Counts()
	if err := os.Remove(filepath.Join(w.home, "secrets.json")); err != nil {
		t.Fatal(err)
	}
	// An engine run would fail now: none on PATH.
	t.Setenv("PATH", "/nonexistent")
	for _, in := range []string{reg.Host, "https://" + reg.Host + "/v2/", reg.Host + "/team/app"} {
		if got := w.get(in); got != first {
			t.Fatalf("get %s: a different refresh token", in)
		}
	}
	if c, rc := emu.Counts(), reg.Counts(); c != claims || rc.Exchange != 1 {
		t.Fatalf("cached gets made requests: entra %+v, registry %+v", c, rc)
	}
	// The cache entry is private, as the access tokens' are.
	matches, _ := filepath.Glob(filepath.Join(w.home, "cache", "tokens", "*.json"))
	found := false
	for _, m := range matches {
		data, _ := os.ReadFile(m)
		if bytes.Contains(data, []byte(first)) {
			found = true
			if fi, _ := os.Stat(m); fi.Mode().Perm() != 0o600 {
				t.Fatalf("%s has mode %v", m, fi.Mode().Perm())
			}
			if !bytes.Contains(data, []byte(`"kind":"acr-refresh"`)) {
				t.Fatalf("cache entry without its kind: %s", data)
			}
		}
	}
	if !found {
		t.Fatalf("refresh token not in the token cache (%v)", matches)
	}
}

func TestEraseForgetsTheRefreshToken(t *testing.T) {
	reg := startRegistry(t, emulator.RegistryOptions{})
	w := newWorld(t, reg.Host)
	emu.ResetCounts()
	first := w.get(reg.Host)
	if out, errOut, code := w.run(reg.Host, "erase"); code != 0 || out != "" {
		t.Fatalf("erase: %d %q %q", code, out, errOut)
	}
	second := w.get(reg.Host)
	if second == first || reg.Counts().ExchangeIssued != 2 {
		t.Fatalf("get after erase: same token %v, registry %+v", second == first, reg.Counts())
	}
	// The Entra token was still good: erase drops only the registry's token.
	if c := emu.Counts(); c.TokenIssued != 1 {
		t.Fatalf("entra counts %+v", c)
	}
}

// A refresh token that lives less than the margin is used but not served again.
func TestShortLivedRefreshTokenIsNotReused(t *testing.T) {
	reg := startRegistry(t, emulator.RegistryOptions{RefreshTokenLifetime: 4 * time.Minute})
	w := newWorld(t, reg.Host)
	w.get(reg.Host)
	w.get(reg.Host)
	if rc := reg.Counts(); rc.ExchangeIssued != 2 {
		t.Fatalf("registry %+v, want two exchanges", rc)
	}
}

// Processes that miss the cache together make one exchange.
func TestConcurrentGetsExchangeOnce(t *testing.T) {
	reg := startRegistry(t, emulator.RegistryOptions{})
	newWorld(t, reg.Host)
	emu.ResetCounts()
	var wg sync.WaitGroup
	tokens := make([]string, 8)
	for i := range tokens {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out, errb bytes.Buffer
			if code := run(context.Background(), []string{"get"}, strings.NewReader(reg.Host), &out, &errb, os.Getenv); code != 0 {
				t.Errorf("get %d: %s %s", i, out.String(), errb.String())
			}
			tokens[i] = out.String()
		}()
	}
	wg.Wait()
	for _, tok := range tokens[1:] {
		if tok != tokens[0] {
			t.Fatal("concurrent gets answered different tokens")
		}
	}
	if rc, c := reg.Counts(), emu.Counts(); rc.Exchange != 1 || c.TokenIssued != 1 {
		t.Fatalf("registry %+v, entra %+v", rc, c)
	}
}

// A registry no profile lists is answered from profiles.json alone: the certificate
// path does not even exist.
func TestUnservedRegistryTouchesNothing(t *testing.T) {
	w := newWorld(t, "myregistry.azurecr.io")
	os.Remove(w.pfx)
	os.Remove(filepath.Join(w.home, "secrets.json"))
	emu.ResetCounts()
	for _, host := range []string{"myregistry.azurecr.io.evil.com", "evil-myregistry.azurecr.io", "index.docker.io"} {
		out, errOut, code := w.run(host+"\n", "get")
		if code != 1 || out != "credentials not found in native keychain\n" || errOut != "" {
			t.Fatalf("get %s: %d %q %q", host, code, out, errOut)
		}
	}
	if c := emu.Counts(); c.Total != 0 {
		t.Fatalf("unserved registries reached the authority: %+v", c)
	}
	if _, err := os.Stat(filepath.Join(w.home, "cache")); !os.IsNotExist(err) {
		t.Fatalf("unserved registries created the cache: %v", err)
	}
	out, _, code := w.run("", "list")
	if code != 0 || strings.TrimSpace(out) != `{"myregistry.azurecr.io":"`+dockercred.NullUser+`"}` {
		t.Fatalf("list: %d %q", code, out)
	}
}

func TestProfileErrorsAreOneLineOnStdout(t *testing.T) {
	w := newWorld(t, "myregistry.azurecr.io")
	if err := os.WriteFile(filepath.Join(w.home, "profiles.json"), []byte("{\n  \"profiles\": [\n    {,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := w.run("myregistry.azurecr.io", "get")
	if code != 1 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "profiles.json:3:") || errOut != "" {
		t.Fatalf("malformed profiles.json: %d %q %q", code, out, errOut)
	}
	// A listed registry whose profile cannot get a token says why, in one line.
	w = newWorld(t, "127.0.0.1:9")
	os.Remove(w.pfx)
	out, _, code = w.run("127.0.0.1:9", "get")
	if code != 1 || strings.Count(out, "\n") != 1 || !strings.Contains(out, "profile ci, registry 127.0.0.1:9") || !strings.Contains(out, w.pfx) {
		t.Fatalf("missing certificate: %d %q", code, out)
	}
}
