package gitcred

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestCredentialURL(t *testing.T) {
	for raw, want := range map[string][2]string{
		"https://dev.azure.com/Contoso":                 {"https://dev.azure.com/Contoso", "dev.azure.com"},
		" https://contoso@Dev.Azure.com/Contoso/ ":      {"https://dev.azure.com/Contoso", "dev.azure.com"},
		"HTTPS://MyOrg.VisualStudio.com":                {"https://myorg.visualstudio.com", "myorg.visualstudio.com"},
		"https://git.contoso.com:443/tfs/a%20b":         {"https://git.contoso.com/tfs/a%20b", "git.contoso.com"},
		"https://Git.Contoso.com:8443/tfs/One":          {"https://git.contoso.com:8443/tfs/One", "git.contoso.com:8443"},
		"https://dev.azure.com/Contoso/project/_git/r/": {"https://dev.azure.com/Contoso/project/_git/r", "dev.azure.com"},
	} {
		key, host, err := CredentialURL(raw)
		if err != nil || key != want[0] || host != want[1] {
			t.Errorf("CredentialURL(%q) = %q, %q, %v; want %q", raw, key, host, err, want)
		}
	}
	for raw, want := range map[string]string{
		"dev.azure.com/Contoso":             "not a URL",
		"http://dev.azure.com/Contoso":      "must use https://",
		"https://dev.azure.com/Contoso?x=1": "query or fragment",
		"https://dev.azure.com/Contoso#x":   "query or fragment",
		"https://bad_host!/x":               "not a host name",
		"mailto:someone@example.com":        "not a URL",
	} {
		_, _, err := CredentialURL(raw)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), want) {
			t.Errorf("CredentialURL(%q): %v, want a usage error with %q", raw, err, want)
		}
	}
}

func TestIsEntraHelper(t *testing.T) {
	for v, want := range map[string]bool{
		"entra": true, "entra --profile ado": true, "/opt/bin/git-credential-entra --profile x": true,
		"!'/a b/git-credential-entra' --profile x": true, "": false, "manager": false, "entrance": false,
	} {
		if IsEntraHelper(v) != want {
			t.Errorf("IsEntraHelper(%q) != %v", v, want)
		}
	}
}

