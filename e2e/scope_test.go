package e2e

import (
	"strings"
	"testing"
)

// --resource R is R/.default, as az takes it, on the engine's path and the front's
// cache-hit path alike; a bare resource URI as --scope is refused before any request.
func TestGetTokenResourceAndBareScope(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("c", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)

	const arm = "https://management.azure.com"
	first := w.mustRun("", "entratool", "get-token", "--resource", arm)
	w.claims(first, arm)
	issued := w.emu.Counts().TokenIssued
	// The lean front answers the same command line from the cache.
	if again := w.mustRun("", "entratool", "get-token", "--resource="+arm); again != first || w.emu.Counts().TokenIssued != issued {
		t.Fatalf("--resource cache hit: %d tokens issued, want %d; same token: %v", w.emu.Counts().TokenIssued, issued, again == first)
	}
	// The same token as the scope spelled out.
	if byScope := w.mustRun("", "entratool", "get-token", "--scope", arm+"/.default"); byScope != first {
		t.Fatal("--resource R and --scope R/.default are different cache entries")
	}

	before := w.emu.Counts().Total
	for _, args := range [][]string{
		{"get-token", "--scope", arm},
		{"get-token", "--scope=" + arm + "/"},
		{"env", "--scope", arm},
		{"exec", "--scope", arm, "--", "true"},
		{"get-token", "--resource", ""},
		{"get-token", "--resource", arm, "--scope", arm + "/.default"},
	} {
		out, errOut, code := w.run("", "entratool", args...)
		if code != 2 || out != "" || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Errorf("%q: exit %d, stdout %q, stderr %q: want exit 2 and one line", args, code, out, errOut)
		}
		if len(args) == 3 && args[1] == "--scope" && !strings.Contains(errOut, "did you mean "+arm+"/.default?") {
			t.Errorf("%q: %s", args, errOut)
		}
	}
	if n := w.emu.Counts().Total; n != before {
		t.Errorf("refused command lines made %d requests", n-before)
	}

	_, errOut, code := w.run("pw", "entratool", "config", "create", "--name", "bare", "--client-id", clientID, "--tenant-id", tenantID,
		"--certificate", cf.pfx, "--certificate-password-stdin", "--scope", arm)
	if code != 2 || !strings.Contains(errOut, "did you mean "+arm+"/.default?") {
		t.Errorf("config create --scope %s: exit %d: %s", arm, code, errOut)
	}
	_, errOut, code = w.run("", "entratool", "config", "edit", "-p", "p", "--scope", arm)
	if code != 2 || !strings.Contains(errOut, "did you mean "+arm+"/.default?") {
		t.Errorf("config edit --scope %s: exit %d: %s", arm, code, errOut)
	}
}
