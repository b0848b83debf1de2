package e2e

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/emulator"
)

// SPEC §12: a stored secret never follows a profile to another authority. These tests
// move a working profile from the emulator to a second authority — a TLS server the
// binaries trust like any other, which records what reaches it — by `config import
// --force` of an edited export (and by `config edit`), then ask for a token.

// checkNothingSent fails unless the recording authority saw no request at all: no token
// request, and so certainly none carrying the old secret or an assertion signed with the
// old certificate unlocked by the old password.
func (ra *recorder) checkNothingSent(t *testing.T, oldSecret string) {
	t.Helper()
	for _, r := range ra.requests() {
		if strings.Contains(r, oldSecret) || strings.Contains(r, "client_secret=") || strings.Contains(r, "client_assertion=") {
			t.Errorf("the old credential reached the new authority:\n%s", r)
		} else {
			t.Errorf("the new authority got a request although the profile has no secret for it:\n%s", r)
		}
	}
}

// moveExport exports profile name, points the export at authority, and returns the file.
func (w *world) moveExport(name, authority string) string {
	w.t.Helper()
	file := filepath.Join(w.dir, name+"-export.json")
	w.mustRun("", "entratool", "config", "export", "-p", name, "-o", file)
	data, err := os.ReadFile(file)
	if err != nil {
		w.t.Fatal(err)
	}
	var doc map[string][]map[string]any
	if err := json.Unmarshal(data, &doc); err != nil || len(doc["profiles"]) != 1 {
		w.t.Fatalf("export of %s: %v\n%s", name, err, data)
	}
	doc["profiles"][0]["authorityHost"] = authority
	if data, err = json.MarshalIndent(doc, "", "  "); err != nil {
		w.t.Fatal(err)
	}
	if err := os.WriteFile(file, data, 0o600); err != nil {
		w.t.Fatal(err)
	}
	return file
}

// rebindCase is one kind of profile whose secret must stay behind.
type rebindCase struct {
	name        string
	secret      string   // the stored secret
	create      []string // config create flags after --name
	noSecretErr string   // what get-token says once the secret is gone
}

func rebindCases(w *world) []rebindCase {
	cf := w.newCert("rebind", "old-certificate-password")
	w.emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Certificates: []*x509.Certificate{cf.leaf}, Secrets: []string{"old-client-secret-e2e"}})
	return []rebindCase{
		{"secret", "old-client-secret-e2e", []string{"--client-secret-stdin"}, "no client secret for profile"},
		{"cert", "old-certificate-password", []string{"--certificate", cf.pfx, "--certificate-password-stdin"}, "certificate password required"},
	}
}

// runRebind creates the profile against the emulator, proves it works there, moves it to
// a recording authority with move, and proves that its next token request goes nowhere.
func runRebind(t *testing.T, w *world, c rebindCase, extraCreate []string, move func(name, authority string) (string, int), stored func(name string) bool) {
	t.Helper()
	other := startRecorder(t, w.emu)
	name := c.name
	args := append([]string{"config", "create", "--name", name, "--client-id", clientID, "--tenant-id", tenantID,
		"--authority-host", w.emu.URL, "--scope", graph}, c.create...)
	w.mustRun(c.secret, "entratool", append(args, extraCreate...)...)
	if !stored(name) {
		t.Fatalf("%s: the secret was not stored", name)
	}
	w.claims(w.mustRun("", "entratool", "get-token", "-p", name), "https://graph.microsoft.com")
	issued := w.emu.Counts().TokenIssued

	errOut, code := move(name, other.url)
	if code != 0 {
		t.Fatalf("%s: moving the profile to %s: exit %d\n%s", name, other.url, code, errOut)
	}
	if !strings.Contains(errOut, "'"+name+"'") || !strings.Contains(errOut, "entratool config edit -p "+name) {
		t.Errorf("%s: no warning that the secret was deleted and how to set it:\n%s", name, errOut)
	}
	if strings.Contains(errOut, c.secret) {
		t.Errorf("%s: the warning prints the secret", name)
	}
	if stored(name) {
		t.Errorf("%s: the secret is still stored after the move to another authority", name)
	}
	if got := w.profile(name).Authority(); got != other.url {
		t.Fatalf("%s: profile authority %s, want %s", name, got, other.url)
	}

	for _, bin := range []string{"entratool", "kubectl-exec-entra"} {
		var out string
		var code int
		if bin == "entratool" {
			out, errOut, code = w.run("", bin, "get-token", "-p", name, "--timeout", "10s")
		} else {
			out, errOut, code = w.run("", bin, "--profile", name)
		}
		if code == 0 {
			t.Errorf("%s: %s printed a token with no secret for the new authority: %s", name, bin, out)
		}
		if !strings.Contains(errOut, c.noSecretErr) {
			t.Errorf("%s: %s should fail for lack of a secret (%q), got exit %d:\n%s", name, bin, c.noSecretErr, code, errOut)
		}
	}
	other.checkNothingSent(t, c.secret)
	if got := w.emu.Counts().TokenIssued; got != issued {
		t.Errorf("%s: the old authority issued %d more tokens after the move", name, got-issued)
	}
}

