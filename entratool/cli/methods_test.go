package cli

import (
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/emulator"
)

// SPEC §14 on the command line: federated and managed-identity profiles, the reserved
// env profile.

// fakeJWT is an unsigned JWT whose payload has exp; only its shape matters to show and
// doctor, which never verify it.
func fakeJWT(exp time.Time) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." +
		enc([]byte(fmt.Sprintf(`{"iss":"https://token.actions.githubusercontent.com","sub":"repo:o/r","exp":%d}`, exp.Unix()))) +
		".c2lnbmF0dXJl"
}

func (e *testEnv) writeToken(name string, exp time.Time) (path, tok string) {
	e.t.Helper()
	tok = fakeJWT(exp)
	path = filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path, tok
}

var idFlags = []string{"--client-id", seedClientID, "--tenant-id", seedTenantID}

const miClientID = "11111111-2222-3333-4444-555555555555"

func TestConfigCreateFederated(t *testing.T) {
	e := newTestEnv(t)
	// A token file that does not exist yet (CI mounts it later) draws a warning only.
	missing := filepath.Join(e.dir, "later", "token")
	r := e.ok("", append([]string{"config", "create", "--name", "aks", "--federated-token-file", missing}, idFlags...)...)
	if r.out != "✓ Profile 'aks' created successfully\n" || !strings.Contains(r.err, "does not exist yet") {
		t.Errorf("%s", r)
	}
	p := e.profileJSON("aks")
	if p["authMethod"] != "federated" || p["federatedTokenFile"] != missing || p["useCertificate"] != false || p["clientId"] != seedClientID {
		t.Errorf("profile %v", p)
	}
	if len(e.secrets()) != 0 {
		t.Errorf("a federated profile stored secrets: %v", e.secrets())
	}

	e.ok("", append([]string{"config", "create", "--name", "gha", "--federated-token-source", "github-actions", "--federated-audience", "api://custom"}, idFlags...)...)
	if p := e.profileJSON("gha"); p["federatedTokenSource"] != "github-actions" || p["federatedAudience"] != "api://custom" || p["federatedTokenFile"] != nil {
		t.Errorf("profile %v", p)
	}
	e.ok("", append([]string{"config", "create", "--name", "azp", "--federated-token-source", "azure-pipelines", "--service-connection-id", "sc-1"}, idFlags...)...)
	if p := e.profileJSON("azp"); p["serviceConnectionId"] != "sc-1" {
		t.Errorf("profile %v", p)
	}
	// Without a terminal the client ID is still needed.
	e.expect(2, "missing --client-id", "", "config", "create", "--name", "x", "--federated-token-source", "github-actions")
}

func TestConfigCreateManagedIdentity(t *testing.T) {
	e := newTestEnv(t)
	// System-assigned: no client ID, no tenant ID, nothing stored, no prompt.
	e.ok("", "config", "create", "--name", "vm", "--managed-identity")
	p := e.profileJSON("vm")
	if p["authMethod"] != "managedIdentity" || p["clientId"] != "" || p["managedIdentityClientId"] != nil {
		t.Errorf("profile %v", p)
	}
	// User-assigned: clientId mirrors the identity's client ID (the appid of its tokens).
	e.ok("", "config", "create", "--name", "uami", "--managed-identity", "--managed-identity-client-id", miClientID, "--tenant-id", seedTenantID)
	p = e.profileJSON("uami")
	if p["managedIdentityClientId"] != miClientID || p["clientId"] != miClientID || p["tenantId"] != seedTenantID {
		t.Errorf("profile %v", p)
	}
	if len(e.secrets()) != 0 {
		t.Errorf("secrets stored: %v", e.secrets())
	}
}

