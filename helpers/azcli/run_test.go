package azcli

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// recordingSource answers with a fixed account and token and records the scopes it
// was asked for.
type recordingSource struct {
	acct   Account
	tok    Token
	err    error
	scopes []string
}

func (s *recordingSource) Account() (Account, error) { return s.acct, s.err }

func (s *recordingSource) Token(ctx context.Context, scope string) (Token, error) {
	s.scopes = append(s.scopes, scope)
	return s.tok, s.err
}

// fakeJWT is an unsigned token with a tid claim, enough for the shim's tenant check.
func fakeJWT(tid string) string {
	enc := base64.RawURLEncoding.EncodeToString
	payload, _ := json.Marshal(map[string]any{"tid": tid, "exp": 1704153600})
	return enc([]byte(`{"alg":"none"}`)) + "." + enc(payload) + ".c2ln"
}

func newSource() *recordingSource {
	return &recordingSource{
		acct: Account{Profile: "prod", TenantID: tenantA, ClientID: clientA, SubscriptionID: subA, Authority: "https://login.microsoftonline.com"},
		tok:  Token{AccessToken: fakeJWT(tenantA), ExpiresOn: time.Unix(1704153600, 0)},
	}
}

type runResult struct {
	code     int
	out, err string
}

func runAz(t *testing.T, src Source, env Env, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	env.Args, env.Stdout, env.Stderr = args, &out, &errb
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	code := Run(context.Background(), env, src)
	return runResult{code, out.String(), errb.String()}
}

func runAzd(t *testing.T, src Source, env Env, args ...string) runResult {
	t.Helper()
	var out, errb bytes.Buffer
	env.Args, env.Stdout, env.Stderr = args, &out, &errb
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	code := RunAzd(context.Background(), env, src)
	return runResult{code, out.String(), errb.String()}
}

