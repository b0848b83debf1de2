package e2e

import (
	"bytes"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/emulator"
)

// renewWorld is a world whose app registration the emulator's Graph can roll: one
// certificate profile "p" (file store), Graph named by ENTRATOOL_GRAPH_ENDPOINT.
type renewWorld struct {
	*world
	cf  *certFiles
	obj string // the app's object id
}

func newRenewWorld(t *testing.T) *renewWorld {
	t.Helper()
	w := newWorld(t)
	cf := w.newCert("app", "pw")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	w.env["ENTRATOOL_GRAPH_ENDPOINT"] = w.emu.GraphURL
	return &renewWorld{world: w, cf: cf, obj: w.emu.ApplicationObjectID(tenantID, clientID)}
}

// appThumbprints are the SHA-1 thumbprints of the certificates the app has now.
func (w *renewWorld) appThumbprints() map[string]bool {
	tps := map[string]bool{}
	for _, k := range w.emu.KeyCredentials(w.obj) {
		tps[cert.ThumbprintSHA1(k.Certificate)] = true
	}
	return tps
}

// profileThumbprint is the thumbprint of the certificate profile p names now.
func (w *renewWorld) profileThumbprint() (string, *profile.Profile) {
	w.t.Helper()
	p := w.profile("p")
	c, err := cert.Load(w.t.Context(), p.CertificatePath, "pw")
	if err != nil {
		w.t.Fatalf("profile p names %s, which does not load: %v", p.CertificatePath, err)
	}
	return cert.ThumbprintSHA1(c.Leaf), p
}