func TestConfigCreateMethodConflicts(t *testing.T) {
	e := newTestEnv(t)
	pfx := filepath.Join(e.dir, "c.pfx")
	for _, c := range []struct {
		want string
		args []string
	}{
		{"--federated-token-file and --federated-token-source", []string{"--federated-token-file", "/t", "--federated-token-source", "github-actions"}},
		{"--federated-token-source \"gitlab\"", []string{"--federated-token-source", "gitlab"}},
		{"choose different authentication methods", []string{"--federated-token-file", "/t", "--certificate", pfx}},
		{"choose different authentication methods", []string{"--federated-token-source", "github-actions", "--client-secret-stdin"}},
		{"choose different authentication methods", []string{"--managed-identity", "--federated-token-file", "/t"}},
		{"choose different authentication methods", []string{"--managed-identity", "--certificate-store", "pkcs11"}},
		{"--federated-audience needs", []string{"--federated-audience", "api://x", "--certificate", pfx}},
		{"--service-connection-id needs --federated-token-source azure-pipelines", []string{"--federated-token-source", "github-actions", "--service-connection-id", "x"}},
		{"--managed-identity-client-id needs --managed-identity", []string{"--managed-identity-client-id", miClientID}},
		{"--managed-identity-client-id \"nope\" is not a GUID", []string{"--managed-identity", "--managed-identity-client-id", "nope"}},
		{"--managed-identity-client-id", []string{"--managed-identity", "--client-id", seedClientID}},
	} {
		args := append([]string{"config", "create", "--name", "x"}, c.args...)
		if !slices.Contains(c.args, "--client-id") {
			args = append(args, "--tenant-id", seedTenantID)
		}
		r := e.run("", args...)
		if r.code != 2 || !strings.Contains(r.err, c.want) || strings.Count(strings.TrimSpace(r.err), "\n") != 0 {
			t.Errorf("%v: want exit 2 with one line containing %q, got %s", c.args, c.want, r)
		}
	}
	if _, err := os.Stat(e.profilesPath()); err == nil {
		t.Error("a refused create wrote profiles.json")
	}
}

func TestEnvNameIsReserved(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("c", testPassword)
	const want = "env is reserved for the profile built from AZURE_* variables"
	e.expect(2, want, testPassword, append([]string{"config", "create", "--name", "env", "--certificate", pfx, "--certificate-password-stdin"}, idFlags...)...)
	e.expect(2, want, "", append([]string{"-p", "env", "config", "create", "--managed-identity"}, idFlags[2:]...)...)
	e.createProfile("real", pfx, testPassword)
	azure := map[string]string{"AZURE_TENANT_ID": seedTenantID, "AZURE_CLIENT_ID": seedClientID, "AZURE_CLIENT_SECRET": "s3cret-from-env"}
	for k, v := range azure {
		e.vars[k] = v
	}
	for _, args := range [][]string{
		{"config", "edit", "-p", "env", "--scope", "api://x/.default"},
		{"config", "delete", "-p", "env"},
		{"config", "delete", "env"},
		{"config", "rotate", "-p", "env", "--certificate", pfx},
		{"config", "export", "-p", "env"},
		{"config", "use", "env"},
	} {
		r := e.run("", args...)
		if r.code != 2 || !strings.Contains(r.err, "not stored") || strings.Contains(r.err, "s3cret-from-env") {
			t.Errorf("%v: %s", args, r)
		}
	}
}

