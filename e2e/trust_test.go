//go:build unix

package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/emulator"
)

// SPEC §12 "Ownership and modes" and "Special files", tried as another local user would:
// each test plants what that user could plant where entratool looks, and checks that
// nothing planted is served, followed or waited on, and that no secret reaches them.

// attacker is a second local user, made for the test and removed after it. Without root
// (no useradd, no chown) the tests fall back to modes alone: a directory writable by
// others is refused whoever owns what is in it.
type attacker struct {
	name     string
	uid, gid int
}

func newAttacker(t *testing.T, w *world) *attacker {
	t.Helper()
	if !isRoot() {
		return nil
	}
	// They must be able to reach the world's directories (as users reach /tmp or a
	// shared mount); root-owned and 0711, these stay trusted.
	for _, d := range []string{filepath.Dir(w.dir), w.dir} {
		os.Chmod(d, 0o711)
	}
	if _, err := exec.LookPath("useradd"); err != nil {
		t.Log("useradd missing: modes only")
		return nil
	}
	var b [4]byte
	rand.Read(b[:])
	name := "etatk" + hex.EncodeToString(b[:])
	if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", name).CombinedOutput(); err != nil {
		t.Fatalf("useradd: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("userdel", name).Run() })
	id := func(flag string) int {
		out, err := exec.Command("id", flag, name).Output()
		if err != nil {
			t.Fatal(err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		return n
	}
	return &attacker{name: name, uid: id("-u"), gid: id("-g")}
}

// do runs a shell script as the attacker: what it manages to write, the directory's
// modes allowed them to.
func (a *attacker) do(t *testing.T, script string, args ...string) {
	t.Helper()
	cmd := exec.Command("/bin/sh", append([]string{"-c", script, "sh"}, args...)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(a.uid), Gid: uint32(a.gid)}}
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("as %s: %s: %v\n%s", a.name, script, err, out)
	}
}

// plant writes data at path as the attacker (or as the test user when there is none).
func plant(t *testing.T, a *attacker, path string, data []byte) {
	t.Helper()
	if a == nil {
		if err := os.MkdirAll(filepath.Dir(path), 0o777); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o666); err != nil {
			t.Fatal(err)
		}
		os.Chmod(path, 0o666)
		return
	}
	tmp := filepath.Join(t.TempDir(), "payload")
	os.WriteFile(tmp, data, 0o644)
	os.Chmod(filepath.Dir(tmp), 0o755)
	a.do(t, `mkdir -p "$(dirname "$1")" && cat "$2" > "$1"`, path, tmp)
}

// sharedDir is a directory another user can write to: theirs, 1777, when there is an
// attacker; else the test's own, 0777.
func sharedDir(t *testing.T, a *attacker, path string) {
	t.Helper()
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	if a != nil {
		os.Chown(path, a.uid, a.gid)
		os.Chmod(path, os.ModeSticky|0o777)
		return
	}
	os.Chmod(path, 0o777)
}

const trustSecret = "Trust-Client-Secret-5d1c"

// secretWorld is a world with one client-secret profile "p" (cache keys of secret
// profiles need no certificate: the easiest to predict).
func secretWorld(t *testing.T) (*world, *profile.Profile) {
	w := newWorld(t)
	w.emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Secrets: []string{trustSecret}})
	p := &profile.Profile{Name: "p", Scope: graph, GitHosts: []string{"dev.azure.com"}}
	w.saveProfile(p, trustSecret)
	return w, w.profile("p")
}

