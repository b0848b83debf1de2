//go:build linux

package e2e

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entratool/entratool/internal/testkit"
)

// quickStartCommands are the commands of the README's quick start, in order: the
// lines of its first sh block that are not comments.
func quickStartCommands(t *testing.T) []string {
	t.Helper()
	readme, err := os.ReadFile(filepath.Join("..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Quick start")
	if !ok {
		t.Fatal("README has no Quick start section")
	}
	_, block, ok := strings.Cut(section, "```sh\n")
	block, _, ok2 := strings.Cut(block, "```")
	if !ok || !ok2 {
		t.Fatal("Quick start has no sh block")
	}
	var cmds []string
	for _, l := range strings.Split(block, "\n") {
		if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
			cmds = append(cmds, l)
		}
	}
	return cmds
}

// The README's quick start, followed step by step as a new user would on a fresh
// headless box: a clean HOME, the default home, no D-Bus session (so no keyring), a
// terminal for the prompts. The one thing that differs is the authority: this Entra ID
// is the local emulator, so the profile is pointed at it before the token step.
func TestREADMEQuickStart(t *testing.T) {
	cmds := quickStartCommands(t)
	want := []string{
		"entratool cert create --subject CN=MyApp --days 730 --out ~/.entratool/certs/certificate.pfx",
		"entratool config create",
		"entratool get-token -p production-service",
	}
	if strings.Join(cmds, "\n") != strings.Join(want, "\n") {
		t.Fatalf("the README's quick start changed; update this test with it:\n%s", strings.Join(cmds, "\n"))
	}
	w := newWorld(t)
	userHome := filepath.Join(w.dir, "newuser")
	if err := os.Mkdir(userHome, 0o755); err != nil {
		t.Fatal(err)
	}
	noBus := t.TempDir()
	env := []string{"HOME=" + userHome, "PATH=" + binDir, "XDG_RUNTIME_DIR=" + noBus, "TERM=dumb", "SSL_CERT_FILE=" + w.emu.CAFile}
	entratool := filepath.Join(binDir, "entratool")
	const password = "quick-Start-9"
	certDir := filepath.Join(userHome, ".entratool", "certs")

	// 1. Create a certificate: the shell expands ~, the tool asks for the password twice.
	args := strings.Fields(strings.ReplaceAll(strings.TrimPrefix(cmds[0], "entratool "), "~", userHome))
	s := testkit.StartPTY(t, entratool, env, args...)
	s.Expect("Certificate password: ")
	s.TypeSecret(password)
	s.Expect("Confirm certificate password: ")
	s.TypeSecret(password)
	if code, out := s.Wait(); code != 0 || !strings.Contains(out, "✓ Certificate created") || strings.Contains(out, password) {
		t.Fatalf("step 1: exit %d:\n%s", code, out)
	}
	for path, mode := range map[string]os.FileMode{certDir: 0o700 | os.ModeDir, filepath.Join(certDir, "certificate.pfx"): 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode() != mode {
			t.Fatalf("step 1: %s: %v %v, want mode %v", path, fi.Mode(), err, mode)
		}
	}

	// 2. Upload the .cer: the emulator's app registration gets the file the user uploads.
	cer, err := os.ReadFile(filepath.Join(certDir, "certificate.cer"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(cer)
	if b == nil {
		t.Fatal("step 2: certificate.cer is not PEM")
	}
	leaf, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	w.register(leaf)

	// 3. Create a profile, answering the prompts as the README shows them. With no
	// keyring here, the file store is offered before the password is asked for.
	s = testkit.StartPTY(t, entratool, env, "config", "create")
	for _, qa := range [][2]string{
		{"Profile name: ", "production-service"},
		{"Client ID: ", clientID},
		{"Tenant ID: ", tenantID},
		{"Select: ", "2"},
		{"The keyring cannot be used", ""},
		{"Select: ", "1"},
		{"Certificate path: ", filepath.Join(certDir, "certificate.pfx")},
		{"Certificate password: ", "\x00" + password},
		{"Scope: ", "https://graph.microsoft.com/.default"},
	} {
		s.Expect(qa[0])
		switch {
		case strings.HasPrefix(qa[1], "\x00"):
			s.TypeSecret(qa[1][1:])
		case qa[0] != "The keyring cannot be used":
			s.TypeLine(qa[1])
		}
	}
	code, out := s.Wait()
	if code != 0 || !strings.HasSuffix(strings.TrimSpace(out), "✓ Profile 'production-service' created successfully") {
		t.Fatalf("step 3: exit %d:\n%s", code, out)
	}
	for _, seed := range []string{"Authentication method:", "1. Client Secret", "2. Certificate"} {
		if !strings.Contains(out, seed) {
			t.Errorf("step 3: the seed's %q is missing:\n%s", seed, out)
		}
	}

	// Not in the README: the authority is the local emulator, not login.microsoftonline.com.
	// A stored password never follows a profile to another authority (SPEC §12), so it
	// is given again with the move.
	w.env = map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		w.env[k] = v
	}
	w.mustRun(password, "entratool", "config", "edit", "-p", "production-service", "--authority-host", w.emu.URL, "--certificate-password-stdin")

	// 4. Get a token.
	tok := w.mustRun("", "entratool", strings.Fields(strings.TrimPrefix(cmds[2], "entratool "))...)
	w.claims(tok, "https://graph.microsoft.com")
}