func TestEditSwitchesMethods(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("c", testPassword)
	e.createProfile("p", pfx, testPassword)
	pwKey := secret.Key("p", secret.CertificatePassword)
	if e.secrets()[pwKey] == "" {
		t.Fatal("setup: no password stored")
	}
	tok, _ := e.writeToken("token", time.Now().Add(time.Hour))
	e.ok("", "config", "edit", "-p", "p", "--federated-token-file", tok)
	p := e.profileJSON("p")
	if p["authMethod"] != "federated" || p["certificatePath"] != nil || p["useCertificate"] != false || p["federatedTokenFile"] != tok {
		t.Errorf("after switching to federated: %v", p)
	}
	if _, ok := e.secrets()[pwKey]; ok {
		t.Error("the certificate password outlived the certificate")
	}
	e.ok("", "config", "edit", "-p", "p", "--managed-identity", "--managed-identity-client-id", miClientID)
	p = e.profileJSON("p")
	if p["authMethod"] != "managedIdentity" || p["federatedTokenFile"] != nil || p["managedIdentityClientId"] != miClientID || p["clientId"] != miClientID {
		t.Errorf("after switching to managed identity: %v", p)
	}
	e.ok("the-secret", "config", "edit", "-p", "p", "--client-secret-stdin", "--client-id", seedClientID)
	p = e.profileJSON("p")
	if p["authMethod"] != nil || p["managedIdentityClientId"] != nil || p["clientId"] != seedClientID {
		t.Errorf("after switching to a secret: %v", p)
	}
	if e.secrets()[secret.Key("p", secret.ClientSecret)] != "the-secret" {
		t.Error("client secret not stored")
	}
	e.ok("", "config", "edit", "-p", "p", "--federated-token-source", "github-actions")
	if _, ok := e.secrets()[secret.Key("p", secret.ClientSecret)]; ok {
		t.Error("the client secret outlived the switch to a federated token")
	}
	e.expect(2, "--federated-token-file and --federated-token-source", "", "config", "edit", "-p", "p", "--federated-token-file", tok, "--federated-token-source", "github-actions")
	// A password for a profile that has no certificate.
	e.expect(2, "uses a federated token", "pw", "config", "edit", "-p", "p", "--certificate-password-stdin")
}

func TestCertCommandsRefuseOtherMethods(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("c", testPassword)
	e.createProfile("cert", pfx, testPassword)
	e.ok("", append([]string{"config", "create", "--name", "fic", "--federated-token-source", "github-actions"}, idFlags...)...)
	e.ok("", "config", "create", "--name", "mi", "--managed-identity")
	e.expect(1, "profile 'fic' uses a federated token: there is no certificate", "", "cert", "info", "-p", "fic")
	e.expect(1, "profile 'mi' uses a managed identity: there is no certificate", "", "cert", "export-public", "-p", "mi", "-o", filepath.Join(e.dir, "x.cer"))
	e.expect(2, "profile 'fic' uses a federated token: there is no certificate", "", "cert", "renew", "-p", "fic")
	r := e.ok("", "cert", "check", "--all")
	if strings.Contains(r.out+r.err, "fic") || strings.Contains(r.out+r.err, "'mi'") || !strings.Contains(r.out, "cert") {
		t.Errorf("cert check --all: %s", r)
	}
	r = e.ok("", "config", "list")
	for _, w := range []string{"federated token (github-actions)", "managed identity (system-assigned)", "certificate"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("config list lacks %q:\n%s", w, r.out)
		}
	}
}

func TestConfigShowFederatedAndManagedIdentity(t *testing.T) {
	e := newTestEnv(t)
	exp := time.Now().Add(90 * time.Minute).UTC().Truncate(time.Second)
	tokFile, tok := e.writeToken("token", exp)
	e.ok("", append([]string{"config", "create", "--name", "fic", "--federated-token-file", tokFile}, idFlags...)...)
	r := e.ok("", "config", "show", "-p", "fic")
	for _, w := range []string{"federated token (file " + tokFile + ")", "Audience:", profile.DefaultFederatedAudience,
		"Token file:", "present", "expires " + exp.Format("2006-01-02 15:04:05 UTC")} {
		if !strings.Contains(r.out, w) {
			t.Errorf("show lacks %q:\n%s", w, r.out)
		}
	}
	if strings.Contains(r.out, tok) || strings.Contains(r.out, strings.Split(tok, ".")[1]) {
		t.Errorf("show printed the token:\n%s", r.out)
	}
	r = e.ok("", "config", "show", "-p", "fic", "-o", "json")
	if !strings.Contains(r.out, `"tokenFile"`) || strings.Contains(r.out, tok) {
		t.Errorf("json: %s", r.out)
	}
	os.Remove(tokFile)
	if r := e.ok("", "config", "show", "-p", "fic"); !strings.Contains(r.out, "missing") {
		t.Errorf("missing token file:\n%s", r.out)
	}

	e.ok("", "config", "create", "--name", "mi", "--managed-identity", "--managed-identity-client-id", miClientID)
	e.vars["IDENTITY_ENDPOINT"], e.vars["IDENTITY_HEADER"] = "http://127.0.0.1:41741/msi/token", "h"
	r = e.ok("", "config", "show", "-p", "mi")
	for _, w := range []string{"managed identity (user-assigned " + miClientID + ")", "App Service"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("show lacks %q:\n%s", w, r.out)
		}
	}
}

