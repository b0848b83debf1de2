package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/helpers/envexport"
	"github.com/entratool/entratool/internal/testkit"
)

// ---- typos: "Did you mean this?" at every level ----

// A mistyped subcommand gets cobra's suggestion at the root and one level down alike:
// the error on one line, the suggestion on its own lines, exit 2, nothing on stdout.
func TestSuggestUnknownSubcommand(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		args []string
		path string // the command the typo was given to
		want string // the suggestion
	}{
		{[]string{"gettoken"}, "entratool", "get-token"},
		{[]string{"confg", "list"}, "entratool", "config"},
		{[]string{"config", "lst"}, "entratool config", "list"},
		{[]string{"cert", "creat"}, "entratool cert", "create"},
		{[]string{"git", "stup"}, "entratool git", "setup"},
		{[]string{"docker", "stup"}, "entratool docker", "setup"},
		{[]string{"kubeconfig", "convrt"}, "entratool kubeconfig", "convert"},
		{[]string{"keystore", "lis"}, "entratool keystore", "list"},
		{[]string{"az-shim", "instal"}, "entratool az-shim", "install"},
		// Flags before the typo change nothing.
		{[]string{"-p", "prod", "config", "--debug", "lst"}, "entratool config", "list"},
	} {
		typo := tc.args[len(tc.args)-1]
		if tc.path == "entratool" {
			typo = tc.args[0]
		}
		r := e.run("", tc.args...)
		want := "entratool: unknown command \"" + typo + "\" for \"" + tc.path + "\"\nDid you mean this?\n\t" + tc.want + "\n"
		if r.code != ExitUsage || r.err != want || r.out != "" {
			t.Errorf("entratool %s: want exit 2, stderr %q and no stdout; got %s", strings.Join(tc.args, " "), want, r)
		}
	}
}

// With nothing close enough there is no suggestion: one line pointing at --help.
func TestUnknownSubcommandWithoutSuggestion(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		args []string
		path string
	}{
		{[]string{"zzzzzzzz"}, "entratool"},
		{[]string{"config", "zzzzzzzz"}, "entratool config"},
		{[]string{"git", "zzzzzzzz"}, "entratool git"},
	} {
		r := e.run("", tc.args...)
		want := "entratool: unknown command \"zzzzzzzz\" for \"" + tc.path + "\" (see '" + tc.path + " --help')\n"
		if r.code != ExitUsage || r.err != want || r.out != "" {
			t.Errorf("entratool %s: want exit 2 and stderr %q; got %s", strings.Join(tc.args, " "), want, r)
		}
	}
}

// A group command given alone still prints its help and succeeds, as before.
func TestBareGroupPrintsHelp(t *testing.T) {
	e := newTestEnv(t)
	for _, g := range []string{"config", "cert", "git", "docker", "kubeconfig", "keystore", "az-shim"} {
		r := e.run("", g)
		if r.code != 0 || !strings.Contains(r.out, "Usage:\n  entratool "+g) || r.err != "" {
			t.Errorf("entratool %s: %s", g, r)
		}
	}
	if r := e.run(""); r.code != 0 || !strings.Contains(r.out, "Available Commands:") {
		t.Errorf("entratool: %s", r)
	}
}

// ---- completion ----

// complete runs cobra's hidden __complete command in-process, as the shell scripts do,
// and returns the candidates and the directive line (":4" is NoFileComp, ":0" lets the
// shell complete file names).
func (e *testEnv) complete(args ...string) (values []string, directive string) {
	e.t.Helper()
	r := e.run("", append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		e.t.Fatalf("__complete %q: %s", args, r)
	}
	if strings.Contains(r.err, "entratool:") {
		e.t.Fatalf("__complete %q reported an error: %s", args, r)
	}
	lines := strings.Split(strings.TrimSuffix(r.out, "\n"), "\n")
	return lines[:len(lines)-1], lines[len(lines)-1]
}

