package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The same command lines through the lean front's fast path and through the engine's
// cobra command give the same exit code, stdout and stderr. With the cache warm, the
// front answers the valid ones itself — shown by running it with no engine anywhere —
// and leaves every invalid one to the engine (it used to print a cached token for
// `--timeout banana`, which the engine refuses).
func TestContractGetTokenFrontMatchesEngine(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("contract", "Contract-Pw-1")
	w.register(cf.leaf)
	w.certProfile("sp", cf, cf.pfx)
	w.mustRun("", "entratool", "get-token") // warm the cache

	valid := [][]string{
		{}, {"-p", "sp"}, {"-psp", "-ojson"}, {"--profile=sp", "--timeout", "5s", "--silent"},
		{"-o", "az"}, {"--silent=false", "-o=env"}, {"--debug=false"}, {"--scope", graph}, {"-p", "x", "-p", "sp"},
	}
	invalid := [][]string{
		{"--timeout", "banana"}, {"--timeout", "0"}, {"--timeout=-1s"}, {"--timeout"}, {"-o", "yaml"}, {"-o="},
		{"--silent=maybe"}, {"extra"}, {"--nope"}, {"-p"}, {"-p", "missing"}, {"--", "x"}, {"-h"},
	}
	// The front alone: no engine beside it or on PATH.
	lone := t.TempDir()
	copyFile(t, filepath.Join(binDir, "entratool"), filepath.Join(lone, "entratool"))
	for _, set := range append(valid, invalid...) {
		args := append([]string{"get-token"}, set...)
		fo, fe, fc := w.run("", "entratool", args...)
		eo, ee, ec := w.run("", "entratool-engine", args...)
		if fo != eo || fe != ee || fc != ec {
			t.Errorf("%q:\nfront  exit %d stdout %q stderr %q\nengine exit %d stdout %q stderr %q", args, fc, fo, fe, ec, eo, ee)
		}
		cmd := w.command(t.Context(), "", "entratool", args...)
		cmd.Path = filepath.Join(lone, "entratool")
		cmd.Env = append(cmd.Env, "PATH="+lone)
		lo, le, lc := runCmd(t, cmd)
		answered := lc == 0
		if wantAnswer := isValid(valid, set); answered != wantAnswer {
			t.Errorf("%q: the fast path answered=%v (exit %d, %q %q), want %v", args, answered, lc, lo, le, wantAnswer)
		}
		if !answered && !strings.Contains(le, "entratool: entratool-engine not found") {
			t.Errorf("%q: declined without naming the missing engine: %q", args, le)
		}
	}
}

// ENTRATOOL_DEBUG=0 or false is off in every binary (the fast path and kubectl's front
// used to read any value as on, and sent every call to the engine).
func TestContractDebugOffMeansOff(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("contract", "Contract-Pw-3")
	w.register(cf.leaf)
	w.certProfile("sp", cf, cf.pfx)
	w.mustRun("", "entratool", "get-token")
	w.mustRun("", "kubectl-exec-entra")
	lone := t.TempDir()
	for _, name := range []string{"entratool", "kubectl-exec-entra", "git-credential-entra"} {
		copyFile(t, filepath.Join(binDir, name), filepath.Join(lone, name))
	}
	for _, v := range []string{"0", "false", "FALSE", ""} {
		for _, c := range [][]string{{"entratool", "get-token"}, {"kubectl-exec-entra"}} {
			cmd := w.command(t.Context(), "", c[0], c[1:]...)
			cmd.Path = filepath.Join(lone, c[0])
			cmd.Env = append(cmd.Env, "PATH="+lone, "ENTRATOOL_DEBUG="+v)
			if out, errOut, code := runCmd(t, cmd); code != 0 || !jwtRE.MatchString(out) {
				t.Errorf("ENTRATOOL_DEBUG=%q %s: not answered from the cache: exit %d %q", v, c[0], code, errOut)
			}
		}
	}
	// A miss with no engine: the message names the program git ran.
	cmd := w.command(t.Context(), "protocol=https\nhost=dev.azure.com\n\n", "git-credential-entra", "get")
	cmd.Path = filepath.Join(lone, "git-credential-entra")
	cmd.Env = append(cmd.Env, "PATH="+lone)
	if _, errOut, code := runCmd(t, cmd); code != 1 || !strings.HasPrefix(errOut, "git-credential-entra: ") || !strings.Contains(errOut, "entratool-engine not found") {
		t.Errorf("git miss without engine: exit %d %q", code, errOut)
	}
}