func TestManagedIdentitySource(t *testing.T) {
	for _, c := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"IDENTITY_ENDPOINT": "x", "IDENTITY_HEADER": "h"}, "App Service"},
		{map[string]string{"IDENTITY_ENDPOINT": "x", "IDENTITY_HEADER": "h", "IDENTITY_SERVER_THUMBPRINT": "t"}, "Service Fabric"},
		{map[string]string{"IDENTITY_ENDPOINT": "x", "IMDS_ENDPOINT": "y"}, "Azure Arc"},
		{map[string]string{"MSI_ENDPOINT": "x"}, "Cloud Shell"},
		{map[string]string{"MSI_ENDPOINT": "x", "MSI_SECRET": "s"}, "Azure ML"},
		{map[string]string{}, "IMDS"},
	} {
		got := profile.DetectMISource(func(k string) string { return c.env[k] })
		if got.Name != c.want {
			t.Errorf("%v: %q, want %q", c.env, got.Name, c.want)
		}
	}
}

func TestDoctorFederatedAndManagedIdentity(t *testing.T) {
	e := newTestEnv(t)
	tokFile, _ := e.writeToken("token", time.Now().Add(time.Hour))
	e.ok("", append([]string{"config", "create", "--name", "fic", "--federated-token-file", tokFile}, idFlags...)...)
	e.ok("", append([]string{"config", "create", "--name", "gha", "--federated-token-source", "github-actions"}, idFlags...)...)
	e.ok("", "config", "create", "--name", "mi", "--managed-identity")
	// The keyring must never be asked for these profiles: with it chosen and no D-Bus,
	// any attempt would show.
	e.vars["ENTRATOOL_SECRET_STORE"] = "keyring"
	e.vars["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent"
	r := e.run("", "doctor")
	for _, w := range []string{"✓ profile fic: federated token file " + tokFile + " present",
		"✗ profile gha: ACTIONS_ID_TOKEN_REQUEST_URL",
		"✓ profile mi: managed identity (system-assigned) through IMDS"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("doctor lacks %q:\n%s", w, r)
		}
	}
	if strings.Contains(r.out, "secret store") || strings.Contains(r.out, "keyring") {
		t.Errorf("doctor asked the keyring:\n%s", r)
	}
	e.vars["ACTIONS_ID_TOKEN_REQUEST_URL"], e.vars["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "https://x", "y"
	os.WriteFile(tokFile, []byte(fakeJWT(time.Now().Add(-time.Minute))), 0o600)
	r = e.run("", "doctor")
	if !strings.Contains(r.out, "✓ profile gha: ACTIONS_ID_TOKEN_REQUEST_URL and ACTIONS_ID_TOKEN_REQUEST_TOKEN set") ||
		!strings.Contains(r.out, "✗ profile fic: the token in "+tokFile+" expired") {
		t.Errorf("doctor:\n%s", r)
	}
}

func TestEnvProfileCommands(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("envcert", testPassword)
	e.vars["AZURE_TENANT_ID"], e.vars["AZURE_CLIENT_ID"] = seedTenantID, seedClientID
	e.vars["AZURE_CLIENT_CERTIFICATE_PATH"], e.vars["AZURE_CLIENT_CERTIFICATE_PASSWORD"] = pfx, testPassword
	r := e.ok("", "config", "show", "-p", "env")
	for _, w := range []string{"env (from the environment)", seedClientID, "certificate", "Thumbprint (SHA-1)"} {
		if !strings.Contains(r.out, w) {
			t.Errorf("show -p env lacks %q:\n%s", w, r)
		}
	}
	r = e.ok("", "cert", "info", "-p", "env")
	if !strings.Contains(r.out, "CN=envcert") {
		t.Errorf("cert info -p env:\n%s", r)
	}
	// Nothing stored, and the env profile is the one in use: list shows it, marked.
	r = e.ok("", "config", "list")
	if !strings.Contains(r.out, "env (from the environment)") {
		t.Errorf("list:\n%s", r)
	}
	e.createProfile("stored", pfx, testPassword)
	r = e.ok("", "config", "list")
	if strings.Contains(r.out, "from the environment") {
		t.Errorf("list shows env beside stored profiles:\n%s", r)
	}
	// The helpers' allow-lists are the environment's: setup cannot add to them.
	e.expect(2, "add it to ENTRATOOL_GIT_HOSTS", "", "git", "setup", "-p", "env", "--url", "https://git.example.com/repo")
	e.expect(2, "ENTRATOOL_REGISTRIES", "", "docker", "setup", "-p", "env", "--registry", "r.azurecr.io")
	// Without a credential variable: exit 1, naming them.
	delete(e.vars, "AZURE_CLIENT_CERTIFICATE_PATH")
	e.expect(1, "AZURE_CLIENT_SECRET", "", "config", "show", "-p", "env")
}

func TestCompleteFederatedTokenSource(t *testing.T) {
	e := newTestEnv(t)
	for _, cmd := range []string{"create", "edit"} {
		got, dir := e.complete("config", cmd, "--federated-token-source", "")
		if strings.Join(got, ",") != "github-actions,azure-pipelines" || dir != ":4" {
			t.Errorf("config %s: %v %s", cmd, got, dir)
		}
	}
}

// The menu's two new answers, through the run function: 3 asks for the token file or
// source (then a service connection for azure-pipelines, and the audience); 4 for the
// identity's client ID. Neither asks for a password or opens a secret store.
func TestRunConfigCreateMenuFederatedAndManagedIdentity(t *testing.T) {
	e := newTestEnv(t)
	// The keyring, which a secret would be stored in, is unreachable: never asked.
	e.vars["ENTRATOOL_SECRET_STORE"] = "keyring"
	e.vars["DBUS_SESSION_BUS_ADDRESS"] = "unix:path=/nonexistent"
	answers := strings.Join([]string{"azp", seedClientID, seedTenantID, "3", "azure-pipelines", "sc-9", "", ""}, "\n") + "\n"
	env, out, errb := e.runEnv(answers, true)
	if err := runConfigCreate(t.Context(), &createOptions{configEnv: env}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb)
	}
	inOrder(t, errb.String(), "1. Client Secret", "2. Certificate", "3. Federated token", "4. Managed identity", "Select: ",
		"Federated token file (or github-actions, azure-pipelines): ", "Service connection ID", "Audience (empty for api://AzureADTokenExchange): ", "Scope: ")
	if strings.Contains(errb.String(), "password") || strings.Contains(errb.String(), "secret store") {
		t.Errorf("asked for a secret:\n%s", errb)
	}
	p := e.profileJSON("azp")
	if p["federatedTokenSource"] != "azure-pipelines" || p["serviceConnectionId"] != "sc-9" || p["federatedAudience"] != nil || out.String() != "✓ Profile 'azp' created successfully\n" {
		t.Errorf("profile %v, stdout %q", p, out)
	}

	answers = strings.Join([]string{"mi", seedClientID, seedTenantID, "4", "not-a-guid", miClientID, ""}, "\n") + "\n"
	env, _, errb = e.runEnv(answers, true)
	if err := runConfigCreate(t.Context(), &createOptions{configEnv: env}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb)
	}
	inOrder(t, errb.String(), "Select: ", "Managed identity client ID (empty for system-assigned): ", "not a GUID",
		"Managed identity client ID (empty for system-assigned): ", "Scope: ")
	if p := e.profileJSON("mi"); p["authMethod"] != "managedIdentity" || p["managedIdentityClientId"] != miClientID || p["clientId"] != miClientID || p["tenantId"] != seedTenantID {
		t.Errorf("profile %v", p)
	}
}

