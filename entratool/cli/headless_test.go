package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/internal/testkit"
)

// A headless box: SSH, CI or a container, where there is no D-Bus session and so no
// keyring. These run the real binaries with such an environment: no
// DBUS_SESSION_BUS_ADDRESS, an empty XDG_RUNTIME_DIR (godbus looks for a bus there) and
// a PATH without dbus-launch (godbus would try to start a bus with it).

// headless is one test's emulator, home and headless environment.
type headless struct {
	t   *testing.T
	bin string
	e   *testEnv
	emu *emulator.Emulator
	pfx string
	env []string
}

const headlessPassword = "headless-Pw-7"

func newHeadless(t *testing.T) *headless {
	t.Helper()
	h := &headless{t: t, bin: buildEntratool(t), e: newTestEnv(t)}
	emu, err := emulator.Start(emulator.Options{Dir: filepath.Join(h.e.dir, "emu")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	h.emu = emu
	c, err := cert.Create(cert.CreateOptions{Subject: "CN=headless", Days: 90})
	if err != nil {
		t.Fatal(err)
	}
	h.pfx = filepath.Join(h.e.dir, "headless.pfx")
	if err := cert.WritePFX(h.pfx, c, headlessPassword); err != nil {
		t.Fatal(err)
	}
	emu.RegisterApp(emulator.App{TenantID: seedTenantID, ClientID: seedClientID, Certificates: []*x509.Certificate{c.Leaf}})
	noBus := t.TempDir()
	h.env = []string{"ENTRATOOL_HOME=" + h.e.home, "SSL_CERT_FILE=" + emu.CAFile, "HOME=" + h.e.dir,
		"XDG_RUNTIME_DIR=" + noBus, "PATH=" + noBus, "TERM=dumb"}
	return h
}

// run runs entratool without a terminal; extra adds environment variables.
func (h *headless) run(stdin string, extra []string, args ...string) result {
	h.t.Helper()
	cmd := exec.Command(h.bin, args...)
	cmd.Env = append(append([]string{}, h.env...), extra...)
	cmd.Stdin = strings.NewReader(stdin)
	out, errOut, code := testkit.Run(h.t, cmd)
	return result{code: code, out: out, err: errOut}
}

// tokenWorks gets a token for the profile and checks the authority issued it.
func (h *headless) tokenWorks(name string, extra ...string) {
	h.t.Helper()
	r := h.run("", extra, "get-token", "-p", name)
	if r.code != 0 {
		h.t.Fatalf("get-token: %s", r)
	}
	if _, err := h.emu.Validate(strings.TrimSpace(r.out), "https://graph.microsoft.com"); err != nil {
		h.t.Fatalf("printed token not issued by the authority: %v", err)
	}
}

// keyringProfile writes a certificate profile whose secrets live in the keyring (the
// default store), as one made on a desktop and used over SSH.
func (h *headless) keyringProfile(name string) {
	h.t.Helper()
	err := (&profile.Store{Home: h.e.home}).Update(context.Background(), func(cfg *profile.Config) error {
		cfg.Put(&profile.Profile{Name: name, ClientID: seedClientID, TenantID: seedTenantID, UseCertificate: true,
			CertificatePath: h.pfx, Scope: DefaultScope, AuthorityHost: h.emu.URL})
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// noInternals fails when text speaks of D-Bus plumbing instead of what is missing.
func noInternals(t *testing.T, text string) {
	t.Helper()
	for _, w := range []string{"dbus-launch", "org.freedesktop", "$PATH", "exec:"} {
		if strings.Contains(text, w) {
			t.Errorf("output speaks of %q:\n%s", w, text)
		}
	}
}

// The seed's interactive flow on a headless box: the keyring is checked before the
// password is asked for, and the file store offered instead of failing at the end.
func TestHeadlessInteractiveCreateOffersFileStore(t *testing.T) {
	h := newHeadless(t)
	s := startPTY(t, h.bin, h.env, "config", "create", "--authority-host", h.emu.URL)
	s.Expect("Profile name: ")
	s.TypeLine("headless")
	s.Expect("Client ID: ")
	s.TypeLine(seedClientID)
	s.Expect("Tenant ID: ")
	s.TypeLine(seedTenantID)
	s.Expect("Select: ")
	s.TypeLine("2")
	s.Expect("The keyring cannot be used: there is no D-Bus session here")
	s.Expect("1. File (secrets.json in " + h.e.home)
	s.Expect("2. Environment (nothing stored: set ENTRATOOL_CERT_PASSWORD")
	s.Expect("Select: ")
	s.TypeLine("1")
	s.Expect("Certificate path: ")
	s.TypeLine(h.pfx)
	s.Expect("Certificate password: ")
	s.TypeSecret(headlessPassword)
	s.Expect("Scope: ")
	s.TypeLine("")
	code, out := s.Wait()
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	inOrder(t, out, "Select: ", "The keyring cannot be used", "Certificate path: ", "Certificate password: ",
		"✓ Profile 'headless' created successfully")
	noInternals(t, out)
	if strings.Contains(out, headlessPassword) {
		t.Fatal("password echoed")
	}
	if got := h.e.profileJSON("headless")["secretStore"]; got != secret.KindFile {
		t.Errorf("secretStore = %v, want file", got)
	}
	if h.e.secrets()[secret.Key("headless", secret.CertificatePassword)] != headlessPassword {
		t.Error("password not in secrets.json")
	}
	h.tokenWorks("headless")
}

// Choosing the env store: nothing is stored, and the token works with the variable set.
func TestHeadlessInteractiveCreateEnvStore(t *testing.T) {
	h := newHeadless(t)
	s := startPTY(t, h.bin, h.env, "config", "create", "--name", "viaenv", "--client-id", seedClientID,
		"--tenant-id", seedTenantID, "--authority-host", h.emu.URL, "--certificate", h.pfx, "--scope", DefaultScope)
	s.Expect("The keyring cannot be used")
	s.Expect("Select: ")
	s.TypeLine("3") // not an answer: asked again
	s.Expect("Answer 1 or 2.")
	s.Expect("Select: ")
	s.TypeLine("2")
	s.Expect("Certificate password: ")
	s.TypeSecret(headlessPassword)
	code, out := s.Wait()
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	inOrder(t, out, "export ENTRATOOL_CERT_PASSWORD when using profile 'viaenv'", "✓ Profile 'viaenv' created successfully")
	if got := h.e.profileJSON("viaenv")["secretStore"]; got != secret.KindEnv {
		t.Errorf("secretStore = %v, want env", got)
	}
	if _, err := os.Stat(h.e.secretsPath()); err == nil {
		t.Error("the env store wrote secrets.json")
	}
	h.tokenWorks("viaenv", secret.EnvCertPassword+"="+headlessPassword)
}

// Without a terminal: exit 1 at once, naming the stores that work, nothing created.
func TestHeadlessCreateWithoutTerminalFailsFast(t *testing.T) {
	h := newHeadless(t)
	r := h.run(headlessPassword, nil, "config", "create", "--name", "ci", "--client-id", seedClientID,
		"--tenant-id", seedTenantID, "--certificate", h.pfx, "--certificate-password-stdin")
	if r.code != 1 || !strings.Contains(r.err, "cannot keep the certificate password of profile 'ci' in the keyring: keyring unreachable: there is no D-Bus session here") ||
		!strings.Contains(r.err, "--secret-store file") || !strings.Contains(r.err, "--secret-store env") {
		t.Fatalf("%s", r)
	}
	if strings.Count(strings.TrimSpace(r.err), "\n") != 0 || strings.Contains(r.err, "client secret") {
		t.Errorf("want one line about the certificate password:\n%s", r.err)
	}
	noInternals(t, r.err)
	if _, err := os.Stat(h.e.profilesPath()); err == nil {
		t.Errorf("profile written:\n%v", h.e.profilesJSON())
	}
}

// A profile made on a desktop (keyring) moves to the file store over SSH: the new
// password is given, so nothing needs reading from the keyring that cannot answer.
func TestHeadlessMoveKeyringProfileToFile(t *testing.T) {
	h := newHeadless(t)
	h.keyringProfile("desk")

	// get-token's way out names commands that exist, and never a client secret.
	r := h.run("", nil, "get-token", "-p", "desk")
	if r.code != 1 || !strings.Contains(r.err, "`entratool config edit -p desk --secret-store file --certificate-password-stdin`") ||
		!strings.Contains(r.err, "ENTRATOOL_SECRET_STORE=env and ENTRATOOL_CERT_PASSWORD") {
		t.Fatalf("get-token on the unreachable keyring: %s", r)
	}
	if strings.Contains(strings.ToLower(r.err), "client secret") || strings.Contains(r.err, "CLIENT_SECRET") {
		t.Errorf("a certificate profile's error speaks of a client secret:\n%s", r.err)
	}
	noInternals(t, r.err)

	r = h.run(headlessPassword, nil, "config", "edit", "-p", "desk", "--secret-store", "file", "--certificate-password-stdin")
	if r.code != 0 {
		t.Fatalf("move to file: %s", r)
	}
	if !strings.Contains(r.err, "warning: the old certificate password and client secret of profile 'desk' could not be deleted from the keyring store") ||
		!strings.Contains(r.err, "secret-tool clear service entratool username desk/certificate-password") {
		t.Errorf("want a warning that the old keyring slot is left:\n%s", r.err)
	}
	noInternals(t, r.err)
	if got := h.e.profileJSON("desk")["secretStore"]; got != secret.KindFile {
		t.Errorf("secretStore = %v", got)
	}
	h.tokenWorks("desk")
}

// Moving without giving the secret anew needs the keyring: the error says what to add.
func TestHeadlessMoveWithoutSecretSaysWhatToGive(t *testing.T) {
	h := newHeadless(t)
	h.keyringProfile("desk")
	before, err := os.ReadFile(h.e.profilesPath())
	if err != nil {
		t.Fatal(err)
	}
	r := h.run("", nil, "config", "edit", "-p", "desk", "--secret-store", "file")
	if r.code != 1 || !strings.Contains(r.err, "cannot move the certificate password out of the keyring store") ||
		!strings.Contains(r.err, "give it anew with --certificate-password-stdin") || strings.Contains(r.err, "client secret") {
		t.Fatalf("%s", r)
	}
	if after, _ := os.ReadFile(h.e.profilesPath()); !bytes.Equal(before, after) {
		t.Error("a failed move changed profiles.json")
	}
}

// config edit's menu on a headless box: choosing a secret item offers the stores too.
func TestHeadlessEditMenuOffersFileStore(t *testing.T) {
	h := newHeadless(t)
	h.keyringProfile("desk")
	s := startPTY(t, h.bin, h.env, "config", "edit", "-p", "desk")
	s.Expect("9. Done")
	s.Expect("Select: ")
	s.TypeLine("2")
	s.Expect("The keyring cannot be used")
	s.Expect("Select: ")
	s.TypeLine("1")
	s.Expect("Certificate password: ")
	s.TypeSecret(headlessPassword)
	s.Expect("8. Secret Store (file)")
	s.Expect("Select: ")
	s.TypeLine("9")
	code, out := s.Wait()
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	noInternals(t, out)
	h.tokenWorks("desk")
}

// A password that was never stored is reported as missing, not as wrong.
func TestMissingPasswordIsNotInvalid(t *testing.T) {
	h := newHeadless(t)
	err := (&profile.Store{Home: h.e.home}).Update(context.Background(), func(cfg *profile.Config) error {
		cfg.Put(&profile.Profile{Name: "nopw", ClientID: seedClientID, TenantID: seedTenantID, UseCertificate: true,
			CertificatePath: h.pfx, Scope: DefaultScope, AuthorityHost: h.emu.URL, SecretStore: secret.KindFile})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := h.run("", nil, "get-token", "-p", "nopw")
	if r.code != 1 || !strings.Contains(r.err, "certificate password required for "+h.pfx) ||
		!strings.Contains(r.err, "`entratool config edit -p nopw --certificate-password-stdin`") || strings.Contains(r.err, "invalid") {
		t.Fatalf("%s", r)
	}
	r = h.run("", []string{"ENTRATOOL_SECRET_STORE=env"}, "get-token", "-p", "nopw")
	if r.code != 1 || !strings.Contains(r.err, "certificate password required") || !strings.Contains(r.err, "set ENTRATOOL_CERT_PASSWORD") {
		t.Fatalf("env store: %s", r)
	}
	r = h.run("", []string{"ENTRATOOL_SECRET_STORE=file"}, "config", "create", "--name", "x", "--client-id", seedClientID,
		"--tenant-id", seedTenantID, "--certificate", h.pfx)
	if r.code != 2 || !strings.Contains(r.err, "certificate password required for "+h.pfx) || strings.Contains(r.err, "invalid") {
		t.Fatalf("create without a password: %s", r)
	}
}
