package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/entratool/entratool/emulator"
)

const devopsResource = "499b84ac-1321-427f-aa17-267ca6975798"

// gitWorld is a world with a git server in front of one empty repository, a profile
// "ado" whose certificate the emulator knows, and git configured the way a CI runner
// is: a private global config, no system config, no terminal prompts, and the emulator
// CA trusted through GIT_SSL_CAINFO (this git's libcurl uses GnuTLS, which ignores
// SSL_CERT_FILE).
type gitWorld struct {
	*world
	gs   *emulator.GitServer
	repo string // clone URL
}

func newGitWorld(t *testing.T) *gitWorld {
	t.Helper()
	requireTool(t, "git")
	w := newWorld(t)
	cf := w.newCert("ado", "pfx-pass")
	w.register(cf.leaf)
	w.certProfile("ado", cf, cf.pfx)
	gs, err := w.emu.StartGitServer(emulator.GitServerOptions{Dir: filepath.Join(w.dir, "gitserver")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gs.Close() })
	repo, err := gs.CreateRepo(context.Background(), "org/project/_git/repo")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(w.env["HOME"], 0o700); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"GIT_CONFIG_GLOBAL":   filepath.Join(w.env["HOME"], ".gitconfig"),
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_TERMINAL_PROMPT": "0",
		"GIT_SSL_CAINFO":      w.emu.CAFile,
		"GIT_AUTHOR_NAME":     "CI", "GIT_AUTHOR_EMAIL": "ci@example.com",
		"GIT_COMMITTER_NAME": "CI", "GIT_COMMITTER_EMAIL": "ci@example.com",
	} {
		w.env[k] = v
	}
	return &gitWorld{world: w, gs: gs, repo: repo}
}

// git runs the real git in dir and returns its output and exit code.
func (g *gitWorld) git(dir, stdin string, args ...string) (string, string, int) {
	g.t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir, cmd.Env, cmd.Stdin = dir, g.environ(), strings.NewReader(stdin)
	return runCmd(g.t, cmd)
}

func (g *gitWorld) mustGit(dir string, args ...string) string {
	g.t.Helper()
	out, errOut, code := g.git(dir, "", args...)
	if code != 0 {
		g.t.Fatalf("git %v: exit %d\n%s%s", args, code, out, errOut)
	}
	return out
}

// accepted are the fingerprints of the tokens the git server let through, in order,
// each once.
func (g *gitWorld) accepted() []string {
	var fps []string
	for _, r := range g.gs.Requests() {
		if r.Status < 400 && !slices.Contains(fps, r.Token) {
			fps = append(fps, r.Token)
		}
	}
	return fps
}

