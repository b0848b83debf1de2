package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
)

func TestParseWithin(t *testing.T) {
	for in, want := range map[string]time.Duration{"30d": 30 * 24 * time.Hour, "1d": 24 * time.Hour, "720h": 720 * time.Hour, "90m": 90 * time.Minute} {
		if got, err := parseWithin(in); err != nil || got != want {
			t.Errorf("%s: %v, %v", in, got, err)
		}
	}
	for _, bad := range []string{"", "d", "-3d", "0d", "30 days", "0", "-1h", "1.5d", "99999999999d"} {
		if _, err := parseWithin(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// The new file goes beside the old one, named after it and the time; a name in use
// (by an earlier renewal in the same second) gets -2, -3.
func TestRenewedPath(t *testing.T) {
	now := time.Date(2026, 12, 3, 14, 15, 0, 0, time.UTC)
	taken := map[string]bool{}
	exists := func(p string) bool { return taken[p] }
	if got := renewedPath("/c/app.pfx", now, exists); got != "/c/app-20261203-141500.pfx" {
		t.Errorf("got %s", got)
	}
	if got := renewedPath("/c/app.pem", now, exists); got != "/c/app-20261203-141500.pfx" {
		t.Errorf("a PEM profile gets a PFX: %s", got)
	}
	taken["/c/app-20261203-141500.pfx"] = true
	taken["/c/app-20261203-141500-2.cer"] = true
	if got := renewedPath("/c/app.pfx", now, exists); got != "/c/app-20261203-141500-3.pfx" {
		t.Errorf("got %s", got)
	}
}

// What cert renew refuses before it does anything.
func TestCertRenewRefusals(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("app", testPassword)
	e.createProfile("app", pfx, testPassword)
	e.ok("x", "config", "create", "--name", "sec", "--client-id", seedClientID, "--tenant-id", seedTenantID, "--client-secret-stdin")
	before, err := os.ReadFile(e.profilesPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		code int
		want string
		args []string
	}{
		{2, "has no applicationObjectId: give --application-object-id, the Object ID on the app registration's Overview page", []string{"-p", "app"}},
		{2, "--application-object-id \"app\" is not a GUID", []string{"-p", "app", "--application-object-id", "app"}},
		{2, "uses a client secret: there is no certificate to renew", []string{"-p", "sec"}},
		{2, "--if-expiring-within \"soon\"", []string{"-p", "app", "--if-expiring-within", "soon"}},
		{2, "--key-size 1024", []string{"-p", "app", "--key-size", "1024"}},
		{2, "unknown output \"yaml\"", []string{"-p", "app", "-o", "yaml"}},
		{2, "--old-key-id \"x\" is not a GUID", []string{"-p", "app", "--old-key-id", "x"}},
		{2, "--propagation-timeout must be positive", []string{"-p", "app", "--propagation-timeout", "0s"}},
		// The public cloud is the default; a custom authority needs its Graph named.
		{1, "set its Graph endpoint with graphEndpoint", []string{"-p", "app", "--application-object-id", "11111111-2222-3333-4444-555555555555", "--dry-run"}},
	} {
		if tc.code == 1 {
			e.ok(testPassword, "config", "edit", "-p", "app", "--authority-host", "https://login.contoso.test", "--certificate-password-stdin")
			if after, _ := os.ReadFile(e.profilesPath()); string(after) == string(before) {
				t.Fatal("config edit changed nothing")
			}
			before, _ = os.ReadFile(e.profilesPath())
		}
		r := e.run(testPassword, append([]string{"cert", "renew"}, tc.args...)...)
		if r.code != tc.code || !strings.Contains(r.err, tc.want) {
			t.Errorf("%v: %s\nwant exit %d and %q", tc.args, r, tc.code, tc.want)
		}
		// Refused runs change nothing.
		if after, _ := os.ReadFile(e.profilesPath()); string(after) != string(before) {
			t.Errorf("%v changed profiles.json", tc.args)
		}
	}

	// A key-store profile: not supported yet, exit 1.
	err = (&profile.Store{Home: e.home}).Update(context.Background(), func(c *profile.Config) error {
		c.Put(&profile.Profile{Name: "hsm", ClientID: seedClientID, TenantID: seedTenantID, UseCertificate: true,
			CertificateStore: "pkcs11", CertificateThumbprint: strings.Repeat("AB", 20)})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.expect(1, "renewal of key-store certificates is not supported yet", "", "cert", "renew", "-p", "hsm")
}

// A dry run with --application-object-id changes nothing, not even the object id; a
// real run saves it even when it is not due.
func TestCertRenewSavesObjectIDEvenWhenNotDue(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("app", testPassword)
	e.createProfile("app", pfx, testPassword)
	const obj = "11111111-2222-3333-4444-555555555555"
	e.ok("", "cert", "renew", "-p", "app", "--application-object-id", obj, "--dry-run")
	if got := e.profileJSON("app")["applicationObjectId"]; got != nil {
		t.Errorf("a dry run saved applicationObjectId %v", got)
	}
	r := e.ok("", "cert", "renew", "-p", "app", "--application-object-id", obj, "--if-expiring-within", "30d")
	if !strings.HasPrefix(r.out, "not due: CN=app expires on ") {
		t.Errorf("%s", r)
	}
	if got := e.profileJSON("app")["applicationObjectId"]; got != obj {
		t.Errorf("applicationObjectId = %v", got)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(pfx), "app.cer")); err != nil {
		t.Fatal(err)
	}
}
