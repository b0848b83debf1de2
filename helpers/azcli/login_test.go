package azcli

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/profile"
)

// With no profile to sign in with, the shim says what az says when nobody is signed in
// — the Azure SDKs' credential chains (Python's and Go's DefaultAzureCredential) move on
// to their next credential only when az's stderr holds "az login" — then, on a line of
// its own, what to do in entratool's terms. The errors are profile.Config.Resolve's
// own, as launch.OpenLocal returns them to az-entra.
func TestRunNoProfile(t *testing.T) {
	const path = "/home/u/.entratool/profiles.json"
	empty := &profile.Config{Path: path}
	two := &profile.Config{Path: path, Profiles: []*profile.Profile{{Name: "a"}, {Name: "b"}}}
	dangling := &profile.Config{Path: path, DefaultProfile: "gone", Profiles: []*profile.Profile{{Name: "a"}, {Name: "b"}}}
	cases := []struct {
		name   string
		cfg    *profile.Config
		envVar string   // ENTRATOOL_PROFILE
		hint   []string // what the second line must say
	}{
		{"no profiles.json", empty, "", []string{"entratool config create", path}},
		{"unknown ENTRATOOL_PROFILE", two, "nope", []string{`ENTRATOOL_PROFILE names "nope"`, "a, b", "set ENTRATOOL_PROFILE"}},
		{"ENTRATOOL_PROFILE and no profiles", empty, "ci", []string{`ENTRATOOL_PROFILE names "ci"`, "entratool config create"}},
		{"several and no default", two, "", []string{"a, b", "set ENTRATOOL_PROFILE", "entratool config use"}},
		{"default profile gone", dangling, "", []string{`"gone"`, "entratool config use"}},
	}
	commands := [][]string{
		{"account", "get-access-token"},
		{"account", "get-access-token", "-o", "json", "--resource", "https://management.azure.com"},
		{"account", "get-access-token", "--scope", "https://graph.microsoft.com/.default", "-o=json"},
		{"account", "show", "-o=json"},
		{"account", "list"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			getenv := func(k string) string {
				if k == "ENTRATOOL_PROFILE" {
					return tc.envVar
				}
				return ""
			}
			_, err := tc.cfg.Resolve("", getenv)
			if err == nil {
				t.Fatal("Resolve found a profile")
			}
			for _, args := range commands {
				src := &recordingSource{err: err}
				r := runAz(t, src, Env{Getenv: getenv}, args...)
				lines := strings.Split(r.err, "\n")
				if r.code != ExitFailure || r.out != "" || len(lines) != 3 || lines[2] != "" {
					t.Fatalf("az %s: exit %d, stdout %q, stderr %q; want exit 1 and two lines", strings.Join(args, " "), r.code, r.out, r.err)
				}
				if lines[0] != "ERROR: Please run 'az login' to setup account." {
					t.Fatalf("az %s: first line %q", strings.Join(args, " "), lines[0])
				}
				for _, h := range tc.hint {
					if !strings.Contains(lines[1], h) {
						t.Errorf("az %s: hint %q does not say %q", strings.Join(args, " "), lines[1], h)
					}
				}
				if len(src.scopes) != 0 {
					t.Fatalf("a token was asked for: %q", src.scopes)
				}
			}

			// azd, as AzureDeveloperCLICredential runs it: azd's own not-logged-in
			// phrase, in both of its JSON error shapes, then the same hint.
			src := &recordingSource{err: err}
			r := runAzd(t, src, Env{Getenv: getenv}, "auth", "token", "-o", "json", "--no-prompt", "--scope", "https://graph.microsoft.com/.default")
			errLines := strings.Split(strings.TrimSpace(r.err), "\n")
			var legacy struct{ Data struct{ Message string } }
			var current struct{ Error string }
			if r.code != ExitFailure || r.out != "" || len(errLines) != 2 ||
				json.Unmarshal([]byte(errLines[0]), &legacy) != nil || json.Unmarshal([]byte(errLines[1]), &current) != nil {
				t.Fatalf("azd: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
			}
			for _, msg := range []string{legacy.Data.Message, current.Error} {
				if !strings.Contains(msg, "not logged in, run `azd auth login` to login") || !strings.Contains(msg, tc.hint[0]) {
					t.Errorf("azd message %q", msg)
				}
			}
			r = runAzd(t, src, Env{Getenv: getenv}, "auth", "token", "-o", "none", "--scope", "https://graph.microsoft.com/.default")
			if r.code != ExitFailure || !strings.HasPrefix(r.err, "ERROR: not logged in, run `azd auth login` to login") || strings.Count(r.err, "\n") != 1 {
				t.Fatalf("azd text: exit %d, stderr %q", r.code, r.err)
			}
		})
	}
}

// Only a missing or unselected profile reads as "not signed in": a profile that is
// there but cannot get a token is a real failure, and the credential chains must stop
// on it and show it (moving on would hide it behind another identity's token).
func TestRunRealErrorsKeepTheirMessages(t *testing.T) {
	for _, err := range []error{
		errors.New("certificate not found: /x.pfx (profile prod)"),
		errors.New("AADSTS700027: Client assertion contains an invalid signature"),
		errors.New("/home/u/.entratool is owned by uid 0, not by you: refusing it (the entratool home: ENTRATOOL_HOME, else ~/.entratool)"),
		// Wrapped or not, these are not the profile lookup failing.
		errors.New("profile not found"),
	} {
		src := newSource()
		src.err = err
		for _, args := range [][]string{{"account", "get-access-token"}, {"account", "show"}} {
			r := runAz(t, src, Env{}, args...)
			if r.code != ExitFailure || r.err != "ERROR: "+err.Error()+"\n" || strings.Contains(r.err, "az login") {
				t.Errorf("az %s with %q: exit %d, stderr %q", strings.Join(args, " "), err, r.code, r.err)
			}
		}
		r := runAzd(t, src, Env{}, "auth", "token", "--scope", "https://a/.default")
		if r.code != ExitFailure || strings.Contains(r.err, "azd auth login") {
			t.Errorf("azd with %q: exit %d, stderr %q", err, r.code, r.err)
		}
	}
}

// errNoProfileForTest is the error az-entra's source gives with no profiles.json.
func errNoProfileForTest(t *testing.T) error {
	t.Helper()
	_, err := (&profile.Config{Path: "/nowhere/profiles.json"}).Resolve("", func(string) string { return "" })
	if err == nil {
		t.Fatal("an empty config resolved a profile")
	}
	return err
}