func isValid(valid [][]string, set []string) bool {
	for _, v := range valid {
		if strings.Join(v, "\x00") == strings.Join(set, "\x00") {
			return true
		}
	}
	return false
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

var jwtRE = regexp.MustCompile(`eyJ[A-Za-z0-9_.~+/=-]+`)
var expiryRE = regexp.MustCompile(`(password_expiry_utc=|"expirationTimestamp": ?")[0-9TZ:-]+`)

// The helpers' own flags give the same exit code and messages whether the token then
// comes from the cache (the front) or from the engine (an empty cache); only the token
// itself and its expiry differ.
func TestContractHelperFlagsSameOnHitAndMiss(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("contract", "Contract-Pw-2")
	w.register(cf.leaf)
	w.certProfile("sp", cf, cf.pfx)
	warm := filepath.Join(w.dir, "warm-cache")
	w.env["ENTRATOOL_CACHE_DIR"] = warm
	gitReq := "protocol=https\nhost=dev.azure.com\n\n"
	w.mustRun(gitReq, "git-credential-entra", "get")
	w.mustRun("", "kubectl-exec-entra")

	cases := []struct {
		name  string
		stdin string
		args  []string
	}{
		{"git-credential-entra", gitReq, []string{"get"}},
		{"git-credential-entra", gitReq, []string{"--timeout", "5s", "-p", "sp", "get"}},
		{"git-credential-entra", gitReq, []string{"--timeout=banana", "get"}},
		{"git-credential-entra", gitReq, []string{"--timeout", "0", "get"}},
		{"git-credential-entra", gitReq, []string{"--profile=", "get"}},
		{"git-credential-entra", gitReq, []string{"--bogus", "get"}},
		{"git-credential-entra", gitReq, []string{"-p", "missing", "get"}},
		{"kubectl-exec-entra", "", nil},
		{"kubectl-exec-entra", "", []string{"-p", "sp", "--server-id", "6dae42f8-4368-4678-94ff-3960e28e3630"}},
		{"kubectl-exec-entra", "", []string{"--scope", "a", "--server-id", "b"}},
		{"kubectl-exec-entra", "", []string{"--bogus"}},
		{"kubectl-exec-entra", "", []string{"extra"}},
		{"kubectl-exec-entra", "", []string{"-p", "missing"}},
	}
	for i, c := range cases {
		w.env["ENTRATOOL_CACHE_DIR"] = warm
		ho, he, hc := w.run(c.stdin, c.name, c.args...)
		w.env["ENTRATOOL_CACHE_DIR"] = filepath.Join(w.dir, "cold", string(rune('a'+i)))
		mo, me, mc := w.run(c.stdin, c.name, c.args...)
		norm := func(s string) string {
			return expiryRE.ReplaceAllString(jwtRE.ReplaceAllString(s, "TOKEN"), "${1}EXPIRY")
		}
		if norm(ho) != norm(mo) || he != me || hc != mc {
			t.Errorf("%s %q:\nhit  exit %d stdout %q stderr %q\nmiss exit %d stdout %q stderr %q", c.name, c.args, hc, ho, he, mc, mo, me)
		}
		if strings.Contains(he+me, "entratool:") {
			t.Errorf("%s %q: a message names entratool, not the program git or kubectl ran: %q %q", c.name, c.args, he, me)
		}
	}
}

// Warnings travel from the engine as data and each front shows them in its host tool's
// style (the az shim used to scrape the engine's stderr by its "entratool: " prefix).
func TestContractWarningsAsData(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("warn", "Contract-Pw-4")
	w.register(cf.leaf)
	w.certProfile("sp", cf, cf.pfx)
	if err := os.Chmod(cf.pfx, 0o644); err != nil {
		t.Fatal(err)
	}
	for i, c := range []struct {
		name, stdin, prefix string
		args                []string
	}{
		{"az-entra", "", "WARNING: ", []string{"account", "get-access-token", "-o", "json"}},
		{"git-credential-entra", "protocol=https\nhost=dev.azure.com\n\n", "warning: ", []string{"get"}},
		{"kubectl-exec-entra", "", "kubectl-exec-entra: warning: ", nil},
	} {
		w.env["ENTRATOOL_CACHE_DIR"] = filepath.Join(w.dir, "cache", string(rune('a'+i))) // a miss: the engine answers
		out, errOut, code := w.run(c.stdin, c.name, c.args...)
		want := c.prefix + cf.pfx + " is readable by group or others (mode 0644); run: chmod 600 "
		if code != 0 || !jwtRE.MatchString(out) || !strings.HasPrefix(errOut, want) || strings.Count(errOut, "\n") != 1 {
			t.Errorf("%s: exit %d, stdout %q, stderr %q; want one line starting %q", c.name, code, out, errOut, want)
		}
	}
}