func (w *renewWorld) profilesJSON() []byte {
	w.t.Helper()
	b, err := os.ReadFile(filepath.Join(w.home, "profiles.json"))
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// certDirNames lists the files beside the profile's certificate.
func (w *renewWorld) certDirNames() []string {
	w.t.Helper()
	ents, err := os.ReadDir(w.cf.dir)
	if err != nil {
		w.t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

type renewOut struct {
	Profile, CertificatePath, Thumbprint, ThumbprintSHA256, PreviousThumbprint string
	KeyID, RemovedKeyID                                                        *string
	Renewed                                                                    bool
}

// The whole rotation against the emulator's Graph: addKey once with a valid proof, a
// token signed by the new key, the profile switched with the old file kept, then
// removeKey signed by the new key, after which the old key's assertions are refused.
func TestCertRenewEndToEnd(t *testing.T) {
	w := newRenewWorld(t)
	oldTP := cert.ThumbprintSHA1(w.cf.leaf)
	out := w.mustRun("", "entratool", "cert", "renew", "-p", "p", "--application-object-id", w.obj, "--remove-old", "-o", "json")
	var r renewOut
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("-o json: %v\n%s", err, out)
	}
	c := w.emu.Counts()
	if c.GraphAddKey != 1 || c.GraphKeysAdded != 1 || c.GraphRemoveKey != 1 || c.GraphKeysRemoved != 1 {
		t.Errorf("Graph saw %+v, want one addKey and one removeKey, both accepted", c)
	}
	if !r.Renewed || r.Profile != "p" || r.PreviousThumbprint != oldTP || r.KeyID == nil || !profile.ValidGUID(*r.KeyID) ||
		r.RemovedKeyID == nil || !profile.ValidGUID(*r.RemovedKeyID) || len(r.ThumbprintSHA256) != 64 {
		t.Fatalf("-o json: %s", out)
	}
	// The app has the new certificate only.
	if tps := w.appThumbprints(); len(tps) != 1 || !tps[r.Thumbprint] {
		t.Errorf("the app has %v, want only the new %s", tps, r.Thumbprint)
	}
	tp, p := w.profileThumbprint()
	if tp != r.Thumbprint || p.CertificatePath != r.CertificatePath || p.PreviousCertificatePath != w.cf.pfx ||
		p.KeyCredentialID != *r.KeyID || p.ApplicationObjectID != w.obj {
		t.Errorf("profile after renewal: %+v", p)
	}
	if filepath.Dir(p.CertificatePath) != w.cf.dir || !strings.HasPrefix(filepath.Base(p.CertificatePath), "app-") {
		t.Errorf("new certificate at %s, want app-YYYYMMDD-HHMMSS.pfx beside %s", p.CertificatePath, w.cf.pfx)
	}
	for path, mode := range map[string]os.FileMode{w.cf.pfx: 0o600, p.CertificatePath: 0o600} {
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != mode {
			t.Errorf("%s: %v %v", path, fi, err)
		}
	}
	if _, err := os.Stat(strings.TrimSuffix(p.CertificatePath, ".pfx") + ".cer"); err != nil {
		t.Errorf("no .cer beside the new PFX: %v", err)
	}
	// A fresh token: Entra accepts only the new key now.
	w.claims(w.mustRun("", "entratool", "get-token", "-p", "p", "--force-refresh"), "https://graph.microsoft.com")
	// The old certificate's assertions are refused.
	w.saveProfile(&profile.Profile{Name: "old", UseCertificate: true, CertificatePath: w.cf.pfx, Scope: graph}, "pw")
	_, errOut, code := w.run("", "entratool", "get-token", "-p", "old")
	if code != 1 || !strings.Contains(errOut, "AADSTS700027") {
		t.Errorf("the old key still gets tokens: exit %d: %s", code, errOut)
	}

	// The next renewal knows the old keyId from the profile: no lookup.
	before := w.emu.Counts().GraphGet
	out = w.mustRun("", "entratool", "cert", "renew", "-p", "p", "--remove-old")
	for _, want := range []string{"✓ added to the app registration: keyId", "✓ token with the new certificate",
		"✓ profile 'p' now uses", "✓ removed the old key from the app registration: keyId " + *r.KeyID} {
		if !strings.Contains(out, want) {
			t.Errorf("text output lacks %q:\n%s", want, out)
		}
	}
	if w.emu.Counts().GraphGet != before {
		t.Error("the old keyId was looked up although the profile recorded it")
	}
}

// --if-expiring-within: not due makes no request at all; due renews.
func TestCertRenewOnlyWhenDue(t *testing.T) {
	w := newRenewWorld(t)
	w.mustRun("", "entratool", "config", "edit", "-p", "p", "--application-object-id", w.obj)
	before, total := w.profilesJSON(), w.emu.Counts()
	out := w.mustRun("", "entratool", "cert", "renew", "-p", "p", "--if-expiring-within", "30d")
	if !strings.HasPrefix(out, "not due: CN=app expires on ") || !strings.Contains(out, "days left)") {
		t.Errorf("not due: %q", out)
	}
	if c := w.emu.Counts(); c != total {
		t.Errorf("a run that was not due made requests: %+v → %+v", total, c)
	}
	if !bytes.Equal(before, w.profilesJSON()) {
		t.Error("a run that was not due changed profiles.json")
	}
	out = w.mustRun("", "entratool", "cert", "renew", "-p", "p", "--if-expiring-within", "400d", "-o", "json")
	if !strings.Contains(out, `"renewed": true`) {
		t.Errorf("due: %s", out)
	}
}

// --dry-run makes the certificate in memory and sends nothing.
func TestCertRenewDryRun(t *testing.T) {
	w := newRenewWorld(t)
	w.mustRun("", "entratool", "config", "edit", "-p", "p", "--application-object-id", w.obj)
	before, files, counts := w.profilesJSON(), w.certDirNames(), w.emu.Counts()
	out := w.mustRun("", "entratool", "cert", "renew", "-p", "p", "--dry-run", "--remove-old")
	for _, want := range []string{"dry run: nothing was written or sent", "would POST " + w.emu.GraphURL + "/v1.0/applications/" + w.obj + "/addKey",
		`"aud":"00000002-0000-0000-c000-000000000000"`, `"iss":"` + w.obj + `"`, `"x5t":"`} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if c := w.emu.Counts(); c != counts {
		t.Errorf("a dry run made requests: %+v", c)
	}
	if !bytes.Equal(before, w.profilesJSON()) || strings.Join(files, ",") != strings.Join(w.certDirNames(), ",") {
		t.Error("a dry run wrote something")
	}
}

// A new key Entra ID takes a while to accept is waited for; one it never accepts in
// time leaves the profile as it was and says which keyId was added.
func TestCertRenewPropagation(t *testing.T) {
	w := newRenewWorld(t)
	w.mustRun("", "entratool", "config", "edit", "-p", "p", "--application-object-id", w.obj)
	w.emu.SetGraphPropagationDelay(1500 * time.Millisecond)
	w.mustRun("", "entratool", "cert", "renew", "-p", "p")
	if c := w.emu.Counts(); c.GraphKeysAdded != 1 {
		t.Fatalf("%+v", c)
	}

	w.emu.SetGraphPropagationDelay(time.Minute)
	before, files := w.profilesJSON(), w.certDirNames()
	_, errOut, code := w.run("", "entratool", "cert", "renew", "-p", "p", "--propagation-timeout", "2s")
	if code != 1 || !strings.Contains(errOut, "the new key was added to the app (keyId ") || !strings.Contains(errOut, "AADSTS700027") ||
		!strings.Contains(errOut, "profile 'p' unchanged") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if !bytes.Equal(before, w.profilesJSON()) || strings.Join(files, ",") != strings.Join(w.certDirNames(), ",") {
		t.Error("a failed renewal changed profiles.json or left a file behind")
	}
}

// Graph refusing addKey leaves profiles.json byte-identical and no new file behind, and
// the error says what to check.
func TestCertRenewRefusedByGraph(t *testing.T) {
	w := newRenewWorld(t)
	// The client ID where the object ID belongs: the mistake the hint is for.
	w.mustRun("", "entratool", "config", "edit", "-p", "p", "--application-object-id", clientID)
	before, files := w.profilesJSON(), w.certDirNames()
	_, errOut, code := w.run("", "entratool", "cert", "renew", "-p", "p")
	if code != 1 || !strings.Contains(errOut, "Request_ResourceNotFound") || !strings.Contains(errOut, "Object ID") ||
		strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if !bytes.Equal(before, w.profilesJSON()) || strings.Join(files, ",") != strings.Join(w.certDirNames(), ",") {
		t.Error("a refused renewal changed profiles.json or left a file behind")
	}
	// Throttling is retried.
	w.mustRun("", "entratool", "config", "edit", "-p", "p", "--application-object-id", w.obj)
	w.emu.QueueGraphFaults(emulator.Fault{Status: 429, RetryAfter: "1"}, emulator.Fault{Status: 503})
	w.mustRun("", "entratool", "cert", "renew", "-p", "p")
	if c := w.emu.Counts(); c.GraphAddKey != 4 || c.GraphKeysAdded != 1 {
		t.Errorf("throttled addKey: %+v, want 3 tries here (1 refused before) and one key", c)
	}
}

// Killed at any moment, cert renew never leaves the profile naming a certificate the
// app does not have: addKey comes before the switch, removeKey after it.
func TestCertRenewCrashSafety(t *testing.T) {
	w := newRenewWorld(t)
	w.mustRun("", "entratool", "config", "edit", "-p", "p", "--application-object-id", w.obj)
	w.emu.SetGraphPropagationDelay(200 * time.Millisecond) // widens the window between addKey and the switch
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	for i := range 12 {
		cmd := w.command(t.Context(), "", "entratool", "cert", "renew", "-p", "p", "--remove-old")
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the engine too
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		after := time.Duration(rng.IntN(1500)) * time.Millisecond
		timer := time.AfterFunc(after, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		err := cmd.Wait()
		timer.Stop()
		var ee *exec.ExitError
		if err != nil && !(errors.As(err, &ee) && !ee.Exited()) {
			t.Logf("run %d ended with %v", i, err)
		}
		tp, p := w.profileThumbprint()
		if !w.appThumbprints()[tp] {
			t.Fatalf("run %d, killed after %v: profile names %s (thumbprint %s), which the app does not have (%v)",
				i, after, p.CertificatePath, tp, w.appThumbprints())
		}
	}
	// And it still works afterwards.
	w.mustRun("", "entratool", "cert", "renew", "-p", "p", "--remove-old")
	w.claims(w.mustRun("", "entratool", "get-token", "-p", "p", "--force-refresh"), "https://graph.microsoft.com")
}

// A PEM profile gets a PFX, encrypted with the stored password.
func TestCertRenewPEMProfile(t *testing.T) {
	w := newRenewWorld(t)
	w.certProfile("p", w.cf, w.cf.pem)
	w.mustRun("", "entratool", "cert", "renew", "-p", "p", "--application-object-id", w.obj, "--remove-old")
	tp, p := w.profileThumbprint() // loads the new file with the stored password "pw"
	if filepath.Ext(p.CertificatePath) != ".pfx" || p.PreviousCertificatePath != w.cf.pem || !w.appThumbprints()[tp] {
		t.Errorf("after renewing a PEM profile: %+v", p)
	}
	w.claims(w.mustRun("", "entratool", "get-token", "-p", "p", "--force-refresh"), "https://graph.microsoft.com")
}
