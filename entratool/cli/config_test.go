package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/token"
)

const testPassword = "Corr3ct-Horse!pw"

func keysOf(m map[string]any) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestConfigCreateNonInteractiveWritesSeedShape(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("MyApp", testPassword)
	r := e.createProfile(seedName, pfx, testPassword)
	if r.out != "✓ Profile 'production-service' created successfully\n" {
		t.Fatalf("stdout = %q", r.out)
	}

	top := e.profilesJSON()
	if top["defaultProfile"] != seedName {
		t.Errorf("defaultProfile = %v, want the first profile", top["defaultProfile"])
	}
	p := e.profileJSON(seedName)
	want := map[string]any{
		"name":            seedName,
		"clientId":        seedClientID,
		"tenantId":        seedTenantID,
		"certificatePath": pfx,
		"useCertificate":  true,
		"scope":           "https://graph.microsoft.com/.default",
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("profile = %v\nwant the seed's shape %v", p, want)
	}
	if m := mode(t, e.profilesPath()); m != 0o600 {
		t.Errorf("profiles.json mode %04o, want 0600", m)
	}
	if m := mode(t, e.home); m != 0o700 {
		t.Errorf("home mode %04o, want 0700", m)
	}
	data, _ := os.ReadFile(e.profilesPath())
	if bytes.Contains(data, []byte(testPassword)) {
		t.Error("profiles.json contains the certificate password")
	}
	if got := e.secrets()[secret.Key(seedName, secret.CertificatePassword)]; got != testPassword {
		t.Errorf("stored password = %q, want the one given", got)
	}
}

func TestConfigCreateRelativeCertificatePathIsSavedAbsolute(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("rel", testPassword)
	t.Chdir(e.dir)
	e.createProfile("rel", filepath.Base(pfx), testPassword)
	if got := e.profileJSON("rel")["certificatePath"]; got != pfx {
		t.Errorf("certificatePath = %v, want %s", got, pfx)
	}
}

// openssl-made files (OpenSSL 3 defaults and -legacy) are what users bring.
func TestConfigCreateOpenSSLPFXAndWrongPassword(t *testing.T) {
	needOpenSSL(t)
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy=%v", legacy), func(t *testing.T) {
			e := newTestEnv(t)
			key, crt, pfx := filepath.Join(e.dir, "key.pem"), filepath.Join(e.dir, "cert.pem"), filepath.Join(e.dir, "certificate.pfx")
			runCmd(t, "openssl", "req", "-x509", "-newkey", "rsa:2048", "-keyout", key, "-out", crt, "-days", "730", "-nodes", "-subj", "/CN=MyApp")
			args := []string{"pkcs12", "-export", "-in", crt, "-inkey", key, "-out", pfx, "-password", "pass:YourPassword"}
			if legacy {
				args = append(args, "-legacy")
			}
			runCmd(t, "openssl", args...)

			r := e.expect(1, "invalid certificate password for "+pfx, "not-the-password",
				"config", "create", "--name", "svc", "--client-id", seedClientID, "--tenant-id", seedTenantID,
				"--certificate", pfx, "--certificate-password-stdin")
			if strings.Contains(r.err, "not-the-password") {
				t.Error("the error repeats the password")
			}
			for _, f := range []string{e.profilesPath(), e.secretsPath()} {
				if _, err := os.Stat(f); !os.IsNotExist(err) {
					t.Errorf("%s exists after a failed create (err %v)", f, err)
				}
			}
			// No password at all, without a terminal: the missing value is a usage error.
			e.expect(2, "--certificate-password-stdin", "",
				"config", "create", "--name", "svc", "--client-id", seedClientID, "--tenant-id", seedTenantID, "--certificate", pfx)

			e.createProfile("svc", pfx, "YourPassword")
			if e.secrets()["svc/certificate-password"] != "YourPassword" {
				t.Error("password not stored")
			}
		})
	}
}

func runCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestConfigCreateUsageErrors(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("u", testPassword)
	base := func(drop string, extra ...string) []string {
		all := []string{"--name", "n1", "--client-id", seedClientID, "--tenant-id", seedTenantID}
		var args []string
		for i := 0; i < len(all); i += 2 {
			if all[i] != drop {
				args = append(args, all[i], all[i+1])
			}
		}
		return append(append([]string{"config", "create"}, args...), extra...)
	}
	cert := []string{"--certificate", pfx, "--certificate-password-stdin"}
	e.expect(2, "--client-id", testPassword, base("--client-id", cert...)...)
	e.expect(2, "--name", testPassword, base("--name", cert...)...)
	e.expect(2, "--tenant-id", testPassword, base("--tenant-id", cert...)...)
	e.expect(2, "--certificate PATH or --client-secret-stdin", "", base("")...)
	e.expect(2, "not a GUID", testPassword, append(base("--client-id", cert...), "--client-id", "not-a-guid")...)
	e.expect(2, "--secret-store", testPassword, append(base("", cert...), "--secret-store", "vault")...)
	e.expect(2, "give one", testPassword, append(base(""), "--certificate", pfx, "--client-secret-stdin")...)
	e.expect(2, "must not contain spaces", testPassword, append(base("--name", cert...), "--name", "has space")...)
	if _, err := os.Stat(e.profilesPath()); !os.IsNotExist(err) {
		t.Fatal("a usage error wrote profiles.json")
	}

	// A domain is a valid tenant.
	e.ok(testPassword, append(base("--tenant-id", cert...), "--tenant-id", "contoso.onmicrosoft.com")...)
	// The same name again is a runtime failure that points at config edit.
	e.expect(1, "config edit -p n1", testPassword, base("", cert...)...)
}