func fileStored(w *world) func(string) bool {
	return func(name string) bool {
		data, err := os.ReadFile(filepath.Join(w.home, "secrets.json"))
		if errors.Is(err, os.ErrNotExist) {
			return false
		}
		if err != nil {
			w.t.Fatal(err)
		}
		var m map[string]string
		if err := json.Unmarshal(data, &m); err != nil {
			w.t.Fatal(err)
		}
		return m[secret.Key(name, secret.CertificatePassword)] != "" || m[secret.Key(name, secret.ClientSecret)] != ""
	}
}

func importMove(w *world) func(name, authority string) (string, int) {
	return func(name, authority string) (string, int) {
		_, errOut, code := w.run("", "entratool", "config", "import", "--force", w.moveExport(name, authority))
		return errOut, code
	}
}

func TestImportForceToAnotherAuthorityKeepsTheSecretBehind(t *testing.T) {
	w := newWorld(t)
	for _, c := range rebindCases(w) {
		t.Run(c.name, func(t *testing.T) {
			runRebind(t, w, c, nil, importMove(w), fileStored(w))
		})
	}
}

// config edit --authority-host takes the same path as the import.
func TestImportRebindAlsoOnEdit(t *testing.T) {
	w := newWorld(t)
	edit := func(name, authority string) (string, int) {
		_, errOut, code := w.run("", "entratool", "config", "edit", "-p", name, "--authority-host", authority)
		return errOut, code
	}
	for _, c := range rebindCases(w) {
		t.Run(c.name, func(t *testing.T) {
			runRebind(t, w, c, nil, edit, fileStored(w))
		})
	}
}

// TestImportRebindKeyring is the same against a real Secret Service; it runs under
// scripts/with-keyring.sh (make test), which sets ENTRATOOL_TEST_KEYRING=1.
func TestImportRebindKeyring(t *testing.T) {
	if os.Getenv("ENTRATOOL_TEST_KEYRING") != "1" {
		t.Skip("needs a Secret Service: run under scripts/with-keyring.sh (sets ENTRATOOL_TEST_KEYRING=1)")
	}
	w := newWorld(t)
	delete(w.env, "ENTRATOOL_SECRET_STORE")
	for _, k := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "XDG_DATA_HOME"} {
		if v := os.Getenv(k); v != "" {
			w.env[k] = v
		}
	}
	kr, err := secret.Open(secret.KindKeyring, w.home, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	stored := func(name string) bool {
		for _, kind := range []string{secret.CertificatePassword, secret.ClientSecret} {
			_, err := kr.Get(context.Background(), secret.Key(name, kind))
			if err == nil {
				return true
			}
			if !errors.Is(err, secret.ErrNotFound) {
				t.Fatalf("keyring: %v", err)
			}
		}
		return false
	}
	for _, c := range rebindCases(w) {
		t.Run(c.name, func(t *testing.T) {
			// A shared keyring: a name of this run only, removed afterwards.
			c.name = fmt.Sprintf("%s-%d", c.name, time.Now().UnixNano())
			t.Cleanup(func() {
				for _, kind := range []string{secret.CertificatePassword, secret.ClientSecret} {
					kr.Delete(context.Background(), secret.Key(c.name, kind))
				}
			})
			runRebind(t, w, c, []string{"--secret-store", "keyring"}, importMove(w), stored)
		})
	}
}

// When the keyring cannot be reached, the old secret cannot be deleted: the import (and
// the edit) must fail before writing anything, rather than leave the secret bound to the
// new authority until the keyring comes back.
func TestImportRebindKeyringUnreachableChangesNothing(t *testing.T) {
	w := newWorld(t)
	delete(w.env, "ENTRATOOL_SECRET_STORE")
	w.env["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=" + filepath.Join(w.dir, "no-such-bus")
	w.env["XDG_RUNTIME_DIR"] = w.dir
	cf := w.newCert("kr", "pw")
	w.saveProfile(&profile.Profile{Name: "kr", UseCertificate: true, CertificatePath: cf.pfx, Scope: graph, SecretStore: "keyring"}, "")
	before, err := os.ReadFile(filepath.Join(w.home, "profiles.json"))
	if err != nil {
		t.Fatal(err)
	}
	other := startRecorder(t, w.emu)
	file := w.moveExport("kr", other.url)
	for _, args := range [][]string{
		{"config", "import", "--force", file},
		{"config", "edit", "-p", "kr", "--authority-host", other.url},
	} {
		start := time.Now()
		_, errOut, code := w.run("", "entratool", args...)
		if code != 1 || !strings.Contains(errOut, "keyring") || !strings.Contains(errOut, "run the command again") {
			t.Errorf("%v: want exit 1 naming the keyring and the fix, got exit %d:\n%s", args, code, errOut)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("%v took %s", args, d)
		}
		if after, _ := os.ReadFile(filepath.Join(w.home, "profiles.json")); !bytes.Equal(before, after) {
			t.Errorf("%v rewrote profiles.json although the old secret could not be deleted:\n%s", args, after)
		}
	}
	// A change that keeps the authority does not need the keyring.
	w.mustRun("", "entratool", "config", "edit", "-p", "kr", "--scope", "api://other/.default")
	other.checkNothingSent(t, "pw")
}
