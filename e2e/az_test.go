package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/hashicorp/go-azure-sdk/sdk/auth"
	"github.com/hashicorp/go-azure-sdk/sdk/environments"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/helpers/azcli"
)

const (
	armAudience = "https://management.azure.com"
	// az's default resource (and --resource-type arm): active_directory_resource_id.
	armV1Audience  = "https://management.core.windows.net/"
	graphAudience  = "https://graph.microsoft.com"
	subscriptionID = "11111111-2222-3333-4444-555555555555"
	otherTenant    = "00000000-1111-2222-3333-444444444444"
)

// azWorld is a world with a certificate profile and the az shim installed by
// `entratool az-shim install` into shims, which is the whole of PATH (so no real az
// on this machine can answer instead).
type azWorld struct {
	*world
	shims string
}

func newAzWorld(t *testing.T, p *profile.Profile) *azWorld {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("the SDKs run az through /bin/sh here")
	}
	if _, err := os.Stat(filepath.Join(binDir, "az-entra")); err != nil {
		t.Fatalf("az-entra was not built: %v", err)
	}
	w := newWorld(t)
	cf := w.newCert("az", "az-pw")
	w.register(cf.leaf)
	p.UseCertificate, p.CertificatePath = true, cf.pfx
	w.saveProfile(p, cf.password)
	aw := &azWorld{world: w, shims: filepath.Join(w.dir, "shims")}
	out := w.mustRun("", "entratool", "az-shim", "install", "--dir", aw.shims)
	for _, n := range []string{"az", "azd"} {
		dest, err := os.Readlink(filepath.Join(aw.shims, n))
		if err != nil || dest != filepath.Join(binDir, "az-entra") {
			t.Fatalf("%s -> %q (%v) after install:\n%s", n, dest, err, out)
		}
	}
	w.env["PATH"] = aw.shims
	return aw
}

// setProcessEnv gives this test process the world's environment, for SDK code that
// runs az and azd from here, as an application would.
func (w *azWorld) setProcessEnv(t *testing.T) {
	for k, v := range w.env {
		t.Setenv(k, v)
	}
	for _, k := range []string{"ENTRATOOL_PROFILE", "ENTRATOOL_CACHE_DIR", "ENTRATOOL_DEBUG", "AZURE_TOKEN_CREDENTIALS", "AZUREPS_HOST_ENVIRONMENT"} {
		t.Setenv(k, "")
		os.Unsetenv(k)
	}
}

// runPath runs an executable by path with the world's environment (and extra entries).
func (w *azWorld) runPath(path string, extra []string, args ...string) (string, string, int) {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(w.environ(), extra...)
	return runCmd(w.t, cmd)
}

func (w *azWorld) az(args ...string) (string, string, int) {
	w.t.Helper()
	return w.runPath(filepath.Join(w.shims, "az"), nil, args...)
}

