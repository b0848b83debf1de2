package launch

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/internal/testbin"
)

// The command a front sees is the one cobra runs: root flags (and their values) before
// it are skipped as pflag reads them; anything else unknown leaves the question open.
func TestSubcommandAgreesWithPflag(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"doctor"}, "doctor"},
		{[]string{"doctor", "--live"}, "doctor"},
		{[]string{"-p", "x", "doctor"}, "doctor"},
		{[]string{"-px", "doctor"}, "doctor"},
		{[]string{"-p=x", "doctor"}, "doctor"},
		{[]string{"--profile", "x", "doctor"}, "doctor"},
		{[]string{"--profile=x", "doctor"}, "doctor"},
		{[]string{"--debug", "doctor"}, "doctor"},
		{[]string{"--debug=false", "doctor"}, "doctor"},
		{[]string{"-p", "doctor", "config"}, "config"}, // a profile named doctor
		{[]string{"--debug", "-p", "x", "get-token"}, "get-token"},
		{[]string{"--", "doctor"}, ""},
		{[]string{"--scope", "x", "doctor"}, ""}, // not a root flag: cobra's to judge
		{[]string{"-h", "doctor"}, ""},
		{[]string{"-p"}, ""},
		{nil, ""},
	}
	for _, c := range cases {
		if got := Subcommand(c.args); got != c.want {
			t.Errorf("Subcommand(%q) = %q, want %q", c.args, got, c.want)
		}
		if c.want == "" {
			continue
		}
		// pflag, reading the root flags up to the first argument as cobra does.
		var o GetToken
		fs := pflag.NewFlagSet("entratool", pflag.ContinueOnError)
		fs.SetOutput(io.Discard)
		fs.SetInterspersed(false)
		for _, f := range GetTokenFlags() {
			if f.Root {
				fl := fs.VarPF(FlagValue{F: f, O: &o}, f.Name, f.Short, f.Usage)
				if f.Bool {
					fl.NoOptDefVal = "true"
				}
			}
		}
		if err := fs.Parse(c.args); err != nil || fs.Arg(0) != c.want {
			t.Errorf("pflag reads %q as command %q (%v), Subcommand as %q", c.args, fs.Arg(0), err, c.want)
		}
	}
}

// CheckEngine asks the real engine (on PATH here: none is beside the test binary) and
// finds it, of this build's version; EngineChecked gives the engine the same line.
func TestCheckEngineFindsThisBuildsEngine(t *testing.T) {
	dir := testbin.Build(t, "./entratool-engine")
	t.Setenv("PATH", dir)
	c := CheckEngine(context.Background(), "entratool")
	want := "✓ " + EngineName + " " + version.Current() + " (" + filepath.Join(dir, EngineName) + ")"
	if !c.OK() || c.Line() != want {
		t.Fatalf("got %q (ok %v), want %q", c.Line(), c.OK(), want)
	}
	env := map[string]string{EngineCheckedEnv: c.Path}
	got, ok := EngineChecked("entratool", func(k string) string { return env[k] })
	if !ok || got.Line() != want {
		t.Fatalf("the engine's doctor would say %q (%v), want %q", got.Line(), ok, want)
	}
	if _, ok := EngineChecked("entratool", func(string) string { return "" }); ok {
		t.Fatal("no finding handed on, yet EngineChecked reports one")
	}
}

// Each way an engine cannot serve this front is a ✗ line naming it, with the fix.
func TestCheckEngineRefusals(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	// The tools the scripts use, and no engine.
	t.Setenv("PATH", "/usr/bin:/bin")
	if p, err := exec.LookPath(EngineName); err == nil {
		t.Skipf("an engine is installed at %s", p)
	}
	cases := []struct {
		name, script string // script "" means no engine at all
		ctx          time.Duration
		want         string
	}{
		{"missing", "", 0, "✗ " + EngineName + ": not found beside " + exe + " or on PATH — fix: reinstall every entratool binary together"},
		{"mismatched", `[ "$1" = "--version" ] && echo "` + EngineName + ` 9.9.9 (go1.0, plan9/mips)"`, 0, "✗ " + EngineName + " 9.9.9 at "},
		{"older", `echo "unknown flag: --version" >&2; exit 2`, 0, "does not tell its version (--version: exit status 2: an older build?)"},
		{"mute", `exit 0`, 0, `does not tell its version (--version answered "")`},
		{"stranger", `echo hello`, 0, `does not tell its version (--version answered "hello")`},
		{"hung", `exec sleep 60`, 300 * time.Millisecond, "did not tell its version within"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.script != "" {
				fakeEngine(t, c.script)
			}
			ctx := context.Background()
			if c.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, c.ctx)
				defer cancel()
			}
			start := time.Now()
			got := CheckEngine(ctx, "entratool")
			if got.OK() || !strings.Contains(got.Line(), c.want) || !strings.Contains(got.Line(), " — fix: reinstall every entratool binary together") {
				t.Fatalf("got %q, want it to contain %q", got.Line(), c.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}
