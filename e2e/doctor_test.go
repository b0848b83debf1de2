package e2e

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/internal/testkit"
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
	engine := "✓ entratool-engine dev (" + filepath.Join(binDir, "entratool-engine") + ")"
	for _, want := range []string{engine, "✓ home", "✓ profiles file", "secret store file reachable", "thumbprint"} {
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

// After `git setup` for a host of one's own, doctor sees the wiring: the defaults that
// setup keeps in gitHosts (dev.azure.com, *.visualstudio.com) are not required to be
// wired too, and a helper set up for another profile does not count for this one.
func TestDoctorSeesGitSetupForACustomHost(t *testing.T) {
	requireTool(t, "git")
	w := newWorld(t)
	cf := w.newCert("own", "pw")
	w.register(cf.leaf)
	w.certProfile("own", cf, cf.pfx)
	w.env["GIT_CONFIG_GLOBAL"] = filepath.Join(w.dir, "gitconfig")
	w.env["GIT_CONFIG_NOSYSTEM"] = "1"
	w.mustRun("", "entratool", "git", "setup", "-p", "own", "--url", "https://git.example.com/x")
	out, errOut, code := w.run("", "entratool", "doctor", "-p", "own")
	if code != 0 || !strings.Contains(out, "✓ profile own: git uses the entra helper for https://git.example.com") || strings.Contains(out, "✗") {
		t.Fatalf("after setup for a custom host: exit %d\n%s%s", code, out, errOut)
	}
	// dev.azure.com wired for another profile is not wired for this one.
	ado := &profile.Profile{Name: "ado", UseCertificate: true, CertificatePath: cf.pfx, Scope: graph, GitHosts: []string{"dev.azure.com"}}
	w.saveProfile(ado, cf.password)
	w.certProfile("other", cf, cf.pfx)
	w.mustRun("", "entratool", "git", "setup", "-p", "other", "--url", "https://dev.azure.com/contoso")
	out, _, code = w.run("", "entratool", "doctor", "-p", "ado")
	if code != 1 || !strings.Contains(out, "✗ profile ado: git has no entra credential helper for https://dev.azure.com") {
		t.Fatalf("helper of another profile: exit %d\n%s", code, out)
	}
}

// Without --live doctor stays off the network; with it, it gets a real token from the
// authority (never the cached one) and says so.
func TestDoctorLiveGetsAToken(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("live", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	w.mustRun("", "entratool", "get-token") // a cached token doctor --live must not settle for
	w.emu.ResetCounts()
	out := w.mustRun("", "entratool", "doctor")
	if n := w.emu.Counts().Total; n != 0 || strings.Contains(out, "token for") {
		t.Fatalf("doctor without --live made %d requests:\n%s", n, out)
	}
	out = w.mustRun("", "entratool", "doctor", "--live", "-p", "p")
	want := "✓ profile p: token for " + graph + " from " + w.emu.URL + "/" + tenantID + " (expires "
	if !strings.Contains(out, want) {
		t.Fatalf("missing %q in:\n%s", want, out)
	}
	if n := w.emu.Counts().TokenIssued; n != 1 {
		t.Fatalf("doctor --live: the authority issued %d tokens, want 1 (the cached one does not prove anything)", n)
	}
}

// doctor --live says precisely why no token comes, with the fix: unknown tenant, app
// unknown in the tenant, a certificate not uploaded (with the thumbprint to compare), an
// authority that cannot be reached (naming the host).
func TestDoctorLiveSaysWhyNot(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("uploaded", "pw")
	w.register(cf.leaf)
	stray := w.newCert("stray", "pw")
	refused := testkit.ClosedAddr(t)
	rogue := startTLSServer(t, w.dir, nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	rogueHost := strings.TrimPrefix(rogue.url, "https://")
	const otherTenant, otherApp = "11111111-2222-3333-4444-555555555555", "99999999-8888-7777-6666-555555555555"
	cases := []struct {
		name string
		p    profile.Profile
		want []string
	}{
		{"tenant", profile.Profile{TenantID: otherTenant},
			[]string{"AADSTS90002", "tenant " + otherTenant + " not found", "tenantId"}},
		{"app", profile.Profile{ClientID: otherApp},
			[]string{"AADSTS700016", "app " + otherApp + " not found in tenant " + tenantID, "clientId"}},
		{"cert", profile.Profile{CertificatePath: stray.pfx},
			[]string{"AADSTS700027", cert.ThumbprintSHA1(stray.leaf), "Certificates & secrets"}},
		{"refused", profile.Profile{AuthorityHost: "https://" + refused},
			[]string{"cannot reach " + refused, "connection refused"}},
		{"tls", profile.Profile{AuthorityHost: rogue.url},
			[]string{"cannot reach " + rogueHost + " over TLS", "SSL_CERT_FILE"}},
		{"dns", profile.Profile{AuthorityHost: "https://login.doctor-test.invalid"},
			[]string{"login.doctor-test.invalid"}},
	}
	for _, c := range cases {
		p := c.p
		p.Name, p.UseCertificate, p.Scope = c.name, true, graph
		if p.CertificatePath == "" {
			p.CertificatePath = cf.pfx
		}
		w.saveProfile(&p, "pw")
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := w.run("", "entratool", "doctor", "--live", "--timeout", "10s", "-p", c.name)
			var bad []string
			for _, line := range strings.Split(out, "\n") {
				if strings.HasPrefix(line, "✗") {
					bad = append(bad, line)
				}
			}
			if code != 1 || len(bad) != 1 || !strings.Contains(bad[0], " — fix: ") || !strings.Contains(bad[0], "profile "+c.name+": no token") {
				t.Fatalf("want one failed check with its fix: exit %d\n%s%s", code, out, errOut)
			}
			for _, want := range c.want {
				if !strings.Contains(bad[0], want) {
					t.Errorf("missing %q in %q", want, bad[0])
				}
			}
		})
	}
}

// doctor reports a missing entratool-engine itself: it must not need the engine to say
// so (SPEC §16).
func TestDoctorReportsMissingEngine(t *testing.T) {
	w := newWorld(t)
	alone := t.TempDir()
	copyFile(t, filepath.Join(binDir, "entratool"), filepath.Join(alone, "entratool"))
	w.env["PATH"] = alone
	cmd := exec.Command(filepath.Join(alone, "entratool"), "doctor")
	cmd.Env = w.environ()
	out, errOut, code := runCmd(t, cmd)
	want := "✗ entratool-engine: not found beside " + filepath.Join(alone, "entratool") + " or on PATH — fix: reinstall every entratool binary together"
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("no engine: exit %d, want %q in\n%s%s", code, want, out, errOut)
	}
}

// A front of another version beside this build's engine: doctor says so itself.
func TestDoctorReportsMismatchedEngine(t *testing.T) {
	w := newWorld(t)
	mixed := t.TempDir()
	build := exec.Command("go", "build", "-ldflags", "-X github.com/entratool/entratool/core/version.Version=0.0.0-doctor",
		"-o", filepath.Join(mixed, "entratool"), "./entratool")
	build.Dir = ".."
	if b, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	engine := filepath.Join(mixed, "entratool-engine")
	if err := os.Symlink(filepath.Join(binDir, "entratool-engine"), engine); err != nil {
		t.Fatal(err)
	}
	w.env["PATH"] = binDir // another engine on PATH changes nothing: the one beside wins
	cmd := exec.Command(filepath.Join(mixed, "entratool"), "-p", "x", "doctor")
	cmd.Env = w.environ()
	out, errOut, code := runCmd(t, cmd)
	want := "✗ entratool-engine dev at " + engine + " does not match entratool 0.0.0-doctor — fix: reinstall every entratool binary together"
	if code != 1 || !strings.Contains(out, want) {
		t.Fatalf("mismatched engine: exit %d, want %q in\n%s%s", code, want, out, errOut)
	}
}
