package cli

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCertCreateWritesPFXAndCER(t *testing.T) {
	needOpenSSL(t)
	e := newTestEnv(t)
	pfx := filepath.Join(e.dir, "certificate.pfx")
	cer := filepath.Join(e.dir, "certificate.cer")

	e.expect(2, "--password-stdin", "", "cert", "create", "--subject", "CN=MyApp", "--out", pfx)
	e.expect(2, "--key-size", "pw", "cert", "create", "--subject", "CN=MyApp", "--out", pfx, "--password-stdin", "--key-size", "1024")
	e.expect(2, "--subject", "pw", "cert", "create", "--out", pfx, "--password-stdin")
	e.expect(2, "needs a password", "", "cert", "create", "--subject", "CN=MyApp", "--out", pfx, "--password-stdin")
	if _, err := os.Stat(pfx); !os.IsNotExist(err) {
		t.Fatal("a usage error wrote the PFX")
	}

	r := e.ok("YourPassword\n", "cert", "create", "--subject", "CN=MyApp", "--days", "730", "--out", pfx, "--password-stdin")
	if m := mode(t, pfx); m != 0o600 {
		t.Errorf("PFX mode %04o, want 0600", m)
	}
	sha1 := opensslSHA1(t, cer)
	sha256 := opensslFingerprint(t, cer, "-sha256")
	for _, want := range []string{sha1, sha256, pfx, cer, "CN=MyApp"} {
		if !strings.Contains(r.out, want) {
			t.Errorf("output lacks %q:\n%s", want, r.out)
		}
	}
	// The PFX is modern (AES-256, SHA-256 MAC) and opens in OpenSSL with the password,
	// and its certificate is the .cer's.
	info := runCmd(t, "openssl", "pkcs12", "-in", pfx, "-passin", "pass:YourPassword", "-noout", "-info")
	if !strings.Contains(info, "AES-256-CBC") || !strings.Contains(info, "sha256") {
		t.Errorf("PFX encryption is not modern:\n%s", info)
	}
	leaf := filepath.Join(e.dir, "leaf.pem")
	runCmd(t, "openssl", "pkcs12", "-in", pfx, "-passin", "pass:YourPassword", "-nokeys", "-clcerts", "-out", leaf)
	if got := opensslSHA1(t, leaf); got != sha1 {
		t.Errorf("PFX certificate %s, .cer %s", got, sha1)
	}
	enddate := runCmd(t, "openssl", "x509", "-in", cer, "-noout", "-enddate")
	if !strings.Contains(enddate, time.Now().AddDate(0, 0, 730).UTC().Format("2006")) {
		t.Errorf("validity: %s", enddate)
	}

	// Existing files are not overwritten without --force.
	before, _ := os.ReadFile(pfx)
	e.expect(1, "already exists", "pw2", "cert", "create", "--subject", "CN=Other", "--out", pfx, "--password-stdin")
	if after, _ := os.ReadFile(pfx); !bytes.Equal(before, after) {
		t.Fatal("PFX overwritten without --force")
	}
	e.ok("pw2", "cert", "create", "--subject", "CN=Other", "--out", pfx, "--password-stdin", "--force", "--key-size", "3072")
	if opensslSHA1(t, cer) == sha1 {
		t.Error("--force did not replace the .cer")
	}
	e.expect(1, "does not exist", "pw", "cert", "create", "--subject", "CN=X", "--out", filepath.Join(e.dir, "no", "such", "x.pfx"), "--password-stdin")
	// The home's certs directory is made on demand, private.
	e.ok("pw", "cert", "create", "--subject", "CN=X", "--out", filepath.Join(e.home, "certs", "x.pfx"), "--password-stdin")
	if m := mode(t, filepath.Join(e.home, "certs")); m != 0o700 {
		t.Errorf("certs dir mode %04o", m)
	}
}

