package keystore

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/internal/testbin"
	"github.com/entratool/entratool/internal/testkit"
)

// fakePlugin is the test plugin, built once per run by internal/testbin.
const fakePlugin = "./core/keystore/internal/fakeplugin"

// fixture is a home with the fake plugin installed as entratool-keystore-fake, and a
// PEM certificate and key for it to serve.
type fixture struct {
	t    *testing.T
	home string
	pem  string
	c    *cert.Credential
	env  []string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t, home: t.TempDir(), c: newCred(t, "CN=plugin-app")}
	plugins := filepath.Join(f.home, "plugins")
	if err := os.MkdirAll(plugins, 0o700); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(testbin.Path(t, fakePlugin))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(plugins, "entratool-keystore-fake"), data, 0o700); err != nil {
		t.Fatal(err)
	}
	key, err := x509.MarshalPKCS8PrivateKey(f.c.Key)
	if err != nil {
		t.Fatal(err)
	}
	f.pem = filepath.Join(f.home, "app.pem")
	pemData := append(cert.EncodeCER(f.c.Leaf, false), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...)
	if err := os.WriteFile(f.pem, pemData, 0o600); err != nil {
		t.Fatal(err)
	}
	f.env = []string{"PATH=/usr/bin:/bin", "HOME=" + f.home}
	return f
}

func (f *fixture) host(timeout time.Duration, extraEnv ...string) Host {
	env := append(append([]string(nil), f.env...), extraEnv...)
	return Host{Home: f.home, Getenv: func(k string) string {
		if k == "PATH" {
			return "/usr/bin:/bin"
		}
		return ""
	}, Environ: func() []string { return env }, Timeout: timeout}
}

func (f *fixture) profile(opts map[string]string) *profile.Profile {
	o := map[string]string{"pem": f.pem, "pin": "4321"}
	for k, v := range opts {
		o[k] = v
	}
	return &profile.Profile{Name: "hsm", ClientID: testkit.ClientID, UseCertificate: true,
		CertificateStore: "fake", CertificateThumbprint: cert.ThumbprintSHA1(f.c.Leaf), CertificateStoreOptions: o}
}

