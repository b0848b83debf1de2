package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/profile"
)

func TestDoctorReportsEachCheck(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("doc", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	out, errOut, code := w.run("", "entratool", "doctor")
	if code != 0 {
		t.Fatalf("healthy setup: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{"✓ home", "✓ profiles file", "secret store file reachable", "thumbprint"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in:\n%s", want, out)
		}
	}
	// Loosen permissions and break the password: each is one ✗ line with its fix.
	w.saveProfile(w.profile("p"), "wrong-password")
	if err := os.Chmod(w.home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cf.pfx, 0o644); err != nil {
		t.Fatal(err)
	}
	out, _, code = w.run("", "entratool", "doctor", "-p", "p")
	if code != 1 {
		t.Fatalf("broken setup: exit %d\n%s", code, out)
	}
	for _, want := range []string{"✗ home", "chmod 700 " + w.home, "chmod 600 " + cf.pfx, "invalid certificate password", "Certificate Password"} {
		if !strings.Contains(out, want) {
			t.Fatalf("missing %q in:\n%s", want, out)
		}
	}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.HasPrefix(line, "✗") && !strings.Contains(line, "fix:") {
			t.Fatalf("failed check without a fix: %q", line)
		}
		if strings.Contains(line, "wrong-password") {
			t.Fatalf("secret in doctor output: %q", line)
		}
	}
	// A malformed profiles.json is reported with its position.
	if err := os.WriteFile(filepath.Join(w.home, "profiles.json"), []byte("{\n  \"profiles\": [,]\n}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, code = w.run("", "entratool", "doctor")
	if code != 1 || !strings.Contains(out, "profiles.json:2:") {
		t.Fatalf("malformed file: exit %d\n%s", code, out)
	}
}

func TestDoctorSeesGitWiring(t *testing.T) {
	requireTool(t, "git")
	w := newWorld(t)
	cf := w.newCert("git", "pw")
	w.register(cf.leaf)
	p := &profile.Profile{Name: "ado", UseCertificate: true, CertificatePath: cf.pfx, Scope: graph, GitHosts: []string{"dev.azure.com"}}
	w.saveProfile(p, cf.password)
	w.env["GIT_CONFIG_GLOBAL"] = filepath.Join(w.dir, "gitconfig")
	w.env["GIT_CONFIG_NOSYSTEM"] = "1"
	out, _, code := w.run("", "entratool", "doctor", "-p", "ado")
	if code != 1 || !strings.Contains(out, "✗ profile ado: git has no entra credential helper for https://dev.azure.com") {
		t.Fatalf("before setup: exit %d\n%s", code, out)
	}
	w.mustRun("", "entratool", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/contoso", "--global")
	out, _, code = w.run("", "entratool", "doctor", "-p", "ado")
	if code != 0 || !strings.Contains(out, "✓ profile ado: git uses the entra helper for https://dev.azure.com") {
		t.Fatalf("after setup: exit %d\n%s", code, out)
	}
}
