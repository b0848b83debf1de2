// Package softhsmtest makes private SoftHSM2 tokens for tests: its own SOFTHSM2_CONF
// and token directory under t.TempDir(), an RSA key and certificate imported with the
// same tools an administrator would use (softhsm2-util, pkcs11-tool). Only tests import
// it.
package softhsmtest

import (
	"crypto/x509"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
)

// Token is an initialised SoftHSM2 token holding one key pair and its certificate.
type Token struct {
	Module   string // path of libsofthsm2.so
	Conf     string // SOFTHSM2_CONF for every process that opens the token
	Label    string // token label
	PIN      string // user PIN
	KeyLabel string
	KeyID    string // hex
	Cert     *x509.Certificate
	Cred     *cert.Credential // the key as generated, before import (for comparisons)
}

// Env is the environment entry that points SoftHSM2 at this token's configuration.
func (t *Token) Env() string { return "SOFTHSM2_CONF=" + t.Conf }

// Options are the profile's certificateStoreOptions for this token.
func (t *Token) Options() map[string]string {
	return map[string]string{"module": t.Module, "tokenLabel": t.Label}
}

// Module finds libsofthsm2.so, or skips the test when SoftHSM2 or pkcs11-tool is not
// installed (make test installs both).
func Module(t testing.TB) string {
	t.Helper()
	for _, tool := range []string{"softhsm2-util", "pkcs11-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (make test installs softhsm2 and opensc)", tool)
		}
	}
	for _, p := range []string{
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/local/lib/softhsm/libsofthsm2.so",
		"/opt/homebrew/lib/softhsm/libsofthsm2.so",
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Skip("libsofthsm2.so not found (make test installs softhsm2)")
	return ""
}

// RequireCgo skips the test when `go build` would make the PKCS#11 plugin without cgo
// (no C compiler, or CGO_ENABLED=0): that build is a stub that only says so.
func RequireCgo(t testing.TB) {
	t.Helper()
	out, err := exec.Command("go", "env", "CGO_ENABLED").Output()
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Skip("cgo is off (no C compiler?): the PKCS#11 plugin cannot be built; install gcc")
	}
}

// Options for New; zero values pick the defaults shown.
type Options struct {
	Label    string        // "entratool-test"
	PIN      string        // "123456"
	KeyLabel string        // "app"
	KeyID    string        // "01"
	Subject  string        // "CN=hsm-app"
	Days     int           // 365
	Backdate time.Duration // how far in the past the certificate starts (an expired one: > Days)
}

// New initialises a token in a private SoftHSM2 configuration and imports a new RSA key
// (softhsm2-util --import, PKCS#8) and its self-signed certificate (pkcs11-tool
// --write-object) under the same CKA_ID.
func New(t testing.TB, o Options) *Token {
	t.Helper()
	module := Module(t)
	def := func(v *string, d string) {
		if *v == "" {
			*v = d
		}
	}
	def(&o.Label, "entratool-test")
	def(&o.PIN, "123456")
	def(&o.KeyLabel, "app")
	def(&o.KeyID, "01")
	def(&o.Subject, "CN=hsm-app")
	if o.Days == 0 {
		o.Days = 365
	}
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	confText := "directories.tokendir = " + tokens + "\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n"
	if err := os.WriteFile(conf, []byte(confText), 0o600); err != nil {
		t.Fatal(err)
	}
	tok := &Token{Module: module, Conf: conf, Label: o.Label, PIN: o.PIN, KeyLabel: o.KeyLabel, KeyID: o.KeyID}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), tok.Env())
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("softhsm2-util", "--init-token", "--free", "--label", o.Label, "--pin", o.PIN, "--so-pin", "so-"+o.PIN)

	c, err := cert.Create(cert.CreateOptions{Subject: o.Subject, Days: o.Days, KeySize: 2048, Now: time.Now().Add(-o.Backdate)})
	if err != nil {
		t.Fatal(err)
	}
	tok.Cert, tok.Cred = c.Leaf, c
	p8, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "key.p8")
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}), 0o600); err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "cert.der")
	if err := os.WriteFile(certFile, c.Leaf.Raw, 0o600); err != nil {
		t.Fatal(err)
	}
	run("softhsm2-util", "--import", keyFile, "--token", o.Label, "--id", o.KeyID, "--label", o.KeyLabel, "--pin", o.PIN)
	run("pkcs11-tool", "--module", module, "--token-label", o.Label, "--login", "--pin", o.PIN,
		"--write-object", certFile, "--type", "cert", "--id", o.KeyID, "--label", o.KeyLabel)
	// The key file has done its job; the token holds the only copy from here on.
	os.Remove(keyFile)
	return tok
}
