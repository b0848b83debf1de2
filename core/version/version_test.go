package version

import (
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

// Every binary answers --version with Line: one line a bug report can quote, naming the
// program, the build's version and the toolchain and platform it was built for.
func TestLine(t *testing.T) {
	got := Line("git-credential-entra")
	want := "git-credential-entra " + Current() + " (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
	if got != want {
		t.Fatalf("Line = %q, want %q", got, want)
	}
	if strings.ContainsAny(got, "\r\n") {
		t.Fatalf("Line %q is not one line", got)
	}
}

func TestRequested(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want bool
	}{
		{[]string{"--version"}, true},
		{nil, false},
		{[]string{"version"}, false},
		{[]string{"-version"}, false},
		{[]string{"--version", "get"}, false},
		{[]string{"get", "--version"}, false},
	} {
		if got := Requested(tc.args); got != tc.want {
			t.Errorf("Requested(%q) = %v, want %v", tc.args, got, tc.want)
		}
	}
}

// Parse reads back what Line wrote, and nothing else.
func TestParse(t *testing.T) {
	if v, ok := Parse(Line("entratool-engine")+"\n", "entratool-engine"); !ok || v != Current() {
		t.Errorf("Parse(Line) = %q, %v", v, ok)
	}
	for _, line := range []string{"", "entratool-engine", "entratool-engine ", "entratool 1.0 (go1.26, linux/amd64)", "usage: entratool-engine …"} {
		if v, ok := Parse(line, "entratool-engine"); ok {
			t.Errorf("Parse(%q) = %q, accepted", line, v)
		}
	}
}

// What the linker sets wins; what it leaves unset comes from the go command's build
// information: the module version `go install …@VERSION` records, and the commit and
// its time a build in a checkout records.
func TestVersionResolve(t *testing.T) {
	vcs := func(rev, at, modified string) []debug.BuildSetting {
		return []debug.BuildSetting{{Key: "-compiler", Value: "gc"}, {Key: "vcs", Value: "git"},
			{Key: "vcs.revision", Value: rev}, {Key: "vcs.time", Value: at}, {Key: "vcs.modified", Value: modified}}
	}
	module := func(v string, settings []debug.BuildSetting) *debug.BuildInfo {
		return &debug.BuildInfo{Main: debug.Module{Path: "github.com/entratool/entratool", Version: v}, Settings: settings}
	}
	const rev = "513bca98b78771f12e0996a86f4930729f926b5e"
	for _, tc := range []struct {
		name   string
		linked Build
		bi     *debug.BuildInfo
		want   Build
	}{
		{"nothing recorded", Build{Version: "dev"}, nil,
			Build{Version: "dev", Commit: Unknown, Date: Unknown}},
		{"make: every value linked", Build{Version: "v1.2.3", Commit: rev, Date: "2026-12-03T15:20:25Z"}, module("v9.9.9", vcs("ffff", "2001-01-01T00:00:00Z", "true")),
			Build{Version: "v1.2.3", Commit: rev, Date: "2026-12-03T15:20:25Z"}},
		{"make without git", Build{Version: "dev", Commit: Unknown, Date: Unknown}, module("(devel)", nil),
			Build{Version: "dev", Commit: Unknown, Date: Unknown}},
		{"go install @version", Build{Version: "dev"}, module("v1.2.3", nil),
			Build{Version: "v1.2.3", Commit: Unknown, Date: Unknown}},
		{"go build, -buildvcs=false", Build{Version: "dev"}, module("(devel)", nil),
			Build{Version: "dev", Commit: Unknown, Date: Unknown}},
		{"go build in a checkout", Build{Version: "dev"}, module("v0.0.0-20261203152025-513bca98b787", vcs(rev, "2026-12-03T15:20:25Z", "false")),
			Build{Version: "dev", Commit: rev, Date: "2026-12-03T15:20:25Z"}},
		{"go build in a changed checkout", Build{Version: "dev"}, module("v0.0.0-20261203152025-513bca98b787+dirty", vcs(rev, "2026-12-03T15:20:25Z", "true")),
			Build{Version: "dev", Commit: rev + "-dirty", Date: "2026-12-03T15:20:25Z"}},
		{"only the version linked", Build{Version: "0.0.0-doctor"}, module("(devel)", vcs(rev, "2026-12-03T15:20:25Z", "false")),
			Build{Version: "0.0.0-doctor", Commit: rev, Date: "2026-12-03T15:20:25Z"}},
		{"a test binary", Build{Version: "dev"}, &debug.BuildInfo{Path: "github.com/entratool/entratool/core/version.test"},
			Build{Version: "dev", Commit: Unknown, Date: Unknown}},
	} {
		if got := resolve(tc.linked, tc.bi); got != tc.want {
			t.Errorf("%s: resolve = %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

// Info is this binary's: the linked values (none in a test) resolved, and its toolchain
// and platform; Current and Line say its version.
func TestVersionInfo(t *testing.T) {
	b := Info()
	bi, _ := debug.ReadBuildInfo()
	if want := resolve(Build{Version: Version, Commit: Commit, Date: Date}, bi); b.Version != want.Version || b.Commit != want.Commit || b.Date != want.Date {
		t.Fatalf("Info = %+v, want %+v", b, want)
	}
	if b.Go != runtime.Version() || b.OS != runtime.GOOS || b.Arch != runtime.GOARCH {
		t.Fatalf("Info = %+v", b)
	}
	if Current() != b.Version || !strings.HasPrefix(Line("x"), "x "+b.Version+" (") {
		t.Fatalf("Current %q, Line %q, Info %+v", Current(), Line("x"), b)
	}
	for _, v := range []string{b.Version, b.Commit, b.Date} {
		if v == "" || strings.ContainsAny(v, " \r\n") {
			t.Fatalf("Info = %+v: a value Parse or a reader cannot take", b)
		}
	}
}
