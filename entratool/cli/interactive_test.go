package cli

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/internal/testbin"
	"github.com/entratool/entratool/internal/testkit"
)

// buildEntratool returns the real binary (built once per run by internal/testbin), so
// the prompts go through a real terminal: echo switched off by term.ReadPassword, line
// discipline, stderr and stdout interleaved.
func buildEntratool(t *testing.T) string {
	t.Helper()
	// The lean front hands everything but cached get-token to the engine beside it.
	return filepath.Join(testbin.Build(t, "./entratool", "./entratool-engine"), "entratool")
}

// startPTY runs the binary on a pseudo-terminal (testkit.PTY).
func startPTY(t *testing.T, bin string, env []string, args ...string) *testkit.PTY {
	t.Helper()
	return testkit.StartPTY(t, bin, env, args...)
}

// inOrder checks that each piece occurs in out after the previous one.
func inOrder(t *testing.T, out string, pieces ...string) {
	t.Helper()
	at := 0
	for _, p := range pieces {
		i := strings.Index(out[at:], p)
		if i < 0 {
			t.Fatalf("%q missing or out of order (after byte %d) in transcript:\n%s", p, at, out)
		}
		at += i + len(p)
	}
}

func TestInteractiveSeedTranscripts(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go toolchain not on PATH")
	}
	bin := buildEntratool(t)
	e := newTestEnv(t)
	pfx := e.newCert("certificate", testPassword)
	env := []string{"ENTRATOOL_HOME=" + e.home, "ENTRATOOL_SECRET_STORE=file", "HOME=" + e.dir, "PATH=" + os.Getenv("PATH"), "TERM=dumb"}

	t.Run("config create", func(t *testing.T) {
		s := startPTY(t, bin, env, "config", "create")
		s.Expect("Profile name: ")
		s.TypeLine(seedName)
		s.Expect("Client ID: ")
		s.TypeLine("not-a-guid") // asked again, with the reason
		s.Expect("not a GUID")
		s.Expect("Client ID: ")
		s.TypeLine(seedClientID)
		s.Expect("Tenant ID: ")
		s.TypeLine(seedTenantID)
		s.Expect("Select: ")
		s.TypeLine("2")
		s.Expect("Certificate path: ")
		s.TypeLine(pfx)
		s.Expect("Certificate password: ")
		s.TypeSecret("wrong-password-typed")
		s.Expect("invalid certificate password for " + pfx)
		s.Expect("Certificate password: ")
		s.TypeSecret(testPassword)
		s.Expect("Scope: ")
		s.TypeLine("")
		code, out := s.Wait()
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		inOrder(t, out, "Profile name: ", "Client ID: ", "Tenant ID: ", "Authentication method:", "1. Client Secret",
			"2. Certificate", "Select: ", "Certificate path: ", "Certificate password: ", "Scope: ")
		if !strings.HasSuffix(strings.TrimSpace(out), "✓ Profile 'production-service' created successfully") {
			t.Errorf("transcript does not end with the seed's success line:\n%s", out)
		}
		for _, pw := range []string{testPassword, "wrong-password-typed"} {
			if strings.Contains(out, pw) {
				t.Errorf("password %q echoed:\n%s", pw, out)
			}
		}
		want := map[string]any{"name": seedName, "clientId": seedClientID, "tenantId": seedTenantID,
			"certificatePath": pfx, "useCertificate": true, "scope": DefaultScope}
		if got := e.profileJSON(seedName); !reflect.DeepEqual(got, want) {
			t.Errorf("profile = %v\nwant %v", got, want)
		}
		if e.secrets()[secret.Key(seedName, secret.CertificatePassword)] != testPassword {
			t.Error("password not stored")
		}
	})

	t.Run("config edit", func(t *testing.T) {
		newPFX := e.newCert("new-certificate", "rotated-Pa55")
		s := startPTY(t, bin, env, "config", "edit", "-p", seedName)
		s.Expect("9. Done")
		s.Expect("Select: ")
		s.TypeLine("Certificate Path") // the seed's words; "1" works too
		s.Expect("Certificate path: ")
		s.TypeLine(newPFX)
		s.Expect("Certificate password: ")
		s.TypeSecret("rotated-Pa55")
		s.Expect("Select: ")
		s.TypeLine("9")
		code, out := s.Wait()
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		inOrder(t, out, "1. Certificate Path", "2. Certificate Password", "3. Client Secret", "4. Scope", "5. Client ID",
			"6. Tenant ID", "7. Authority Host", "8. Secret Store", "9. Done", "Select: ", "Certificate path: ", "Certificate password: ")
		if !strings.HasSuffix(strings.TrimSpace(out), "✓ Profile 'production-service' updated") {
			t.Errorf("transcript end:\n%s", out)
		}
		if strings.Contains(out, "rotated-Pa55") {
			t.Errorf("password echoed:\n%s", out)
		}
		if got := e.profileJSON(seedName)["certificatePath"]; got != newPFX {
			t.Errorf("certificatePath = %v", got)
		}
		if e.secrets()[secret.Key(seedName, secret.CertificatePassword)] != "rotated-Pa55" {
			t.Error("new password not stored")
		}
	})

	t.Run("config edit aborted by end of input saves nothing", func(t *testing.T) {
		before, _ := os.ReadFile(e.profilesPath())
		s := startPTY(t, bin, env, "config", "edit", "-p", seedName)
		s.Expect("Select: ")
		s.TypeLine("4")
		s.Expect("Scope: ")
		s.TypeLine("api://changed/.default")
		s.Expect("Select: ")
		s.Send([]byte{4}) // Ctrl-D
		code, out := s.Wait()
		if code != 1 || !strings.Contains(out, "no changes saved") {
			t.Errorf("exit %d:\n%s", code, out)
		}
		if after, _ := os.ReadFile(e.profilesPath()); !bytes.Equal(before, after) {
			t.Error("an aborted edit changed profiles.json")
		}
	})

	t.Run("cert create asks for the password twice", func(t *testing.T) {
		out := filepath.Join(e.dir, "tty.pfx")
		s := startPTY(t, bin, env, "cert", "create", "--subject", "CN=Tty", "--out", out)
		s.Expect("Certificate password: ")
		s.TypeSecret("first-Pa55")
		s.Expect("Confirm certificate password: ")
		s.TypeSecret("typo-Pa55")
		s.Expect("did not match")
		s.Expect("Certificate password: ")
		s.TypeSecret("first-Pa55")
		s.Expect("Confirm certificate password: ")
		s.TypeSecret("first-Pa55")
		code, transcript := s.Wait()
		if code != 0 || strings.Contains(transcript, "Pa55") {
			t.Fatalf("exit %d:\n%s", code, transcript)
		}
		e.ok("first-Pa55", "cert", "info", out, "--password-stdin")
	})
}