func (w *azWorld) mustAz(extra []string, args ...string) string {
	w.t.Helper()
	out, errOut, code := w.runPath(filepath.Join(w.shims, "az"), extra, args...)
	if code != 0 {
		w.t.Fatalf("az %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
	}
	return out
}

// The Go SDK's AzureCLICredential, AzureDeveloperCLICredential and
// DefaultAzureCredential get tokens the emulator issued, with the token's expiry, while
// az runs in several time zones.
func TestAzSDKCredentials(t *testing.T) {
	// Settle this process's own zone before TZ is changed for the az children: Go
	// reads TZ when local time is first used.
	_ = time.Local.String()
	w := newAzWorld(t, &profile.Profile{Name: "az", Scope: graph})
	w.setProcessEnv(t)
	ctx := context.Background()
	for _, zone := range []string{"UTC", "Asia/Kolkata", "America/St_Johns"} {
		t.Run(strings.ReplaceAll(zone, "/", "_"), func(t *testing.T) {
			t.Setenv("TZ", zone)
			cli, err := azidentity.NewAzureCLICredential(nil)
			if err != nil {
				t.Fatal(err)
			}
			for scope, aud := range map[string]string{
				armAudience + "/.default":   armAudience,
				armV1Audience + "/.default": armV1Audience,
			} {
				tok, err := cli.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{scope}})
				if err != nil {
					t.Fatalf("AzureCLICredential %s: %v", scope, err)
				}
				cl := w.claims(tok.Token, aud)
				if tok.ExpiresOn.Unix() != cl.ExpiresAt.Unix() {
					t.Fatalf("AzureCLICredential ExpiresOn %v, token exp %v", tok.ExpiresOn, cl.ExpiresAt)
				}
				if cl.AppID != clientID || cl.TenantID != tenantID {
					t.Fatalf("claims %+v", cl)
				}
			}

			azd, err := azidentity.NewAzureDeveloperCLICredential(nil)
			if err != nil {
				t.Fatal(err)
			}
			tok, err := azd.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graph}})
			if err != nil {
				t.Fatalf("AzureDeveloperCLICredential: %v", err)
			}
			if cl := w.claims(tok.Token, graphAudience); tok.ExpiresOn.Unix() != cl.ExpiresAt.Unix() {
				t.Fatalf("AzureDeveloperCLICredential ExpiresOn %v, token exp %v", tok.ExpiresOn, cl.ExpiresAt)
			}
		})
	}

	// The tenant the application names is passed as --tenant / --tenant-id: the
	// profile's is accepted, another refused.
	cli, _ := azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: tenantID, Subscription: subscriptionID})
	if tok, err := cli.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graph}}); err != nil {
		t.Fatalf("own tenant: %v", err)
	} else {
		w.claims(tok.Token, graphAudience)
	}
	w.emu.ResetCounts()
	cli, _ = azidentity.NewAzureCLICredential(&azidentity.AzureCLICredentialOptions{TenantID: otherTenant})
	if _, err := cli.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graph}}); err == nil || !strings.Contains(err.Error(), "is not the tenant of entratool profile 'az'") {
		t.Fatalf("other tenant: %v", err)
	}
	azd, _ := azidentity.NewAzureDeveloperCLICredential(&azidentity.AzureDeveloperCLICredentialOptions{TenantID: otherTenant})
	if _, err := azd.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graph}}); err == nil || !strings.Contains(err.Error(), "is not the tenant of entratool profile 'az'") {
		t.Fatalf("azd, other tenant: %v", err)
	}
	if c := w.emu.Counts(); c.Token != 0 {
		t.Fatalf("%d token requests for a tenant the profile is not in", c.Token)
	}

	// DefaultAzureCredential, restricted to the developer credentials (so it does not
	// probe for a managed identity), reaches the shim first.
	t.Setenv("AZURE_TOKEN_CREDENTIALS", "dev")
	dac, err := azidentity.NewDefaultAzureCredential(nil)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := dac.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://vault.azure.net/.default"}})
	if err != nil {
		t.Fatalf("DefaultAzureCredential: %v", err)
	}
	if cl := w.claims(tok.Token, "https://vault.azure.net"); tok.ExpiresOn.Unix() != cl.ExpiresAt.Unix() {
		t.Fatalf("DefaultAzureCredential ExpiresOn %v, token exp %v", tok.ExpiresOn, cl.ExpiresAt)
	}
}