func TestRunGetAccessToken(t *testing.T) {
	src := newSource()
	kolkata := mustLoad(t, "Asia/Kolkata")
	r := runAz(t, src, Env{Local: kolkata}, "account", "get-access-token", "-o", "json", "--resource", "https://management.azure.com")
	if r.code != 0 || r.err != "" {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	var at AccessToken
	if err := json.Unmarshal([]byte(r.out), &at); err != nil {
		t.Fatal(err)
	}
	want := AccessToken{AccessToken: src.tok.AccessToken, ExpiresOn: "2024-01-02 05:30:00.000000", ExpiresOnUTC: 1704153600, Subscription: subA, Tenant: tenantA, TokenType: "Bearer"}
	if at != want {
		t.Fatalf("got %+v\nwant %+v", at, want)
	}
	if len(src.scopes) != 1 || src.scopes[0] != "https://management.azure.com/.default" {
		t.Fatalf("scopes asked for: %q", src.scopes)
	}

	// No resource: ARM, as az asks for it.
	src = newSource()
	r = runAz(t, src, Env{}, "account", "get-access-token", "--query", "accessToken", "-o", "tsv")
	if r.code != 0 || r.out != src.tok.AccessToken+"\n" {
		t.Fatalf("--query accessToken -o tsv: exit %d %q %s", r.code, r.out, r.err)
	}
	if src.scopes[0] != "https://management.core.windows.net//.default" {
		t.Fatalf("default scope %q", src.scopes[0])
	}

	// --tenant equal to the profile's (any case) is fine and is echoed.
	src = newSource()
	r = runAz(t, src, Env{}, "account", "get-access-token", "--tenant", strings.ToUpper(tenantA), "--query", "tenant", "-o", "tsv")
	if r.code != 0 || r.out != strings.ToUpper(tenantA)+"\n" {
		t.Fatalf("--tenant same: exit %d %q %s", r.code, r.out, r.err)
	}

	// --subscription other than the profile's: the token is the tenant's; az reports
	// the subscription asked for.
	src = newSource()
	other := "99999999-2222-3333-4444-555555555555"
	r = runAz(t, src, Env{}, "account", "get-access-token", "--subscription", other, "--query", "subscription", "-o", "tsv")
	if r.code != 0 || r.out != other+"\n" {
		t.Fatalf("--subscription other: exit %d %q %s", r.code, r.out, r.err)
	}
	r = runAz(t, src, Env{}, "account", "get-access-token", "--subscription", "prod", "--query", "subscription", "-o", "tsv")
	if r.code != 0 || r.out != subA+"\n" {
		t.Fatalf("--subscription by name: exit %d %q %s", r.code, r.out, r.err)
	}
}

func TestRunTenantMismatch(t *testing.T) {
	src := newSource()
	other := "00000000-1111-2222-3333-444444444444"
	r := runAz(t, src, Env{}, "account", "get-access-token", "--tenant", other)
	if r.code != 1 || r.out != "" || !strings.HasPrefix(r.err, "ERROR: tenant '"+other+"' is not the tenant of entratool profile 'prod'") {
		t.Fatalf("exit %d out %q err %q", r.code, r.out, r.err)
	}
	if len(src.scopes) != 0 {
		t.Fatal("a token was requested for a tenant the profile is not in")
	}

	// A profile that names its tenant by domain: a GUID --tenant is checked against the
	// token's tid.
	src = newSource()
	src.acct.TenantID = "contoso.onmicrosoft.com"
	if r := runAz(t, src, Env{}, "account", "get-access-token", "-t", tenantA, "--query", "tenant", "-o", "tsv"); r.code != 0 || r.out != tenantA+"\n" {
		t.Fatalf("domain profile, its GUID: exit %d %q %s", r.code, r.out, r.err)
	}
	if r := runAz(t, src, Env{}, "account", "get-access-token", "-t", other); r.code != 1 || !strings.Contains(r.err, "is not the tenant") || r.out != "" {
		t.Fatalf("domain profile, another GUID: exit %d %q %s", r.code, r.out, r.err)
	}
	if r := runAz(t, src, Env{}, "account", "get-access-token", "-t", "fabrikam.onmicrosoft.com"); r.code != 1 || !strings.Contains(r.err, "is not the tenant") {
		t.Fatalf("domain profile, another domain: exit %d %s", r.code, r.err)
	}
}

func TestRunErrors(t *testing.T) {
	src := newSource()
	src.err = errors.New("certificate not found: /x.pfx\n(profile prod)")
	r := runAz(t, src, Env{}, "account", "get-access-token")
	if r.code != 1 || r.err != "ERROR: certificate not found: /x.pfx (profile prod)\n" || r.out != "" {
		t.Fatalf("exit %d out %q err %q", r.code, r.out, r.err)
	}
	r = runAz(t, newSource(), Env{}, "account", "get-access-token", "--bogus")
	if r.code != 2 || r.err != "ERROR: unrecognized arguments: --bogus\n" {
		t.Fatalf("usage: exit %d err %q", r.code, r.err)
	}
	r = runAz(t, newSource(), Env{}, "account", "show", "-s", "nope")
	if r.code != 1 || !strings.HasPrefix(r.err, "ERROR: Subscription 'nope' not found.") {
		t.Fatalf("show -s nope: exit %d err %q", r.code, r.err)
	}
	r = runAz(t, newSource(), Env{Query: jmesCompile}, "account", "get-access-token", "--query", "abs(accessToken)")
	if r.code != 1 || !strings.HasPrefix(r.err, "ERROR: --query 'abs(accessToken)' failed") {
		t.Fatalf("query runtime error: exit %d err %q", r.code, r.err)
	}
}

func TestRunAccountAndVersion(t *testing.T) {
	src := newSource()
	r := runAz(t, src, Env{}, "account", "show", "-o=json")
	var sub Subscription
	if err := json.Unmarshal([]byte(r.out), &sub); err != nil || r.code != 0 {
		t.Fatalf("exit %d %v: %s", r.code, err, r.out)
	}
	if sub.ID != subA || sub.TenantID != tenantA || sub.User.Name != clientA || sub.User.Type != "servicePrincipal" || !sub.IsDefault || sub.State != "Enabled" || sub.EnvironmentName != "AzureCloud" {
		t.Fatalf("account show: %+v", sub)
	}
	if len(src.scopes) != 0 {
		t.Fatal("account show asked for a token")
	}
	r = runAz(t, src, Env{}, "account", "show", "--subscription", strings.ToUpper(subA), "--query", "id", "-o", "tsv")
	if r.code != 0 || r.out != subA+"\n" {
		t.Fatalf("show -s SUB: exit %d %q %s", r.code, r.out, r.err)
	}
	r = runAz(t, src, Env{Query: jmesCompile}, "account", "list", "--query", "[].user.name", "-o", "tsv")
	if r.code != 0 || r.out != clientA+"\n" {
		t.Fatalf("account list: exit %d %q %s", r.code, r.out, r.err)
	}
	r = runAz(t, src, Env{}, "version", "-o=json")
	var v map[string]any
	if err := json.Unmarshal([]byte(r.out), &v); err != nil || v["azure-cli"] != CLIVersion {
		t.Fatalf("version: %v %s", err, r.out)
	}
	for _, args := range [][]string{nil, {"-h"}, {"account", "get-access-token", "--help"}} {
		if r := runAz(t, src, Env{}, args...); r.code != 0 || !strings.Contains(r.out, "entratool's az shim") {
			t.Fatalf("az %q: exit %d %q", args, r.code, r.out)
		}
	}
	if r := runAz(t, src, Env{}, "--version"); r.code != 0 || !strings.HasPrefix(r.out, "azure-cli                         "+CLIVersion) {
		t.Fatalf("--version: %q", r.out)
	}
}

func TestRunAzd(t *testing.T) {
	src := newSource()
	r := runAzd(t, src, Env{}, "auth", "token", "-o", "json", "--no-prompt", "--scope", "https://graph.microsoft.com/.default", "--tenant-id", tenantA)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.err)
	}
	want := "{\n  \"token\": \"" + src.tok.AccessToken + "\",\n  \"expiresOn\": \"2024-01-02T00:00:00Z\"\n}\n"
	if r.out != want {
		t.Fatalf("got %s\nwant %s", r.out, want)
	}
	if src.scopes[0] != "https://graph.microsoft.com/.default" {
		t.Fatalf("scope %q", src.scopes[0])
	}
	// A fraction of a second or a non-UTC zone never reaches the output.
	src.tok.ExpiresOn = time.Unix(1704153600, 999_000_000).In(mustLoad(t, "Asia/Kolkata"))
	r = runAzd(t, src, Env{}, "auth", "token", "--scope", "https://a/.default")
	if !strings.Contains(r.out, `"expiresOn": "2024-01-02T00:00:00Z"`) {
		t.Fatalf("got %s", r.out)
	}

	r = runAzd(t, newSource(), Env{}, "auth", "token", "-o", "json", "--scope", "https://a/.default", "--tenant-id", "00000000-1111-2222-3333-444444444444")
	if r.code != 1 || r.out != "" {
		t.Fatalf("wrong tenant: exit %d %q", r.code, r.out)
	}
	lines := strings.Split(strings.TrimSpace(r.err), "\n")
	var legacy struct {
		Type string
		Data struct{ Message string }
	}
	var current struct{ Error string }
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &legacy) != nil || json.Unmarshal([]byte(lines[1]), &current) != nil ||
		legacy.Type != "consoleMessage" || !strings.Contains(legacy.Data.Message, "is not the tenant") || !strings.Contains(current.Error, "is not the tenant") {
		t.Fatalf("azd -o json error lines: %q", r.err)
	}
	r = runAzd(t, newSource(), Env{}, "auth", "token", "--claims", "e30=", "-o", "none")
	if r.code != 1 || !strings.HasPrefix(r.err, "ERROR: a claims challenge") {
		t.Fatalf("claims: exit %d %q", r.code, r.err)
	}
	r = runAzd(t, newSource(), Env{}, "auth", "token", "--scope", "https://a/.default", "--scope", "https://b/.default")
	if r.code != 1 || !strings.Contains(r.err, "one resource at a time") {
		t.Fatalf("two resources: exit %d %q", r.code, r.err)
	}
}

