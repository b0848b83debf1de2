package cli

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// doctor sees a home entratool cannot use: one not writable by its owner, one owned by
// another user, one group or others may write to. Each is one ✗ line with the path, the
// owner or mode, and the fix — and no second, misleading line about profiles.json.
func TestDoctorSeesAnUnusableHome(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX modes and owners")
	}
	cases := []struct {
		name  string
		spoil func(t *testing.T, home string)
		want  []string
	}{
		{"not writable", func(t *testing.T, home string) { chmod(t, home, 0o500) },
			[]string{"is not writable by you (mode 0500)", "fix: chmod 700 "}},
		{"group-writable", func(t *testing.T, home string) { chmod(t, home, 0o770) },
			[]string{"is writable by its group (mode 0770)", "fix: run chmod 700 "}},
		{"others-writable", func(t *testing.T, home string) { chmod(t, home, 0o703) },
			[]string{"is writable by others (mode 0703)", "fix: run chmod 700 "}},
		{"foreign-owned", func(t *testing.T, home string) {
			if os.Geteuid() != 0 {
				t.Skip("making a directory another user owns needs root")
			}
			if err := os.Chown(home, 65534, 65534); err != nil {
				t.Fatal(err)
			}
		}, []string{"is owned by uid 65534", "not by you (mode 0700)", "ENTRATOOL_HOME"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t)
			pfx := e.newCert("home", "pw")
			e.createProfile("p", pfx, "pw")
			if r := e.run("", "doctor"); r.code != 0 {
				t.Fatalf("healthy home: %s", r)
			}
			c.spoil(t, e.home)
			t.Cleanup(func() { os.Chown(e.home, os.Getuid(), os.Getgid()); os.Chmod(e.home, 0o700) })
			r := e.run("", "doctor")
			if r.code != 1 {
				t.Fatalf("want exit 1: %s", r)
			}
			var home string
			for _, line := range strings.Split(r.out, "\n") {
				if strings.HasPrefix(line, "✗ home "+e.home+" ") {
					home = line
				}
				if strings.Contains(line, "position shown") {
					t.Errorf("misleading fix: %q", line)
				}
			}
			if home == "" {
				t.Fatalf("no ✗ line for the home:\n%s", r.out)
			}
			for _, want := range c.want {
				if !strings.Contains(home, want) {
					t.Errorf("missing %q in %q", want, home)
				}
			}
		})
	}
}

func chmod(t *testing.T, path string, m os.FileMode) {
	t.Helper()
	if err := os.Chmod(path, m); err != nil {
		t.Fatal(err)
	}
}
