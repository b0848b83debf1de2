package version

import (
	"runtime"
	"strings"
	"testing"
)

// Every binary answers --version with Line: one line a bug report can quote, naming the
// program, the build's version and the toolchain and platform it was built for.
func TestLine(t *testing.T) {
	got := Line("git-credential-entra")
	want := "git-credential-entra " + Version + " (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
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
	if v, ok := Parse(Line("entratool-engine")+"\n", "entratool-engine"); !ok || v != Version {
		t.Errorf("Parse(Line) = %q, %v", v, ok)
	}
	for _, line := range []string{"", "entratool-engine", "entratool-engine ", "entratool 1.0 (go1.26, linux/amd64)", "usage: entratool-engine …"} {
		if v, ok := Parse(line, "entratool-engine"); ok {
			t.Errorf("Parse(%q) = %q, accepted", line, v)
		}
	}
}