// plantedCache is a world whose ENTRATOOL_CACHE_DIR is a directory another user can
// write, with a metadata document learnt from a private cache first (so that a planted
// one has exactly the name entratool would read).
func plantedCache(t *testing.T) (w *world, p *profile.Profile, a *attacker, cache, metaName string, metaDoc map[string]any) {
	w, p = secretWorld(t)
	a = newAttacker(t, w)
	w.env["ENTRATOOL_CACHE_DIR"] = filepath.Join(w.dir, "learn")
	w.mustRun("", "entratool", "get-token", "--force-refresh")
	metas, _ := filepath.Glob(filepath.Join(w.dir, "learn", "metadata", "*.json"))
	if len(metas) != 1 {
		t.Fatalf("metadata files: %v", metas)
	}
	raw, _ := os.ReadFile(metas[0])
	if err := json.Unmarshal(raw, &metaDoc); err != nil {
		t.Fatal(err)
	}
	cache = filepath.Join(w.dir, "shared-cache")
	sharedDir(t, a, cache)
	w.env["ENTRATOOL_CACHE_DIR"] = cache
	return w, p, a, cache, filepath.Base(metas[0]), metaDoc
}

// Finding 1: with ENTRATOOL_CACHE_DIR on a directory another user owns or can write,
// they planted tokens/<id>.json (the name is predictable) and git-credential-entra,
// kubectl-exec-entra and get-token served it. entratool even warned that it could not
// restrict the directory, then read it anyway (as root it chmodded theirs to 0700).
func TestTrustPlantedCacheTokenIsNeverServed(t *testing.T) {
	w, p, a, cache, _, _ := plantedCache(t)
	const fake = "planted.by.attacker"
	// The name the real entry would have: the planted file is exactly where a hit reads.
	credID, ok := tokencache.CredentialID(p, cache)
	if !ok {
		t.Fatal("no credential id for a secret profile")
	}
	for _, scope := range []string{graph, "499b84ac-1321-427f-aa17-267ca6975798/.default", "6dae42f8-4368-4678-94ff-3960e28e3630/.default"} {
		key := tokencache.KeyFor(p, scope, credID)
		entry, _ := json.Marshal(map[string]any{"v": 1, "key": key, "token": tokencache.Token{
			AccessToken: fake, TokenType: "Bearer", ExpiresOn: time.Now().Add(time.Hour), Scope: scope, TenantID: tenantID, ClientID: clientID}})
		plant(t, a, filepath.Join(cache, "tokens", key.ID()+".json"), entry)
	}
	before := snapshot(t, cache)

	out, errOut, code := w.run("", "entratool", "get-token")
	if code != 0 || strings.Contains(out, fake) {
		t.Fatalf("get-token served the planted token or failed: exit %d\n%s\n%s", code, out, errOut)
	}
	w.claims(out, "https://graph.microsoft.com")
	if !strings.Contains(errOut, "not using the token cache: refusing "+cache) || strings.Count(errOut, "not using the token cache") != 1 {
		t.Fatalf("want one warning naming the cache, got:\n%s", errOut)
	}
	out, errOut, _ = w.run("protocol=https\nhost=dev.azure.com\n\n", "git-credential-entra", "get")
	if strings.Contains(out, fake) || !strings.Contains(out, "password=") {
		t.Fatalf("git-credential-entra: %s\n%s", out, errOut)
	}
	out, errOut, _ = w.run("", "kubectl-exec-entra")
	if strings.Contains(out, fake) || !strings.Contains(out, `"token"`) {
		t.Fatalf("kubectl-exec-entra: %s\n%s", out, errOut)
	}
	// Nothing was written into their directory, and it was not chmodded.
	if after := snapshot(t, cache); after != before {
		t.Fatalf("the shared cache changed:\nbefore %s\nafter  %s", before, after)
	}
}

// Finding 1: a planted metadata/…json whose token_endpoint points at the attacker's
// server made the next cold fetch post the client secret there.
func TestTrustPlantedMetadataNeverReceivesTheSecret(t *testing.T) {
	w, _, a, cache, name, doc := plantedCache(t)
	evil := startRecorder(t, w.emu)
	doc["token_endpoint"] = evil.url + "/" + tenantID + "/oauth2/v2.0/token"
	planted, _ := json.Marshal(doc)
	plant(t, a, filepath.Join(cache, "metadata", name), planted)
	out, errOut, code := w.run("", "entratool", "get-token", "--force-refresh")
	if got := evil.requests(); len(got) != 0 {
		t.Fatalf("the planted metadata sent the request to the attacker: %q", got)
	}
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	w.claims(out, "https://graph.microsoft.com")
}

