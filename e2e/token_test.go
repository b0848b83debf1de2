package e2e

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/internal/testkit"
)

// openssl makes PFX files the way users do; each variant must give a token.
func TestTokenThroughEveryCertificateEncoding(t *testing.T) {
	openssl := requireTool(t, "openssl")
	w := newWorld(t)
	cf := w.newCert("enc", "pfx-pass")
	w.register(cf.leaf)
	legacy := filepath.Join(cf.dir, "legacy.pfx")
	ossl3 := filepath.Join(cf.dir, "openssl3.pfx")
	for _, c := range []struct {
		out   string
		extra []string
	}{{ossl3, nil}, {legacy, []string{"-legacy"}}} {
		args := append([]string{"pkcs12", "-export", "-in", cf.pem, "-inkey", cf.pem, "-out", c.out, "-passout", "pass:pfx-pass"}, c.extra...)
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}
	cases := []struct{ name, path, password string }{
		{"openssl3-default", ossl3, "pfx-pass"},
		{"openssl-legacy", legacy, "pfx-pass"},
		{"pem-pair", cf.pem, ""},
		{"go-modern", cf.pfx, "pfx-pass"},
	}
	seen := map[string]bool{}
	defer func() {
		if c := w.emu.Counts(); c.TokenIssued != len(cases) {
			t.Errorf("emulator issued %d tokens for %d encodings", c.TokenIssued, len(cases))
		}
	}()
	for _, c := range cases {
		w.saveProfile(&profile.Profile{Name: c.name, UseCertificate: true, CertificatePath: c.path, Scope: graph}, c.password)
		// The same certificate would be served from the cache; force a request per encoding.
		out := w.mustRun("", "entratool", "get-token", "-p", c.name, "--force-refresh")
		cl := w.claims(out, "https://graph.microsoft.com")
		if cl.AppID != clientID || cl.TenantID != tenantID {
			t.Fatalf("%s: claims %+v", c.name, cl)
		}
		if seen[out] {
			t.Fatalf("%s: token reused across profiles", c.name)
		}
		seen[out] = true
	}
}

func TestTokenWithClientSecret(t *testing.T) {
	w := newWorld(t)
	w.emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Secrets: []string{"s3cret-value"}})
	w.saveProfile(&profile.Profile{Name: "sec", Scope: graph}, "s3cret-value")
	out := w.mustRun("", "entratool", "get-token", "-o", "json")
	var j struct {
		AccessToken string `json:"accessToken"`
		ExpiresOn   string `json:"expiresOn"`
		ExpiresOnTS int64  `json:"expires_on"`
		TenantID    string `json:"tenantId"`
		ClientID    string `json:"clientId"`
		Scope       string `json:"scope"`
	}
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	cl := w.claims(j.AccessToken, "https://graph.microsoft.com")
	exp, err := time.Parse(time.RFC3339, j.ExpiresOn)
	if err != nil || !strings.HasSuffix(j.ExpiresOn, "Z") || exp.Unix() != j.ExpiresOnTS || j.ExpiresOnTS != cl.ExpiresAt.Unix() {
		t.Fatalf("expiry fields %q %d vs token exp %v", j.ExpiresOn, j.ExpiresOnTS, cl.ExpiresAt)
	}
	if j.TenantID != tenantID || j.ClientID != clientID || j.Scope != graph {
		t.Fatalf("json %+v", j)
	}
	// A wrong secret is refused with the AADSTS code and its fix.
	w.saveProfile(&profile.Profile{Name: "bad", Scope: graph}, "wrong-secret-Zq9")
	_, errOut, code := w.run("", "entratool", "get-token", "-p", "bad")
	if code != 1 || !strings.Contains(errOut, "AADSTS7000215") || strings.Contains(errOut, "wrong-secret-Zq9") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("error is not one line: %q", errOut)
	}
}

func TestUnregisteredCertificateGetsAADSTS700027Hint(t *testing.T) {
	w := newWorld(t)
	registered := w.newCert("registered", "pw")
	other := w.newCert("other", "pfx-pw-Kx7")
	w.register(registered.leaf)
	w.certProfile("p", other, other.pfx)
	_, errOut, code := w.run("", "entratool", "get-token")
	if code != 1 || !strings.Contains(errOut, "AADSTS700027") || !strings.Contains(errOut, "thumbprint") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(errOut, other.password) {
		t.Fatalf("password in error: %s", errOut)
	}
}

