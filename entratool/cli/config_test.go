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
		_, err := parseImport("f.json", []byte(c.in))
		if err == nil || !strings.HasPrefix(err.Error(), c.want) {
			t.Errorf("parseImport(%q) = %v, want prefix %q", c.in, err, c.want)
		}
	}
	for _, in := range []string{
		`{"name":"a","clientId":"` + seedClientID + `","tenantId":"t.com"}`,
		`[{"name":"a"},{"name":"b"}]`,
		`{"profiles":[{"name":"a"}],"defaultProfile":"a"}`,
		"\uFEFF{\"name\":\"a\"}",
	} {
		if _, err := parseImport("f.json", []byte(in)); err != nil {
			t.Errorf("parseImport(%q): %v", in, err)
		}
	}
}

func FuzzParseImport(f *testing.F) {
	for _, s := range []string{
		`{"name":"a","clientId":"` + seedClientID + `","tenantId":"t.com","x":{"y":[1]}}`,
		`[{"name":"a"},{"name":"b"}]`,
		`{"profiles":[{"name":"a"}],"defaultProfile":"a"}`,
		"\uFEFF{\"name\":\"a\"}",
		`{"name": "a",, }`,
		"[", "{", "", "null", `"x"`, `{"profiles": null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := parseImport("f.json", data)
		if err != nil {
			var se *profile.SyntaxError
			if errors.As(err, &se) && (se.Line < 1 || se.Column < 1) {
				t.Fatalf("position %d:%d out of range: %v", se.Line, se.Column, err)
			}
			return
		}
		// What was accepted must survive a rewrite and a second read unchanged.
		again, err := profile.Parse("f.json", cfg.Marshal())
		if err != nil {
			t.Fatalf("re-reading the marshalled import: %v", err)
		}
		if !bytes.Equal(again.Marshal(), cfg.Marshal()) {
			t.Fatalf("marshal not stable:\n%s\n%s", cfg.Marshal(), again.Marshal())
		}
	})
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