// The seed's menu with SPEC §14's answers after it, on a real terminal.
func TestInteractiveCreateManagedIdentity(t *testing.T) {
	bin := buildEntratool(t)
	e := newTestEnv(t)
	env := []string{"ENTRATOOL_HOME=" + e.home, "ENTRATOOL_SECRET_STORE=file", "HOME=" + e.dir, "PATH=" + os.Getenv("PATH"), "TERM=dumb"}
	s := startPTY(t, bin, env, "config", "create")
	s.Expect("Profile name: ")
	s.TypeLine("vm")
	s.Expect("Client ID: ")
	s.TypeLine(seedClientID)
	s.Expect("Tenant ID: ")
	s.TypeLine(seedTenantID)
	s.Expect("4. Managed identity")
	s.Expect("Select: ")
	s.TypeLine("4")
	s.Expect("Managed identity client ID (empty for system-assigned): ")
	s.TypeLine("")
	s.Expect("Scope: ")
	s.TypeLine("")
	code, out := s.Wait()
	if code != 0 {
		t.Fatalf("exit %d:\n%s", code, out)
	}
	inOrder(t, out, "Authentication method:", "1. Client Secret", "2. Certificate", "3. Federated token", "4. Managed identity",
		"Select: ", "Managed identity client ID (empty for system-assigned): ", "Scope: ", "✓ Profile 'vm' created successfully")
	if strings.Contains(out, "password") {
		t.Errorf("asked for a password:\n%s", out)
	}
	if p := e.profileJSON("vm"); p["authMethod"] != "managedIdentity" || p["clientId"] != "" || p["tenantId"] != seedTenantID {
		t.Errorf("profile %v", p)
	}
}