type infoOut struct {
	Path             string    `json:"path"`
	Profile          string    `json:"profile"`
	Subject          string    `json:"subject"`
	Issuer           string    `json:"issuer"`
	SerialNumber     string    `json:"serialNumber"`
	NotBefore        time.Time `json:"notBefore"`
	NotAfter         time.Time `json:"notAfter"`
	DaysLeft         int       `json:"daysLeft"`
	ThumbprintSHA1   string    `json:"thumbprintSha1"`
	ThumbprintSHA256 string    `json:"thumbprintSha256"`
	KeyType          string    `json:"keyType"`
	KeySize          int       `json:"keySize"`
	Expired          bool      `json:"expired"`
	HasPrivateKey    bool      `json:"hasPrivateKey"`
}

func TestCertInfo(t *testing.T) {
	needOpenSSL(t)
	e := newTestEnv(t)
	pfx := e.newCert("InfoApp", testPassword, "--key-size", "3072", "--days", "365")
	cer := strings.TrimSuffix(pfx, ".pfx") + ".cer"

	var got infoOut
	r := e.ok(testPassword, "cert", "info", pfx, "--password-stdin", "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &got); err != nil {
		t.Fatalf("%v\n%s", err, r.out)
	}
	serial := strings.TrimPrefix(strings.TrimSpace(runCmd(t, "openssl", "x509", "-in", cer, "-noout", "-serial")), "serial=")
	want := infoOut{Path: pfx, Subject: "CN=InfoApp", Issuer: "CN=InfoApp", SerialNumber: serial,
		ThumbprintSHA1: opensslSHA1(t, cer), ThumbprintSHA256: opensslFingerprint(t, cer, "-sha256"),
		KeyType: "RSA", KeySize: 3072, HasPrivateKey: true}
	if got.DaysLeft < 363 || got.DaysLeft > 365 || got.NotAfter.Sub(got.NotBefore) < 365*24*time.Hour {
		t.Errorf("validity %s – %s, %d days left", got.NotBefore, got.NotAfter, got.DaysLeft)
	}
	got.NotBefore, got.NotAfter, got.DaysLeft = time.Time{}, time.Time{}, 0
	if got != want {
		t.Errorf("cert info json:\n got %+v\nwant %+v", got, want)
	}

	// Table output, through a profile and its stored password.
	e.createProfile("info", pfx, testPassword)
	table := e.ok("", "cert", "info", "-p", "info").out
	for _, k := range []string{"Subject:", "Issuer:", "Serial:", "Not before:", "Not after:", "Days left:", "Thumbprint (SHA-1):", "Thumbprint (SHA-256):", "Key:", "RSA 3072", want.ThumbprintSHA1} {
		if !strings.Contains(table, k) {
			t.Errorf("table lacks %q:\n%s", k, table)
		}
	}
	// The public .cer needs no password.
	r = e.ok("", "cert", "info", cer, "-o", "json")
	var pub infoOut
	if err := json.Unmarshal([]byte(r.out), &pub); err != nil || pub.HasPrivateKey || pub.ThumbprintSHA1 != want.ThumbprintSHA1 {
		t.Errorf("info of the .cer: %+v (%v)", pub, err)
	}
	// A password-protected file without a password, no terminal: usage error; wrong: failure.
	e.expect(2, "--password-stdin", "", "cert", "info", pfx)
	e.expect(1, "invalid certificate password", "nope", "cert", "info", pfx, "--password-stdin")
	e.expect(1, "certificate not found", "", "cert", "info", filepath.Join(e.dir, "missing.pfx"))
	e.expect(2, "not both", "", "cert", "info", pfx, "-p", "info")
}

func TestCertInfoShowsExpired(t *testing.T) {
	e := newTestEnv(t)
	old := e.expiredCert("Old", testPassword)
	r := e.ok(testPassword, "cert", "info", old, "--password-stdin")
	if !strings.Contains(r.out, "EXPIRED") {
		t.Errorf("expired certificate not marked:\n%s", r.out)
	}
	var got infoOut
	r = e.ok(testPassword, "cert", "info", old, "--password-stdin", "-o", "json")
	if err := json.Unmarshal([]byte(r.out), &got); err != nil || !got.Expired || got.DaysLeft >= 0 {
		t.Errorf("json for an expired certificate: %+v (%v)", got, err)
	}
}

