package e2e

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/emulator"
)

// newExpiringCert writes a PFX whose certificate expires in 10 days: it works, with the
// once-a-day warning of SPEC §13.
func (w *world) newExpiringCert(name, password string) *certFiles {
	w.t.Helper()
	cf, _ := w.writeCert(name, password, cert.CreateOptions{Days: 10})
	return cf
}

// expiryText is the warning for profile name's certificate cf, as of now.
func expiryText(cf *certFiles, name string) string {
	day := func(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }
	days := int(day(cf.leaf.NotAfter).Sub(day(time.Now())) / (24 * time.Hour))
	return "certificate " + cf.leaf.Subject.String() + " of profile '" + name + "' expires on " +
		cf.leaf.NotAfter.UTC().Format(time.DateOnly) + " (" + strconv.Itoa(days) + " days): renew it with 'entratool cert renew -p " + name + "'"
}

// backdateStamp makes the record of today's warning for profile name say yesterday,
// as if a day had passed (the binaries have no fake clock).
func (w *world) backdateStamp(name string) {
	w.t.Helper()
	stamp := tokencache.ExpiryStampPath(filepath.Join(w.home, "cache"), name)
	if _, err := os.Lstat(stamp); err != nil {
		w.t.Fatalf("no stamp for %s: %v", name, err)
	}
	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly) + "\n"
	if err := os.WriteFile(stamp, []byte(yesterday), 0o600); err != nil {
		w.t.Fatal(err)
	}
}

// wantStderr fails unless stderr is exactly want (the host tool's style of the warning,
// or nothing).
func wantStderr(t *testing.T, what, stderr, want string) {
	t.Helper()
	if stderr != want {
		t.Errorf("%s: stderr\n%q\nwant\n%q", what, stderr, want)
	}
}

// One warning a day per profile, whichever binary runs and whether the token comes from
// the cache (the front) or from Entra (the engine): one stamp in the cache directory.
func TestExpiryWarningOncePerDayAcrossBinaries(t *testing.T) {
	w := newWorld(t)
	cf := w.newExpiringCert("soon", "Soon-Pw-1")
	w.register(cf.leaf)
	w.certProfile("soon", cf, cf.pfx)
	text := expiryText(cf, "soon")
	gitReq := "protocol=https\nhost=dev.azure.com\n\n"

	// git's first get is a miss: the engine loads the certificate and the warning comes
	// back as data, shown in git's style.
	out, errOut, code := w.run(gitReq, "git-credential-entra", "get")
	if code != 0 || !strings.Contains(out, "password=") {
		t.Fatalf("git get: exit %d\n%s%s", code, out, errOut)
	}
	wantStderr(t, "first git get", errOut, "warning: "+text+"\n")
	// The second, a cache hit the same day: nothing.
	_, errOut, _ = w.run(gitReq, "git-credential-entra", "get")
	wantStderr(t, "second git get", errOut, "")
	// The other binaries (misses for their own scopes, answered by the engine) follow
	// the same stamp.
	_, errOut, _ = w.run("", "entratool", "get-token")
	wantStderr(t, "get-token", errOut, "")
	_, errOut, _ = w.run("", "kubectl-exec-entra")
	wantStderr(t, "kubectl-exec-entra", errOut, "")
	_, errOut, _ = w.run("", "az-entra", "account", "get-access-token")
	wantStderr(t, "az", errOut, "")
	c := w.emu.Counts()

	// A day later, each front warns on a hit, in its host tool's style.
	for _, tc := range []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"az-entra", "", []string{"account", "get-access-token"}, "WARNING: " + text + "\n"},
		{"entratool", "", []string{"get-token"}, "warning: " + text + "\n"},
		{"kubectl-exec-entra", "", nil, "kubectl-exec-entra: warning: " + text + "\n"},
		{"git-credential-entra", gitReq, []string{"get"}, "warning: " + text + "\n"},
	} {
		w.backdateStamp("soon")
		out, errOut, code := w.run(tc.stdin, tc.name, tc.args...)
		if code != 0 || out == "" {
			t.Fatalf("%s: exit %d\n%s%s", tc.name, code, out, errOut)
		}
		wantStderr(t, tc.name+" a day later", errOut, tc.want)
		_, errOut, _ = w.run(tc.stdin, tc.name, tc.args...)
		wantStderr(t, tc.name+" again that day", errOut, "")
	}
	if got := w.emu.Counts(); got.Token != c.Token {
		t.Fatalf("the fronts' warnings were not cache hits: %+v, then %+v", c, got)
	}

	// --silent says nothing, and leaves the day's warning to the next command.
	w.backdateStamp("soon")
	out, errOut, _ = w.run("", "entratool", "get-token", "--silent")
	if out == "" {
		t.Fatal("get-token --silent printed no token")
	}
	wantStderr(t, "get-token --silent", errOut, "")
	// The engine's commands: env (always the engine) warns, then the stamp holds for a
	// miss (--force-refresh).
	_, errOut, _ = w.run("", "entratool", "env")
	wantStderr(t, "env", errOut, "warning: "+text+"\n")
	_, errOut, _ = w.run("", "entratool", "get-token", "--force-refresh")
	wantStderr(t, "get-token --force-refresh", errOut, "")
	w.backdateStamp("soon")
	_, errOut, _ = w.run("", "entratool", "get-token", "--force-refresh")
	wantStderr(t, "get-token --force-refresh a day later", errOut, "warning: "+text+"\n")
	_, errOut, _ = w.run("", "entratool", "exec", "--", "true")
	wantStderr(t, "exec the same day", errOut, "")
}

