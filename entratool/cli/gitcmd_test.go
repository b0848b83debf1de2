package cli

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/entratool/entratool/helpers/gitcred"
)

// gitTestEnv is a testEnv with a private global git config, and git-credential-entra
// (an executable file: setup only looks it up) on PATH.
func gitTestEnv(t *testing.T) (*testEnv, string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("git not installed")
	}
	e := newTestEnv(t)
	userHome := filepath.Join(e.dir, "userhome")
	bin := filepath.Join(e.dir, "bin")
	for _, d := range []string{userHome, bin} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(bin, gitcred.HelperBinary), []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	gitconfig := filepath.Join(userHome, ".gitconfig")
	e.vars["HOME"] = userHome
	e.vars["GIT_CONFIG_GLOBAL"] = gitconfig
	e.vars["GIT_CONFIG_NOSYSTEM"] = "1"
	e.vars["PATH"] = bin + string(os.PathListSeparator) + os.Getenv("PATH")
	e.createProfile("ado", e.newCert("ado", "pw"), "pw")
	return e, gitconfig
}

// gitValues reads a key with the real git, as git itself will see it.
func gitValues(t *testing.T, e *testEnv, scope, key string) []string {
	t.Helper()
	cmd := exec.Command("git", "config", scope, "--get-all", key)
	cmd.Env = append(os.Environ(), "HOME="+e.vars["HOME"], "GIT_CONFIG_GLOBAL="+e.vars["GIT_CONFIG_GLOBAL"], "GIT_CONFIG_NOSYSTEM=1")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 1 {
		return nil
	}
	if err != nil {
		t.Fatalf("git config %s --get-all %s: %v", scope, key, err)
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return string(b)
}

func TestGitSetupAzureDevOps(t *testing.T) {
	e, gitconfig := gitTestEnv(t)
	profilesBefore := readFile(t, e.profilesPath())
	r := e.ok("", "git", "setup", "-p", "ado", "--url", "https://contoso@dev.azure.com/Contoso/")
	const key = "credential.https://dev.azure.com/Contoso"
	if got := gitValues(t, e, "--global", key+".helper"); !slices.Equal(got, []string{"", "entra --profile ado"}) {
		t.Fatalf("helper values %q\n%s", got, r)
	}
	if got := gitValues(t, e, "--global", key+".useHttpPath"); !slices.Equal(got, []string{"true"}) {
		t.Fatalf("useHttpPath %q", got)
	}
	// dev.azure.com is in the default gitHosts: the profile is left alone.
	if readFile(t, e.profilesPath()) != profilesBefore {
		t.Fatal("profiles.json changed for a default host")
	}
	// Idempotent: a second run writes nothing.
	configBefore := readFile(t, gitconfig)
	r = e.ok("", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/Contoso")
	if readFile(t, gitconfig) != configBefore || readFile(t, e.profilesPath()) != profilesBefore {
		t.Fatalf("second run changed files:\n%s", readFile(t, gitconfig))
	}
	if !strings.Contains(r.out, "unchanged") {
		t.Fatalf("second run output: %s", r)
	}
	// git resolves the helpers for a repository URL under the organization.
	if got := gitURLMatch(t, e, "https://dev.azure.com/Contoso/project/_git/repo"); !strings.Contains(got, "entra --profile ado") {
		t.Fatalf("get-urlmatch: %q", got)
	}
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/Contoso", "--remove")
	if got := gitValues(t, e, "--global", key+".helper"); got != nil {
		t.Fatalf("after --remove: helper %q", got)
	}
	if got := gitValues(t, e, "--global", key+".useHttpPath"); got != nil {
		t.Fatalf("after --remove: useHttpPath %q", got)
	}
	if readFile(t, e.profilesPath()) != profilesBefore {
		t.Fatal("--remove changed profiles.json")
	}
	r = e.ok("", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/Contoso", "--remove")
	if !strings.Contains(r.out, "nothing to remove") {
		t.Fatalf("second --remove: %s", r)
	}
	// The wiring of a profile deleted since can still be removed.
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/Contoso")
	e.ok("", "config", "delete", "-p", "ado")
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/Contoso", "--remove")
	if got := gitValues(t, e, "--global", key+".helper"); got != nil {
		t.Fatalf("after --remove of a deleted profile: helper %q", got)
	}
}

func gitURLMatch(t *testing.T, e *testEnv, u string) string {
	t.Helper()
	cmd := exec.Command("git", "config", "--get-urlmatch", "credential.helper", u)
	cmd.Env = append(os.Environ(), "HOME="+e.vars["HOME"], "GIT_CONFIG_GLOBAL="+e.vars["GIT_CONFIG_GLOBAL"], "GIT_CONFIG_NOSYSTEM=1")
	out, _ := cmd.Output()
	return string(out)
}

// A host outside the defaults is added to gitHosts with the defaults written out, so
// that dev.azure.com keeps working; removing the last URL on it restores the list.
func TestGitSetupOtherHost(t *testing.T) {
	e, _ := gitTestEnv(t)
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://Git.Contoso.com:8443/tfs/One")
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.contoso.com:8443/tfs/Two")
	hosts := func() []string {
		var out []string
		for _, h := range asSlice(e.profileJSON("ado")["gitHosts"]) {
			out = append(out, h.(string))
		}
		return out
	}
	want := []string{"dev.azure.com", "*.visualstudio.com", "git.contoso.com:8443"}
	if !slices.Equal(hosts(), want) {
		t.Fatalf("gitHosts %q, want %q", hosts(), want)
	}
	if got := gitValues(t, e, "--global", "credential.https://git.contoso.com:8443/tfs/One.useHttpPath"); got != nil {
		t.Fatalf("useHttpPath written for a non-dev.azure.com host: %q", got)
	}
	// The other URL on the host still uses the profile: the host stays.
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.contoso.com:8443/tfs/One", "--remove")
	if !slices.Equal(hosts(), want) {
		t.Fatalf("gitHosts after removing one URL: %q", hosts())
	}
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.contoso.com:8443/tfs/Two", "--remove")
	if _, ok := e.profileJSON("ado")["gitHosts"]; ok {
		t.Fatalf("gitHosts after removing both: %v", e.profileJSON("ado")["gitHosts"])
	}
}

func asSlice(v any) []any { s, _ := v.([]any); return s }

// Helpers configured for the URL before are replaced (the empty entry would hide them
// anyway), and the user is told.
func TestGitSetupReplacesOtherHelpers(t *testing.T) {
	e, _ := gitTestEnv(t)
	const key = "credential.https://myorg.visualstudio.com.helper"
	cmd := exec.Command("git", "config", "--global", "--add", key, "manager")
	cmd.Env = append(os.Environ(), "HOME="+e.vars["HOME"], "GIT_CONFIG_GLOBAL="+e.vars["GIT_CONFIG_GLOBAL"])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	r := e.ok("", "git", "setup", "-p", "ado", "--url", "https://MyOrg.VisualStudio.com")
	if got := gitValues(t, e, "--global", key); !slices.Equal(got, []string{"", "entra --profile ado"}) {
		t.Fatalf("helper values %q", got)
	}
	if !strings.Contains(r.err, "replaced") || !strings.Contains(r.err, "manager") {
		t.Fatalf("no note about the replaced helper: %s", r)
	}
	if got := gitValues(t, e, "--global", "credential.https://myorg.visualstudio.com.useHttpPath"); got != nil {
		t.Fatalf("useHttpPath %q", got)
	}
}

func TestGitSetupLocal(t *testing.T) {
	e, gitconfig := gitTestEnv(t)
	outside := t.TempDir()
	t.Chdir(outside)
	e.expect(ExitUsage, "--local needs the current directory to be inside a git repository", "", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/Contoso", "--local")
	repo := filepath.Join(outside, "repo")
	if out, err := exec.Command("git", "init", "--quiet", repo).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Chdir(repo)
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/Contoso", "--local")
	if got := gitValues(t, e, "--local", "credential.https://dev.azure.com/Contoso.helper"); !slices.Equal(got, []string{"", "entra --profile ado"}) {
		t.Fatalf("local helper values %q", got)
	}
	if readFile(t, gitconfig) != "" {
		t.Fatalf("--local wrote the global config:\n%s", readFile(t, gitconfig))
	}
}

func TestGitSetupUsageErrors(t *testing.T) {
	e, gitconfig := gitTestEnv(t)
	e.expect(ExitUsage, "missing --url", "", "git", "setup", "-p", "ado")
	e.expect(ExitUsage, "must use https://", "", "git", "setup", "-p", "ado", "--url", "http://dev.azure.com/Contoso")
	e.expect(ExitUsage, "not a URL", "", "git", "setup", "-p", "ado", "--url", "dev.azure.com/Contoso")
	e.expect(ExitUsage, "query", "", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/Contoso?x=1")
	e.expect(ExitUsage, "exclude each other", "", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/Contoso", "--global", "--local")
	e.expect(ExitFailure, `profile "nope" not found`, "", "git", "setup", "-p", "nope", "--url", "https://dev.azure.com/Contoso")
	if readFile(t, gitconfig) != "" {
		t.Fatalf("a failed setup wrote the git config:\n%s", readFile(t, gitconfig))
	}
}
