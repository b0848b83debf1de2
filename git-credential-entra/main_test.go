package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/token"
	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/internal/testkit"
)

// These tests drive the front end in-process. A cache hit is answered here; a miss is
// handed to entratool-engine, which these tests deliberately cannot find (PATH is
// emptied), so reaching it shows up as "entratool-engine not found". The whole path
// through the engine is tested end to end in e2e/git_test.go.

const (
	tenantID = testkit.TenantID
	clientID = testkit.ClientID
	devops   = "499b84ac-1321-427f-aa17-267ca6975798"
	// What the lead's bench sends (bench/main.go).
	benchStdin = "protocol=https\nhost=dev.azure.com\npath=org/project/_git/repo\n\n"
)

// emu is one emulator for the package: the cache is filled in-process with core/token,
// and Go reads SSL_CERT_FILE (the emulator's CA) once per process.
var emu *emulator.Emulator

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "git-credential-entra-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	emu, err = emulator.Start(emulator.Options{Dir: filepath.Join(dir, "emulator")})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Setenv("SSL_CERT_FILE", emu.CAFile)
	os.Setenv("PATH", filepath.Join(dir, "empty")) // no entratool-engine to be found
	code := m.Run()
	emu.Close()
	os.RemoveAll(dir)
	os.Exit(code)
}

type world struct {
	env map[string]string
}

func (w *world) getenv(k string) string { return w.env[k] }

