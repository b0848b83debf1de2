package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/version"
)

// fakeEngine puts on PATH (alone: nothing else is there) an entratool-engine that
// answers --version with version.Line's words for v, and returns its path.
func fakeEngine(t *testing.T, v string) string {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the fake engine is a shell script")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, launch.EngineName)
	script := "#!/bin/sh\n[ \"$1\" = --version ] && echo '" + launch.EngineName + " " + v + " (go1.26.8, linux/amd64)'\n"
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	noEngineBeside(t)
	t.Setenv("PATH", dir)
	return path
}

// noEngineBeside skips the test when an engine sits beside the test binary, where the
// check looks first.
func noEngineBeside(t *testing.T) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(exe), launch.EngineName)); err == nil {
		t.Skip("an engine beside the test binary")
	}
}

// versionText is what `entratool version` prints first, whatever the engine.
func versionText() string {
	b := version.Info()
	return "entratool " + b.Version + "\ncommit: " + b.Commit + "\nbuilt: " + b.Date + "\ngo: " + runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
}

// `entratool version`: the build's version, commit, date, toolchain and platform, one a
// line, then the engine it runs; an engine of its version is no warning.
func TestVersionCommand(t *testing.T) {
	engine := fakeEngine(t, version.Current())
	e := newTestEnv(t)
	want := versionText() + "engine: " + version.Current() + " (" + engine + ")\n"
	for _, args := range [][]string{{"version"}, {"version", "-o", "text"}, {"--debug=false", "version"}, {"-p", "x", "version", "--output=text"}} {
		if r := e.run("", args...); r.code != 0 || r.out != want || r.err != "" {
			t.Errorf("entratool %s: want %q, got %s", strings.Join(args, " "), want, r)
		}
	}
	// The first line is what --version says of the version; the date is RFC 3339 or unknown.
	lines := strings.Split(want, "\n")
	if v, ok := version.Parse(version.Line("entratool"), "entratool"); !ok || lines[0] != "entratool "+v {
		t.Errorf("first line %q, --version %q", lines[0], version.Line("entratool"))
	}
	if d := strings.TrimPrefix(lines[2], "built: "); d != version.Unknown && !strings.HasSuffix(d, "Z") {
		t.Errorf("built %q: not UTC", d)
	}
}

// -o json: the same facts, and the engine's, for scripts.
func TestVersionCommandJSON(t *testing.T) {
	engine := fakeEngine(t, version.Current())
	e := newTestEnv(t)
	r := e.run("", "version", "-o", "json")
	var got launch.VersionJSON
	if r.code != 0 || r.err != "" || json.Unmarshal([]byte(r.out), &got) != nil {
		t.Fatalf("version -o json: %s", r)
	}
	b := version.Info()
	want := launch.VersionJSON{Version: b.Version, Commit: b.Commit, Date: b.Date, Go: runtime.Version(), OS: runtime.GOOS, Arch: runtime.GOARCH,
		Engine: launch.VersionJSONEngine{Path: engine, Version: version.Current(), Matches: true}}
	if got != want {
		t.Fatalf("version -o json = %+v, want %+v", got, want)
	}
	var keys map[string]any
	if err := json.Unmarshal([]byte(r.out), &keys); err != nil || len(keys) != 7 || keys["go"] != runtime.Version() {
		t.Fatalf("version -o json: %s", r.out)
	}
	if r := e.run("", "version", "-o", "yaml"); r.code != ExitUsage || r.out != "" || !strings.Contains(r.err, `unknown output "yaml": use text or json`) {
		t.Fatalf("version -o yaml: %s", r)
	}
}

// An engine of another version: the version is printed all the same (exit 0), and a
// warning names both versions and the fix.
func TestVersionCommandEngineMismatch(t *testing.T) {
	engine := fakeEngine(t, "9.9.9")
	e := newTestEnv(t)
	r := e.run("", "version")
	wantWarn := "entratool: warning: " + launch.EngineName + " at " + engine + " is version 9.9.9, entratool is version " + version.Current() +
		": install every entratool binary from the same release (one release archive or package, `make install`, or `go install github.com/entratool/entratool/...@VERSION`)\n"
	if r.code != 0 || r.out != versionText()+"engine: 9.9.9 ("+engine+")\n" || r.err != wantWarn {
		t.Fatalf("mismatched engine: want warning %q, got %s", wantWarn, r)
	}
	r = e.run("", "version", "-o", "json")
	var got launch.VersionJSON
	if r.code != 0 || json.Unmarshal([]byte(r.out), &got) != nil || got.Engine != (launch.VersionJSONEngine{Path: engine, Version: "9.9.9"}) || r.err != wantWarn {
		t.Fatalf("mismatched engine, json: %+v %s", got, r)
	}
}

