package e2e

import (
	"bufio"
	"context"
	"crypto/x509"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/emulator"
)

// secretSet is every secret a run has seen: passwords, client secrets, tokens (and
// their signatures, which identify them on their own).
type secretSet map[string]string

func (s secretSet) addToken(label, tok string) {
	tok = strings.TrimSpace(tok)
	if tok == "" {
		return
	}
	s[label] = tok
	if parts := strings.Split(tok, "."); len(parts) == 3 && len(parts[2]) > 16 {
		s[label+" signature"] = parts[2]
	}
}

func (s secretSet) find(text string) string {
	for label, v := range s {
		if v != "" && strings.Contains(text, v) {
			return label
		}
	}
	return ""
}

// Every entratool command that can touch a secret, run with --debug: no password,
// client secret or token on stderr, and none on stdout unless printing a token is the
// command's job. Then what the commands left on disk: private modes, and no secret in
// profiles, exports, kubeconfig or docker config.
func TestSecurityNoSecretInAnyOutput(t *testing.T) {
	w := newWorld(t)
	const certPW = "Cert-Pw-Sec-9f3e1"
	const clientSecret = "Client-Secret-Sec-77a0b"
	cf := w.newCert("sec", certPW)
	w.emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Certificates: []*x509.Certificate{cf.leaf}, Secrets: []string{clientSecret}})
	reg, err := w.emu.StartRegistry(emulator.RegistryOptions{TenantID: tenantID})
	if err != nil {
		t.Fatal(err)
	}
	w.env["DOCKER_CONFIG"] = filepath.Join(w.dir, "docker")
	if err := os.MkdirAll(w.env["HOME"], 0o700); err != nil {
		t.Fatal(err)
	}
	kc := filepath.Join(w.dir, "kubeconfig")
	if err := os.WriteFile(kc, []byte(`apiVersion: v1
kind: Config
clusters: [{name: aks, cluster: {server: "https://aks.example.invalid"}}]
contexts: [{name: aks, context: {cluster: aks, user: u}}]
current-context: aks
users:
- name: u
  user:
    exec: {apiVersion: client.authentication.k8s.io/v1beta1, command: kubelogin, args: [get-token, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	secrets := secretSet{"certificate password": certPW, "client secret": clientSecret}

	type step struct {
		stdin     string
		bin       string
		args      []string
		printsTok bool // stdout carries a token (or a registry refresh token) by design
	}
	gitIn := "protocol=https\nhost=dev.azure.com\npath=org/repo\n\n"
	exportFile := filepath.Join(w.dir, "export.json")
	steps := []step{
		{certPW, "entratool", []string{"config", "create", "--name", "sp", "--client-id", clientID, "--tenant-id", tenantID, "--certificate", cf.pfx, "--certificate-password-stdin", "--authority-host", w.emu.URL, "--secret-store", "file", "--default"}, false},
		{clientSecret, "entratool", []string{"config", "create", "--name", "cs", "--client-id", clientID, "--tenant-id", tenantID, "--client-secret-stdin", "--authority-host", w.emu.URL, "--secret-store", "file"}, false},
		{"", "entratool", []string{"config", "show", "-p", "sp"}, false},
		{"", "entratool", []string{"config", "show", "-p", "cs", "-o", "json"}, false},
		{"", "entratool", []string{"config", "list", "-o", "json"}, false},
		{"", "entratool", []string{"config", "export", "-p", "sp", "-o", exportFile}, false},
		{"", "entratool", []string{"config", "export", "-p", "cs"}, false},
		{"", "entratool", []string{"cert", "info", "-p", "sp"}, false},
		{"", "entratool", []string{"cert", "info", "-p", "sp", "-o", "json"}, false},
		{"", "entratool", []string{"get-token", "-p", "sp"}, true},
		{"", "entratool", []string{"get-token", "-p", "sp", "-o", "json", "--force-refresh"}, true},
		{"", "entratool", []string{"get-token", "-p", "sp", "-o", "az"}, true},
		{"", "entratool", []string{"get-token", "-p", "sp", "-o", "env"}, true},
		{"", "entratool", []string{"get-token", "-p", "cs", "-o", "json"}, true},
		{"", "entratool", []string{"env", "-p", "sp"}, true},
		{"", "entratool", []string{"exec", "-p", "sp", "--", "true"}, false},
		{"", "entratool", []string{"doctor", "-p", "sp"}, false},
		{"", "entratool", []string{"git", "setup", "-p", "sp", "--url", "https://dev.azure.com/org"}, false},
		{"", "entratool", []string{"docker", "setup", "-p", "sp", "--registry", reg.Host}, false},
		{"", "entratool", []string{"kubeconfig", "convert", "-p", "sp", "--kubeconfig", kc}, false},
		{gitIn, "git-credential-entra", []string{"--profile", "sp", "get"}, true},
		{"", "kubectl-exec-entra", []string{"--profile", "sp"}, true},
		{reg.Host, "docker-credential-entra", []string{"get"}, true},
		{"", "az-entra", []string{"account", "get-access-token", "-o", "json"}, true},
		{"", "entratool", []string{"config", "delete", "-p", "cs"}, false},
	}
	type ran struct {
		step
		out, errOut string
	}
	var runs []ran
	w.env["ENTRATOOL_DEBUG"] = "1" // for the helpers, which have no --debug flag
	for _, s := range steps {
		args := s.args
		if s.bin == "entratool" {
			args = append([]string{"--debug"}, args...)
		}
		out, errOut, code := w.run(s.stdin, s.bin, args...)
		if code != 0 {
			t.Fatalf("%s %v: exit %d\n%s%s", s.bin, s.args, code, out, errOut)
		}
		runs = append(runs, ran{s, out, errOut})
		if s.printsTok {
			collectTokens(secrets, s.bin+" "+strings.Join(s.args, " "), out)
		}
	}
	t.Logf("%d secrets and tokens tracked", len(secrets))
	if len(secrets) < 6 {
		t.Fatalf("only %d secrets collected: the token commands printed no tokens?", len(secrets))
	}
	for _, r := range runs {
		what := r.bin + " " + strings.Join(r.args, " ")
		if !strings.Contains(r.errOut, "level=DEBUG") && r.bin == "entratool" && strings.HasPrefix(r.args[0], "get-token") {
			t.Fatalf("%s: --debug printed no debug log", what)
		}
		if l := secrets.find(r.errOut); l != "" {
			t.Errorf("%s: stderr holds the %s", what, l)
		}
		if !r.printsTok {
			if l := secrets.find(r.out); l != "" {
				t.Errorf("%s: stdout holds the %s", what, l)
			}
		}
	}

	// Files the commands wrote.
	for _, f := range []string{filepath.Join(w.home, "profiles.json"), exportFile, kc, filepath.Join(w.env["DOCKER_CONFIG"], "config.json"), filepath.Join(w.env["HOME"], ".gitconfig")} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if l := secrets.find(string(data)); l != "" {
			t.Errorf("%s holds the %s", f, l)
		}
	}
	if data, _ := os.ReadFile(kc); !strings.Contains(string(data), "kubectl-exec-entra") {
		t.Fatalf("kubeconfig not converted:\n%s", data)
	}
	// The only place a secret is at rest: secrets.json (file store), 0600 — and the
	// deleted profile's secret is gone from it.
	data, err := os.ReadFile(filepath.Join(w.home, "secrets.json"))
	if err != nil || !strings.Contains(string(data), certPW) || strings.Contains(string(data), clientSecret) {
		t.Fatalf("secrets.json: %v (cert password kept: %v, deleted profile's secret gone: %v)", err, strings.Contains(string(data), certPW), !strings.Contains(string(data), clientSecret))
	}
	checkPrivateTree(t, w.home)
	if fi, err := os.Stat(exportFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file %v %v", fi.Mode(), err)
	}
}

// collectTokens adds every JWT-looking word of out to secrets.
func collectTokens(secrets secretSet, label, out string) {
	for i, f := range strings.FieldsFunc(out, func(r rune) bool {
		return r == '"' || r == '\'' || r == '=' || r == '\n' || r == ' ' || r == ',' || r == ':' || r == '{' || r == '}'
	}) {
		if strings.HasPrefix(f, "eyJ") && strings.Count(f, ".") == 2 {
			secrets.addToken(label+" token "+strconv.Itoa(i), f)
		}
	}
}

// checkPrivateTree asserts every directory under root is 0700 and every file 0600 (or
// stricter).
func checkPrivateTree(t *testing.T, root string) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		perm := fi.Mode().Perm()
		switch {
		case d.IsDir() && perm != 0o700:
			t.Errorf("directory %s is %v, want 0700", p, perm)
		case fi.Mode().IsRegular() && perm&0o077 != 0:
			t.Errorf("file %s is %v, want 0600", p, perm)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The engine a front end hands over to receives its request through argv and stdin:
// argv never holds the secret, which arrives on stdin. Checked on the running process,
// as another user's `ps` would see it.
func TestSecurityEngineArgvHoldsNoSecret(t *testing.T) {
	w := newWorld(t)
	const certPW = "Argv-Check-Pw-5521"
	cf := w.newCert("argv", certPW)
	w.register(cf.leaf)
	cmd := w.command(context.Background(), "", "entratool", "config", "create", "--name", "sp", "--client-id", clientID,
		"--tenant-id", tenantID, "--certificate", cf.pfx, "--certificate-password-stdin", "--authority-host", w.emu.URL, "--secret-store", "file")
	cmd.Stdin = nil
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	var outb, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &outb, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The front end execs the engine in place (same pid): wait until it has.
	deadline := time.Now().Add(10 * time.Second)
	var argv string
	for time.Now().Before(deadline) {
		data, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/cmdline")
		if err != nil {
			t.Skipf("no /proc here: %v", err)
		}
		argv = strings.ReplaceAll(string(data), "\x00", " ")
		if strings.Contains(argv, "--as=entratool") {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	if !strings.Contains(argv, "--as=entratool") {
		t.Fatalf("the engine never took over: argv %q", argv)
	}
	if strings.Contains(argv, certPW) {
		t.Fatalf("engine argv holds the password: %q", argv)
	}
	io.WriteString(stdin, certPW+"\n")
	stdin.Close()
	if err := cmd.Wait(); err != nil {
		t.Fatalf("config create: %v\n%s%s", err, outb.String(), errb.String())
	}

	// And a child of `entratool exec` reads its parent's argv and environment: the
	// token is in the child's environment (its job) but not in the engine's argv.
	out := w.mustRun("", "entratool", "exec", "-p", "sp", "--", "sh", "-c", `tr '\0' ' ' < /proc/$PPID/cmdline; echo; printf '%s' "$ENTRA_ACCESS_TOKEN"`)
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if len(lines) != 2 || !strings.Contains(lines[0], "entratool") {
		t.Fatalf("exec output %q", out)
	}
	tok := lines[1]
	w.claims(tok, "https://graph.microsoft.com")
	if strings.Contains(lines[0], tok) || strings.Contains(lines[0], certPW) {
		t.Fatalf("engine argv holds a secret: %q", lines[0])
	}
}
