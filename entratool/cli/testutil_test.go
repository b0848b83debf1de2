package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/internal/testkit"
)

// Values of the seed's examples.
const (
	seedClientID = testkit.ClientID
	seedTenantID = testkit.TenantID
	seedName     = "production-service"
)

// testEnv is one isolated entratool home with its environment; commands run in-process
// through Run with buffers for the streams.
type testEnv struct {
	t    *testing.T
	home string
	dir  string // scratch directory for certificates and exports
	vars map[string]string
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	root := t.TempDir()
	e := &testEnv{t: t, home: filepath.Join(root, "home"), dir: filepath.Join(root, "work"), vars: map[string]string{}}
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	e.vars["ENTRATOOL_HOME"] = e.home
	e.vars["ENTRATOOL_SECRET_STORE"] = "file"
	return e
}

func (e *testEnv) getenv(k string) string { return e.vars[k] }

type result struct {
	code     int
	out, err string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.out, r.err)
}

// run executes entratool with stdin as its (non-terminal) input.
func (e *testEnv) run(stdin string, args ...string) result {
	e.t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s := Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb, InTTY: false}
	code := Run(ctx, s, args, e.getenv)
	return result{code: code, out: out.String(), err: errb.String()}
}

// ok runs and fails the test unless the exit code is 0.
func (e *testEnv) ok(stdin string, args ...string) result {
	e.t.Helper()
	r := e.run(stdin, args...)
	if r.code != 0 {
		e.t.Fatalf("entratool %s: %s", strings.Join(args, " "), r)
	}
	return r
}

// expect runs and fails the test unless the exit code is code and stderr contains want.
func (e *testEnv) expect(code int, want, stdin string, args ...string) result {
	e.t.Helper()
	r := e.run(stdin, args...)
	if r.code != code || !strings.Contains(r.err, want) {
		e.t.Fatalf("entratool %s: want exit %d and stderr containing %q, got %s", strings.Join(args, " "), code, want, r)
	}
	return r
}

// newCert makes name.pfx and name.cer in the scratch directory with `cert create`.
func (e *testEnv) newCert(name, password string, extra ...string) string {
	e.t.Helper()
	pfx := filepath.Join(e.dir, name+".pfx")
	args := append([]string{"cert", "create", "--subject", "CN=" + name, "--out", pfx, "--password-stdin"}, extra...)
	e.ok(password, args...)
	return pfx
}

// writePFX writes a self-signed PFX valid for days from now.
func writePFX(t *testing.T, path, cn string, days int, now time.Time, password string) string {
	t.Helper()
	c, err := cert.Create(cert.CreateOptions{Subject: "CN=" + cn, Days: days, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if err := cert.WritePFX(path, c, password); err != nil {
		t.Fatal(err)
	}
	return path
}

// expiredCert writes a PFX whose certificate expired 30 days ago.
func (e *testEnv) expiredCert(name, password string) string {
	e.t.Helper()
	return writePFX(e.t, filepath.Join(e.dir, name+".pfx"), name, 30, time.Now().AddDate(0, 0, -60), password)
}

// createProfile makes a certificate profile non-interactively.
func (e *testEnv) createProfile(name, pfx, password string, extra ...string) result {
	e.t.Helper()
	args := append([]string{"config", "create", "--name", name, "--client-id", seedClientID, "--tenant-id", seedTenantID,
		"--certificate", pfx, "--certificate-password-stdin"}, extra...)
	return e.ok(password, args...)
}

func (e *testEnv) profilesPath() string { return filepath.Join(e.home, "profiles.json") }
func (e *testEnv) secretsPath() string  { return filepath.Join(e.home, "secrets.json") }

// profilesJSON decodes profiles.json generically, so tests see exactly the file's keys.
func (e *testEnv) profilesJSON() map[string]any {
	e.t.Helper()
	data, err := os.ReadFile(e.profilesPath())
	if err != nil {
		e.t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		e.t.Fatalf("profiles.json: %v\n%s", err, data)
	}
	return m
}

// profileJSON is one profile of profiles.json by name, or nil.
func (e *testEnv) profileJSON(name string) map[string]any {
	e.t.Helper()
	ps, _ := e.profilesJSON()["profiles"].([]any)
	for _, p := range ps {
		if m, _ := p.(map[string]any); m["name"] == name {
			return m
		}
	}
	return nil
}

// secrets reads the file secret store.
func (e *testEnv) secrets() map[string]string {
	e.t.Helper()
	m := map[string]string{}
	data, err := os.ReadFile(e.secretsPath())
	if os.IsNotExist(err) {
		return m
	}
	if err != nil {
		e.t.Fatal(err)
	}
	if err := json.Unmarshal(data, &m); err != nil {
		e.t.Fatal(err)
	}
	return m
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// opensslSHA1 is `openssl x509 -noout -fingerprint -sha1` of a certificate file, as the
// upper-case hex without colons that the portal shows.
func opensslSHA1(t *testing.T, path string, extra ...string) string {
	t.Helper()
	return opensslFingerprint(t, path, "-sha1", extra...)
}

func opensslFingerprint(t *testing.T, path, digest string, extra ...string) string {
	t.Helper()
	args := append([]string{"x509", "-in", path, "-noout", "-fingerprint", digest}, extra...)
	out, err := exec.Command("openssl", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %v: %v\n%s", args, err, out)
	}
	_, fp, ok := strings.Cut(strings.TrimSpace(string(out)), "=")
	if !ok {
		t.Fatalf("openssl fingerprint output %q", out)
	}
	return strings.ToUpper(strings.ReplaceAll(fp, ":", ""))
}

func needOpenSSL(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl not installed (make test-deps installs it)")
	}
}
