package cli

import (
	"context"
	"crypto/x509"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/emulator"
)

// The seed's "Certificate Password Caching": the first get-token on a terminal prompts
// for the missing password and offers to store it; later runs need no prompt.
func TestGetTokenPromptsForMissingPasswordThenUsesStoredOne(t *testing.T) {
	bin := buildEntratool(t)
	e := newTestEnv(t)
	emu, err := emulator.Start(emulator.Options{Dir: filepath.Join(e.dir, "emu")})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	c, err := cert.Create(cert.CreateOptions{Subject: "CN=prompted", Days: 90})
	if err != nil {
		t.Fatal(err)
	}
	pfx := filepath.Join(e.dir, "prompted.pfx")
	if err := cert.WritePFX(pfx, c, "typed-Pw-42"); err != nil {
		t.Fatal(err)
	}
	emu.RegisterApp(emulator.App{TenantID: seedTenantID, ClientID: seedClientID, Certificates: []*x509.Certificate{c.Leaf}})
	err = (&profile.Store{Home: e.home}).Update(context.Background(), func(cfg *profile.Config) error {
		cfg.Put(&profile.Profile{Name: "cert-profile", ClientID: seedClientID, TenantID: seedTenantID, UseCertificate: true,
			CertificatePath: pfx, Scope: DefaultScope, AuthorityHost: emu.URL})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	env := []string{"ENTRATOOL_HOME=" + e.home, "ENTRATOOL_SECRET_STORE=file", "SSL_CERT_FILE=" + emu.CAFile, "PATH=" + os.Getenv("PATH"), "TERM=dumb"}

	s := startPTY(t, bin, env, "get-token", "-p", "cert-profile")
	s.Expect("Certificate password for profile 'cert-profile': ")
	s.TypeSecret("typed-Pw-42")
	s.Expect("Store it in the file store for next time? [Y/n]: ")
	s.TypeLine("y")
	code, transcript := s.Wait()
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, transcript)
	}
	if strings.Contains(transcript, "typed-Pw-42") {
		t.Fatal("password echoed")
	}
	lines := strings.Fields(transcript)
	tok := lines[len(lines)-1]
	if _, err := emu.Validate(tok, "https://graph.microsoft.com"); err != nil {
		t.Fatalf("printed token not issued by the authority: %v\n%s", err, transcript)
	}
	if got := e.secrets()["cert-profile/certificate-password"]; got != "typed-Pw-42" {
		t.Fatalf("stored secret %q", got)
	}
	// Later uses: no prompt, even for a new token and without a terminal.
	cmd := exec.Command(bin, "get-token", "-p", "cert-profile", "--force-refresh")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "password") {
		t.Fatalf("second run: %v\n%s", err, out)
	}
	if n := emu.Counts().TokenIssued; n != 2 {
		t.Fatalf("emulator issued %d tokens, want 2", n)
	}
}