func TestHostFindsPluginWhereDocumented(t *testing.T) {
	home := t.TempDir()
	pathDir := t.TempDir()
	h := Host{Home: home, Getenv: func(k string) string {
		if k == "PATH" {
			return "relative/dir" + string(os.PathListSeparator) + pathDir
		}
		return ""
	}}
	_, err := h.Find("pkcs11")
	if !errors.Is(err, ErrPluginFailed) {
		t.Fatalf("missing plugin: %v", err)
	}
	self, _ := os.Executable()
	self, _ = filepath.EvalSymlinks(self)
	want := fmt.Sprintf(`key-store plugin "pkcs11" not found: no entratool-keystore-pkcs11 in %s, %s or on PATH; install it there (see docs/keystore.md)`, filepath.Dir(self), filepath.Join(home, "plugins"))
	if !strings.HasPrefix(err.Error(), want) {
		t.Errorf("missing plugin:\n got %s\nwant %s", err, want)
	}

	// On PATH only; a relative PATH entry is never searched, even when it holds the plugin.
	t.Chdir(t.TempDir())
	if err := os.MkdirAll(filepath.Join("relative", "dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join("relative", "dir", "entratool-keystore-pkcs11"), []byte("#!/bin/sh\n"), 0o700)
	if _, err := h.Find("pkcs11"); err == nil {
		t.Error("found the plugin through a relative PATH entry")
	}
	onPath := filepath.Join(pathDir, "entratool-keystore-pkcs11")
	os.WriteFile(onPath, []byte("#!/bin/sh\n"), 0o755)
	if got, err := h.Find("pkcs11"); err != nil || got != onPath {
		t.Errorf("Find on PATH = %q, %v; want %s", got, err, onPath)
	}
	// $ENTRATOOL_HOME/plugins wins over PATH.
	os.MkdirAll(filepath.Join(home, "plugins"), 0o700)
	inHome := filepath.Join(home, "plugins", "entratool-keystore-pkcs11")
	os.WriteFile(inHome, []byte("#!/bin/sh\n"), 0o700)
	if got, err := h.Find("pkcs11"); err != nil || got != inHome {
		t.Errorf("Find in home = %q, %v; want %s", got, err, inHome)
	}
	if runtime.GOOS != "windows" {
		os.Chmod(inHome, 0o600)
		if _, err := h.Find("pkcs11"); err == nil || !strings.Contains(err.Error(), "is not executable: chmod +x it") {
			t.Errorf("not executable: %v", err)
		}
	}
	if _, err := h.Find("../../bin/sh"); err == nil || !strings.Contains(err.Error(), "use lower-case letters") {
		t.Errorf("path in name: %v", err)
	}
}

// SPEC §12: a plugin receives the PIN, so one that another user could have replaced is
// never started — the file or its directory writable by group or others, or owned by
// someone other than the user or root.
func TestHostRefusesPluginsOthersCouldReplace(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("mode bits: Windows checks the owner only (docs/security.md)")
	}
	home := t.TempDir()
	shared := t.TempDir()
	h := Host{Home: home, Getenv: func(k string) string {
		if k == "PATH" {
			return shared
		}
		return ""
	}}
	plugin := filepath.Join(shared, "entratool-keystore-pkcs11")
	if err := os.WriteFile(plugin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		dirMode, fileMode os.FileMode
		refused           string
	}{
		{os.ModeSticky | 0o777, 0o777, "is writable by group and others (mode 1777)"},
		{0o777, 0o755, "is writable by group and others (mode 0777)"},
		{0o755, 0o757, "is writable by others (mode 0757)"},
		{0o775, 0o755, "is writable by its group (mode 0775)"},
		{0o755, 0o775, "is writable by its group (mode 0775)"},
	} {
		os.Chmod(shared, c.dirMode)
		os.Chmod(plugin, c.fileMode)
		_, err := h.Find("pkcs11")
		if !errors.Is(err, ErrPluginFailed) || !strings.Contains(err.Error(), c.refused) || !strings.Contains(err.Error(), "not started") {
			t.Errorf("dir %04o file %04o: Find = %v, want a refusal saying %q", c.dirMode, c.fileMode, err, c.refused)
		}
	}
	os.Chmod(shared, 0o755)
	os.Chmod(plugin, 0o755)
	if got, err := h.Find("pkcs11"); err != nil || got != plugin {
		t.Fatalf("a private plugin was refused: %q, %v", got, err)
	}
	// Owned by another user (the test runs as root in CI: chown works; otherwise skip).
	if os.Geteuid() == 0 {
		os.Chown(plugin, 65534, 65534)
		if _, err := h.Find("pkcs11"); err == nil || !strings.Contains(err.Error(), "is owned by uid 65534") {
			t.Errorf("plugin owned by uid 65534: Find = %v", err)
		}
		os.Chown(plugin, 0, 0)
		os.Chown(shared, 65534, 65534)
		if _, err := h.Find("pkcs11"); err == nil || !strings.Contains(err.Error(), "is owned by uid 65534") {
			t.Errorf("plugin directory owned by uid 65534: Find = %v", err)
		}
	}
}

func TestHostSubprocessRoundTrip(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c, err := f.host(10*time.Second, "ENTRATOOL_CERT_PASSWORD=do-not-pass").Open(ctx, "fake")
	if err != nil {
		t.Fatal(err)
	}
	req := RequestFor(f.profile(map[string]string{"echoEnv": "ENTRATOOL_CERT_PASSWORD"}), "4321")
	list, err := c.List(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].SHA1 != cert.ThumbprintSHA1(f.c.Leaf) || list[0].Subject != "CN=plugin-app" {
		t.Fatalf("List = %+v", list)
	}
	// The plugin's environment never carries entratool's secrets: the PIN comes in calls.
	if !strings.HasSuffix(list[0].KeyRef, "ENTRATOOL_CERT_PASSWORD=") {
		t.Errorf("plugin saw the certificate password in its environment: %q", list[0].KeyRef)
	}
	digest := sha256.Sum256([]byte("x"))
	if _, err := c.Sign(ctx, req, list[0].SHA256, digest[:], PS256); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if !c.client.Exited() {
		t.Error("plugin still running after Close")
	}
	if _, err := os.Stat(c.sockDir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory left behind: %v", err)
	}
	c.Close() // twice is fine
}

func TestHostCredential(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	h := f.host(10 * time.Second)
	p := f.profile(nil)
	_, leaf, release, err := h.Credential(ctx, p, "4321")
	if err != nil {
		t.Fatal(err)
	}
	release()
	// The certificate expires in 30 days: it works, and comes back for the token
	// pipeline to remember its expiry (the once-a-day warning, SPEC §13).
	if leaf == nil || cert.ThumbprintSHA1(leaf) != cert.ThumbprintSHA1(f.c.Leaf) {
		t.Errorf("Credential returned certificate %v, want the profile's", leaf)
	}
	if raw, err := assertionVia(t, h, p); err != nil || strings.Count(raw, ".") != 2 {
		t.Fatalf("assertion %q, %v", raw, err)
	}

	// Wrong PIN: one line, the fix, never the PIN.
	_, _, _, err = h.Credential(ctx, p, "0000")
	if !errors.Is(err, ErrBadPIN) {
		t.Fatalf("wrong PIN: %v", err)
	}
	for _, want := range []string{`key store "fake": the PIN was refused (fake CKR_PIN_INCORRECT)`, "entratool config edit -p hsm"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("wrong PIN error %q lacks %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "0000") || strings.Contains(err.Error(), "4321") {
		t.Errorf("PIN in error: %v", err)
	}

	// A thumbprint the store does not hold.
	q := f.profile(nil)
	q.CertificateThumbprint = strings.Repeat("0", 40)
	if _, _, _, err := h.Credential(ctx, q, "4321"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown thumbprint: %v", err)
	}
	q.CertificateThumbprint = ""
	if _, _, _, err := h.Credential(ctx, q, "4321"); err == nil || !strings.Contains(err.Error(), "entratool keystore list --store fake") {
		t.Errorf("no thumbprint: %v", err)
	}
}

func TestHostRefusesExpiredCertificate(t *testing.T) {
	f := newFixture(t)
	old, err := cert.Create(cert.CreateOptions{Subject: "CN=old", Days: 1, Now: time.Now().AddDate(0, 0, -3)})
	if err != nil {
		t.Fatal(err)
	}
	key, _ := x509.MarshalPKCS8PrivateKey(old.Key)
	os.WriteFile(f.pem, append(cert.EncodeCER(old.Leaf, false), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})...), 0o600)
	p := f.profile(nil)
	p.CertificateThumbprint = cert.ThumbprintSHA1(old.Leaf)
	_, _, _, err = f.host(10*time.Second).Credential(context.Background(), p, "4321")
	if !errors.Is(err, cert.ErrExpired) {
		t.Errorf("expired certificate: %v", err)
	}
}