// newWorld is an ENTRATOOL_HOME with one default certificate profile shaped like the
// bench's (gitHosts dev.azure.com), its certificate registered with the emulator, and
// the emulator's counters reset.
func newWorld(t *testing.T, hosts ...string) *world {
	t.Helper()
	dir := t.TempDir()
	emu.ResetCounts()
	c, err := cert.Create(cert.CreateOptions{Subject: "CN=git", Days: 365, KeySize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	pfx := filepath.Join(dir, "git.pfx")
	if err := cert.WritePFX(pfx, c, "pfx-pw"); err != nil {
		t.Fatal(err)
	}
	emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Certificates: []*x509.Certificate{c.Leaf}})
	home := filepath.Join(dir, "home")
	err = (&profile.Store{Home: home}).Update(context.Background(), func(cfg *profile.Config) error {
		cfg.Put(&profile.Profile{Name: "git", ClientID: clientID, TenantID: tenantID, UseCertificate: true, CertificatePath: pfx,
			Scope: "https://graph.microsoft.com/.default", AuthorityHost: emu.URL, SecretStore: "file", GitHosts: hosts})
		cfg.DefaultProfile = "git"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s, err := secret.Open("file", home, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Set(context.Background(), secret.Key("git", secret.CertificatePassword), "pfx-pw"); err != nil {
		t.Fatal(err)
	}
	return &world{env: map[string]string{"ENTRATOOL_HOME": home}}
}

// warm fetches the Azure DevOps token the way the engine does, filling the shared cache.
func (w *world) warm(t *testing.T) *token.Token {
	t.Helper()
	pr, err := token.ForProfile("git", token.Options{Getenv: w.getenv})
	if err != nil {
		t.Fatal(err)
	}
	tk, err := pr.Token(context.Background(), devops+"/.default", false)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func (w *world) run(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, strings.NewReader(stdin), &out, &errb, w.getenv)
	return out.String(), errb.String(), code
}

// The bench's request against the bench's profile shape, after one warm run: answered
// from the cache, with no request anywhere and no engine.
func TestCacheHit(t *testing.T) {
	w := newWorld(t, "dev.azure.com")
	tk := w.warm(t)
	before := emu.Counts()
	want := "username=" + clientID + "\npassword=" + tk.AccessToken + "\npassword_expiry_utc=" + strconv.FormatInt(tk.ExpiresOn.Unix(), 10) + "\n"
	for i := 0; i < 3; i++ {
		out, errOut, code := w.run(t, benchStdin, "get")
		if code != 0 || out != want || errOut != "" {
			t.Fatalf("run %d: exit %d\nstdout %q\nwant   %q\nstderr %s", i, code, out, want, errOut)
		}
	}
	if after := emu.Counts(); after.Total != before.Total {
		t.Fatalf("%d requests to the authority on cache hits", after.Total-before.Total)
	}
	if _, err := emu.Validate(tk.AccessToken, devops); err != nil {
		t.Fatal(err)
	}
}

// A miss goes to the engine (here: not installed, which the user is told on stderr).
func TestMissGoesToTheEngine(t *testing.T) {
	w := newWorld(t)
	out, errOut, code := w.run(t, benchStdin, "get")
	if code != 1 || out != "" || !strings.Contains(errOut, "entratool-engine not found") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// erase drops the cached token, so the next get is a miss (which goes to the engine).
func TestEraseForgetsTheToken(t *testing.T) {
	w := newWorld(t)
	tk := w.warm(t)
	// Another scope's token of the same app stays.
	pr, _ := token.ForProfile("git", token.Options{Getenv: w.getenv})
	graph, err := pr.Token(context.Background(), "https://graph.microsoft.com/.default", false)
	if err != nil {
		t.Fatal(err)
	}
	if out, _, code := w.run(t, benchStdin, "get"); code != 0 || !strings.Contains(out, tk.AccessToken) {
		t.Fatalf("before erase: exit %d, %q", code, out)
	}
	erase := "protocol=https\nhost=dev.azure.com\nusername=" + clientID + "\npassword=" + tk.AccessToken + "\n\n"
	if out, errOut, code := w.run(t, erase, "erase"); code != 0 || out != "" || errOut != "" {
		t.Fatalf("erase: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if out, errOut, code := w.run(t, benchStdin, "get"); code != 1 || out != "" || !strings.Contains(errOut, "entratool-engine not found") {
		t.Fatalf("after erase: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	again, err := pr.Token(context.Background(), "https://graph.microsoft.com/.default", false)
	if err != nil || again.AccessToken != graph.AccessToken {
		t.Fatalf("erase dropped another scope's token: %v", err)
	}
	// erase for a host that is not the helper's leaves the cache alone.
	w.warm(t)
	if _, _, code := w.run(t, "protocol=https\nhost=github.com\nusername=x\npassword=y\n", "erase"); code != 0 {
		t.Fatal("erase for github.com failed")
	}
	if out, _, code := w.run(t, benchStdin, "get"); code != 0 || out == "" {
		t.Fatalf("erase for github.com dropped the token: exit %d", code)
	}
}

// Requests that are not the helper's: exit 0, nothing on stdout or stderr, no request
// anywhere (not even to the engine, which would fail loudly here).
func TestNoAnswerNoRequest(t *testing.T) {
	w := newWorld(t, "dev.azure.com")
	for _, in := range []string{
		"protocol=http\nhost=dev.azure.com\n\n",
		"protocol=https\nhost=dev.azure.com.evil.com\n\n",
		"protocol=https\nhost=evil-dev.azure.com\n\n",
		"protocol=https\nhost=myorg.visualstudio.com\n\n", // not in this profile's gitHosts
		"protocol=https\nhost=github.com\npath=x/y.git\n\n",
	} {
		for _, action := range []string{"get", "erase", "store"} {
			out, errOut, code := w.run(t, in, "--bearer", action)
			if code != 0 || out != "" || errOut != "" {
				t.Errorf("%s %q: exit %d, stdout %q, stderr %q", action, in, code, out, errOut)
			}
		}
	}
	if n := emu.Counts().Total; n != 0 {
		t.Fatalf("%d requests to the authority", n)
	}
}

func TestBearerExchange(t *testing.T) {
	w := newWorld(t)
	tk := w.warm(t)
	out, errOut, code := w.run(t, "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=dev.azure.com\n\n", "--profile", "git", "--bearer", "get")
	if want := "capability[]=authtype\nauthtype=Bearer\ncredential=" + tk.AccessToken + "\nephemeral=true\n"; code != 0 || out != want {
		t.Fatalf("exit %d: %s\ngot  %q\nwant %q", code, errOut, out, want)
	}
	out, _, _ = w.run(t, benchStdin, "--profile", "git", "--bearer", "get")
	if strings.Contains(out, "authtype") || !strings.HasPrefix(out, "username="+clientID+"\npassword="+tk.AccessToken+"\n") {
		t.Fatalf("without the capability: %q", out)
	}
}

func TestUsageAndProfileErrors(t *testing.T) {
	w := newWorld(t)
	out, errOut, code := w.run(t, benchStdin, "--profile", "nope", "get")
	if code != 1 || out != "" || !strings.Contains(errOut, `profile "nope" not found`) {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// A bad command line is one line, like every error, pointing at --help.
	for _, bad := range [][]string{{"--frobnicate", "get"}, {"--timeout", "banana", "get"}} {
		out, errOut, code = w.run(t, benchStdin, bad...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "git-credential-entra: ") ||
			!strings.HasSuffix(errOut, " (see git-credential-entra --help)\n") || strings.Count(errOut, "\n") != 1 {
			t.Fatalf("%q: exit %d, stdout %q, stderr %q", bad, code, out, errOut)
		}
	}
	out, errOut, code = w.run(t, "", "--help")
	if code != 0 || out != "" || !strings.Contains(errOut, "usage: git-credential-entra") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	out, errOut, code = w.run(t, "protocol=https\nhost dev.azure.com\n", "get")
	if code != 1 || out != "" || !strings.Contains(errOut, "invalid credential line 2") {
		t.Fatalf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// --version is answered like every entratool binary's, on stdout, wherever it stands
// among the flags, and before anything is read or looked up.
func TestVersion(t *testing.T) {
	w := newWorld(t)
	want := version.Line("git-credential-entra") + "\n"
	for _, args := range [][]string{{"--version"}, {"--profile", "nope", "--version"}, {"--version", "get"}} {
		out, errOut, code := w.run(t, "", args...)
		if code != 0 || out != want || errOut != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %q", args, code, out, errOut, want)
		}
	}
}
