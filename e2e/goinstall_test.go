package e2e

import (
	"archive/zip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/version"
)

// goInstallSet is the set of binaries these tests install: a front, the engine, and a
// helper whose cache miss needs the engine.
var goInstallSet = []string{"entratool", launch.EngineName, "git-credential-entra"}

// goInstall runs `go install args…` with GOBIN a new directory, and the environment env
// on top of the test's; it returns the directory.
func goInstall(t *testing.T, dir string, env []string, args ...string) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	gobin := t.TempDir()
	cmd := exec.Command(goTool, append([]string{"install"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "GOBIN="+gobin), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go install %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return gobin
}

// versionsAgree checks that every binary of the set in gobin answers --version with
// version.Line's words and the same version, and that `entratool version` names it,
// finds the engine beside it and warns of nothing. It returns that version.
func versionsAgree(t *testing.T, gobin string) string {
	t.Helper()
	var want string
	for _, name := range goInstallSet {
		cmd := exec.Command(filepath.Join(gobin, name), "--version")
		cmd.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir()}
		out, errOut, code := runCmd(t, cmd)
		v, ok := version.Parse(out, name)
		if code != 0 || !ok || errOut != "" || !strings.HasSuffix(out, " ("+runtime.Version()+", "+runtime.GOOS+"/"+runtime.GOARCH+")\n") {
			t.Fatalf("%s --version: exit %d, %q %q", name, code, out, errOut)
		}
		if want == "" {
			want = v
		} else if v != want {
			t.Fatalf("%s --version says %s, %s says %s", name, v, goInstallSet[0], want)
		}
	}
	cmd := exec.Command(filepath.Join(gobin, "entratool"), "version")
	cmd.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir()}
	out, errOut, code := runCmd(t, cmd)
	lines := strings.Split(out, "\n")
	if code != 0 || errOut != "" || len(lines) != 6 || lines[0] != "entratool "+want || !strings.HasPrefix(lines[3], "go: "+runtime.Version()+" ") ||
		lines[4] != "engine: "+want+" ("+filepath.Join(gobin, launch.EngineName)+")" {
		t.Fatalf("entratool version: exit %d\n%s%s", code, out, errOut)
	}
	return want
}

// `go install` from a checkout, without the Makefile's -ldflags: every binary says the
// same version (and the commit, when the go command records it), the entratool front
// finds the engine installed beside it, and so does git-credential-entra on a cache
// miss, with nothing on PATH (SPEC §16).
func TestGoInstallCheckoutWorkingSet(t *testing.T) {
	var pkgs []string
	for _, name := range goInstallSet {
		pkgs = append(pkgs, "./"+name)
	}
	gobin := goInstall(t, "..", nil, pkgs...)
	versionsAgree(t, gobin)

	// A cache miss: git-credential-entra runs the engine beside it, which gets a token.
	w := newWorld(t)
	cf := w.newCert("goinstall", "GoInstall-Pw-1")
	w.register(cf.leaf)
	w.certProfile("sp", cf, cf.pfx)
	cmd := w.command(t.Context(), "protocol=https\nhost=dev.azure.com\n\n", "git-credential-entra", "get")
	cmd.Path = filepath.Join(gobin, "git-credential-entra")
	cmd.Env = append(cmd.Env, "PATH="+t.TempDir())
	out, errOut, code := runCmd(t, cmd)
	if code != 0 || !strings.Contains(out, "password=") || !jwtRE.MatchString(out) || w.emu.Counts().TokenIssued != 1 {
		t.Fatalf("git-credential-entra get, a miss: exit %d, %d token(s) issued\n%s%s", code, w.emu.Counts().TokenIssued, out, errOut)
	}
}

