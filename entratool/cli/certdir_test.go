package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// Quick start step 1 with ENTRATOOL_HOME set elsewhere: `cert create --out
// $ENTRATOOL_HOME/certs/x.pfx` makes the certs directory (0700) as it does in the
// default home, however the home is spelled; any other missing directory is an error.
func TestCertCreateMakesCertsDirOfAnyHome(t *testing.T) {
	e := newTestEnv(t)
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	rel, err := filepath.Rel(wd, filepath.Join(e.dir, "relative-home"))
	if err != nil {
		t.Fatal(err)
	}
	for name, home := range map[string]string{
		"nested, not made yet": filepath.Join(e.dir, "srv", "deep", "entratool"),
		"trailing slash":       filepath.Join(e.dir, "slash") + "/",
		"relative":             rel,
	} {
		e.vars["ENTRATOOL_HOME"] = home
		out := filepath.Join(home, "certs", "x.pfx")
		if r := e.run(testPassword, "cert", "create", "--subject", "CN=x", "--out", out, "--password-stdin"); r.code != 0 {
			t.Errorf("%s: %s", name, r)
			continue
		}
		abs, _ := filepath.Abs(filepath.Join(home, "certs"))
		if fi, err := os.Stat(abs); err != nil || fi.Mode().Perm() != 0o700 {
			t.Errorf("%s: certs dir %v %v", name, fi, err)
		}
	}
	e.vars["ENTRATOOL_HOME"] = filepath.Join(e.dir, "h")
	e.expect(1, "does not exist: create it first", testPassword, "cert", "create", "--subject", "CN=x",
		"--out", filepath.Join(e.dir, "typo", "certs", "x.pfx"), "--password-stdin")
}