func TestExpiredCertificateRefusedWithoutRequest(t *testing.T) {
	w := newWorld(t)
	cf := w.newExpiredCert("old", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	_, errOut, code := w.run("", "entratool", "get-token")
	if code != 1 || !strings.Contains(errOut, "expired on") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := w.emu.Counts().Total; n != 0 {
		t.Fatalf("emulator saw %d requests for an expired certificate", n)
	}
}

func TestColdTokenCostsTwoRequestsThenOneThenNone(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("c", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	first := w.mustRun("", "entratool", "get-token")
	if c := w.emu.Counts(); c.Total != 2 || c.Metadata != 1 || c.Token != 1 {
		t.Fatalf("cold token: %+v, want metadata+token", c)
	}
	second := w.mustRun("", "entratool", "get-token")
	if second != first || w.emu.Counts().Total != 2 {
		t.Fatalf("cache hit made requests: %+v", w.emu.Counts())
	}
	// --force-refresh with the metadata cached on disk: one request.
	third := w.mustRun("", "entratool", "get-token", "--force-refresh")
	if c := w.emu.Counts(); c.Total != 3 || c.Token != 2 || third == first {
		t.Fatalf("forced refresh: %+v", c)
	}
}

// 32 processes that miss the cache at once make one token request between them.
func TestHerdOfColdProcessesMakesOneRequest(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("herd", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	const n = 32
	var wg sync.WaitGroup
	outs := make([]string, n)
	errs := make([]string, n)
	codes := make([]int, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			outs[i], errs[i], codes[i] = w.run("", "entratool", "get-token")
		}(i)
	}
	close(start)
	wg.Wait()
	for i := range outs {
		if codes[i] != 0 || outs[i] != outs[0] {
			t.Fatalf("process %d: exit %d, token differs=%v, stderr %s", i, codes[i], outs[i] != outs[0], errs[i])
		}
	}
	if c := w.emu.Counts(); c.Token != 1 || c.TokenIssued != 1 {
		t.Fatalf("%d processes made %+v", n, c)
	}
	w.claims(outs[0], "https://graph.microsoft.com")
}

func TestFaultsAreRetriedWithinTimeout(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("f", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)

	w.emu.QueueFaults(emulator.Fault{Status: 503}, emulator.Fault{Status: 503})
	out := w.mustRun("", "entratool", "get-token", "--force-refresh")
	w.claims(out, "https://graph.microsoft.com")
	if c := w.emu.Counts(); c.Token != 3 || c.TokenIssued != 1 {
		t.Fatalf("503,503,200: %+v", c)
	}

	w.emu.QueueFaults(emulator.Fault{Status: 429, RetryAfter: "1"})
	start := time.Now()
	w.mustRun("", "entratool", "get-token", "--force-refresh")
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("429 Retry-After: 1 retried after %v", waited)
	}

	w.emu.SetPermanentFault(&emulator.Fault{Status: 500})
	start = time.Now()
	_, errOut, code := w.run("", "entratool", "get-token", "--force-refresh", "--timeout", "3s")
	elapsed := time.Since(start)
	if code != 1 || !strings.Contains(errOut, "500") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Fatalf("permanent 500: exit %d: %q", code, errOut)
	}
	if elapsed > 10*time.Second {
		t.Fatalf("permanent 500 took %v with --timeout 3s", elapsed)
	}
	w.emu.SetPermanentFault(nil)
}