// writeScript writes an executable shell script.
func writeScript(t *testing.T, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
}

// runExec is Env.Exec as a child process (the binary replaces itself instead).
func runExec(path string, args []string, extra []string) int {
	c := exec.Command(path, args...)
	c.Env = append(os.Environ(), extra...)
	if err := c.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		return 127
	}
	return 0
}

func TestPassThrough(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("shell scripts")
	}
	dir := t.TempDir()
	self := filepath.Join(dir, "bin", "az-entra")
	writeScript(t, self, "exit 99\n")
	shimDir := filepath.Join(dir, "shim")
	os.MkdirAll(shimDir, 0o755)
	if err := os.Symlink(self, filepath.Join(shimDir, "az")); err != nil {
		t.Fatal(err)
	}
	// A relative PATH entry with an az in it is never used.
	relDir := filepath.Join(dir, "rel")
	writeScript(t, filepath.Join(relDir, "az"), "exit 98\n")

	env := Env{Self: func() string { return self }, Exec: runExec}
	path := shimDir + string(os.PathListSeparator) + "rel"
	env.Getenv = func(k string) string {
		if k == "PATH" {
			return path
		}
		return ""
	}
	r := runAz(t, newSource(), env, "vm", "list", "-o", "table")
	if r.code != 2 || !strings.Contains(r.err, "'az vm list' is not covered by entratool's az shim") || !strings.Contains(r.err, "no other az was found on PATH") {
		t.Fatalf("no real az: exit %d %q", r.code, r.err)
	}

	// A real az later on PATH gets the arguments untouched.
	realDir := filepath.Join(dir, "real")
	record := filepath.Join(dir, "argv")
	writeScript(t, filepath.Join(realDir, "az"), `for a in "$@"; do printf '%s\0' "$a"; done > `+record+"\nprintf '%s' \"$"+SeenEnv+"\" > "+record+".seen\nexit 7\n")
	path = shimDir + string(os.PathListSeparator) + realDir
	args := []string{"login", "--service-principal", "-u", clientA, "--password", "p a ss'\"word", "", "--tenant", "ünïcode"}
	r = runAz(t, newSource(), env, args...)
	if r.code != 7 {
		t.Fatalf("real az's exit code: %d %s", r.code, r.err)
	}
	got, _ := os.ReadFile(record)
	if strings.Join(args, "\x00")+"\x00" != string(got) {
		t.Fatalf("argv %q, want %q", got, args)
	}
	seen, _ := os.ReadFile(record + ".seen")
	if string(seen) != self {
		t.Fatalf("%s = %q, want the shim %q", SeenEnv, seen, self)
	}

	// azd passes through the same way.
	writeScript(t, filepath.Join(realDir, "azd"), `printf '%s ' "$@" > `+record+"\n")
	if r := runAzd(t, newSource(), env, "up", "--no-prompt"); r.code != 0 {
		t.Fatalf("azd up: exit %d %s", r.code, r.err)
	}
	if got, _ := os.ReadFile(record); string(got) != "up --no-prompt " {
		t.Fatalf("azd argv %q", got)
	}
}

