package emulator

import (
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func gitTestStart(t *testing.T) (*fixture, *GitServer, string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	f := newFixture(t, Options{})
	g, err := f.e.StartGitServer(GitServerOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { g.Close() })
	repo, err := g.CreateRepo(context.Background(), "org/project/_git/repo")
	if err != nil {
		t.Fatal(err)
	}
	return f, g, repo
}

func (f *fixture) gitTestToken(t *testing.T, scope string) string {
	t.Helper()
	form := secretForm(secret)
	form.Set("scope", scope)
	r := f.post(t, tenantID, form, nil)
	if r.status != 200 {
		t.Fatalf("token: %s", r.raw)
	}
	return r.body["access_token"].(string)
}

// refs asks for the ref advertisement as git's first request does.
func gitTestRefs(t *testing.T, f *fixture, repo string, set func(*http.Request)) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, repo+"/info/refs?service=git-upload-pack", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Git-Protocol", "version=2")
	set(req)
	resp, err := f.e.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestGitServerAuth(t *testing.T) {
	f, g, repo := gitTestStart(t)
	devops := f.gitTestToken(t, AzureDevOpsResource+"/.default")
	ok := map[string]func(*http.Request){
		"basic, client id":    func(r *http.Request) { r.SetBasicAuth(clientID, devops) },
		"basic, any username": func(r *http.Request) { r.SetBasicAuth("anything", devops) },
		"bearer":              func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+devops) },
	}
	for name, set := range ok {
		resp := gitTestRefs(t, f, repo, set)
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/x-git-upload-pack-advertisement" {
			t.Errorf("%s: %d %s", name, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
	graphToken := f.gitTestToken(t, graph)
	refused := map[string]func(*http.Request){
		"no credentials":   func(r *http.Request) {},
		"graph token":      func(r *http.Request) { r.SetBasicAuth(clientID, graphToken) },
		"client secret":    func(r *http.Request) { r.SetBasicAuth(clientID, secret) },
		"not a token":      func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc.def.ghi") },
		"token as user":    func(r *http.Request) { r.SetBasicAuth(devops, "") },
		"empty basic pass": func(r *http.Request) { r.SetBasicAuth(clientID, "") },
	}
	for name, set := range refused {
		resp := gitTestRefs(t, f, repo, set)
		if resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != `Basic realm="https://dev.azure.com/"` {
			t.Errorf("%s: %d %q", name, resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	}
	reqs := g.Requests()
	if len(reqs) != len(ok)+len(refused) {
		t.Fatalf("%d requests recorded", len(reqs))
	}
	accepted := 0
	for _, r := range reqs {
		if r.Status == 200 {
			accepted++
			if r.AppID != clientID || r.Token != TokenFingerprint(devops) || r.Path != "/org/project/_git/repo/info/refs" {
				t.Errorf("accepted request %+v", r)
			}
		} else if r.Reason == "" {
			t.Errorf("refusal without a reason: %+v", r)
		}
		if strings.Contains(r.Token+r.Reason+r.Username, devops) {
			t.Errorf("raw token in the request log: %+v", r)
		}
	}
	if accepted != len(ok) {
		t.Fatalf("%d accepted", accepted)
	}
	// The git server is not the authority: its requests are not counted there.
	if c := f.e.Counts(); c.Total != c.Token {
		t.Fatalf("authority counts %+v", c)
	}
}

// RejectNext refuses the next valid tokens for good, as a revoked token would be, and
// lets a fresh token through.
func TestGitServerRejectNext(t *testing.T) {
	f, g, repo := gitTestStart(t)
	g.RejectNext(1)
	first := f.gitTestToken(t, AzureDevOpsResource+"/.default")
	basic := func(tok string) func(*http.Request) { return func(r *http.Request) { r.SetBasicAuth(clientID, tok) } }
	for i := 0; i < 2; i++ {
		if resp := gitTestRefs(t, f, repo, basic(first)); resp.StatusCode != 401 {
			t.Fatalf("rejected token, attempt %d: %d", i, resp.StatusCode)
		}
	}
	second := f.gitTestToken(t, AzureDevOpsResource+"/.default")
	if resp := gitTestRefs(t, f, repo, basic(second)); resp.StatusCode != 200 {
		t.Fatalf("fresh token: %d", resp.StatusCode)
	}
	reqs := g.Requests()
	if len(reqs) != 3 || reqs[0].Reason != "token rejected by RejectNext" || reqs[1].Reason != "token revoked by RejectNext" ||
		reqs[2].Token != TokenFingerprint(second) {
		t.Fatalf("requests %+v", reqs)
	}
}

// A real git clones and pushes through the server (a Bearer header set by hand, so
// that this test needs nothing but the emulator), and the pushed commit is there for
// the next clone.
func TestGitServerCloneAndPush(t *testing.T) {
	f, g, repo := gitTestStart(t)
	tok := f.gitTestToken(t, AzureDevOpsResource+"/.default")
	dir := t.TempDir()
	env := append(os.Environ(),
		"HOME="+dir, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL="+filepath.Join(dir, "gitconfig"),
		"GIT_TERMINAL_PROMPT=0", "GIT_SSL_CAINFO="+f.e.CAFile,
		"GIT_AUTHOR_NAME=t", "GIT_AUTHOR_EMAIL=t@example.com", "GIT_COMMITTER_NAME=t", "GIT_COMMITTER_EMAIL=t@example.com",
	)
	git := func(wd string, args ...string) string {
		t.Helper()
		args = append([]string{"-c", "http.extraHeader=Authorization: Bearer " + tok}, args...)
		cmd := exec.Command("git", args...)
		cmd.Dir, cmd.Env = wd, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", args[2], err, out)
		}
		return string(out)
	}
	git(dir, "clone", "--quiet", repo, "a")
	a := filepath.Join(dir, "a")
	if err := os.WriteFile(filepath.Join(a, "README.md"), []byte("hello\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	git(a, "add", "README.md")
	git(a, "commit", "--quiet", "-m", "first")
	git(a, "push", "--quiet", "origin", "HEAD:main")
	git(dir, "clone", "--quiet", repo, "b")
	data, err := os.ReadFile(filepath.Join(dir, "b", "README.md"))
	if err != nil || string(data) != "hello\n" {
		t.Fatalf("second clone: %q, %v", data, err)
	}
	pushed := false
	for _, r := range g.Requests() {
		if r.Status != 200 || r.Auth != "bearer" {
			t.Errorf("request %+v", r)
		}
		pushed = pushed || strings.HasSuffix(r.Path, "/git-receive-pack")
	}
	if !pushed {
		t.Fatal("no receive-pack request recorded")
	}
}

func TestGitServerCreateRepoRefusesBadNames(t *testing.T) {
	_, g, _ := gitTestStart(t)
	for _, name := range []string{"", "/abs", "../up", "a/../b", "a//b", ".", "a\\b", "a/"} {
		if _, err := g.CreateRepo(context.Background(), name); err == nil {
			t.Errorf("CreateRepo(%q) succeeded", name)
		}
	}
}