// writeProfiles makes profiles.json with these names, as config create would.
func (e *testEnv) writeProfiles(names ...string) {
	e.t.Helper()
	st := &profile.Store{Home: e.home}
	err := st.Update(context.Background(), func(c *profile.Config) error {
		for _, n := range names {
			c.Put(&profile.Profile{Name: n, ClientID: testkit.ClientID, TenantID: testkit.TenantID})
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// commandPaths lists the path words of every visible command under root.
func commandPaths(c *cobra.Command, prefix []string) [][]string {
	var out [][]string
	for _, sub := range c.Commands() {
		if sub.Hidden {
			continue
		}
		p := append(slices.Clone(prefix), sub.Name())
		out = append(out, p)
		out = append(out, commandPaths(sub, p)...)
	}
	return out
}

func (e *testEnv) tree() *cobra.Command {
	a := &App{Streams: Streams{}, Getenv: e.getenv}
	return a.rootCmd()
}

// Profile names complete for -p/--profile on every command, and for the commands whose
// argument is a profile; what is typed so far narrows them.
func TestCompleteProfileNames(t *testing.T) {
	e := newTestEnv(t)
	e.writeProfiles("alpha", "beta", "alphabet")
	all := []string{"alpha", "beta", "alphabet"}

	paths := commandPaths(e.tree(), nil)
	if len(paths) < 20 {
		t.Fatalf("only %d commands found", len(paths))
	}
	for _, p := range paths {
		for _, flag := range []string{"-p", "--profile"} {
			got, dir := e.complete(append(slices.Clone(p), flag, "")...)
			if !slices.Equal(got, all) || dir != ":4" {
				t.Errorf("entratool %s %s: completions %q %s, want %q :4", strings.Join(p, " "), flag, got, dir, all)
			}
		}
	}
	if got, _ := e.complete("get-token", "-p", "alph"); !slices.Equal(got, []string{"alpha", "alphabet"}) {
		t.Errorf("get-token -p alph: %q", got)
	}
	// Before the command, as a root flag.
	if got, _ := e.complete("-p", ""); !slices.Equal(got, all) {
		t.Errorf("-p before the command: %q", got)
	}

	for _, cmd := range [][]string{{"config", "use"}, {"config", "show"}, {"config", "edit"}, {"config", "delete"}, {"config", "export"}} {
		got, dir := e.complete(append(slices.Clone(cmd), "")...)
		if !slices.Equal(got, all) || dir != ":4" {
			t.Errorf("%s NAME: %q %s", cmd, got, dir)
		}
		// One profile is all they take.
		if got, dir := e.complete(append(slices.Clone(cmd), "alpha", "")...); len(got) != 0 || dir != ":4" {
			t.Errorf("%s alpha NAME: %q %s", cmd, got, dir)
		}
	}
	if got, _ := e.complete("config", "use", "b"); !slices.Equal(got, []string{"beta"}) {
		t.Errorf("config use b: %q", got)
	}
}

// Completion runs on every Tab: with no home, a profiles.json that does not parse, or
// a home another user could write to, it offers nothing and says nothing.
func TestCompleteProfileNamesQuietOnErrors(t *testing.T) {
	e := newTestEnv(t)
	if got, dir := e.complete("config", "use", ""); len(got) != 0 || dir != ":4" {
		t.Errorf("no home: %q %s", got, dir)
	}
	if err := os.MkdirAll(e.home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.profilesPath(), []byte(`{"profiles": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	if got, dir := e.complete("get-token", "-p", ""); len(got) != 0 || dir != ":4" {
		t.Errorf("broken profiles.json: %q %s", got, dir)
	}
	// A good file in a home others may write to.
	if err := os.Remove(e.profilesPath()); err != nil {
		t.Fatal(err)
	}
	e.writeProfiles("alpha")
	if err := os.Chmod(e.home, 0o777); err != nil {
		t.Fatal(err)
	}
	if got, dir := e.complete("get-token", "-p", ""); len(got) != 0 || dir != ":4" {
		t.Errorf("world-writable home: %q %s", got, dir)
	}
	// ENTRATOOL_HOME decides where the names come from.
	other := filepath.Join(t.TempDir(), "other")
	e.vars["ENTRATOOL_HOME"] = other
	e.home = other
	e.writeProfiles("elsewhere")
	if got, _ := e.complete("get-token", "-p", ""); !slices.Equal(got, []string{"elsewhere"}) {
		t.Errorf("ENTRATOOL_HOME=%s: %q", other, got)
	}
}

// -o completes each command's own values; an -o that names a file is left to the shell.
func TestCompleteOutput(t *testing.T) {
	e := newTestEnv(t)
	tableJSON := []string{"table", "json"}
	for _, tc := range []struct {
		cmd  []string
		want []string // nil: file names (directive 0)
	}{
		{[]string{"get-token"}, []string{"token", "json", "az", "env"}},
		{[]string{"config", "list"}, tableJSON},
		{[]string{"config", "show"}, tableJSON},
		{[]string{"cert", "info"}, tableJSON},
		{[]string{"keystore", "list"}, tableJSON},
		{[]string{"cert", "check"}, []string{"text", "json"}},
		{[]string{"config", "export"}, nil},
		{[]string{"cert", "export-public"}, nil},
	} {
		for _, flag := range []string{"-o", "--output"} {
			got, dir := e.complete(append(slices.Clone(tc.cmd), flag, "")...)
			wantDir := ":4"
			if tc.want == nil {
				wantDir = ":0"
			}
			if !slices.Equal(got, tc.want) || dir != wantDir {
				t.Errorf("%s %s: %q %s, want %q %s", tc.cmd, flag, got, dir, tc.want, wantDir)
			}
		}
	}
	// What get-token completes, get-token accepts (and so does the fast path).
	formats, _ := outputFormats("get-token")
	for _, v := range formats {
		if !launch.ValidOutput(v) {
			t.Errorf("get-token -o %s is offered but refused", v)
		}
	}
	for _, v := range tableJSON {
		if err := checkTableJSON(v); err != nil {
			t.Error(err)
		}
	}
}

// Every command with -o is known to outputFormats, with its values or as a file: a new
// command cannot leave its -o uncompleted by accident.
func TestEveryOutputFlagIsClassified(t *testing.T) {
	e := newTestEnv(t)
	for _, p := range commandPaths(e.tree(), nil) {
		key := strings.Join(p, " ")
		values, known := outputFormats(key)
		has := e.hasOutputFlag(p)
		switch {
		case has && !known:
			t.Errorf("%s has -o but outputFormats does not know it", key)
		case !has && known:
			t.Errorf("outputFormats knows %s, which has no -o", key)
		case has && len(values) > 0:
			if got, dir := e.complete(append(slices.Clone(p), "-o", "")...); !slices.Equal(got, values) || dir != ":4" {
				t.Errorf("%s -o: %q %s", key, got, dir)
			}
		}
	}
}

func (e *testEnv) hasOutputFlag(path []string) bool {
	c, _, err := e.tree().Find(path)
	return err == nil && c.Flags().Lookup("output") != nil
}

// --shell, --secret-store and --cloud complete their values, each accepted by the check
// that reads it.
func TestCompleteFlagValues(t *testing.T) {
	e := newTestEnv(t)
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"env", "--shell", ""}, []string{"sh", "bash", "zsh", "fish", "powershell", "pwsh", "cmd", "dotenv", "github"}},
		{[]string{"config", "create", "--secret-store", ""}, []string{"keyring", "file", "env"}},
		{[]string{"config", "edit", "--secret-store", ""}, []string{"keyring", "file", "env"}},
		{[]string{"config", "create", "--cloud", ""}, []string{"public", "usgov", "china"}},
		{[]string{"config", "edit", "--cloud", ""}, []string{"public", "usgov", "china"}},
		{[]string{"config", "create", "--cloud", "u"}, []string{"usgov"}},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish", "powershell"}},
	} {
		got, dir := e.complete(tc.args...)
		if !slices.Equal(got, tc.want) || dir != ":4" {
			t.Errorf("%q: %q %s, want %q :4", tc.args, got, dir, tc.want)
		}
	}
	for _, s := range shellNames() {
		if _, err := envexport.Format(s, nil); err != nil {
			t.Errorf("--shell %s is offered but refused: %v", s, err)
		}
	}
	for _, s := range secretStoreNames() {
		p := &profile.Profile{Name: "x", ClientID: testkit.ClientID, TenantID: testkit.TenantID, SecretStore: s}
		if err := p.Validate(); err != nil {
			t.Errorf("--secret-store %s is offered but refused: %v", s, err)
		}
	}
	for _, c := range cloudNames() {
		p := &profile.Profile{Name: "x", ClientID: testkit.ClientID, TenantID: testkit.TenantID, Cloud: c}
		if err := p.Validate(); err != nil {
			t.Errorf("--cloud %s is offered but refused: %v", c, err)
		}
	}
}

// `completion --help` says how to install the script in each shell.
func TestCompletionHelpSaysHowToInstall(t *testing.T) {
	e := newTestEnv(t)
	r := e.ok("", "completion", "--help")
	for _, want := range []string{
		"source <(entratool completion bash)",
		"entratool completion bash > /etc/bash_completion.d/entratool",
		`entratool completion zsh > "${fpath[1]}/_entratool"`,
		"autoload -U compinit",
		"entratool completion fish > ~/.config/fish/completions/entratool.fish",
		"entratool completion powershell | Out-String | Invoke-Expression",
		"$PROFILE",
	} {
		if !strings.Contains(r.out, want) {
			t.Errorf("completion --help lacks %q:\n%s", want, r.out)
		}
	}
	// And each script is produced.
	for _, sh := range []string{"bash", "zsh", "fish", "powershell"} {
		if r := e.ok("", "completion", sh); !strings.Contains(r.out, "__complete") {
			t.Errorf("completion %s: no script:\n%.300s", sh, r.out)
		}
	}
}

// ---- version ----

// --version prints version.Line, the line every binary prints (the version command
// says more: version_test.go).
func TestVersionFlag(t *testing.T) {
	e := newTestEnv(t)
	want := version.Line("entratool") + "\n"
	for _, args := range [][]string{{"--version"}, {"--debug", "--version"}} {
		r := e.run("", args...)
		if r.code != 0 || r.out != want || r.err != "" {
			t.Errorf("entratool %s: want %q, got %s", strings.Join(args, " "), want, r)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"lst", "list", 1}, {"lst", "use", 2}, {"kitten", "sitting", 3}, {"", "abc", 3}, {"abc", "", 3}, {"stup", "setup", 1},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

// Only the closest names are suggested; names equally close are all given.
func TestSuggestionsAreTheClosest(t *testing.T) {
	e := newTestEnv(t)
	r := e.run("", "c")
	want := "entratool: unknown command \"c\" for \"entratool\"\nDid you mean this?\n\tcert\n\tcompletion\n\tconfig\n"
	if r.code != ExitUsage || r.err != want {
		t.Errorf("want %q, got %s", want, r)
	}
}