// The scenario: `entratool git setup`, then git clone and push over HTTPS with
// no prompt, the helper answering from one token for every git process.
func TestGitCloneAndPushWithHelper(t *testing.T) {
	g := newGitWorld(t)
	out := g.mustRun("", "entratool", "git", "setup", "-p", "ado", "--url", g.gs.URL+"/org")
	if !strings.Contains(out, g.gs.Host+" added to gitHosts") {
		t.Fatalf("setup output: %s", out)
	}
	work := g.dir
	g.mustGit(work, "clone", "--quiet", g.repo, "a")
	a := filepath.Join(work, "a")
	if err := os.WriteFile(filepath.Join(a, "README.md"), []byte("hello from CI\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g.mustGit(a, "add", "README.md")
	g.mustGit(a, "commit", "--quiet", "-m", "first")
	g.mustGit(a, "push", "--quiet", "origin", "HEAD:main")
	// Azure DevOps clone URLs carry the organization as user name: setup's entry (no
	// user) matches them too.
	g.mustGit(work, "clone", "--quiet", strings.Replace(g.repo, "https://", "https://org@", 1), "b")
	if data, err := os.ReadFile(filepath.Join(work, "b", "README.md")); err != nil || string(data) != "hello from CI\n" {
		t.Fatalf("pushed file in a fresh clone: %q, %v", data, err)
	}

	// One token served three git processes (clone, push, clone) from the cache.
	if n := g.emu.Counts().TokenIssued; n != 1 {
		t.Fatalf("emulator issued %d tokens, want 1", n)
	}
	tok := strings.TrimSpace(g.mustRun("", "entratool", "get-token", "-p", "ado", "--scope", devopsResource+"/.default"))
	if n := g.emu.Counts().TokenIssued; n != 1 {
		t.Fatalf("get-token for the same scope was not a cache hit (%d tokens)", n)
	}
	if got := g.accepted(); len(got) != 1 || got[0] != emulator.TokenFingerprint(tok) {
		t.Fatalf("git server accepted tokens %q, want only the cached one %q", got, emulator.TokenFingerprint(tok))
	}
	pushed := false
	for _, r := range g.gs.Requests() {
		switch {
		case r.Status == 401:
			// git asks first without a password (anonymously, or with just the URL's user
			// name), then asks the helper.
			if r.Token != "" {
				t.Errorf("a credential was refused: %+v", r)
			}
		case r.Auth != "basic" || r.Username != clientID || r.AppID != clientID:
			t.Errorf("request %+v: want Basic auth with the client id as username", r)
		}
		pushed = pushed || strings.HasSuffix(r.Path, "/git-receive-pack") && r.Status == 200
	}
	if !pushed {
		t.Fatal("no successful receive-pack request")
	}
}

// A server that refuses a token it once took (revoked, or as here RejectNext): git
// calls the helper's erase, and the token is fetched anew.
//
// git 2.39 does not retry within the command: after the 401 with a credential it runs
// `erase` on the helpers and fails with "Authentication failed". The next git command
// gets a new token from the emulator and succeeds. (Without erase it would present the
// revoked token from the cache again and fail again.)
func TestGitEraseAfterRejectedToken(t *testing.T) {
	g := newGitWorld(t)
	g.mustRun("", "entratool", "git", "setup", "-p", "ado", "--url", g.gs.URL+"/org")
	g.gs.RejectNext(1)

	// GIT_TRACE shows the helper actions git runs.
	g.env["GIT_TRACE"] = "1"
	_, errOut, code := g.git(g.dir, "", "clone", "--quiet", g.repo, "first")
	delete(g.env, "GIT_TRACE")
	if code == 0 {
		t.Fatal("the first clone succeeded with a token the server rejects")
	}
	get := strings.Index(errOut, "run_command: 'git credential-entra --profile ado get'")
	erase := strings.Index(errOut, "run_command: 'git credential-entra --profile ado erase'")
	if code != 128 || get < 0 || erase < get || strings.Count(errOut, "credential-entra --profile ado get'") != 1 ||
		!strings.Contains(errOut, "fatal: Authentication failed") {
		t.Fatalf("first clone: want get, erase, then \"Authentication failed\" (exit 128); exit %d, stderr:\n%s", code, errOut)
	}
	var rejected string
	for _, r := range g.gs.Requests() {
		if r.Reason == "token rejected by RejectNext" {
			rejected = r.Token
		}
	}
	if rejected == "" || g.emu.Counts().TokenIssued != 1 {
		t.Fatalf("requests %+v, tokens issued %d", g.gs.Requests(), g.emu.Counts().TokenIssued)
	}

	g.mustGit(g.dir, "clone", "--quiet", g.repo, "second")
	if n := g.emu.Counts().TokenIssued; n != 2 {
		t.Fatalf("emulator issued %d tokens, want 2 (erase should have dropped the rejected one)", n)
	}
	if got := g.accepted(); len(got) != 1 || got[0] == rejected {
		t.Fatalf("accepted tokens %q; rejected %q", got, rejected)
	}
}

// `git credential fill` for a request this helper must not answer: the helper says
// nothing (the next helper in the chain answers), and neither the authority nor the git
// server sees a request.
func TestGitCredentialFillUnlistedHost(t *testing.T) {
	g := newGitWorld(t)
	// The helper for every URL, then a fallback that always answers.
	for _, v := range []string{"entra --profile ado", `!f() { test "$1" = get && printf 'username=fallback\npassword=fallback-pw\n'; }; f`} {
		g.mustGit(g.dir, "config", "--global", "--add", "credential.helper", v)
	}
	for _, in := range []string{
		"protocol=https\nhost=github.com\npath=org/repo.git\n\n",
		"protocol=https\nhost=dev.azure.com.evil.com\n\n",
		"protocol=https\nhost=evil-dev.azure.com\n\n",
		"protocol=http\nhost=dev.azure.com\n\n",
		"protocol=https\nhost=" + g.gs.Host + "\n\n", // not in the profile's gitHosts (no setup ran)
		"protocol=https\nhost=dev.azure.com:8443\n\n",
	} {
		out, errOut, code := g.git(g.dir, in, "credential", "fill")
		if code != 0 || !strings.Contains(out, "username=fallback\npassword=fallback-pw\n") || errOut != "" {
			t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", in, code, out, errOut)
		}
	}
	if c := g.emu.Counts(); c.Total != 0 {
		t.Fatalf("the authority saw %d requests", c.Total)
	}
	if r := g.gs.Requests(); len(r) != 0 {
		t.Fatalf("the git server saw %d requests", len(r))
	}
	// The same chain does answer for a default host: the silence above is the helper's.
	out, _, code := g.git(g.dir, "protocol=https\nhost=dev.azure.com\npath=org/project/_git/repo\n\n", "credential", "fill")
	if code != 0 || !strings.Contains(out, "username="+clientID+"\n") {
		t.Fatalf("dev.azure.com: exit %d, %s", code, out)
	}
	for _, l := range strings.Split(out, "\n") {
		if p, ok := strings.CutPrefix(l, "password="); ok {
			g.claims(p, devopsResource)
		}
	}
}

// --bearer with a git that does not offer capability[]=authtype (2.39 here) answers
// with username and password, so the same configuration works before and after git
// 2.46. The Bearer answer itself is checked at the protocol level below.
func TestGitBearerFlag(t *testing.T) {
	g := newGitWorld(t)
	g.mustRun("", "entratool", "git", "setup", "-p", "ado", "--url", g.gs.URL+"/org")
	key := "credential." + g.gs.URL + "/org.helper"
	g.mustGit(g.dir, "config", "--global", "--replace-all", key, "entra --profile ado --bearer", "^entra ")
	g.mustGit(g.dir, "clone", "--quiet", g.repo, "a")
	for _, r := range g.gs.Requests() {
		if r.Status == 200 && r.Auth != "basic" {
			t.Fatalf("request %+v", r)
		}
	}

	stdin := "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=" + g.gs.Host + "\npath=org/project/_git/repo\n\n"
	out := g.mustRun(stdin, "git-credential-entra", "--profile", "ado", "--bearer", "get")
	tok := strings.TrimSpace(g.mustRun("", "entratool", "get-token", "-p", "ado", "--scope", devopsResource+"/.default"))
	if want := "capability[]=authtype\nauthtype=Bearer\ncredential=" + tok + "\nephemeral=true\n"; out != want {
		t.Fatalf("bearer answer:\n%q\nwant\n%q", out, want)
	}
	out = g.mustRun(strings.Replace(stdin, "capability[]=authtype\n", "", 1), "git-credential-entra", "--profile", "ado", "--bearer", "get")
	if strings.Contains(out, "authtype") || strings.Contains(out, "credential=") || !strings.Contains(out, "password="+tok+"\n") {
		t.Fatalf("answer without the capability: %q", out)
	}
}

// With git-credential-entra off PATH, setup writes its absolute path; a directory that
// needs shell quoting takes git's "!" form, and git runs it.
func TestGitSetupWithoutHelperOnPath(t *testing.T) {
	g := newGitWorld(t)
	dir := filepath.Join(g.dir, "Program Files", "entra tool")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range []string{"entratool", "entratool-engine", "git-credential-entra"} {
		data, err := os.ReadFile(filepath.Join(binDir, b))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, b), data, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	gitPath, _ := exec.LookPath("git")
	g.env["PATH"] = filepath.Dir(gitPath) + string(os.PathListSeparator) + "/bin"
	cmd := exec.Command(filepath.Join(dir, "entratool"), "git", "setup", "-p", "ado", "--url", g.gs.URL+"/org")
	cmd.Env = g.environ()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("setup: %v\n%s", err, out)
	}
	got := g.mustGit(g.dir, "config", "--global", "--get-all", "credential."+g.gs.URL+"/org.helper")
	want := "\n!'" + filepath.Join(dir, "git-credential-entra") + "' --profile ado\n"
	if got != want {
		t.Fatalf("helper values %q, want %q", got, want)
	}
	g.mustGit(g.dir, "clone", "--quiet", g.repo, "a")
	if n := g.emu.Counts().TokenIssued; n != 1 {
		t.Fatalf("%d tokens issued", n)
	}
}