// get-token -p env signs in with the AZURE_* variables, stores nothing, and needs no
// profiles.json.
func TestEnvProfileGetToken(t *testing.T) {
	h := newHeadless(t)
	const envSecret = "env-Secret-42"
	h.emu.RegisterApp(emulator.App{TenantID: seedTenantID, ClientID: seedClientID, Secrets: []string{envSecret}})
	azure := []string{"AZURE_TENANT_ID=" + seedTenantID, "AZURE_CLIENT_ID=" + seedClientID,
		"AZURE_CLIENT_SECRET=" + envSecret, "AZURE_AUTHORITY_HOST=" + h.emu.URL}
	h.tokenWorks("env", azure...)
	// Implicitly: nothing stored, the ids set.
	r := h.run("", azure, "get-token", "-o", "json")
	if r.code != 0 || !strings.Contains(r.out, seedClientID) {
		t.Fatalf("implicit env profile: %s", r)
	}
	r = h.run("", azure, "env", "-p", "env")
	if r.code != 0 || !strings.Contains(r.out, "ENTRA_ACCESS_TOKEN=") || strings.Contains(r.out+r.err, envSecret) {
		t.Fatalf("env -p env: %s", r)
	}
	if _, err := os.Stat(h.e.secretsPath()); err == nil {
		t.Error("a secret was stored")
	}
	if _, err := os.Stat(h.e.profilesPath()); err == nil {
		t.Error("profiles.json was written")
	}
}