// `entratool version` needs no engine, and says when the one beside it is missing or of
// another version: exit 0 all the same, the warning on stderr.
func TestGoInstallVersionWarnings(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the fake engine is a shell script")
	}
	gobin := goInstall(t, "..", nil, "./entratool")
	front := filepath.Join(gobin, "entratool")
	run := func() (string, string, int) {
		cmd := exec.Command(front, "version")
		cmd.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir()}
		return runCmd(t, cmd)
	}
	const fix = ": install every entratool binary from the same release ("
	out, errOut, code := run()
	if code != 0 || !strings.HasPrefix(out, "entratool ") || !strings.HasSuffix(out, "\nengine: not found\n") ||
		!strings.HasPrefix(errOut, "entratool: warning: "+launch.EngineName+" not found beside "+front+" or on PATH") || !strings.Contains(errOut, fix) {
		t.Fatalf("no engine: exit %d\n%s%s", code, out, errOut)
	}
	ours, _, _ := strings.Cut(strings.TrimPrefix(out, "entratool "), "\n")
	engine := filepath.Join(gobin, launch.EngineName)
	if err := os.WriteFile(engine, []byte("#!/bin/sh\necho '"+launch.EngineName+" 9.9.9 (go1.26.8, linux/amd64)'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = run()
	if want := "entratool: warning: " + launch.EngineName + " at " + engine + " is version 9.9.9, entratool is version " + ours + fix; code != 0 ||
		!strings.HasSuffix(out, "\nengine: 9.9.9 ("+engine+")\n") || !strings.HasPrefix(errOut, want) {
		t.Fatalf("mismatched engine: exit %d, want %q\n%s%s", code, want, out, errOut)
	}
}

// `go install github.com/entratool/entratool/...@VERSION`: the go command takes the
// module at that version (here from a module proxy in a directory, the module's files
// zipped as a proxy serves them), and every binary says that version, with no -ldflags.
// It builds the module in a module cache of its own: long (-short skips it).
func TestGoInstallAtVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the module afresh: not with -short")
	}
	const mod, ver = "github.com/entratool/entratool", "v1.99.0-goinstall"
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	files := moduleFiles(t, "..")
	proxy := t.TempDir()
	at := filepath.Join(proxy, mod, "@v")
	if err := os.MkdirAll(at, 0o755); err != nil {
		t.Fatal(err)
	}
	goMod, err := os.ReadFile(filepath.Join("..", "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"list":        ver + "\n",
		ver + ".info": `{"Version":"` + ver + `","Time":"2026-01-01T00:00:00Z"}`,
		ver + ".mod":  string(goMod),
	} {
		if err := os.WriteFile(filepath.Join(at, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	writeModuleZip(t, filepath.Join(at, ver+".zip"), "..", mod+"@"+ver, files)

	// The module's dependencies come from the module cache's downloads (offline), then
	// the usual proxy. -trimpath keeps them the build cache's hits, from wherever the
	// private module cache extracts them.
	env := func(k string) string {
		out, err := exec.Command(goTool, "env", k).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	proxies := "file://" + filepath.ToSlash(proxy) + ",file://" + filepath.ToSlash(filepath.Join(env("GOMODCACHE"), "cache", "download"))
	if p := env("GOPROXY"); p != "" && p != "off" {
		proxies += "," + p
	}
	var pkgs []string
	for _, name := range goInstallSet {
		pkgs = append(pkgs, mod+"/"+name+"@"+ver)
	}
	gobin := goInstall(t, t.TempDir(), []string{
		"GOPROXY=" + proxies, "GOSUMDB=off", "GOFLAGS=-trimpath -modcacherw", "GOMODCACHE=" + t.TempDir(),
		"GONOPROXY=", "GOPRIVATE=", "GOWORK=off",
	}, pkgs...)
	if v := versionsAgree(t, gobin); v != ver {
		t.Fatalf("go install …@%s: the binaries say %s", ver, v)
	}
}

// moduleFiles lists the files of the module at root as a release of it holds them:
// git's tracked and untracked files, less those .gitignore names, those that are gone,
// and those of nested modules.
func moduleFiles(t *testing.T, root string) []string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("no git")
	}
	cmd := exec.Command(git, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	nested := map[string]bool{}
	var files []string
	for _, f := range strings.Split(string(out), "\x00") {
		if f == "" {
			continue
		}
		fi, err := os.Lstat(filepath.Join(root, f))
		if err != nil || !fi.Mode().IsRegular() {
			continue
		}
		if d := filepath.Dir(filepath.FromSlash(f)); d != "." && filepath.Base(f) == "go.mod" {
			nested[filepath.ToSlash(d)] = true
		}
		files = append(files, f)
	}
	var kept []string
next:
	for _, f := range files {
		for d := range nested {
			if strings.HasPrefix(f, d+"/") {
				continue next
			}
		}
		kept = append(kept, f)
	}
	return kept
}

// writeModuleZip writes files (below root) as a module proxy's zip of prefix
// (module@version).
func writeModuleZip(t *testing.T, path, root, prefix string, files []string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z := zip.NewWriter(f)
	for _, name := range files {
		w, err := z.Create(prefix + "/" + name)
		if err != nil {
			t.Fatal(err)
		}
		src, err := os.Open(filepath.Join(root, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		_, err = io.Copy(w, src)
		src.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