// snapshot lists a tree's names, modes and owners.
func snapshot(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return nil
		}
		st := fi.Sys().(*syscall.Stat_t)
		fmt.Fprintf(&b, "%s %v %d; ", strings.TrimPrefix(p, dir), fi.Mode(), st.Uid)
		return nil
	})
	return b.String()
}

// lockWorld is a secret world and the path of its graph token's lock file.
func lockWorld(t *testing.T) (*world, string) {
	w, p := secretWorld(t)
	credID, ok := tokencache.CredentialID(p, filepath.Join(w.home, "cache"))
	if !ok {
		t.Fatal("no credential id for a secret profile")
	}
	key := tokencache.KeyFor(p, graph, credID)
	lock := filepath.Join(w.home, "cache", "tokens", key.ID()+".lock")
	if err := os.MkdirAll(filepath.Dir(lock), 0o700); err != nil {
		t.Fatal(err)
	}
	return w, lock
}

// Finding 1, special files: a lock file planted as a symlink made entratool create a
// file where the link pointed.
func TestTrustPlantedLockSymlink(t *testing.T) {
	w, lock := lockWorld(t)
	target := filepath.Join(w.dir, "victim-file")
	os.Symlink(target, lock)
	out, errOut, code := w.run("", "entratool", "get-token")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	w.claims(out, "https://graph.microsoft.com")
	if _, err := os.Lstat(target); err == nil {
		t.Fatal("the lock was created through the planted symlink")
	}
	if !strings.Contains(errOut, "a symlink") {
		t.Fatalf("stderr does not say why the cache was skipped: %s", errOut)
	}
}