func TestCertCheckExitCodes(t *testing.T) {
	e := newTestEnv(t)
	fresh := e.newCert("fresh", testPassword)
	soon := e.newCert("soon", testPassword, "--days", "10")
	old := e.expiredCert("old", testPassword)
	junk := filepath.Join(e.dir, "junk.pfx")
	if err := os.WriteFile(junk, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}

	check := func(want int, stdin string, args ...string) string {
		t.Helper()
		r := e.run(stdin, append([]string{"cert", "check"}, args...)...)
		if r.code != want {
			t.Errorf("cert check %v: exit %d, want %d\n%s", args, r.code, want, r)
		}
		return r.out
	}
	if out := check(0, testPassword, fresh, "--password-stdin"); !strings.HasPrefix(out, "✓ ") {
		t.Errorf("fresh: %q", out)
	}
	if out := check(1, testPassword, soon, "--password-stdin"); !strings.HasPrefix(out, "! ") || !strings.Contains(out, "expires in") {
		t.Errorf("near expiry: %q", out)
	}
	check(0, testPassword, soon, "--password-stdin", "--warn-days", "5")
	if out := check(2, testPassword, old, "--password-stdin"); !strings.HasPrefix(out, "✗ ") || !strings.Contains(out, "expired on") {
		t.Errorf("expired: %q", out)
	}
	check(2, "", junk)

	// Profiles: one line each, the worst decides.
	e.createProfile("fresh", fresh, testPassword)
	check(0, "", "-p", "fresh")
	check(0, "", "--all")
	e.createProfile("soon", soon, testPassword)
	check(1, "", "-p", "soon")
	out := check(1, "", "--all")
	if n := strings.Count(out, "\n"); n != 2 {
		t.Errorf("--all printed %d lines, want 2:\n%s", n, out)
	}
	// The certificate behind a profile expires (replaced in place).
	e.createProfile("old", fresh, testPassword)
	writePFX(t, filepath.Join(e.dir, "old2.pfx"), "old2", 30, time.Now().AddDate(0, 0, -60), testPassword)
	if err := os.Rename(filepath.Join(e.dir, "old2.pfx"), fresh); err != nil {
		t.Fatal(err)
	}
	check(2, "", "--all")
	check(2, "", "-p", "fresh")
	e.ok("x", "config", "create", "--name", "sec", "--client-id", seedClientID, "--tenant-id", seedTenantID, "--client-secret-stdin")
	check(2, "", "-p", "sec")
	check(2, "", "--all", "-p", "sec")
}

func TestCertExportPublic(t *testing.T) {
	needOpenSSL(t)
	e := newTestEnv(t)
	pfx := e.newCert("Pub", testPassword)
	cer := strings.TrimSuffix(pfx, ".pfx") + ".cer"
	want, _ := os.ReadFile(cer)

	r := e.ok(testPassword, "cert", "export-public", pfx, "--password-stdin")
	if r.out != string(want) {
		t.Errorf("PEM on stdout differs from the .cer:\n%s", r.out)
	}
	if strings.Contains(r.out, "PRIVATE KEY") {
		t.Fatal("export-public printed a private key")
	}
	e.createProfile("pub", pfx, testPassword)
	der := filepath.Join(e.dir, "pub.der")
	r = e.ok("", "cert", "export-public", "-p", "pub", "-o", der, "--der")
	if !strings.Contains(r.out, der) {
		t.Errorf("stdout %q", r.out)
	}
	data, _ := os.ReadFile(der)
	block, _ := pem.Decode(want)
	if !bytes.Equal(data, block.Bytes) {
		t.Error("--der output is not the certificate's DER")
	}
	if _, err := x509.ParseCertificate(data); err != nil {
		t.Error(err)
	}
	if got := opensslSHA1(t, der, "-inform", "DER"); got != opensslSHA1(t, cer) {
		t.Errorf("DER thumbprint %s", got)
	}
}