func TestFindNextSkipsShims(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	dir := t.TempDir()
	shimA := filepath.Join(dir, "a", "az-entra")
	shimB := filepath.Join(dir, "b", "az-entra")
	writeScript(t, shimA, "")
	writeScript(t, shimB, "")
	os.MkdirAll(filepath.Join(dir, "links"), 0o755)
	os.Symlink(shimA, filepath.Join(dir, "links", "az"))
	hard := filepath.Join(dir, "hard", "az")
	os.MkdirAll(filepath.Dir(hard), 0o755)
	if err := os.Link(shimA, hard); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(filepath.Join(dir, "b2"), 0o755)
	os.Symlink(shimB, filepath.Join(dir, "b2", "az"))
	notExec := filepath.Join(dir, "noexec", "az")
	os.MkdirAll(filepath.Dir(notExec), 0o755)
	os.WriteFile(notExec, []byte("x"), 0o644)
	os.MkdirAll(filepath.Join(dir, "isdir", "az"), 0o755)
	realAz := filepath.Join(dir, "real", "az")
	writeScript(t, realAz, "")

	sep := string(os.PathListSeparator)
	path := strings.Join([]string{filepath.Join(dir, "links"), filepath.Join(dir, "hard"), filepath.Join(dir, "noexec"), filepath.Join(dir, "isdir"), filepath.Join(dir, "b2"), filepath.Join(dir, "real")}, sep)
	// Shim A skips its link and its hard link, and hands on to shim B (another copy)…
	if got, ok := FindNext(path, "az", SkipList(shimA, "")); !ok || got != filepath.Join(dir, "b2", "az") {
		t.Fatalf("from A: %q %v", got, ok)
	}
	// …which, told A was seen, finds the real one: no loop.
	if got, ok := FindNext(path, "az", SkipList(shimB, shimA)); !ok || got != realAz {
		t.Fatalf("from B: %q %v", got, ok)
	}
	if _, ok := FindNext(strings.Join([]string{filepath.Join(dir, "links"), filepath.Join(dir, "b2")}, sep), "az", SkipList(shimB, shimA)); ok {
		t.Fatal("found a shim as the real az")
	}
}