// Finding 1, special files: a lock file planted as a FIFO hung `get-token --timeout 3s`
// and `config edit` for good.
func TestTrustPlantedLockFIFO(t *testing.T) {
	w, lock := lockWorld(t)
	if err := syscall.Mkfifo(lock, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, errOut, code := w.runCtx(ctx, "", "entratool", "get-token", "--timeout", "3s")
	if ctx.Err() != nil || code != 0 {
		t.Fatalf("get-token with a FIFO lock: exit %d (hung: %v): %s", code, ctx.Err() != nil, errOut)
	}
	w.claims(out, "https://graph.microsoft.com")
	if !strings.Contains(errOut, "a FIFO") {
		t.Fatalf("stderr does not name the FIFO: %s", errOut)
	}

	plock := filepath.Join(w.home, "profiles.json.lock")
	os.Remove(plock)
	if err := syscall.Mkfifo(plock, 0o600); err != nil {
		t.Fatal(err)
	}
	_, errOut, code = w.runCtx(ctx, "", "entratool", "config", "edit", "-p", "p", "--scope", "https://management.azure.com/.default")
	if ctx.Err() != nil || code != 1 || !strings.Contains(errOut, "refusing "+plock) || !strings.Contains(errOut, "a FIFO") {
		t.Fatalf("config edit with a FIFO lock: exit %d (hung: %v): %s", code, ctx.Err() != nil, errOut)
	}
}

// Finding 2: with a loose ENTRATOOL_HOME another user replaced profiles.json with the
// same profile name and an authority of their own, and the next get-token posted the
// stored secret there. doctor flagged the mode but not the owner.
func TestTrustLooseHomeIsRefused(t *testing.T) {
	w, _ := secretWorld(t)
	a := newAttacker(t, w)
	evil := startRecorder(t, w.emu)
	w.mustRun("", "entratool", "get-token") // a cached token exists, too
	os.Chmod(w.home, 0o777)

	// Even with our own files, a home others can write is refused on every path.
	for _, bin := range [][]string{{"entratool", "get-token"}, {"kubectl-exec-entra"}} {
		out, errOut, code := w.run("", bin[0], bin[1:]...)
		if code != 1 || out != "" || !strings.Contains(errOut, "refusing "+w.home+": it is writable by group and others (mode 0777)") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
			t.Fatalf("%v with a 0777 home: exit %d\nstdout %q\nstderr %s", bin, code, out, errOut)
		}
	}
	out, _, _ := w.run("protocol=https\nhost=dev.azure.com\n\n", "git-credential-entra", "get")
	if strings.Contains(out, "password") {
		t.Fatalf("git-credential-entra answered from a 0777 home: %s", out)
	}

	// The attacker's profiles.json: same name, their authority.
	cfg, _ := json.Marshal(map[string]any{"defaultProfile": "p", "profiles": []map[string]any{{
		"name": "p", "clientId": clientID, "tenantId": tenantID, "useCertificate": false,
		"scope": graph, "authorityHost": evil.url, "secretStore": "file"}}})
	pj := filepath.Join(w.home, "profiles.json")
	if a != nil {
		os.Rename(pj, pj+".victim")
		plant(t, a, pj, cfg)
	} else {
		os.WriteFile(pj, cfg, 0o600)
	}
	_, errOut, code := w.run("", "entratool", "get-token", "--force-refresh")
	if code != 1 || !strings.Contains(errOut, "refusing ") {
		t.Fatalf("get-token with a planted profiles.json: exit %d: %s", code, errOut)
	}
	if got := evil.requests(); len(got) != 0 {
		t.Fatalf("the secret went to the attacker's authority: %q", got)
	}

	// The home fixed but the planted file still theirs: refused by its owner.
	if a != nil {
		os.Chmod(w.home, 0o700)
		_, errOut, code = w.run("", "entratool", "get-token", "--force-refresh")
		if code != 1 || !strings.Contains(errOut, "refusing "+pj+": it is owned by uid "+strconv.Itoa(a.uid)+" ("+a.name+"), not by you") {
			t.Fatalf("get-token with their profiles.json in a private home: exit %d: %s", code, errOut)
		}
		out, _, code = w.run("", "entratool", "doctor")
		if code != 1 || !strings.Contains(out, "✗ profiles "+pj+" is owned by uid "+strconv.Itoa(a.uid)) {
			t.Fatalf("doctor does not flag the owner (exit %d):\n%s", code, out)
		}
		if got := evil.requests(); len(got) != 0 {
			t.Fatalf("the secret went to the attacker's authority: %q", got)
		}
		os.Chmod(w.home, 0o777)
	}
	out, _, code = w.run("", "entratool", "doctor")
	if code != 1 || !strings.Contains(out, "✗ home "+w.home+" is writable by group and others (mode 0777)") {
		t.Fatalf("doctor on a 0777 home (exit %d):\n%s", code, out)
	}
}

// Finding 10: exec handed ENTRATOOL_CERT_PASSWORD / ENTRATOOL_CLIENT_SECRET to the child,
// which needs the token, not the secret.
func TestTrustExecKeepsSecretsFromTheChild(t *testing.T) {
	w, _ := secretWorld(t)
	w.env["ENTRATOOL_SECRET_STORE"] = "env"
	w.env["ENTRATOOL_CLIENT_SECRET"] = trustSecret
	w.env["ENTRATOOL_CERT_PASSWORD"] = "Cert-Pw-Trust-1"
	script := `printf '[%s][%s][%s]' "$ENTRATOOL_CLIENT_SECRET" "$ENTRATOOL_CERT_PASSWORD" "${ENTRA_ACCESS_TOKEN:+token}"`
	out := w.mustRun("", "entratool", "exec", "--", "sh", "-c", script)
	if out != "[][][token]" {
		t.Fatalf("child saw %q, want no secrets and a token", out)
	}
	out = w.mustRun("", "entratool", "exec", "--pass-secret-env", "--", "sh", "-c", script)
	if out != "["+trustSecret+"][Cert-Pw-Trust-1][token]" {
		t.Fatalf("with --pass-secret-env the child saw %q", out)
	}
}