// Terraform's azurerm/azuread providers (use_cli) authenticate through go-azure-sdk's
// Azure CLI authorizer: `az version`, `az account show`, (`az account list`), then
// `az account get-access-token --scope S --tenant T|--subscription S -o=json`.
func TestAzTerraformAuthorizer(t *testing.T) {
	_ = time.Local.String()
	w := newAzWorld(t, &profile.Profile{Name: "tf", Scope: graph, SubscriptionID: subscriptionID})
	// A wrapper first on PATH records each az call and hands it to the shim.
	logFile := filepath.Join(w.dir, "az-calls.log")
	wrapDir := filepath.Join(w.dir, "wrap")
	os.MkdirAll(wrapDir, 0o755)
	script := fmt.Sprintf("#!/bin/sh\nprintf '%%s\\n' \"$*\" >> '%s'\nexec '%s' \"$@\"\n", logFile, filepath.Join(w.shims, "az"))
	if err := os.WriteFile(filepath.Join(wrapDir, "az"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	w.env["PATH"] = wrapDir + string(os.PathListSeparator) + w.shims
	w.setProcessEnv(t)
	// go-azure-sdk reads expiresOn in its own process's zone: az must run in the same
	// one, as it does under Terraform. (Other zones: TestAzSDKsInProcessTimeZones.)
	if zone := time.Local.String(); zone == "Local" {
		os.Unsetenv("TZ")
	} else {
		t.Setenv("TZ", zone)
	}
	ctx := context.Background()
	api := environments.AzurePublic().ResourceManager
	scope, err := environments.Scope(api)
	if err != nil {
		t.Fatal(err)
	}
	aud := strings.TrimSuffix(*scope, "/.default")

	for _, tc := range []struct {
		name string
		opts auth.AzureCliAuthorizerOptions
		call string
	}{
		{"tenant", auth.AzureCliAuthorizerOptions{Api: api, TenantId: tenantID}, "account get-access-token --scope " + *scope + " --tenant " + tenantID + " -o=json"},
		{"detected tenant", auth.AzureCliAuthorizerOptions{Api: api}, "account get-access-token --scope " + *scope + " --tenant " + tenantID + " -o=json"},
		{"subscription hint", auth.AzureCliAuthorizerOptions{Api: api, SubscriptionIdHint: subscriptionID}, "account get-access-token --scope " + *scope + " --subscription " + subscriptionID + " -o=json"},
	} {
		os.Remove(logFile)
		a, err := auth.NewAzureCliAuthorizer(ctx, tc.opts)
		if err != nil {
			t.Fatalf("%s: NewAzureCliAuthorizer: %v", tc.name, err)
		}
		tok, err := a.Token(ctx, &http.Request{})
		if err != nil {
			t.Fatalf("%s: Token: %v", tc.name, err)
		}
		cl := w.claims(tok.AccessToken, aud)
		if tok.Expiry.Unix() != cl.ExpiresAt.Unix() || tok.TokenType != "Bearer" {
			t.Fatalf("%s: Expiry %v (local %s), token exp %v; type %q", tc.name, tok.Expiry, time.Local, cl.ExpiresAt, tok.TokenType)
		}
		calls, _ := os.ReadFile(logFile)
		if !strings.Contains(string(calls), tc.call+"\n") {
			t.Fatalf("%s: az calls:\n%s\nwant %q", tc.name, calls, tc.call)
		}
	}
}

// Scripts: --query/-o tsv, the shim run as az-entra itself, time zones, errors,
// `az version`/`account show` for Terraform, and azd.
func TestAzShimCommands(t *testing.T) {
	w := newAzWorld(t, &profile.Profile{Name: "az", Scope: graph})

	tok := w.mustAz(nil, "account", "get-access-token", "--query", "accessToken", "-o", "tsv")
	if strings.Count(tok, "\n") != 1 || !strings.HasSuffix(tok, "\n") || strings.ContainsAny(strings.TrimSuffix(tok, "\n"), " \t\"{") {
		t.Fatalf("--query accessToken -o tsv printed %q, want the token alone", tok)
	}
	cl := w.claims(tok, armV1Audience) // no resource: ARM as az asks for it
	if cl.AppID != clientID {
		t.Fatalf("claims %+v", cl)
	}

	// The binary under its own name is az; the second call is a cache hit.
	w.emu.ResetCounts()
	out, errOut, code := w.run("", "az-entra", "account", "get-access-token", "-o", "json")
	if code != 0 {
		t.Fatalf("az-entra: exit %d %s", code, errOut)
	}
	var at azcli.AccessToken
	if err := json.Unmarshal([]byte(out), &at); err != nil || at.AccessToken != strings.TrimSpace(tok) {
		t.Fatalf("az-entra as az: %v %s", err, out)
	}
	if c := w.emu.Counts(); c.Total != 0 {
		t.Fatalf("cache hit made %d requests", c.Total)
	}

	for _, zone := range []string{"UTC", "Asia/Kolkata", "America/St_Johns"} {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			t.Fatal(err)
		}
		out := w.mustAz([]string{"TZ=" + zone}, "account", "get-access-token", "--resource", graphAudience)
		var raw map[string]any
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatal(err)
		}
		if _, ok := raw["expires_on"].(float64); !ok {
			t.Fatalf("expires_on is not a JSON number: %s", out)
		}
		var at azcli.AccessToken
		json.Unmarshal([]byte(out), &at)
		cl := w.claims(at.AccessToken, graphAudience)
		local, err := time.ParseInLocation("2006-01-02 15:04:05.000000", at.ExpiresOn, loc)
		if err != nil || local.Unix() != cl.ExpiresAt.Unix() || at.ExpiresOnUTC != cl.ExpiresAt.Unix() {
			t.Fatalf("%s: expiresOn %q expires_on %d, token exp %v (%v)", zone, at.ExpiresOn, at.ExpiresOnUTC, cl.ExpiresAt, err)
		}
		if at.ExpiresOn != cl.ExpiresAt.In(loc).Format("2006-01-02 15:04:05.000000") || at.Tenant != tenantID || at.TokenType != "Bearer" || at.Subscription != tenantID {
			t.Fatalf("%s: %+v", zone, at)
		}
	}

	w.emu.ResetCounts()
	_, errOut, code = w.az("account", "get-access-token", "--tenant", otherTenant)
	if code != 1 || !strings.HasPrefix(errOut, "ERROR: tenant '"+otherTenant+"' is not the tenant of entratool profile 'az'") || w.emu.Counts().Total != 0 {
		t.Fatalf("other tenant: exit %d %q, %d requests", code, errOut, w.emu.Counts().Total)
	}

	var show struct {
		ID       string `json:"id"`
		TenantID string `json:"tenantId"`
		User     struct{ Name, Type string }
	}
	if err := json.Unmarshal([]byte(w.mustAz(nil, "account", "show", "-o=json")), &show); err != nil ||
		show.ID != tenantID || show.TenantID != tenantID || show.User.Name != clientID || show.User.Type != "servicePrincipal" {
		t.Fatalf("account show: %+v %v", show, err)
	}
	var ver map[string]any
	if err := json.Unmarshal([]byte(w.mustAz(nil, "version", "-o=json")), &ver); err != nil || ver["azure-cli"] != azcli.CLIVersion {
		t.Fatalf("version: %v %v", ver, err)
	}

	// --debug goes through the engine with its debug log on stderr (never the token).
	out, errOut, code = w.runPath(filepath.Join(w.shims, "az"), nil, "account", "get-access-token", "--resource", graphAudience, "--query", "accessToken", "-o", "tsv", "--debug")
	if code != 0 || strings.Contains(errOut, strings.TrimSpace(out)) {
		t.Fatalf("--debug: exit %d, stderr %q", code, errOut)
	}
	w.claims(out, graphAudience)

	// The engine's errors come out in az's style, on one line.
	w.saveProfile(&profile.Profile{Name: "broken", UseCertificate: true, CertificatePath: filepath.Join(w.dir, "missing.pfx"), Scope: graph}, "pw")
	_, errOut, code = w.runPath(filepath.Join(w.shims, "az"), []string{"ENTRATOOL_PROFILE=broken"}, "account", "get-access-token", "--resource", "https://vault.azure.net")
	if code != 1 || !strings.HasPrefix(errOut, "ERROR: ") || !strings.Contains(errOut, "certificate not found") || strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, "entratool: ") {
		t.Fatalf("broken profile: exit %d %q", code, errOut)
	}

	// azd, as AzureDeveloperCLICredential runs it.
	out, errOut, code = w.runPath(filepath.Join(w.shims, "azd"), []string{"TZ=Asia/Kolkata"}, "auth", "token", "-o", "json", "--no-prompt", "--scope", graph, "--tenant-id", tenantID)
	var azd struct{ Token, ExpiresOn string }
	if code != 0 || json.Unmarshal([]byte(out), &azd) != nil {
		t.Fatalf("azd: exit %d %s %s", code, out, errOut)
	}
	cl = w.claims(azd.Token, graphAudience)
	if exp, err := time.Parse(time.RFC3339, azd.ExpiresOn); err != nil || !strings.HasSuffix(azd.ExpiresOn, "Z") || exp.Unix() != cl.ExpiresAt.Unix() {
		t.Fatalf("azd expiresOn %q, token exp %v", azd.ExpiresOn, cl.ExpiresAt)
	}
}

