package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/keystore/softhsmtest"
	"github.com/entratool/entratool/internal/testbin"
)

// withPKCS11 gives e a SoftHSM2 token and the pkcs11 plugin in $ENTRATOOL_HOME/plugins.
// The plugin inherits this process's environment, hence t.Setenv for SOFTHSM2_CONF.
func (e *testEnv) withPKCS11() *softhsmtest.Token {
	e.t.Helper()
	tok := softhsmtest.New(e.t, softhsmtest.Options{Label: "entra", Subject: "CN=hsm-cli"})
	e.t.Setenv("SOFTHSM2_CONF", tok.Conf)
	testbin.Install(e.t, "./plugins/entratool-keystore-pkcs11", filepath.Join(e.home, "plugins", "entratool-keystore-pkcs11"))
	return tok
}

func TestKeyStoreListAndCertCommands(t *testing.T) {
	softhsmtest.Module(t)
	softhsmtest.RequireCgo(t)
	e := newTestEnv(t)
	tok := e.withPKCS11()
	sha1 := cert.ThumbprintSHA1(tok.Cert)
	storeArgs := []string{"--store-option", "module=" + tok.Module, "--store-option", "tokenLabel=entra"}

	r := e.ok(tok.PIN, append([]string{"keystore", "list", "--store", "pkcs11", "--pin-stdin"}, storeArgs...)...)
	for _, want := range []string{"SUBJECT", "CN=hsm-cli", sha1, tok.Cert.NotAfter.UTC().Format("2006-01-02"), "id=01 label=app"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("keystore list lacks %q:\n%s", want, r.out)
		}
	}
	r = e.ok(tok.PIN, append([]string{"keystore", "list", "--store", "pkcs11", "--pin-stdin", "-o", "json"}, storeArgs...)...)
	var list []keyStoreEntryJSON
	if err := json.Unmarshal([]byte(r.out), &list); err != nil || len(list) != 1 {
		t.Fatalf("keystore list -o json: %v\n%s", err, r.out)
	}
	if list[0].ThumbprintSHA256 != cert.ThumbprintSHA256(tok.Cert) || !list[0].HasKey || list[0].Subject != "CN=hsm-cli" {
		t.Errorf("json entry = %+v", list[0])
	}

	e.expect(1, `the PIN for token "entra" was refused (CKR_PIN_INCORRECT)`, "000000",
		append([]string{"keystore", "list", "--store", "pkcs11", "--pin-stdin"}, storeArgs...)...)
	e.expect(2, "give --store NAME", "", "keystore", "list")
	e.expect(2, "a key store name is lower-case letters", "", "keystore", "list", "--store", "../x")
	e.expect(1, ", "+filepath.Join(e.home, "plugins")+" or on PATH", "", "keystore", "list", "--store", "tpm")

	// A profile made with the documented flags; its PIN goes to the secret store.
	e.ok(tok.PIN, append([]string{"config", "create", "--name", "hsm", "--client-id", seedClientID, "--tenant-id", seedTenantID,
		"--certificate-store", "pkcs11", "--thumbprint", sha1, "--certificate-password-stdin"}, storeArgs...)...)

	r = e.ok("", "keystore", "list", "-p", "hsm")
	if !strings.Contains(r.out, sha1) {
		t.Errorf("keystore list -p hsm:\n%s", r.out)
	}
	r = e.ok("", "cert", "info", "-p", "hsm")
	for _, want := range []string{"Profile:", "hsm", "pkcs11 key store, thumbprint " + sha1, "Subject:", "CN=hsm-cli", sha1, cert.ThumbprintSHA256(tok.Cert), "RSA 2048"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("cert info -p hsm lacks %q:\n%s", want, r.out)
		}
	}
	if strings.Contains(r.out, "no private key") {
		t.Errorf("cert info says the key is missing:\n%s", r.out)
	}
	r = e.ok("", "cert", "check", "-p", "hsm")
	if !strings.HasPrefix(r.out, "✓ hsm: CN=hsm-cli valid until") {
		t.Errorf("cert check -p hsm: %s", r)
	}
	r = e.ok("", "cert", "export-public", "-p", "hsm")
	if !strings.Contains(r.out, "BEGIN CERTIFICATE") {
		t.Errorf("cert export-public -p hsm: %s", r)
	}

	// A wrong stored PIN: the commands say which secret to fix.
	e.ok("999999", "config", "edit", "-p", "hsm", "--certificate-password-stdin")
	r = e.expect(1, "CKR_PIN_INCORRECT", "", "cert", "info", "-p", "hsm")
	if !strings.Contains(r.err, "entratool config edit -p hsm") || strings.Contains(r.err, "999999") {
		t.Errorf("cert info with a wrong PIN: %s", r.err)
	}
}