// assertionVia signs one assertion through the plugin, as MSAL's callback would.
func assertionVia(t *testing.T, h Host, p *profile.Profile) (string, error) {
	t.Helper()
	ctx := context.Background()
	s, err := h.signer(ctx, p, "4321")
	if err != nil {
		return "", err
	}
	defer s.conn.Close()
	return s.assertion(ctx, confidential.AssertionRequestOptions{ClientID: p.ClientID, TokenEndpoint: "https://login.example/t/oauth2/v2.0/token"})
}

func TestHostPluginFailuresAreOneLineAndBounded(t *testing.T) {
	f := newFixture(t)
	const timeout = 1500 * time.Millisecond
	for _, tc := range []struct {
		name string
		env  []string
		opts map[string]string
		want []string
		is   error
	}{
		{"crash at start", []string{"FAKEPLUGIN_MODE=crash-start"}, nil,
			[]string{"entratool-keystore-fake", "exited before it was ready", "(it said: fakeplugin: cannot open the store: simulated start failure)"}, ErrPluginFailed},
		{"hang at start", []string{"FAKEPLUGIN_MODE=hang-start"}, nil,
			[]string{"did not start within 1.5s (ENTRATOOL_PLUGIN_TIMEOUT); it was stopped"}, ErrPluginFailed},
		{"not a plugin", []string{"FAKEPLUGIN_MODE=not-a-plugin"}, nil,
			[]string{"is not an entratool key-store plugin"}, ErrPluginFailed},
		{"crash in Certificates", nil, map[string]string{"crash": "Certificates"},
			[]string{"exited during Certificates", "(it said: fakeplugin: simulated crash in Certificates)"}, ErrPluginFailed},
		{"crash in Sign", nil, map[string]string{"crash": "Sign"},
			[]string{"exited during Sign", "(it said: fakeplugin: simulated crash in Sign)"}, ErrPluginFailed},
		{"hang in Sign", nil, map[string]string{"hang": "Sign"},
			[]string{"did not answer Sign within 1.5s (ENTRATOOL_PLUGIN_TIMEOUT); it was stopped"}, context.DeadlineExceeded},
		{"wrong key", nil, map[string]string{"wrongKey": "true"},
			[]string{"signed with a key that does not match certificate CN=plugin-app"}, ErrPluginFailed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, err := assertionVia(t, f.host(timeout, tc.env...), f.profile(tc.opts))
			took := time.Since(start)
			if err == nil {
				t.Fatal("no error")
			}
			msg := err.Error()
			t.Log(msg)
			if strings.Contains(msg, "\n") {
				t.Errorf("error is not one line: %q", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q lacks %q", msg, w)
				}
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", msg, tc.is)
			}
			// Retried token requests would make a dead plugin cost the whole --timeout.
			for _, s := range []string{"EOF", "connection reset"} {
				if strings.Contains(msg, s) {
					t.Errorf("error %q contains %q, which the token retry loop treats as transient", msg, s)
				}
			}
			if took > timeout+3*time.Second {
				t.Errorf("took %v; the timeout is %v", took, timeout)
			}
		})
	}
}