// A --query other than a bare identifier runs in the engine's az entry point (az-entra
// does not link go-jmespath), on a miss as on a hit; bare identifiers stay in the front.
func TestAzShimComplexQuery(t *testing.T) {
	w := newAzWorld(t, &profile.Profile{Name: "az", Scope: graph, SubscriptionID: subscriptionID})

	// A miss: the engine's az entry point asks its token entry point, as the front would.
	out := w.mustAz(nil, "account", "get-access-token", "--resource", graphAudience, "--query", "[tokenType, accessToken]", "-o", "tsv")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 2 || lines[0] != "Bearer" {
		t.Fatalf("--query [tokenType, accessToken] -o tsv: %q", out)
	}
	w.claims(lines[1], graphAudience)

	w.emu.ResetCounts()
	if tok := w.mustAz(nil, "account", "get-access-token", "--resource", graphAudience, "--query", "accessToken", "-o", "tsv"); tok != lines[1]+"\n" {
		t.Fatalf("--query accessToken (the front, a hit): %q, want %q", tok, lines[1])
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"account", "get-access-token", "--resource", graphAudience, "--query", "{t:tokenType}"}, "{\n  \"t\": \"Bearer\"\n}\n"},
		{[]string{"account", "list", "--query", "[0].user.name", "-o", "tsv"}, clientID + "\n"},
		{[]string{"account", "show", "--query", "{s: id, t: tenantId}", "-o", "tsv"}, subscriptionID + "\t" + tenantID + "\n"},
	} {
		if out := w.mustAz(nil, tc.args...); out != tc.want {
			t.Errorf("az %q: %q, want %q", tc.args, out, tc.want)
		}
	}
	if c := w.emu.Counts(); c.Total != 0 {
		t.Fatalf("cache hits through the engine made %d requests", c.Total)
	}

	out, errOut, code := w.az("account", "get-access-token", "--query", "[[")
	if code != 2 || out != "" || errOut != "ERROR: argument --query: invalid jmespath_type value: '[['\n" {
		t.Fatalf("invalid --query: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// Commands the shim does not answer go to the real az, with their arguments intact;
// without one they fail with exit 2 and say why. Two shims on PATH never loop.
func TestAzShimPassThrough(t *testing.T) {
	w := newAzWorld(t, &profile.Profile{Name: "az", Scope: graph})
	_, errOut, code := w.az("vm", "list", "-o", "table")
	if code != 2 || !strings.Contains(errOut, "'az vm list' is not covered by entratool's az shim") || !strings.Contains(errOut, "no other az was found on PATH") {
		t.Fatalf("no real az: exit %d %q", code, errOut)
	}

	fakeDir := filepath.Join(w.dir, "real-az")
	os.MkdirAll(fakeDir, 0o755)
	record := filepath.Join(w.dir, "argv")
	fake := "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\0' \"$a\"; done >> '" + record + "'\necho from-real-az\nexit 3\n"
	if err := os.WriteFile(filepath.Join(fakeDir, "az"), []byte(fake), 0o755); err != nil {
		t.Fatal(err)
	}
	// Another copy of az-entra (a different file) between the shim and the real az.
	copyDir := filepath.Join(w.dir, "copy")
	os.MkdirAll(copyDir, 0o755)
	bin, _ := os.ReadFile(filepath.Join(binDir, "az-entra"))
	if err := os.WriteFile(filepath.Join(copyDir, "az"), bin, 0o755); err != nil {
		t.Fatal(err)
	}
	sep := string(os.PathListSeparator)
	w.env["PATH"] = w.shims + sep + copyDir + sep + fakeDir

	args := []string{"group", "create", "--name", "my group", "--tags", `a="b c"`, "", "--query", "[?x=='y'].id", "-o", "tsv", "ünï"}
	out, errOut, code := w.az(args...)
	if code != 3 || out != "from-real-az\n" {
		t.Fatalf("pass-through: exit %d out %q err %q", code, out, errOut)
	}
	got, _ := os.ReadFile(record)
	if string(got) != strings.Join(args, "\x00")+"\x00" {
		t.Fatalf("real az got %q, want %q (once)", got, args)
	}

	// Two shims and no real az: one hand-off, then exit 2.
	w.env["PATH"] = w.shims + sep + copyDir
	_, errOut, code = w.az("group", "list")
	if code != 2 || !strings.Contains(errOut, "no other az was found on PATH") {
		t.Fatalf("two shims: exit %d %q", code, errOut)
	}
}

// The SDKs in a process whose own zone is not UTC: go-azure-sdk (Terraform) reads
// az's local expiresOn in its zone. Each zone is a child run of this test binary.
func TestAzSDKsInProcessTimeZones(t *testing.T) {
	if os.Getenv("ENTRATOOL_AZ_TZ_CHILD") != "" {
		t.Skip("in the child")
	}
	w := newAzWorld(t, &profile.Profile{Name: "az", Scope: graph})
	// The child's TestMain builds the binaries again: it gets this process's
	// environment (go, its build cache and settings) under the world's, and a PATH on
	// which az is the shim (go's directory has no az).
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go not on PATH")
	}
	type child struct {
		zone, result string
		cmd          *exec.Cmd
		out          bytes.Buffer
	}
	var children []*child
	// Both at once: most of a child's time is its TestMain's builds.
	for _, zone := range []string{"Asia/Kolkata", "America/St_Johns"} {
		c := &child{zone: zone, result: filepath.Join(w.dir, "child-"+strings.ReplaceAll(zone, "/", "_")+".json")}
		c.cmd = exec.Command(os.Args[0], "-test.run=^TestAzSDKChild$", "-test.count=1")
		env := map[string]string{}
		for _, kv := range os.Environ() {
			if k, v, ok := strings.Cut(kv, "="); ok {
				env[k] = v
			}
		}
		for k, v := range w.env {
			if k != "HOME" {
				env[k] = v
			}
		}
		env["PATH"] = w.shims + string(os.PathListSeparator) + filepath.Dir(goBin)
		env["TZ"] = zone
		env["ENTRATOOL_AZ_TZ_CHILD"] = c.result
		for k, v := range env {
			c.cmd.Env = append(c.cmd.Env, k+"="+v)
		}
		c.cmd.Stdout, c.cmd.Stderr = &c.out, &c.out
		if err := c.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		children = append(children, c)
	}
	for _, c := range children {
		if err := c.cmd.Wait(); err != nil {
			t.Fatalf("child in %s: %v\n%s", c.zone, err, c.out.String())
		}
	}
	for _, c := range children {
		zone, result, out := c.zone, c.result, c.out.String()
		data, err := os.ReadFile(result)
		if err != nil {
			t.Fatalf("child in %s wrote nothing: %v\n%s", zone, err, out)
		}
		var r childResult
		if err := json.Unmarshal(data, &r); err != nil {
			t.Fatal(err)
		}
		if r.Zone != zone {
			t.Fatalf("child's local zone %q, want %q", r.Zone, zone)
		}
		for _, g := range r.Tokens {
			cl := w.claims(g.Token, g.Audience)
			if g.Expiry.Unix() != cl.ExpiresAt.Unix() {
				t.Fatalf("%s in %s: expiry %v, token exp %v", g.Who, zone, g.Expiry, cl.ExpiresAt)
			}
		}
		if len(r.Tokens) != 3 {
			t.Fatalf("child in %s: %d tokens", zone, len(r.Tokens))
		}
	}
}

type childToken struct {
	Who, Token, Audience string
	Expiry               time.Time
}

type childResult struct {
	Zone   string
	Tokens []childToken
}

// TestAzSDKChild runs only as TestAzSDKsInProcessTimeZones's child, in the zone TZ
// names, with the parent's world in its environment.
func TestAzSDKChild(t *testing.T) {
	result := os.Getenv("ENTRATOOL_AZ_TZ_CHILD")
	if result == "" {
		t.Skip("run by TestAzSDKsInProcessTimeZones")
	}
	ctx := context.Background()
	r := childResult{Zone: time.Local.String()}

	api := environments.AzurePublic().ResourceManager
	scope, _ := environments.Scope(api)
	a, err := auth.NewAzureCliAuthorizer(ctx, auth.AzureCliAuthorizerOptions{Api: api, TenantId: tenantID})
	if err != nil {
		t.Fatal(err)
	}
	tf, err := a.Token(ctx, &http.Request{})
	if err != nil {
		t.Fatal(err)
	}
	r.Tokens = append(r.Tokens, childToken{"go-azure-sdk", tf.AccessToken, strings.TrimSuffix(*scope, "/.default"), tf.Expiry})

	cli, _ := azidentity.NewAzureCLICredential(nil)
	tc, err := cli.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graph}})
	if err != nil {
		t.Fatal(err)
	}
	r.Tokens = append(r.Tokens, childToken{"AzureCLICredential", tc.Token, graphAudience, tc.ExpiresOn})

	azd, _ := azidentity.NewAzureDeveloperCLICredential(nil)
	td, err := azd.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{graph}})
	if err != nil {
		t.Fatal(err)
	}
	r.Tokens = append(r.Tokens, childToken{"AzureDeveloperCLICredential", td.Token, graphAudience, td.ExpiresOn})

	data, _ := json.Marshal(r)
	if err := os.WriteFile(result, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