func TestHelperCommand(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.MkdirAll(bin, 0o700)
	if err := os.WriteFile(filepath.Join(bin, HelperBinary), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := HelperCommand("ado", bin, ""); err != nil || got != "entra --profile ado" {
		t.Fatalf("on PATH: %q, %v", got, err)
	}
	if _, err := HelperCommand("ado", filepath.Join(dir, "empty"), ""); err == nil || !strings.Contains(err.Error(), "cannot tell where it is installed") {
		t.Fatalf("no exeDir: %v", err)
	}
	// Not on PATH: the absolute path beside entratool, quoted (with "!") when it must be.
	for _, c := range []struct{ dir, name, want string }{
		{"plain", "ado", "DIR/plain/git-credential-entra --profile ado"},
		{"with space", "ado", "!'DIR/with space/git-credential-entra' --profile ado"},
		{"it's", "o'brien", `!'DIR/it'\''s/git-credential-entra' --profile 'o'\''brien'`},
	} {
		exeDir := filepath.Join(dir, c.dir)
		// The fix speaks to someone who installs entratool, not to a developer.
		if _, err := HelperCommand(c.name, filepath.Join(dir, "empty"), exeDir); err == nil || !strings.Contains(err.Error(), "neither on PATH nor beside entratool") ||
			strings.Contains(err.Error(), "make build") || !strings.Contains(err.Error(), "install every entratool binary together") {
			t.Fatalf("%s: want a not-found error, got %v", c.dir, err)
		}
		os.MkdirAll(exeDir, 0o700)
		if err := os.WriteFile(filepath.Join(exeDir, HelperBinary), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		got, err := HelperCommand(c.name, filepath.Join(dir, "empty"), exeDir)
		if want := strings.ReplaceAll(c.want, "DIR", dir); err != nil || got != want {
			t.Errorf("%s: got %q, %v; want %q", c.dir, got, err, want)
		}
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tool"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(dir, "data"), []byte("x"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	pathEnv := filepath.Join(dir, "none") + string(os.PathListSeparator) + dir
	if p, err := LookPath("tool", pathEnv); err != nil || p != filepath.Join(dir, "tool") {
		t.Errorf("tool: %q %v", p, err)
	}
	for _, name := range []string{"data", "sub", "missing"} {
		if _, err := LookPath(name, pathEnv); !errors.Is(err, exec.ErrNotFound) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// gitRig is a private global git config, and the environment OpenGitConfig reads.
type gitRig struct {
	t    *testing.T
	env  map[string]string
	file string
}

func newGitRig(t *testing.T) *gitRig {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	home := t.TempDir()
	r := &gitRig{t: t, file: filepath.Join(home, ".gitconfig"), env: map[string]string{
		"HOME": home, "GIT_CONFIG_NOSYSTEM": "1", "PATH": os.Getenv("PATH"),
	}}
	r.env["GIT_CONFIG_GLOBAL"] = r.file
	return r
}

func (r *gitRig) getenv(k string) string { return r.env[k] }

func (r *gitRig) open(local bool) *GitConfig {
	r.t.Helper()
	g, err := OpenGitConfig(local, r.getenv)
	if err != nil {
		r.t.Fatal(err)
	}
	return g
}

// git runs the real git on the rig's global config.
func (r *gitRig) git(args ...string) string {
	r.t.Helper()
	cmd := exec.Command("git", append([]string{"config", "--global"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+r.env["HOME"], "GIT_CONFIG_GLOBAL="+r.file, "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return ""
	}
	if err != nil {
		r.t.Fatalf("git config %q: %v", args, err)
	}
	return string(out)
}

func (r *gitRig) content() string {
	b, _ := os.ReadFile(r.file)
	return string(b)
}

func TestGitConfigSetupAndRemove(t *testing.T) {
	r := newGitRig(t)
	ctx := context.Background()
	g := r.open(false)
	if g.Scope() != "global" {
		t.Fatalf("scope %q", g.Scope())
	}
	const key = "https://dev.azure.com/Contoso"
	var out, notes bytes.Buffer
	if err := g.Setup(ctx, key, "dev.azure.com", "entra --profile ado", &out, &notes); err != nil {
		t.Fatal(err)
	}
	want := "✓ https://dev.azure.com/Contoso: credential helper entra --profile ado (global git config)\n" +
		"✓ https://dev.azure.com/Contoso: useHttpPath true (dev.azure.com keeps the organization in the path)\n"
	if out.String() != want || notes.Len() != 0 {
		t.Errorf("setup wrote:\n%s%s\nwant:\n%s", out.String(), notes.String(), want)
	}
	if got := r.git("--get-all", "credential."+key+".helper"); got != "\nentra --profile ado\n" {
		t.Errorf("helper %q", got)
	}
	if got := r.git("--get-all", "credential."+key+".useHttpPath"); got != "true\n" {
		t.Errorf("useHttpPath %q", got)
	}
	if have, err := g.GetAll(ctx, "credential."+key+".helper"); err != nil || !slices.Equal(have, []string{"", "entra --profile ado"}) {
		t.Errorf("GetAll %q %v", have, err)
	}
	if have, err := g.GetAll(ctx, "credential.https://nowhere.helper"); err != nil || have != nil {
		t.Errorf("GetAll of nothing: %q %v", have, err)
	}

	// Idempotent: the second run writes nothing, and says so.
	before := r.content()
	out.Reset()
	if err := g.Setup(ctx, key, "dev.azure.com", "entra --profile ado", &out, &notes); err != nil {
		t.Fatal(err)
	}
	if r.content() != before || out.String() != "✓ https://dev.azure.com/Contoso already uses entra --profile ado (global git config, unchanged)\n" {
		t.Errorf("second run: %q\n%s", out.String(), r.content())
	}

	// A second organization for the same profile, a third for another.
	g.Setup(ctx, "https://dev.azure.com/Fabrikam", "dev.azure.com", "entra --profile ado", &out, &notes)
	g.Setup(ctx, "https://git.contoso.com:8443/tfs", "git.contoso.com:8443", "/opt/git-credential-entra --profile 'o b'", &out, &notes)
	if hosts, err := g.EntraHosts(ctx, "ado"); err != nil || !slices.Equal(hosts, []string{"dev.azure.com", "dev.azure.com"}) {
		t.Errorf("EntraHosts(ado) = %q, %v", hosts, err)
	}
	if hosts, err := g.EntraHosts(ctx, "o b"); err != nil || !slices.Equal(hosts, []string{"git.contoso.com:8443"}) {
		t.Errorf("EntraHosts(o b) = %q, %v", hosts, err)
	}
	if got := r.git("--get-all", "credential.https://git.contoso.com:8443/tfs.useHttpPath"); got != "" {
		t.Errorf("useHttpPath for a host that is not dev.azure.com: %q", got)
	}

	out.Reset()
	removed, err := g.Remove(ctx, key, "dev.azure.com", &out)
	if err != nil || !removed || out.String() != "✓ https://dev.azure.com/Contoso: credential helper removed (global git config)\n" {
		t.Errorf("remove: %v %v %q", removed, err, out.String())
	}
	if r.git("--get-all", "credential."+key+".helper") != "" || r.git("--get-all", "credential."+key+".useHttpPath") != "" {
		t.Errorf("left behind:\n%s", r.content())
	}
	out.Reset()
	removed, err = g.Remove(ctx, key, "dev.azure.com", &out)
	if err != nil || removed || !strings.Contains(out.String(), "nothing to remove") {
		t.Errorf("second remove: %v %v %q", removed, err, out.String())
	}
	if hosts, _ := g.EntraHosts(ctx, "ado"); !slices.Equal(hosts, []string{"dev.azure.com"}) {
		t.Errorf("EntraHosts after remove: %q", hosts)
	}
}

// Helpers configured for the URL before are replaced (the empty entry would hide them
// anyway), and the note names them.
func TestGitConfigSetupReplacesOtherHelpers(t *testing.T) {
	r := newGitRig(t)
	const key = "https://myorg.visualstudio.com"
	r.git("--add", "credential."+key+".helper", "manager")
	r.git("--add", "credential."+key+".helper", "entra --profile old")
	var out, notes bytes.Buffer
	if err := r.open(false).Setup(context.Background(), key, "myorg.visualstudio.com", "entra --profile ado", &out, &notes); err != nil {
		t.Fatal(err)
	}
	if got := r.git("--get-all", "credential."+key+".helper"); got != "\nentra --profile ado\n" {
		t.Errorf("helper %q", got)
	}
	if notes.String() != "note: replaced the helpers configured for "+key+" before: manager, entra --profile old\n" {
		t.Errorf("note %q", notes.String())
	}
}

func TestGitConfigLocalOutsideRepository(t *testing.T) {
	r := newGitRig(t)
	t.Chdir(t.TempDir())
	g := r.open(true)
	_, err := g.GetAll(context.Background(), "credential.https://x.helper")
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "--local needs the current directory to be inside a git repository") {
		t.Errorf("outside a repository: %v", err)
	}
	if _, err := OpenGitConfig(false, func(k string) string { return map[string]string{"PATH": t.TempDir()}[k] }); err == nil || !strings.Contains(err.Error(), "git is not installed") {
		t.Errorf("no git: %v", err)
	}
}

func TestWithAndWithoutHost(t *testing.T) {
	if h, changed := WithHost(nil, "dev.azure.com"); changed || h != nil {
		t.Errorf("default host: %q %v", h, changed)
	}
	h, changed := WithHost(nil, "git.contoso.com:8443")
	if !changed || !slices.Equal(h, []string{"dev.azure.com", "*.visualstudio.com", "git.contoso.com:8443"}) {
		t.Errorf("add: %q", h)
	}
	if _, changed := WithHost(h, "git.contoso.com:8443"); changed {
		t.Error("added twice")
	}
	if h2, changed := WithHost([]string{"a.example"}, "b.example"); !changed || !slices.Equal(h2, []string{"a.example", "b.example"}) {
		t.Errorf("add to a list: %q", h2)
	}
	if !ListsHost(h, "git.contoso.com:8443") || ListsHost(h, "x.visualstudio.com") {
		t.Error("ListsHost")
	}
	back, changed := WithoutHost(h, "git.contoso.com:8443")
	if !changed || back != nil {
		t.Errorf("remove back to the defaults: %q", back)
	}
	if !slices.Equal(h, []string{"dev.azure.com", "*.visualstudio.com", "git.contoso.com:8443"}) {
		t.Errorf("WithoutHost changed its input: %q", h)
	}
	if rest, changed := WithoutHost([]string{"A.example:443", "b.example"}, "a.example"); !changed || !slices.Equal(rest, []string{"b.example"}) {
		t.Errorf("remove: %q", rest)
	}
	if rest, changed := WithoutHost([]string{"b.example"}, "a.example"); changed || !slices.Equal(rest, []string{"b.example"}) {
		t.Errorf("remove an absent host: %q", rest)
	}
}

func TestSplitNull(t *testing.T) {
	if splitNull("") != nil || !slices.Equal(splitNull("a\x00\x00b\x00"), []string{"a", "", "b"}) {
		t.Error("splitNull")
	}
}

// What setup records about the gitHosts it added lives in entratool's own section of the
// file it wires; it is read from every config file, and forgotten in the user's and the
// repository's.
func TestGitConfigAddedHostRecords(t *testing.T) {
	r := newGitRig(t)
	ctx := context.Background()
	repo := filepath.Join(t.TempDir(), "repo")
	if out, err := exec.Command("git", "init", "--quiet", repo).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Chdir(repo)
	global, local := r.open(false), r.open(true)
	const profile = `my.prof"1`
	if added, err := global.AddedHost(ctx, profile, "git.example.com"); err != nil || added {
		t.Fatalf("before any record: %v %v", added, err)
	}
	for i := 0; i < 2; i++ { // the second time changes nothing
		if err := global.RecordAddedHost(ctx, profile, "git.example.com"); err != nil {
			t.Fatal(err)
		}
	}
	if err := global.RecordAddedHost(ctx, profile, "[::1]:8443"); err != nil {
		t.Fatal(err)
	}
	if got := r.git("--get-all", "entratool."+profile+".addedGitHost"); got != "git.example.com\n[::1]:8443\n" {
		t.Fatalf("records %q\n%s", got, r.content())
	}
	// Written to the global file, seen from the local one too; only that host.
	for _, c := range []struct {
		host string
		want bool
	}{{"git.example.com", true}, {"[::1]:8443", true}, {"example.com", false}, {"git.example.com:8443", false}} {
		if added, err := local.AddedHost(ctx, profile, c.host); err != nil || added != c.want {
			t.Errorf("AddedHost(%q) = %v, %v", c.host, added, err)
		}
	}
	if added, _ := local.AddedHost(ctx, "my.prof", "git.example.com"); added {
		t.Error("a record of another profile counts")
	}
	// Forgotten wherever it is, whichever file the GitConfig writes.
	if err := local.RecordAddedHost(ctx, profile, "git.example.com"); err != nil {
		t.Fatal(err)
	}
	if err := local.ForgetAddedHost(ctx, profile, "git.example.com"); err != nil {
		t.Fatal(err)
	}
	if added, _ := global.AddedHost(ctx, profile, "git.example.com"); added {
		t.Errorf("still recorded:\n%s", r.content())
	}
	if added, _ := global.AddedHost(ctx, profile, "[::1]:8443"); !added {
		t.Error("forgot another host")
	}
	// Outside a repository there is no local file to clean: not an error.
	t.Chdir(t.TempDir())
	if err := global.ForgetAddedHost(ctx, profile, "[::1]:8443"); err != nil {
		t.Fatal(err)
	}
	if got := r.git("--get-all", "entratool."+profile+".addedGitHost"); got != "" {
		t.Errorf("records left %q", got)
	}
}

// AllEntraHosts sees the entries of every config file git reads here, EntraHosts those
// of its own file only.
func TestGitConfigAllEntraHosts(t *testing.T) {
	r := newGitRig(t)
	ctx := context.Background()
	repo := filepath.Join(t.TempDir(), "repo")
	if out, err := exec.Command("git", "init", "--quiet", repo).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Chdir(repo)
	global, local := r.open(false), r.open(true)
	var out bytes.Buffer
	if err := global.Setup(ctx, "https://dev.azure.com/One", "dev.azure.com", "entra --profile ado", &out, &out); err != nil {
		t.Fatal(err)
	}
	if err := local.Setup(ctx, "https://git.example.com/x", "git.example.com", "entra --profile ado", &out, &out); err != nil {
		t.Fatal(err)
	}
	if hosts, err := global.EntraHosts(ctx, "ado"); err != nil || !slices.Equal(hosts, []string{"dev.azure.com"}) {
		t.Errorf("EntraHosts = %q, %v", hosts, err)
	}
	for _, g := range []*GitConfig{global, local} {
		if hosts, err := g.AllEntraHosts(ctx, "ado"); err != nil || !slices.Equal(hosts, []string{"dev.azure.com", "git.example.com"}) {
			t.Errorf("%s: AllEntraHosts = %q, %v", g.Scope(), hosts, err)
		}
	}
	t.Chdir(t.TempDir())
	if hosts, err := global.AllEntraHosts(ctx, "ado"); err != nil || !slices.Equal(hosts, []string{"dev.azure.com"}) {
		t.Errorf("outside the repository: AllEntraHosts = %q, %v", hosts, err)
	}
}

func TestQuoteEREMatchesRegexpQuoteMeta(t *testing.T) {
	for _, s := range []string{"", "https://dev.azure.com", `a.b+c*d?e(f)g|h[i]j{k}l^m$n\o`, "plain"} {
		if got, want := quoteERE(s), regexp.QuoteMeta(s); got != want {
			t.Errorf("quoteERE(%q) = %q, want %q", s, got, want)
		}
	}
}