func TestHostStopsPluginWhenCallerGivesUp(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
	defer cancel()
	h := f.host(time.Minute, "FAKEPLUGIN_MODE=hang-start")
	start := time.Now()
	_, err := h.Open(ctx, "fake")
	if err == nil || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "was stopped while starting") {
		t.Errorf("got %v", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %v after the caller's 700ms", took)
	}
}

func TestHostTimeoutFromEnvironment(t *testing.T) {
	env := map[string]string{}
	h := Host{Getenv: func(k string) string { return env[k] }}
	if d, err := h.timeout(); err != nil || d != DefaultTimeout {
		t.Errorf("default = %v, %v", d, err)
	}
	env["ENTRATOOL_PLUGIN_TIMEOUT"] = "3s"
	if d, err := h.timeout(); err != nil || d != 3*time.Second {
		t.Errorf("3s = %v, %v", d, err)
	}
	env["ENTRATOOL_PLUGIN_TIMEOUT"] = "soon"
	if _, err := h.timeout(); err == nil || !strings.Contains(err.Error(), "is not a duration") {
		t.Errorf("bad value: %v", err)
	}
	h.Timeout = time.Second
	if d, _ := h.timeout(); d != time.Second {
		t.Errorf("Host.Timeout ignored: %v", d)
	}
}
