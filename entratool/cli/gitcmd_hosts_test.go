package cli

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/helpers/gitcred"
)

// `git setup --remove` takes out of gitHosts only what setup put in: the defaults and
// hosts the user listed stay, and a host another URL in any git config still wires to
// the profile stays.

// setGitHosts writes a profile's gitHosts as a user would with an editor (nil: none).
func setGitHosts(t *testing.T, e *testEnv, name string, hosts []string) {
	t.Helper()
	_, err := (&profile.Store{Home: e.home}).UpdateProfile(context.Background(), name, func(p *profile.Profile) error {
		p.GitHosts = hosts
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// gitHosts is a profile's gitHosts as profiles.json holds them (nil: the key is absent).
func gitHosts(t *testing.T, e *testEnv, name string) []string {
	t.Helper()
	var out []string
	for _, h := range asSlice(e.profileJSON(name)["gitHosts"]) {
		out = append(out, h.(string))
	}
	return out
}

// fixedTokens stands in for the token pipeline: the host decision is the helper's own.
type fixedTokens struct{}

func (fixedTokens) Token(context.Context, string) (string, time.Time, error) {
	return "eyJ0eXAiOiJKV1QifQ.e30.sig", time.Now().Add(time.Hour), nil
}
func (fixedTokens) Forget(context.Context, string) error { return nil }

// helperAnswers runs git-credential-entra's get (helpers/gitcred) with the profile as
// profiles.json now holds it, for https://host/path; it reports whether it answered.
func helperAnswers(t *testing.T, e *testEnv, name, host, path string) bool {
	t.Helper()
	cfg, err := (&profile.Store{Home: e.home}).Load()
	if err != nil {
		t.Fatal(err)
	}
	p := cfg.Get(name)
	if p == nil {
		t.Fatalf("no profile %s", name)
	}
	h := &gitcred.Helper{Load: func(context.Context) (gitcred.Profile, gitcred.Tokens, error) {
		return gitcred.Profile{Name: p.Name, ClientID: p.ClientID, Hosts: p.GitHosts}, fixedTokens{}, nil
	}}
	var out bytes.Buffer
	in := "protocol=https\nhost=" + host + "\npath=" + path + "\n\n"
	if err := h.Run(context.Background(), "get", strings.NewReader(in), &out); err != nil {
		t.Fatalf("get for %s: %v", host, err)
	}
	return strings.Contains(out.String(), "password=")
}

// The reported bug: with the defaults written out (a custom host was set up before),
// setup and --remove for one organization took dev.azure.com out of gitHosts, and every
// other organization stopped working.
func TestGitSetupRemoveKeepsDefaultHosts(t *testing.T) {
	e, _ := gitTestEnv(t)
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.example.com/x")
	want := []string{"dev.azure.com", "*.visualstudio.com", "git.example.com"}
	if got := gitHosts(t, e, "ado"); !slices.Equal(got, want) {
		t.Fatalf("gitHosts after setup %q, want %q", got, want)
	}
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/One")
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/One", "--remove")
	if got := gitHosts(t, e, "ado"); !slices.Equal(got, want) {
		t.Fatalf("gitHosts after setup and --remove for One %q, want %q", got, want)
	}
	// Another organization (wired some other way, or set up later) is still served.
	for _, c := range [][2]string{{"dev.azure.com", "Two/p/_git/r"}, {"fabrikam.visualstudio.com", "p/_git/r"}, {"git.example.com", "x/r"}} {
		if !helperAnswers(t, e, "ado", c[0], c[1]) {
			t.Errorf("the helper no longer answers for https://%s/%s", c[0], c[1])
		}
	}
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://dev.azure.com/Two")
	if got := gitURLMatch(t, e, "https://dev.azure.com/Two/p/_git/r"); !strings.Contains(got, "entra --profile ado") {
		t.Fatalf("get-urlmatch for Two: %q", got)
	}
	// The last URL on the custom host gives the profile its original (default) list back.
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.example.com/x", "--remove")
	if got := gitHosts(t, e, "ado"); got != nil {
		t.Fatalf("gitHosts after removing the custom host %q, want none (the defaults)", got)
	}
	if helperAnswers(t, e, "ado", "git.example.com", "x/r") || !helperAnswers(t, e, "ado", "dev.azure.com", "Two/p/_git/r") {
		t.Fatal("allow-list after removing the custom host")
	}
}

// gitHosts a profile had before setup are what it has after setup and --remove,
// whichever URL was set up; hosts setup had to add leave with --remove.
func TestGitSetupRemoveRestoresGitHosts(t *testing.T) {
	for _, c := range []struct {
		name       string
		before     []string
		url        string
		afterSetup []string
	}{
		// (a) No gitHosts: the defaults cover dev.azure.com, so nothing is written (writing
		// ["dev.azure.com"] would drop *.visualstudio.com).
		{"defaults, dev.azure.com", nil, "https://dev.azure.com/One", nil},
		{"defaults, visualstudio.com", nil, "https://one.visualstudio.com", nil},
		{"listed by the user: dev.azure.com", []string{"dev.azure.com"}, "https://dev.azure.com/One", []string{"dev.azure.com"}},
		{"listed with a pattern", []string{"*.visualstudio.com", "dev.azure.com:443"}, "https://dev.azure.com/One", []string{"*.visualstudio.com", "dev.azure.com:443"}},
		// (c) A custom host the user listed is theirs.
		{"listed by the user: custom", []string{"git.example.com"}, "https://git.example.com/x", []string{"git.example.com"}},
		// A list without dev.azure.com gets it from setup, and loses it with --remove.
		{"added to the user's list", []string{"git.example.com"}, "https://dev.azure.com/One", []string{"git.example.com", "dev.azure.com"}},
		// (b) A custom host on the defaults: written out with them, and back to none.
		{"custom on the defaults", nil, "https://git.example.com:8443/x", []string{"dev.azure.com", "*.visualstudio.com", "git.example.com:8443"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			e, gitconfig := gitTestEnv(t)
			setGitHosts(t, e, "ado", c.before)
			e.ok("", "git", "setup", "-p", "ado", "--url", c.url)
			if got := gitHosts(t, e, "ado"); !slices.Equal(got, c.afterSetup) {
				t.Fatalf("gitHosts after setup %q, want %q", got, c.afterSetup)
			}
			e.ok("", "git", "setup", "-p", "ado", "--url", c.url, "--remove")
			if got := gitHosts(t, e, "ado"); !slices.Equal(got, c.before) {
				t.Fatalf("gitHosts after --remove %q, want %q as before setup", got, c.before)
			}
			cmd := exec.Command("git", "config", "--global", "--get-regexp", `^credential\.`)
			cmd.Env = append(os.Environ(), "HOME="+e.vars["HOME"], "GIT_CONFIG_GLOBAL="+gitconfig, "GIT_CONFIG_NOSYSTEM=1")
			if out, _ := cmd.Output(); len(out) != 0 {
				t.Fatalf("credential entries left after --remove: %q", out)
			}
		})
	}
}

// (b) A host stays while another URL in any git config — here the repository's own —
// still wires it to the profile.
func TestGitSetupRemoveKeepsHostWiredInAnotherConfig(t *testing.T) {
	e, _ := gitTestEnv(t)
	repo := filepath.Join(t.TempDir(), "repo")
	if out, err := exec.Command("git", "init", "--quiet", repo).CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Chdir(repo)
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.example.com/x")
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.example.com/y", "--local")
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.example.com/x", "--remove")
	if got := gitHosts(t, e, "ado"); !slices.Contains(got, "git.example.com") {
		t.Fatalf("gitHosts %q: git.example.com left although the repository's config still uses it", got)
	}
	if !helperAnswers(t, e, "ado", "git.example.com", "y/r") {
		t.Fatal("the helper no longer answers for the repository's URL")
	}
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.example.com/y", "--local", "--remove")
	if got := gitHosts(t, e, "ado"); got != nil {
		t.Fatalf("gitHosts after the last URL went: %q", got)
	}
}

// A profile deleted and made again under the same name does not inherit what setup
// once added for the old one: the user's own host survives --remove.
func TestGitSetupRemoveIgnoresLeftoverOfDeletedProfile(t *testing.T) {
	e, _ := gitTestEnv(t)
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.example.com/x")
	e.ok("", "config", "delete", "-p", "ado")
	// The old wiring goes by hand, as a user might clean up.
	cmd := exec.Command("git", "config", "--global", "--remove-section", "credential.https://git.example.com/x")
	cmd.Env = append(os.Environ(), "HOME="+e.vars["HOME"], "GIT_CONFIG_GLOBAL="+e.vars["GIT_CONFIG_GLOBAL"], "GIT_CONFIG_NOSYSTEM=1")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	e.createProfile("ado", filepath.Join(e.dir, "ado.pfx"), "pw")
	setGitHosts(t, e, "ado", []string{"git.example.com"})
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.example.com/x")
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.example.com/x", "--remove")
	if got := gitHosts(t, e, "ado"); !slices.Equal(got, []string{"git.example.com"}) {
		t.Fatalf("gitHosts %q, want the user's [git.example.com]", got)
	}
}

// --remove for a profile deleted since also drops setup's record of the host it added.
func TestGitSetupRemoveOfDeletedProfileDropsRecord(t *testing.T) {
	e, gitconfig := gitTestEnv(t)
	e.ok("", "git", "setup", "-p", "ado", "--url", "https://git.example.com/x")
	if got := gitValues(t, e, "--global", "entratool.ado.addedGitHost"); !slices.Equal(got, []string{"git.example.com"}) {
		t.Fatalf("record %q\n%s", got, readFile(t, gitconfig))
	}
	e.ok("", "config", "delete", "-p", "ado")
	// Named by the environment this time, not by -p.
	e.vars["ENTRATOOL_PROFILE"] = "ado"
	e.ok("", "git", "setup", "--url", "https://git.example.com/x", "--remove")
	if got := gitValues(t, e, "--global", "entratool.ado.addedGitHost"); got != nil {
		t.Fatalf("record left %q", got)
	}
}