// No engine anywhere: the version is printed all the same (exit 0), with a warning.
func TestVersionCommandEngineMissing(t *testing.T) {
	noEngineBeside(t)
	t.Setenv("PATH", t.TempDir())
	exe, _ := os.Executable()
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		exe = real
	}
	e := newTestEnv(t)
	r := e.run("", "version")
	wantWarn := "entratool: warning: " + launch.EngineName + " not found beside " + exe + " or on PATH, and every entratool command but version needs it: install every entratool binary from the same release"
	if r.code != 0 || r.out != versionText()+"engine: not found\n" || !strings.HasPrefix(r.err, wantWarn) || strings.Count(r.err, "\n") != 1 {
		t.Fatalf("no engine: want warning %q, got %s", wantWarn, r)
	}
	r = e.run("", "version", "-o", "json")
	var got launch.VersionJSON
	if r.code != 0 || json.Unmarshal([]byte(r.out), &got) != nil || got.Engine != (launch.VersionJSONEngine{}) || !strings.HasPrefix(r.err, wantWarn) {
		t.Fatalf("no engine, json: %+v %s", got, r)
	}
}

// An engine that says nothing usable: a warning with what it said.
func TestVersionCommandEngineMute(t *testing.T) {
	engine := fakeEngine(t, version.Current())
	if err := os.WriteFile(engine, []byte("#!/bin/sh\necho 'unknown flag: --version' >&2\nexit 2\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t)
	r := e.run("", "version")
	if r.code != 0 || r.out != versionText()+"engine: version unknown ("+engine+")\n" ||
		!strings.HasPrefix(r.err, "entratool: warning: "+launch.EngineName+" at "+engine+" does not tell its version (--version: exit status 2: an older build?): install every entratool binary") {
		t.Fatalf("mute engine: %s", r)
	}
}

// The entratool front answers `version` itself (launch.ParseVersion) when cobra would
// run this command, and leaves every other line to the engine: for each line, the front
// answers exactly when cobra runs it, with the same output.
func TestParseVersionAgreesWithCobra(t *testing.T) {
	fakeEngine(t, version.Current())
	if _, err := exec.LookPath(launch.EngineName); err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t)
	for _, args := range [][]string{
		{"version"},
		{"version", "-o", "json"}, {"version", "-ojson"}, {"version", "-o=json"}, {"version", "--output", "json"}, {"version", "--output=json"},
		{"version", "-o", "text"}, {"version", "-o", "json", "-o", "text"},
		{"--debug", "version"}, {"--debug=true", "version"}, {"--debug=0", "version"}, {"version", "--debug"},
		{"-p", "x", "version"}, {"-px", "version"}, {"-p=x", "version"}, {"--profile", "x", "version"}, {"--profile=x", "version"},
		{"version", "-p", "x", "-o", "json"}, {"-p", "version", "version"}, {"version", "--"}, {"version", "-o", "json", "--"},
		{"-o", "json", "version"}, {"--output", "json", "version"}, {"-ojson", "-p", "x", "version"},
		// Lines cobra refuses or answers otherwise: the engine's.
		{"version", "-o", "yaml"}, {"version", "-o"}, {"version", "--output="}, {"version", "extra"}, {"version", "version"},
		{"version", "--help"}, {"version", "-h"}, {"--help", "version"}, {"version", "--version"},
		{"version", "--", "x"}, {"version", "--", "-o", "json"}, {"--", "version"}, {"-p", "x", "--", "version"},
		{"--debug=maybe", "version"}, {"--debug", "false", "version"}, {"-p"}, {"version", "-p"}, {"-o", "yaml", "version"}, {"-o", "json"},
		{"versions"}, {"--version"}, {}, {"-", "version"}, {"version", "-"}, {"version", "--outputs=json"},
	} {
		r := e.run("", args...)
		output, ok := launch.ParseVersion(args)
		switch {
		case ok && (r.code != 0 || r.err != ""):
			t.Errorf("%q: the front would answer (-o %s), cobra: %s", args, output, r)
		case ok && (output == "json") != strings.HasPrefix(r.out, "{"):
			t.Errorf("%q: the front would answer -o %s, cobra printed %q", args, output, r.out)
		case !ok && r.code == 0 && (strings.HasPrefix(r.out, versionText()) || strings.HasPrefix(r.out, "{")):
			t.Errorf("%q: cobra runs version, the front would not answer it", args)
		}
	}
}