// A cache hit opens neither the PFX nor the secret store and makes no request.
func TestCacheHitNeedsNoCertificateNoSecretNoNetwork(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("hit", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	first := w.mustRun("", "entratool", "get-token")
	before := w.emu.Counts().Total

	// Remove the password from the store and make the PFX unreadable.
	if err := os.Remove(filepath.Join(w.home, "secrets.json")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(cf.pfx, 0); err != nil {
		t.Fatal(err)
	}
	var out, errOut string
	var code int
	if isRoot() {
		// root reads any file; run the cached call as nobody, who cannot.
		chownTree(t, w.dir, 65534)
		cmd := w.command(context.Background(), "", "entratool", "get-token")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
		if _, err := os.ReadFile(cf.pfx); err != nil {
			t.Fatal(err)
		}
		out, errOut, code = runCmd(t, cmd)
		// Prove nobody really cannot read the PFX.
		probe := exec.Command("cat", cf.pfx)
		probe.SysProcAttr = cmd.SysProcAttr
		if probe.Run() == nil {
			t.Fatal("nobody can read a mode-000 file; the test proves nothing")
		}
	} else {
		out, errOut, code = w.run("", "entratool", "get-token")
	}
	if code != 0 || out != first {
		t.Fatalf("cache hit failed: exit %d, stderr %s", code, errOut)
	}
	if n := w.emu.Counts().Total; n != before {
		t.Fatalf("cache hit made %d requests", n-before)
	}
}

func chownTree(t *testing.T, dir string, uid int) {
	t.Helper()
	// The test's temp dir and its parent must be traversable by uid.
	for d := dir; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
		if err := os.Chown(d, uid, uid); err != nil {
			t.Fatal(err)
		}
	}
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, uid)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNewCertificatePathNeverReusesOldToken(t *testing.T) {
	w := newWorld(t)
	a := w.newCert("a", "pw")
	b := w.newCert("b", "pw")
	w.register(a.leaf, b.leaf)
	w.certProfile("p", a, a.pfx)
	tokA := w.mustRun("", "entratool", "get-token")
	w.certProfile("p", b, b.pfx)
	tokB := w.mustRun("", "entratool", "get-token")
	if tokA == tokB {
		t.Fatal("the new certificate reused the old certificate's token")
	}
	if c := w.emu.Counts(); c.TokenIssued != 2 {
		t.Fatalf("%+v", c)
	}
	// Replacing the file in place (same path, new certificate) is noticed too.
	data, err := os.ReadFile(a.pfx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(b.pfx+".tmp", data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(b.pfx+".tmp", b.pfx); err != nil {
		t.Fatal(err)
	}
	tokA2 := w.mustRun("", "entratool", "get-token")
	if tokA2 == tokB {
		t.Fatal("a replaced certificate file reused the old token")
	}
	if tokA2 != tokA {
		// Same certificate as profile a's first token: the cache may serve it.
		t.Logf("new token for the replaced file (cache keyed by thumbprint)")
	}
}

func TestRotate(t *testing.T) {
	w := newWorld(t)
	old := w.newCert("old", "pw-old")
	good := w.newCert("good", "pw-new")
	unregistered := w.newCert("unreg", "pw-x")
	w.register(old.leaf, good.leaf)
	w.certProfile("prod", old, old.pfx)
	profilesPath := filepath.Join(w.home, "profiles.json")
	before, _ := os.ReadFile(profilesPath)

	_, errOut, code := w.run("pw-x", "entratool", "config", "rotate", "-p", "prod", "--certificate", unregistered.pfx, "--certificate-password-stdin")
	if code == 0 || !strings.Contains(errOut, "AADSTS700027") || !strings.Contains(errOut, "unchanged") {
		t.Fatalf("bad rotate: exit %d: %s", code, errOut)
	}
	after, _ := os.ReadFile(profilesPath)
	if string(before) != string(after) {
		t.Fatal("failed rotate changed profiles.json")
	}
	_, _, code = w.run("wrong", "entratool", "config", "rotate", "-p", "prod", "--certificate", good.pfx, "--certificate-password-stdin")
	if code != 1 {
		t.Fatalf("wrong password rotate exit %d", code)
	}

	out := w.mustRun("pw-new", "entratool", "config", "rotate", "-p", "prod", "--certificate", good.pfx, "--certificate-password-stdin")
	if !strings.Contains(out, "backup") {
		t.Fatalf("rotate output %q", out)
	}
	cfg, err := (&profile.Store{Home: w.home}).Load()
	if err != nil || cfg.Get("prod").CertificatePath != good.pfx {
		t.Fatalf("profile not switched: %v", err)
	}
	backups, _ := filepath.Glob(filepath.Join(w.home, "backups", "prod-*.json"))
	if len(backups) != 1 {
		t.Fatalf("backups %v", backups)
	}
	data, _ := os.ReadFile(backups[0])
	if !strings.Contains(string(data), old.pfx) || strings.Contains(string(data), "pw-old") {
		t.Fatalf("backup content %s", data)
	}
	tok := w.mustRun("", "entratool", "get-token", "-p", "prod")
	w.claims(tok, "https://graph.microsoft.com")
}

func TestEnvOutputEvaluatedByShells(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("env", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	tok := strings.TrimSpace(w.mustRun("", "entratool", "get-token"))
	exp := w.claims(tok, "https://graph.microsoft.com").ExpiresAt.Unix()
	want := strings.Join([]string{tok, strconv.FormatInt(exp, 10), tenantID, clientID}, "|")
	shells := []struct{ shell, bin, script string }{
		{"sh", "sh", `eval "$(entratool env --shell sh)"; printf '%s|%s|%s|%s' "$ENTRA_ACCESS_TOKEN" "$ENTRA_TOKEN_EXPIRES_ON" "$AZURE_TENANT_ID" "$AZURE_CLIENT_ID"`},
		{"bash", "bash", `eval "$(entratool env --shell bash)"; printf '%s|%s|%s|%s' "$ENTRA_ACCESS_TOKEN" "$ENTRA_TOKEN_EXPIRES_ON" "$AZURE_TENANT_ID" "$AZURE_CLIENT_ID"`},
		{"zsh", "zsh", `eval "$(entratool env --shell zsh)"; printf '%s|%s|%s|%s' "$ENTRA_ACCESS_TOKEN" "$ENTRA_TOKEN_EXPIRES_ON" "$AZURE_TENANT_ID" "$AZURE_CLIENT_ID"`},
		{"fish", "fish", `entratool env --shell fish | source; printf '%s|%s|%s|%s' "$ENTRA_ACCESS_TOKEN" "$ENTRA_TOKEN_EXPIRES_ON" "$AZURE_TENANT_ID" "$AZURE_CLIENT_ID"`},
		{"powershell", "pwsh", `entratool env --shell powershell | Out-String | Invoke-Expression; Write-Host -NoNewline "$($Env:ENTRA_ACCESS_TOKEN)|$($Env:ENTRA_TOKEN_EXPIRES_ON)|$($Env:AZURE_TENANT_ID)|$($Env:AZURE_CLIENT_ID)"`},
	}
	ran := 0
	for _, s := range shells {
		bin, err := exec.LookPath(s.bin)
		if err != nil {
			t.Logf("%s not installed: its format is checked by helpers/envexport's tests only", s.bin)
			continue
		}
		args := []string{"-c", s.script}
		if s.bin == "pwsh" {
			args = []string{"-NoProfile", "-Command", s.script}
		}
		cmd := exec.Command(bin, args...)
		cmd.Env = w.environ()
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v", s.shell, err)
		}
		if string(out) != want {
			t.Fatalf("%s set %q, want %q", s.shell, out, want)
		}
		ran++
	}
	if ran < 2 {
		t.Fatalf("only %d shells ran; sh and bash at least are required", ran)
	}
	// dotenv and github formats carry the same values line by line.
	for _, shell := range []string{"dotenv", "github"} {
		out := w.mustRun("", "entratool", "env", "--shell", shell)
		if !strings.Contains(out, "ENTRA_ACCESS_TOKEN="+tok+"\n") || !strings.Contains(out, "AZURE_CLIENT_ID="+clientID+"\n") {
			t.Fatalf("%s output %q", shell, out)
		}
	}
}

func TestExecPassesVariablesAndExitCode(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("exec", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	tok := strings.TrimSpace(w.mustRun("", "entratool", "get-token"))
	out := w.mustRun("", "entratool", "exec", "--", "sh", "-c", `printf '%s' "$ENTRA_ACCESS_TOKEN"`)
	if out != tok {
		t.Fatalf("exec saw %q", out)
	}
	_, _, code := w.run("", "entratool", "exec", "--", "sh", "-c", "exit 42")
	if code != 42 {
		t.Fatalf("exit code %d, want 42", code)
	}
}

// --debug shows what happened (cache decisions, requests with their ids) and never a
// secret or a token.
func TestDebugLogHasNoSecrets(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("dbg", "dbg-Pfx-Secret-77")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	out, errOut, code := w.run("", "entratool", "get-token", "--debug")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	tok := strings.TrimSpace(out)
	for _, want := range []string{"cache miss", "requesting a token", "openid-configuration", "oauth2/v2.0/token", "x-ms-request-id"} {
		if !strings.Contains(errOut, want) {
			t.Fatalf("debug log lacks %q:\n%s", want, errOut)
		}
	}
	_, errOut2, _ := w.run("", "entratool", "get-token", "--debug")
	if !strings.Contains(errOut2, "token from cache") {
		t.Fatalf("second run:\n%s", errOut2)
	}
	for _, leak := range []string{tok, tok[:40], cf.password, strings.Split(tok, ".")[2]} {
		if strings.Contains(errOut+errOut2, leak) {
			t.Fatalf("debug log contains a secret or token fragment %q", leak[:8])
		}
	}
}

// exec passes SIGTERM on to the child and returns the child's exit code.
func TestExecForwardsSignals(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("sig", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	cmd := w.command(context.Background(), "", "entratool", "exec", "--", "sh", "-c",
		`trap 'echo got-TERM; exit 7' TERM; echo ready; while :; do sleep 0.05; done`)
	out := &testkit.Transcript{}
	cmd.Stdout = out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if !out.WaitFor("ready", 30*time.Second) {
		t.Fatalf("child never started: %q", out.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != 7 || !strings.Contains(out.String(), "got-TERM") {
		t.Fatalf("err=%v output=%q", err, out.String())
	}
}