// A certificate with more than 30 days left: no binary says anything, and no stamp is
// written.
func TestExpiryWarningNotDue(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("later", "Later-Pw-1")
	w.register(cf.leaf)
	w.certProfile("later", cf, cf.pfx)
	for _, run := range [][]string{{"entratool", "get-token"}, {"entratool", "get-token"}, {"kubectl-exec-entra"}, {"az-entra", "account", "get-access-token"}} {
		_, errOut, code := w.run("", run[0], run[1:]...)
		if code != 0 {
			t.Fatalf("%v: exit %d %s", run, code, errOut)
		}
		wantStderr(t, strings.Join(run, " "), errOut, "")
	}
	if _, err := os.Lstat(tokencache.ExpiryStampPath(filepath.Join(w.home, "cache"), "later")); !os.IsNotExist(err) {
		t.Fatalf("stamp written for a certificate not due: %v", err)
	}
}

// A memo written before expiry dates were remembered still names the key (cache hits go
// on), and the next miss rewrites it: from then on the fronts warn on hits too.
func TestExpiryWarningUpgradesOldMemo(t *testing.T) {
	w := newWorld(t)
	cf := w.newExpiringCert("old", "Old-Pw-1")
	w.register(cf.leaf)
	w.certProfile("old", cf, cf.pfx)
	cacheDir := filepath.Join(w.home, "cache")
	tok := w.mustRun("", "entratool", "get-token")
	memo := tokencache.CertMemo{Dir: tokencache.MemoDir(cacheDir)}
	info, ok := memo.Lookup(cf.pfx)
	if !ok || !info.NotAfter.Equal(cf.leaf.NotAfter) || info.Subject != "CN=old" {
		t.Fatalf("memo after a miss = %+v, %v", info, ok)
	}
	// What an older entratool wrote: the thumbprint only.
	if err := memo.Store(cf.pfx, tokencache.CertInfo{Thumbprint: info.Thumbprint}); err != nil {
		t.Fatal(err)
	}
	os.Remove(tokencache.ExpiryStampPath(cacheDir, "old"))
	out, errOut, _ := w.run("", "entratool", "get-token")
	if out != tok {
		t.Fatal("the old memo no longer names the cached token")
	}
	wantStderr(t, "hit with an old memo", errOut, "")
	// A miss (another scope) loads the certificate, upgrades the memo and warns.
	_, errOut, _ = w.run("", "kubectl-exec-entra")
	wantStderr(t, "miss", errOut, "kubectl-exec-entra: warning: "+expiryText(cf, "old")+"\n")
	if info, ok := memo.Lookup(cf.pfx); !ok || !info.NotAfter.Equal(cf.leaf.NotAfter) {
		t.Fatalf("memo not upgraded: %+v, %v", info, ok)
	}
	w.backdateStamp("old")
	_, errOut, _ = w.run("", "entratool", "get-token")
	wantStderr(t, "hit a day later", errOut, "warning: "+expiryText(cf, "old")+"\n")
}

// docker-credential-entra: the warning on stderr (docker shows it; stdout is the
// protocol's), once a day, on the engine's miss and on the front's hit.
func TestExpiryWarningDockerHelper(t *testing.T) {
	w := newWorld(t)
	reg, err := w.emu.StartRegistry(emulator.RegistryOptions{TenantID: tenantID})
	if err != nil {
		t.Fatal(err)
	}
	cf := w.newExpiringCert("acrsoon", "Acr-Pw-1")
	w.register(cf.leaf)
	w.saveProfile(&profile.Profile{Name: "ci", UseCertificate: true, CertificatePath: cf.pfx, Scope: graph, Registries: []string{reg.Host}}, cf.password)
	text := expiryText(cf, "ci")
	get := func(what, want string) {
		t.Helper()
		out, errOut, code := w.run(reg.Host, "docker-credential-entra", "get")
		if code != 0 || !strings.Contains(out, `"Secret"`) {
			t.Fatalf("%s: exit %d\n%s%s", what, code, out, errOut)
		}
		wantStderr(t, what, errOut, want)
	}
	get("miss", "warning: "+text+"\n")
	get("hit the same day", "")
	w.backdateStamp("ci")
	get("hit a day later", "warning: "+text+"\n")
	if rc := reg.Counts(); rc.Exchange != 1 {
		t.Fatalf("registry %+v: the later gets were not cache hits", rc)
	}
}