func TestConfigCreateDefaultAndClientSecret(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("d", testPassword)
	e.createProfile("first", pfx, testPassword)
	e.ok("s3cr3t-value\n", "config", "create", "--name", "second", "--client-id", seedClientID, "--tenant-id", seedTenantID,
		"--client-secret-stdin", "--scope", "api://x/.default")
	if got := e.profilesJSON()["defaultProfile"]; got != "first" {
		t.Errorf("defaultProfile = %v, want first (only the first profile becomes default)", got)
	}
	p := e.profileJSON("second")
	if p["useCertificate"] != false || p["certificatePath"] != nil || p["scope"] != "api://x/.default" {
		t.Errorf("client-secret profile = %v", p)
	}
	if got := e.secrets()["second/client-secret"]; got != "s3cr3t-value" {
		t.Errorf("client secret stored as %q", got)
	}
	e.createProfile("third", pfx, testPassword, "--default")
	if got := e.profilesJSON()["defaultProfile"]; got != "third" {
		t.Errorf("--default: defaultProfile = %v", got)
	}
}

func TestConfigCreateRefusesExpiredAndWarnsNearExpiry(t *testing.T) {
	e := newTestEnv(t)
	old := e.expiredCert("old", testPassword)
	e.expect(1, "expired on", testPassword, "config", "create", "--name", "x", "--client-id", seedClientID,
		"--tenant-id", seedTenantID, "--certificate", old, "--certificate-password-stdin")
	if _, err := os.Stat(e.profilesPath()); !os.IsNotExist(err) {
		t.Fatal("profile saved with an expired certificate")
	}

	soon := e.newCert("soon", testPassword, "--days", "10")
	if err := os.Chmod(soon, 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.createProfile("soon", soon, testPassword)
	if !strings.Contains(r.err, "expires in 9 days") && !strings.Contains(r.err, "expires in 10 days") {
		t.Errorf("no near-expiry warning: %s", r)
	}
	if !strings.Contains(r.err, "readable by group or others") {
		t.Errorf("no permission warning: %s", r)
	}
}

func TestConfigCreatePFXWithoutPasswordStoresNothing(t *testing.T) {
	e := newTestEnv(t)
	// A stale secret from an earlier profile of the same name must go.
	if err := secret.NewFile(e.home).Set(context.Background(), "nopw/certificate-password", "stale"); err != nil {
		t.Fatal(err)
	}
	fresh := writePFX(t, filepath.Join(e.dir, "nopw.pfx"), "nopw", 365, time.Now(), "")
	e.createProfile("nopw", fresh, "")
	if _, ok := e.secrets()["nopw/certificate-password"]; ok {
		t.Error("a PFX without a password left a stored password")
	}
}

func TestConfigCreateKeyStoreProfile(t *testing.T) {
	e := newTestEnv(t)
	tp := "ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01"
	e.ok("1234", "config", "create", "--name", "hsm", "--client-id", seedClientID, "--tenant-id", seedTenantID,
		"--certificate-store", "pkcs11", "--thumbprint", tp, "--store-option", "module=/usr/lib/softhsm/libsofthsm2.so",
		"--store-option", "tokenLabel=entra", "--certificate-password-stdin")
	p := e.profileJSON("hsm")
	if p["certificateStore"] != "pkcs11" || p["certificateThumbprint"] != "ABCDEF0123456789ABCDEF0123456789ABCDEF01" || p["certificatePath"] != nil {
		t.Errorf("key-store profile = %v", p)
	}
	opts, _ := p["certificateStoreOptions"].(map[string]any)
	if opts["module"] != "/usr/lib/softhsm/libsofthsm2.so" || opts["tokenLabel"] != "entra" {
		t.Errorf("certificateStoreOptions = %v", opts)
	}
	if e.secrets()["hsm/certificate-password"] != "1234" {
		t.Error("PIN not stored in the certificate-password slot")
	}
	e.expect(2, "--thumbprint", "", "config", "create", "--name", "h2", "--client-id", seedClientID, "--tenant-id", seedTenantID,
		"--certificate-store", "pkcs11")
	e.expect(2, "need --certificate-store", "", "config", "create", "--name", "h2", "--client-id", seedClientID, "--tenant-id", seedTenantID,
		"--thumbprint", tp)

	// Changing only the thumbprint keeps the options and the PIN.
	tp2 := strings.Repeat("12", 20)
	e.ok("", "config", "edit", "-p", "hsm", "--thumbprint", tp2)
	p = e.profileJSON("hsm")
	opts, _ = p["certificateStoreOptions"].(map[string]any)
	if p["certificateThumbprint"] != tp2 || opts["module"] == nil || e.secrets()["hsm/certificate-password"] != "1234" {
		t.Errorf("after edit --thumbprint: %v, secrets %v", p, e.secrets())
	}
}

// corruptProfiles is profiles.json with a missing comma at line 4, column 7.
const corruptProfiles = `{
  "profiles": [
    {"name": "a", "clientId": "12345678-1234-1234-1234-123456789abc", "tenantId": "contoso.onmicrosoft.com"}
    {"name": "b"}
  ]
}
`

func TestEveryConfigCommandRefusesCorruptProfiles(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("c", testPassword)
	importFile := filepath.Join(e.dir, "import.json")
	if err := os.WriteFile(importFile, []byte(`{"name":"z","clientId":"`+seedClientID+`","tenantId":"`+seedTenantID+`","useCertificate":false}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(e.home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.profilesPath(), []byte(corruptProfiles), 0o600); err != nil {
		t.Fatal(err)
	}
	pos := regexp.MustCompile(regexp.QuoteMeta(e.profilesPath()) + `:4:5: `)
	cmds := []struct {
		stdin string
		args  []string
	}{
		{"", []string{"config", "list"}},
		{"", []string{"config", "list", "-o", "json"}},
		{"", []string{"config", "show", "-p", "a"}},
		{"", []string{"config", "use", "a"}},
		{"", []string{"config", "delete", "-p", "a"}},
		{"", []string{"config", "export", "-p", "a"}},
		{testPassword, []string{"config", "create", "--name", "new", "--client-id", seedClientID, "--tenant-id", seedTenantID, "--certificate", pfx, "--certificate-password-stdin"}},
		{"", []string{"config", "edit", "-p", "a", "--scope", "api://x/.default"}},
		{"", []string{"config", "import", importFile}},
		{"", []string{"cert", "check", "--all"}},
		{"", []string{"cert", "info", "-p", "a"}},
	}
	for _, c := range cmds {
		r := e.run(c.stdin, c.args...)
		if r.code != 1 || !pos.MatchString(r.err) {
			t.Errorf("%v: want exit 1 and %s:4:5, got %s", c.args, e.profilesPath(), r)
		}
		data, err := os.ReadFile(e.profilesPath())
		if err != nil || string(data) != corruptProfiles {
			t.Fatalf("%v changed profiles.json (err %v):\n%s", c.args, err, data)
		}
	}
	if _, err := os.Stat(e.secretsPath()); !os.IsNotExist(err) {
		t.Error("a command stored a secret while profiles.json was corrupt")
	}
}

// profilesWithUnknown has keys this version does not know, at both levels.
var profilesWithUnknown = `{
  "defaultProfile": "a",
  "profiles": [
    {
      "name": "a",
      "clientId": "` + seedClientID + `",
      "tenantId": "` + seedTenantID + `",
      "useCertificate": false,
      "futureOption": {"nested": [1, 2.50, "x"], "flag": true}
    },
    {
      "name": "b",
      "clientId": "` + seedClientID + `",
      "tenantId": "` + seedTenantID + `",
      "useCertificate": false
    }
  ],
  "x-team": "platform   ops"
}
`

func TestUnknownFieldsSurviveEditAndUse(t *testing.T) {
	e := newTestEnv(t)
	if err := os.MkdirAll(e.home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.profilesPath(), []byte(profilesWithUnknown), 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok("", "config", "edit", "-p", "a", "--scope", "api://changed/.default")
	e.ok("", "config", "use", "b")
	data, _ := os.ReadFile(e.profilesPath())
	for _, raw := range []string{`"futureOption": {"nested": [1, 2.50, "x"], "flag": true}`, `"x-team": "platform   ops"`} {
		if !bytes.Contains(data, []byte(raw)) {
			t.Errorf("lost %s:\n%s", raw, data)
		}
	}
	if p := e.profileJSON("a"); p["scope"] != "api://changed/.default" {
		t.Errorf("edit not applied: %v", p)
	}
	if e.profilesJSON()["defaultProfile"] != "b" {
		t.Error("use not applied")
	}
	e.expect(1, `profile "nope" not found`, "", "config", "use", "nope")
}

func TestExportNeverContainsSecretsAndImportRoundTrips(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("exp", testPassword)
	e.createProfile(seedName, pfx, testPassword)
	e.ok("the-client-secret-value", "config", "create", "--name", "sec", "--client-id", seedClientID, "--tenant-id", seedTenantID, "--client-secret-stdin")

	out := e.ok("", "config", "export", "-p", seedName).out
	if strings.Contains(out, testPassword) {
		t.Fatal("export printed the certificate password")
	}
	var exported struct {
		Profiles []map[string]any `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(out), &exported); err != nil || len(exported.Profiles) != 1 || exported.Profiles[0]["certificatePath"] != pfx {
		t.Fatalf("export = %s (err %v)", out, err)
	}
	file := filepath.Join(e.dir, "backup-sec.json")
	e.ok("", "config", "export", "-p", "sec", "-o", file)
	data, _ := os.ReadFile(file)
	if bytes.Contains(data, []byte("the-client-secret-value")) {
		t.Fatal("export file contains the client secret")
	}
	if m := mode(t, file); m != 0o600 {
		t.Errorf("export file mode %04o, want 0600", m)
	}

	e.expect(1, "--force", "", "config", "import", file)
	e.ok("", "config", "delete", "-p", "sec")
	r := e.ok("", "config", "import", file)
	if !strings.Contains(r.out, "✓ Profile 'sec' imported") {
		t.Errorf("import output %q", r.out)
	}
	if !reflect.DeepEqual(e.profileJSON("sec"), map[string]any{"name": "sec", "clientId": seedClientID, "tenantId": seedTenantID, "useCertificate": false, "scope": DefaultScope}) {
		t.Errorf("imported profile = %v", e.profileJSON("sec"))
	}
	e.ok("", "config", "import", "--force", file)
	// A bare profile object and stdin work too; invalid content is refused.
	e.ok(`{"name":"bare","clientId":"`+seedClientID+`","tenantId":"contoso.com","useCertificate":false}`, "config", "import", "-")
	e.expect(1, "not a GUID", `{"name":"bad","clientId":"nope","tenantId":"contoso.com"}`, "config", "import", "-")
	if e.profileJSON("bad") != nil {
		t.Error("an invalid profile was imported")
	}
}

func TestImportReportsPositionsInTheFile(t *testing.T) {
	cases := []struct{ in, want string }{
		{"{\"name\": \"a\",, }", "f.json:1:14: "},
		{"[\n {\"name\": \"a\"}\n {}]", "f.json:3:2: "},
		{"{\"profiles\": [\n  {\"name\": 5}]}", "f.json:2:12: "},
	}
	for _, c := range cases {
		_, _, err := profile.ParseImport("f.json", []byte(c.in))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("ParseImport(%q) = %v, want prefix %q", c.in, err, c.want)
		}
	}
	for _, in := range []string{
		`{"name":"a","clientId":"` + seedClientID + `","tenantId":"t.com"}`,
		`[{"name":"a"},{"name":"b"}]`,
		`{"profiles":[{"name":"a"}],"defaultProfile":"a"}`,
		"\uFEFF{\"name\":\"a\"}",
	} {
		if _, _, err := profile.ParseImport("f.json", []byte(in)); err != nil {
			t.Errorf("ParseImport(%q): %v", in, err)
		}
	}
}

func TestDeleteRemovesSecretAndCachedTokens(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("del", testPassword)
	e.createProfile(seedName, pfx, testPassword)
	cache := &token.Cache{Dir: filepath.Join(e.home, "cache")}
	key := token.Key{Authority: profile.AuthorityPublic, TenantID: seedTenantID, ClientID: seedClientID, Scope: DefaultScope, Credential: "x5t:AB"}
	other := token.Key{Authority: profile.AuthorityPublic, TenantID: seedTenantID, ClientID: "11111111-1111-1111-1111-111111111111", Scope: DefaultScope}
	for _, k := range []token.Key{key, other} {
		if err := cache.Put(k, &token.Token{AccessToken: "cached-" + k.ClientID, ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}

	e.expect(2, "missing --profile", "", "config", "delete")
	r := e.ok("", "config", "delete", "-p", seedName)
	if r.out != "✓ Profile 'production-service' deleted\n" {
		t.Errorf("stdout %q", r.out)
	}
	if e.profileJSON(seedName) != nil {
		t.Error("profile still in profiles.json")
	}
	if _, ok := e.profilesJSON()["defaultProfile"]; ok {
		t.Error("defaultProfile still names the deleted profile")
	}
	if v, ok := e.secrets()[secret.Key(seedName, secret.CertificatePassword)]; ok {
		t.Errorf("secrets.json still holds the password (%d bytes)", len(v))
	}
	if _, ok := cache.Get(key); ok {
		t.Error("the deleted profile's cached token survived")
	}
	if _, ok := cache.Get(other); !ok {
		t.Error("another app's cached token was removed")
	}
	e.expect(1, "not found", "", "config", "delete", "-p", seedName)
}

func TestEditWithFlags(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("one", testPassword)
	e.createProfile(seedName, pfx, testPassword)
	cache := &token.Cache{Dir: filepath.Join(e.home, "cache")}
	key := token.Key{Authority: profile.AuthorityPublic, TenantID: seedTenantID, ClientID: seedClientID, Scope: DefaultScope, Credential: "x5t:OLD"}
	if err := cache.Put(key, &token.Token{AccessToken: "old", ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(e.profilesPath())

	newPFX := e.newCert("two", "n3w-password")
	// Wrong password for the new certificate: nothing changes.
	e.expect(1, "invalid certificate password for "+newPFX, "wrong", "config", "edit", "-p", seedName, "--certificate", newPFX, "--certificate-password-stdin")
	// No password and the old one does not fit: usage error naming the flag.
	e.expect(2, "--certificate-password-stdin", "", "config", "edit", "-p", seedName, "--certificate", newPFX)
	e.expect(2, "not a GUID", "", "config", "edit", "-p", seedName, "--client-id", "xyz")
	e.expect(2, "nothing to change", "", "config", "edit", "-p", seedName)
	if after, _ := os.ReadFile(e.profilesPath()); !bytes.Equal(before, after) {
		t.Fatal("a failed edit changed profiles.json")
	}
	if _, ok := cache.Get(key); !ok {
		t.Fatal("a failed edit dropped cached tokens")
	}

	r := e.ok("n3w-password", "config", "edit", "-p", seedName, "--certificate", newPFX, "--certificate-password-stdin")
	if r.out != "✓ Profile 'production-service' updated\n" {
		t.Errorf("stdout %q", r.out)
	}
	if got := e.profileJSON(seedName)["certificatePath"]; got != newPFX {
		t.Errorf("certificatePath = %v", got)
	}
	if got := e.secrets()[secret.Key(seedName, secret.CertificatePassword)]; got != "n3w-password" {
		t.Errorf("stored password %q", got)
	}
	if _, ok := cache.Get(key); ok {
		t.Error("changing the certificate kept the cached token")
	}

	// Switch to a client secret: the certificate password goes with the certificate.
	e.ok("brand-new-secret", "config", "edit", "-p", seedName, "--client-secret-stdin")
	p := e.profileJSON(seedName)
	if p["useCertificate"] != false || p["certificatePath"] != nil {
		t.Errorf("after --client-secret-stdin: %v", p)
	}
	s := e.secrets()
	if s[secret.Key(seedName, secret.ClientSecret)] != "brand-new-secret" {
		t.Error("client secret not stored")
	}
	if _, ok := s[secret.Key(seedName, secret.CertificatePassword)]; ok {
		t.Error("the unused certificate password was kept")
	}
}

func TestEditMovesSecretsBetweenStores(t *testing.T) {
	e := newTestEnv(t)
	delete(e.vars, "ENTRATOOL_SECRET_STORE") // the profile's secretStore decides
	pfx := e.newCert("mv", testPassword)
	e.createProfile("mv", pfx, testPassword, "--secret-store", "file")
	if e.secrets()["mv/certificate-password"] != testPassword {
		t.Fatal("not stored in the file store")
	}
	r := e.ok("", "config", "edit", "-p", "mv", "--secret-store", "env")
	if _, ok := e.secrets()["mv/certificate-password"]; ok {
		t.Error("the password stayed in the file store after moving to env")
	}
	if !strings.Contains(r.err, "ENTRATOOL_CERT_PASSWORD") {
		t.Errorf("no reminder to export ENTRATOOL_CERT_PASSWORD: %s", r)
	}
	if e.profileJSON("mv")["secretStore"] != "env" {
		t.Error("secretStore not saved")
	}
	// Back to file with the password on stdin.
	e.ok(testPassword, "config", "edit", "-p", "mv", "--secret-store", "file", "--certificate-password-stdin")
	if e.secrets()["mv/certificate-password"] != testPassword {
		t.Error("password not stored after moving back to file")
	}
}

func TestListAndShow(t *testing.T) {
	e := newTestEnv(t)
	r := e.ok("", "config", "list")
	if !strings.Contains(r.err, "config create") {
		t.Errorf("empty list should point at config create: %s", r)
	}
	pfx := e.newCert("show", testPassword)
	e.createProfile(seedName, pfx, testPassword)
	e.ok("x", "config", "create", "--name", "other", "--client-id", seedClientID, "--tenant-id", "contoso.com", "--client-secret-stdin")

	lines := strings.Split(strings.TrimSpace(e.ok("", "config", "list").out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[1], "*") || !strings.Contains(lines[1], seedName) || strings.HasPrefix(lines[2], "*") {
		t.Errorf("list table:\n%s", strings.Join(lines, "\n"))
	}
	var list struct {
		DefaultProfile string           `json:"defaultProfile"`
		Profiles       []map[string]any `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(e.ok("", "config", "list", "-o", "json").out), &list); err != nil || list.DefaultProfile != seedName || len(list.Profiles) != 2 {
		t.Errorf("list json: %+v (%v)", list, err)
	}
	e.expect(2, "unknown output", "", "config", "list", "-o", "yaml")

	thumb := opensslSHA1OrSkip(t, strings.TrimSuffix(pfx, ".pfx")+".cer")
	show := e.ok("", "config", "show", "-p", seedName).out
	for _, want := range []string{"production-service (default)", thumb, "days left", "Secret store:"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	var sj struct {
		Profile     map[string]any `json:"profile"`
		Default     bool           `json:"default"`
		Certificate struct {
			ThumbprintSHA1 string    `json:"thumbprintSha1"`
			NotAfter       time.Time `json:"notAfter"`
			Error          string    `json:"error"`
		} `json:"certificate"`
	}
	if err := json.Unmarshal([]byte(e.ok("", "config", "show", "-o", "json").out), &sj); err != nil {
		t.Fatal(err)
	}
	if sj.Profile["name"] != seedName || !sj.Default || sj.Certificate.ThumbprintSHA1 != thumb || sj.Certificate.NotAfter.IsZero() {
		t.Errorf("show json: %+v", sj)
	}

	// A wrong stored password: show still works and says why.
	if err := secret.NewFile(e.home).Set(context.Background(), secret.Key(seedName, secret.CertificatePassword), "wrong"); err != nil {
		t.Fatal(err)
	}
	show = e.ok("", "config", "show", "-p", seedName).out
	if !strings.Contains(show, "cannot be opened: invalid certificate password") || strings.Contains(show, "wrong") {
		t.Errorf("show with a bad password:\n%s", show)
	}
	e.expect(1, "not found", "", "config", "show", "-p", "nope")
}

// opensslSHA1OrSkip is opensslSHA1 when openssl is installed.
func opensslSHA1OrSkip(t *testing.T, path string) string {
	t.Helper()
	needOpenSSL(t)
	return opensslSHA1(t, path)
}

// TestKeyringCreateAndDelete runs against a real Secret Service: `make test` (or
// scripts/with-keyring.sh) starts gnome-keyring in a private D-Bus session.
func TestKeyringCreateAndDelete(t *testing.T) {
	if os.Getenv("ENTRATOOL_TEST_KEYRING") != "1" {
		t.Skip("needs a Secret Service: run under scripts/with-keyring.sh (sets ENTRATOOL_TEST_KEYRING=1)")
	}
	e := newTestEnv(t)
	delete(e.vars, "ENTRATOOL_SECRET_STORE")
	name := fmt.Sprintf("kr-%d", time.Now().UnixNano())
	pfx := e.newCert("kr", testPassword)
	e.createProfile(name, pfx, testPassword, "--secret-store", "keyring")
	if e.profileJSON(name)["secretStore"] != "keyring" {
		t.Error("secretStore not saved")
	}
	if _, err := os.Stat(e.secretsPath()); !os.IsNotExist(err) {
		t.Error("the keyring profile wrote secrets.json")
	}
	kr, err := secret.Open(secret.KindKeyring, e.home, e.getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if got, err := kr.Get(ctx, secret.Key(name, secret.CertificatePassword)); err != nil || got != testPassword {
		t.Fatalf("keyring Get = %d bytes, %v; want the password", len(got), err)
	}
	// The stored password is what show and cert info use.
	if out := e.ok("", "cert", "info", "-p", name).out; !strings.Contains(out, "CN=kr") {
		t.Errorf("cert info with the keyring password:\n%s", out)
	}
	e.ok("", "config", "delete", "-p", name)
	if _, err := kr.Get(ctx, secret.Key(name, secret.CertificatePassword)); !errors.Is(err, secret.ErrNotFound) {
		t.Errorf("after delete, keyring Get err = %v, want ErrNotFound", err)
	}
}

// importWithSecrets carries a secret in every place SPEC §12 names: known-looking keys,
// a key-store option, and keys nested in unknown objects and arrays, in mixed case.
const importWithSecrets = `{
  "profiles": [
    {
      "name": "imp",
      "clientId": "` + seedClientID + `",
      "tenantId": "` + seedTenantID + `",
      "useCertificate": true,
      "certificateStore": "pkcs11",
      "certificateThumbprint": "0123456789ABCDEF0123456789ABCDEF01234567",
      "certificateStoreOptions": {"module": "/usr/lib/softhsm/libsofthsm2.so", "pin": "pin-value-4321", "tokenLabel": "ci"},
      "secretStore": "file",
      "clientSecret": "client-secret-value-1",
      "certificatePassword": "cert-password-value-2",
      "extra": {"Password": "nested-password-value-3", "apiSecretKey": "nested-secret-value-4", "keep":   [1, 2.50, "x"]},
      "list": [{"PIN": "list-pin-value-5"}, {"ok": true}],
      "futureOption": {"nested": [1, 2.50, "x"], "flag": true},
      "x-team": "platform   ops"
    }
  ]
}`

var importedSecretValues = []string{"pin-value-4321", "client-secret-value-1", "cert-password-value-2", "nested-password-value-3", "nested-secret-value-4", "list-pin-value-5"}

// What must survive the import byte for byte: unknown fields without secrets, and the
// rest of an unknown object that had one.
var importedKeptBytes = []string{
	`"futureOption": {"nested": [1, 2.50, "x"], "flag": true}`,
	`"x-team": "platform   ops"`,
	`"extra": {"keep":   [1, 2.50, "x"]}`,
	`"list": [{}, {"ok": true}]`,
}

func TestImportDropsSecretFields(t *testing.T) {
	e := newTestEnv(t)
	file := filepath.Join(e.dir, "with-secrets.json")
	if err := os.WriteFile(file, []byte(importWithSecrets), 0o600); err != nil {
		t.Fatal(err)
	}
	r := e.ok("", "config", "import", file)

	data, err := os.ReadFile(e.profilesPath())
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range importedSecretValues {
		if bytes.Contains(data, []byte(v)) {
			t.Errorf("profiles.json holds the imported secret %q:\n%s", v, data)
		}
		if strings.Contains(r.out+r.err, v) {
			t.Errorf("import printed the secret %q: %s", v, r)
		}
	}
	for _, raw := range importedKeptBytes {
		if !bytes.Contains(data, []byte(raw)) {
			t.Errorf("profiles.json lost %s:\n%s", raw, data)
		}
	}
	p := e.profileJSON("imp")
	if opts, _ := p["certificateStoreOptions"].(map[string]any); !reflect.DeepEqual(opts, map[string]any{"module": "/usr/lib/softhsm/libsofthsm2.so", "tokenLabel": "ci"}) {
		t.Errorf("certificateStoreOptions = %v, want module and tokenLabel only", p["certificateStoreOptions"])
	}
	if p["secretStore"] != "file" {
		t.Errorf("secretStore (where secrets live, not a secret) was dropped: %v", p)
	}

	// One warning line names every dropped field, and says how to set the secret.
	var lines []string
	for _, l := range strings.Split(r.err, "\n") {
		if strings.Contains(l, "clientSecret") {
			lines = append(lines, l)
		}
	}
	if len(lines) != 1 {
		t.Fatalf("want one warning naming the dropped fields, got %d: %s", len(lines), r)
	}
	for _, name := range []string{"clientSecret", "certificatePassword", "certificateStoreOptions.pin", "extra.Password", "extra.apiSecretKey", "list[0].PIN", "'imp'", "entratool config edit -p imp"} {
		if !strings.Contains(lines[0], name) {
			t.Errorf("warning does not name %s: %s", name, lines[0])
		}
	}

	out := e.ok("", "config", "export", "-p", "imp").out
	for _, v := range importedSecretValues {
		if strings.Contains(out, v) {
			t.Errorf("export printed the secret %q:\n%s", v, out)
		}
	}
	for _, raw := range importedKeptBytes {
		if !strings.Contains(out, raw) {
			t.Errorf("export lost %s:\n%s", raw, out)
		}
	}
}

// A profiles.json edited by hand to hold secrets: export and show -o json still print none,
// and keep everything else.
func TestExportOmitsSecretsWrittenIntoProfilesByHand(t *testing.T) {
	e := newTestEnv(t)
	if err := os.MkdirAll(e.home, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.profilesPath(), []byte(importWithSecrets), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"config", "export", "-p", "imp"},
		{"config", "show", "-p", "imp", "-o", "json"},
		{"config", "list", "-o", "json"},
	} {
		r := e.ok("", args...)
		for _, v := range importedSecretValues {
			if strings.Contains(r.out, v) {
				t.Errorf("%v printed the secret %q:\n%s", args, v, r.out)
			}
		}
		if !strings.Contains(r.out, "futureOption") || !strings.Contains(r.out, `"keep"`) {
			t.Errorf("%v lost the fields without secrets:\n%s", args, r.out)
		}
	}
	file := filepath.Join(e.dir, "export.json")
	r := e.ok("", "config", "export", "-p", "imp", "-o", file)
	data, _ := os.ReadFile(file)
	for _, v := range importedSecretValues {
		if bytes.Contains(data, []byte(v)) {
			t.Errorf("export file holds the secret %q", v)
		}
	}
	for _, raw := range importedKeptBytes {
		if !bytes.Contains(data, []byte(raw)) {
			t.Errorf("export file lost %s:\n%s", raw, data)
		}
	}
	if !strings.Contains(r.err, "clientSecret") || strings.Contains(r.err, "client-secret-value-1") {
		t.Errorf("export should name (only name) what it left out: %s", r)
	}
}

// secretProfiles makes a certificate profile (password stored) and a client-secret
// profile, both on the public cloud, each with a cached token.
func secretProfiles(e *testEnv) (cache *token.Cache, keys map[string]token.Key) {
	e.t.Helper()
	pfx := e.newCert("rebind", testPassword)
	e.createProfile("crt", pfx, testPassword)
	e.ok("old-client-secret", "config", "create", "--name", "sec", "--client-id", seedClientID, "--tenant-id", seedTenantID, "--client-secret-stdin")
	cache = &token.Cache{Dir: filepath.Join(e.home, "cache")}
	keys = map[string]token.Key{
		"crt": {Authority: profile.AuthorityPublic, TenantID: seedTenantID, ClientID: seedClientID, Scope: DefaultScope, Credential: "x5t:OLD"},
		"sec": {Authority: profile.AuthorityPublic, TenantID: seedTenantID, ClientID: seedClientID, Scope: DefaultScope, Credential: "secret"},
	}
	for _, k := range keys {
		if err := cache.Put(k, &token.Token{AccessToken: "cached", ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
			e.t.Fatal(err)
		}
	}
	return cache, keys
}

// storedKinds lists which secrets of profile name the file store holds.
func (e *testEnv) storedKinds(name string) map[string]string {
	e.t.Helper()
	got := map[string]string{}
	for k, v := range e.secrets() {
		if n, kind, _ := strings.Cut(k, "/"); n == name {
			got[kind] = v
		}
	}
	return got
}

// exportEdited exports profile name, changes its fields as set says (nil deletes), and
// returns the file.
func (e *testEnv) exportEdited(name string, set map[string]any) string {
	e.t.Helper()
	var doc struct {
		Profiles []map[string]any `json:"profiles"`
	}
	if err := json.Unmarshal([]byte(e.ok("", "config", "export", "-p", name).out), &doc); err != nil || len(doc.Profiles) != 1 {
		e.t.Fatalf("export: %v", err)
	}
	for k, v := range set {
		if v == nil {
			delete(doc.Profiles[0], k)
		} else {
			doc.Profiles[0][k] = v
		}
	}
	data, _ := json.Marshal(doc)
	file := filepath.Join(e.dir, fmt.Sprintf("%s-%d.json", name, time.Now().UnixNano()))
	if err := os.WriteFile(file, data, 0o600); err != nil {
		e.t.Fatal(err)
	}
	return file
}

func TestImportForceToAnotherAuthorityDeletesStoredSecrets(t *testing.T) {
	changes := []struct {
		name string
		set  map[string]any
	}{
		{"authorityHost", map[string]any{"authorityHost": "https://login.attacker.example"}},
		{"cloud", map[string]any{"cloud": "usgov"}},
		{"tenantId", map[string]any{"tenantId": "11111111-2222-3333-4444-555555555555"}},
		{"clientId", map[string]any{"clientId": "22222222-3333-4444-5555-666666666666"}},
	}
	for _, c := range changes {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t)
			cache, keys := secretProfiles(e)
			for _, name := range []string{"crt", "sec"} {
				r := e.ok("", "config", "import", "--force", e.exportEdited(name, c.set))
				if got := e.storedKinds(name); len(got) != 0 {
					t.Errorf("%s: after import --force changed %s, the store still holds %v", name, c.name, keysOfStrings(got))
				}
				for _, want := range []string{"'" + name + "'", "deleted", "entratool config edit -p " + name} {
					if !strings.Contains(r.err, want) {
						t.Errorf("%s: warning lacks %q: %s", name, want, r)
					}
				}
				if _, ok := cache.Get(keys[name]); ok {
					t.Errorf("%s: the cached token of the old authority survived", name)
				}
			}
			if c.name == "authorityHost" {
				// Without its secret the profile fails (or, on a terminal, asks) instead of
				// sending the old one; e2e/import_rebind_test.go proves no request leaves.
				e.expect(1, "no client secret for profile", "", "get-token", "-p", "sec", "--timeout", "5s")
			}
		})
	}
}

func TestImportForceSameIdentityKeepsStoredSecrets(t *testing.T) {
	e := newTestEnv(t)
	secretProfiles(e)
	for _, set := range []map[string]any{
		{"scope": "api://other/.default"},
		// The same authority, spelt differently.
		{"authorityHost": "HTTPS://Login.MicrosoftOnline.com/"},
		{"cloud": "public"},
		{"tenantId": strings.ToUpper(seedTenantID)},
	} {
		r := e.ok("", "config", "import", "--force", e.exportEdited("sec", set))
		if got := e.storedKinds("sec")[secret.ClientSecret]; got != "old-client-secret" {
			t.Errorf("import --force of %v lost the client secret (have %q): %s", set, got, r)
		}
		if strings.Contains(r.err, "deleted") {
			t.Errorf("import --force of %v warned about a deletion: %s", set, r)
		}
	}
}

func keysOfStrings(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func TestEditIdentityChangeDeletesStoredSecrets(t *testing.T) {
	cases := []struct {
		name    string
		profile string
		stdin   string
		args    []string
		want    map[string]string // what the store holds afterwards
	}{
		{"authority-host", "crt", "", []string{"--authority-host", "https://login.attacker.example"}, map[string]string{}},
		{"cloud", "crt", "", []string{"--cloud", "china"}, map[string]string{}},
		{"tenant-id", "crt", "", []string{"--tenant-id", "contoso.onmicrosoft.com"}, map[string]string{}},
		{"client-id", "sec", "", []string{"--client-id", "22222222-3333-4444-5555-666666666666"}, map[string]string{}},
		{"authority-host of a client secret", "sec", "", []string{"--authority-host", "https://login.attacker.example"}, map[string]string{}},
		{"scope only", "crt", "", []string{"--scope", "api://other/.default"}, map[string]string{secret.CertificatePassword: testPassword}},
		{"same authority spelt differently", "sec", "", []string{"--authority-host", "https://LOGIN.microsoftonline.com/"}, map[string]string{secret.ClientSecret: "old-client-secret"}},
		{"cloud public is the default authority", "sec", "", []string{"--cloud", "public"}, map[string]string{secret.ClientSecret: "old-client-secret"}},
		{"new authority with a new client secret", "sec", "brand-new-secret", []string{"--authority-host", "https://login.microsoftonline.us", "--client-secret-stdin"}, map[string]string{secret.ClientSecret: "brand-new-secret"}},
		{"new authority with the password again", "crt", testPassword, []string{"--cloud", "usgov", "--certificate-password-stdin"}, map[string]string{secret.CertificatePassword: testPassword}},
		{"new tenant with a client secret instead of the certificate", "crt", "brand-new-secret", []string{"--tenant-id", "contoso.onmicrosoft.com", "--client-secret-stdin"}, map[string]string{secret.ClientSecret: "brand-new-secret"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newTestEnv(t)
			cache, keys := secretProfiles(e)
			r := e.ok(c.stdin, append([]string{"config", "edit", "-p", c.profile}, c.args...)...)
			if got := e.storedKinds(c.profile); !reflect.DeepEqual(got, c.want) {
				t.Errorf("store holds %v (%d values), want %v: %s", keysOfStrings(got), len(got), keysOfStrings(c.want), r)
			}
			lost := len(c.want) == 0
			if warned := strings.Contains(r.err, "entratool config edit -p "+c.profile); warned != lost {
				t.Errorf("warning about the deleted secret: got %v, want %v: %s", warned, lost, r)
			}
			_, cached := cache.Get(keys[c.profile])
			switch {
			case lost && cached:
				t.Errorf("the cached token of the old authority survived %v", c.args)
			case c.name == "scope only" && !cached:
				t.Errorf("a scope change dropped the cached token")
			}
			// The other profile is untouched.
			other := map[string]string{"crt": "sec", "sec": "crt"}[c.profile]
			if len(e.storedKinds(other)) != 1 {
				t.Errorf("the secret of profile %s went too", other)
			}
		})
	}
}

// runTTY runs entratool as if on a terminal, with stdin answering the prompts.
func (e *testEnv) runTTY(stdin string, args ...string) result {
	e.t.Helper()
	var out, errb bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := Run(ctx, Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb, InTTY: true}, args, e.getenv)
	return result{code: code, out: out.String(), err: errb.String()}
}

func TestEditMenuIdentityChangeDeletesStoredSecret(t *testing.T) {
	e := newTestEnv(t)
	secretProfiles(e)
	// 7. Authority Host, then 9. Done.
	if r := e.runTTY("7\nhttps://login.attacker.example\n9\n", "config", "edit", "-p", "sec"); r.code != 0 || !strings.Contains(r.err, "entratool config edit -p sec") {
		t.Fatalf("menu edit of the authority: %s", r)
	}
	if got := e.storedKinds("sec"); len(got) != 0 {
		t.Errorf("menu authority change kept %v", keysOfStrings(got))
	}
	// 6. Tenant ID on the certificate profile.
	if r := e.runTTY("6\ncontoso.onmicrosoft.com\n9\n", "config", "edit", "-p", "crt"); r.code != 0 {
		t.Fatalf("menu edit of the tenant: %s", r)
	}
	if got := e.storedKinds("crt"); len(got) != 0 {
		t.Errorf("menu tenant change kept %v", keysOfStrings(got))
	}
}

// When the old secret cannot be deleted, nothing is written: the profile keeps its old
// authority together with its secret, and the command says what to do.
func TestRebindFailsBeforeWritingWhenTheSecretCannotBeDeleted(t *testing.T) {
	e := newTestEnv(t)
	secretProfiles(e)
	moved := e.exportEdited("sec", map[string]any{"authorityHost": "https://login.attacker.example"})
	good, err := os.ReadFile(e.secretsPath())
	if err != nil {
		t.Fatal(err)
	}
	// A secrets.json that does not parse: the file store can neither read nor delete.
	if err := os.WriteFile(e.secretsPath(), []byte("{\"sec/client-secret\": "), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(e.profilesPath())
	for _, args := range [][]string{
		{"config", "import", "--force", moved},
		{"config", "edit", "-p", "sec", "--authority-host", "https://login.attacker.example"},
	} {
		r := e.run("", args...)
		if r.code != 1 || !strings.Contains(r.err, "run the command again") || !strings.Contains(r.err, "'sec'") {
			t.Errorf("%v: want exit 1 naming the profile and the fix, got %s", args, r)
		}
		if after, _ := os.ReadFile(e.profilesPath()); !bytes.Equal(before, after) {
			t.Errorf("%v changed profiles.json although the secret could not be deleted", args)
		}
	}
	// Once the store works again, the same import goes through and deletes the secret.
	if err := os.WriteFile(e.secretsPath(), good, 0o600); err != nil {
		t.Fatal(err)
	}
	e.ok("", "config", "import", "--force", moved)
	if got := e.storedKinds("sec"); len(got) != 0 {
		t.Errorf("secret kept: %v", keysOfStrings(got))
	}
}

// TestKeyringImportRebind runs against a real Secret Service (scripts/with-keyring.sh).
func TestKeyringImportRebind(t *testing.T) {
	if os.Getenv("ENTRATOOL_TEST_KEYRING") != "1" {
		t.Skip("needs a Secret Service: run under scripts/with-keyring.sh (sets ENTRATOOL_TEST_KEYRING=1)")
	}
	e := newTestEnv(t)
	delete(e.vars, "ENTRATOOL_SECRET_STORE")
	name := fmt.Sprintf("kr-rebind-%d", time.Now().UnixNano())
	e.ok("keyring-client-secret", "config", "create", "--name", name, "--client-id", seedClientID, "--tenant-id", seedTenantID, "--client-secret-stdin", "--secret-store", "keyring")
	kr, err := secret.Open(secret.KindKeyring, e.home, e.getenv)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	key := secret.Key(name, secret.ClientSecret)
	t.Cleanup(func() { kr.Delete(context.Background(), key) })
	if got, err := kr.Get(ctx, key); err != nil || got != "keyring-client-secret" {
		t.Fatalf("keyring Get = %d bytes, %v", len(got), err)
	}
	e.ok("", "config", "import", "--force", e.exportEdited(name, map[string]any{"scope": "api://x/.default"}))
	if _, err := kr.Get(ctx, key); err != nil {
		t.Fatalf("an import that keeps the authority lost the keyring secret: %v", err)
	}
	r := e.ok("", "config", "import", "--force", e.exportEdited(name, map[string]any{"authorityHost": "https://login.attacker.example"}))
	if _, err := kr.Get(ctx, key); !errors.Is(err, secret.ErrNotFound) {
		t.Errorf("after import --force to another authority, keyring Get err = %v, want ErrNotFound", err)
	}
	if !strings.Contains(r.err, "entratool config edit -p "+name) {
		t.Errorf("no warning: %s", r)
	}
}
