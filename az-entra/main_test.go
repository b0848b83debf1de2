package main

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/helpers/azcli"
	"github.com/entratool/entratool/helpers/azcli/azjmes"
	"github.com/entratool/entratool/internal/testbin"
	"github.com/entratool/entratool/internal/testkit"
)

// shim is the built az-entra with an `az` link to it, run with only the environment
// given: no engine on PATH (a cache miss fails instead of fetching), no inherited TZ.
type shim struct {
	t       *testing.T
	bin, az string
	home    string
}

func newShim(t *testing.T) *shim {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	bin := testbin.Path(t, "./az-entra")
	links := t.TempDir()
	az := filepath.Join(links, "az")
	if err := os.Symlink(bin, az); err != nil {
		t.Fatal(err)
	}
	return &shim{t: t, bin: bin, az: az, home: filepath.Join(t.TempDir(), "home")}
}

func (s *shim) run(path string, env []string, args ...string) (stdout, stderr string, code int) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append([]string{"PATH=" + s.t.TempDir(), "HOME=" + s.t.TempDir(), "ENTRATOOL_HOME=" + s.home}, env...)
	return testkit.Run(s.t, cmd)
}

// save writes a client-secret profile (its cache key needs no certificate file) and
// caches a token for scope, as the engine would have.
func (s *shim) save(p *profile.Profile, scope string, exp time.Time) string {
	s.t.Helper()
	if err := (&profile.Store{Home: s.home}).Update(context.Background(), func(c *profile.Config) error { c.Put(p); return nil }); err != nil {
		s.t.Fatal(err)
	}
	c := tokencache.Open(s.home, func(string) string { return "" })
	id, ok := tokencache.CredentialID(p, c.Dir)
	if !ok {
		s.t.Fatal("no credential id for a secret profile")
	}
	tok := "eyJ0eXAiOiJKV1QifQ.eyJ0aWQiOiJ4In0." + strings.Repeat("s", 20)
	if err := c.Put(tokencache.KeyFor(p, scope, id), &tokencache.Token{AccessToken: tok, TokenType: "Bearer", ExpiresOn: exp, Scope: scope}); err != nil {
		s.t.Fatal(err)
	}
	return tok
}

// `az-entra --version` and `az --version` answer with exit 0 and nothing on stderr,
// with no profile at all: Terraform and scripts probe for az this way.
func TestVersion(t *testing.T) {
	s := newShim(t)
	for _, path := range []string{s.bin, s.az} {
		out, errOut, code := s.run(path, nil, "--version")
		if code != 0 || !strings.HasPrefix(out, "azure-cli ") || !strings.Contains(out, azcli.CLIVersion) || errOut != "" {
			t.Errorf("%s --version: exit %d, stdout %q, stderr %q", filepath.Base(path), code, out, errOut)
		}
		out, errOut, code = s.run(path, nil, "version", "-o", "json")
		var v map[string]any
		if code != 0 || json.Unmarshal([]byte(out), &v) != nil || v["azure-cli"] != azcli.CLIVersion || errOut != "" {
			t.Errorf("%s version: exit %d, stdout %q, stderr %q", filepath.Base(path), code, out, errOut)
		}
	}
}

// No profile: az's not-signed-in line, exactly (the SDKs' credential chains look for
// "az login"), then entratool's hint; exit 1.
func TestNoProfileSaysAzLogin(t *testing.T) {
	s := newShim(t)
	check := func(env []string, hint string) {
		t.Helper()
		for _, args := range [][]string{{"account", "get-access-token", "-o", "json", "--resource", "https://management.azure.com"}, {"account", "show", "-o=json"}} {
			out, errOut, code := s.run(s.az, env, args...)
			lines := strings.Split(errOut, "\n")
			if code != 1 || out != "" || len(lines) != 3 || lines[0] != "ERROR: Please run 'az login' to setup account." || !strings.Contains(lines[1], hint) {
				t.Errorf("%v az %s: exit %d, stdout %q, stderr %q", env, strings.Join(args, " "), code, out, errOut)
			}
		}
	}
	check(nil, "entratool config create")
	s.save(&profile.Profile{Name: "ci", ClientID: testkit.ClientID, TenantID: testkit.TenantID}, "https://management.azure.com/.default", time.Now().Add(time.Hour))
	check([]string{"ENTRATOOL_PROFILE=nope"}, "ENTRATOOL_PROFILE")
}

// An empty --scope/--resource is a usage error, exit 2, before any profile is read.
func TestEmptyScope(t *testing.T) {
	s := newShim(t)
	for _, args := range [][]string{{"--scope", ""}, {"--scope="}, {"--resource", ""}, {"--resource="}} {
		args = append([]string{"account", "get-access-token", "-o", "json"}, args...)
		out, errOut, code := s.run(s.az, nil, args...)
		if code != 2 || out != "" || !strings.HasPrefix(errOut, "ERROR: ") || strings.Count(errOut, "\n") != 1 || strings.Contains(errOut, "az login") {
			t.Errorf("az %q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// expiresOn is local time as the C library computes it from TZ, POSIX rule strings
// included (Go's own time.Local reads those as UTC). The token is a cache hit.
func TestExpiresOnFollowsTZ(t *testing.T) {
	date := testkit.LookGNUDate(t)
	s := newShim(t)
	const scope = "https://management.azure.com/.default"
	exp := time.Now().Add(90 * time.Minute).Truncate(time.Second)
	tok := s.save(&profile.Profile{Name: "ci", ClientID: testkit.ClientID, TenantID: testkit.TenantID}, scope, exp)
	for _, tz := range []string{"EST+5", "<+0530>-5:30", "EST5EDT,M3.2.0,M11.1.0", "CET-1CEST,M3.5.0,M10.5.0/3", "Europe/Berlin", "UTC"} {
		want := testkit.GNUDate(t, date, tz, "+%Y-%m-%d %H:%M:%S", []int64{exp.Unix()})[0]
		out, errOut, code := s.run(s.az, []string{"TZ=" + tz}, "account", "get-access-token", "--resource", "https://management.azure.com", "-o", "json")
		var at azcli.AccessToken
		if code != 0 || json.Unmarshal([]byte(out), &at) != nil || at.AccessToken != tok {
			t.Fatalf("TZ=%s: exit %d, stdout %q, stderr %q", tz, code, out, errOut)
		}
		if w := want + ".000000"; at.ExpiresOn != w || at.ExpiresOnUTC != exp.Unix() {
			t.Errorf("TZ=%s: expiresOn %q, expires_on %d; the C library says %q", tz, at.ExpiresOn, at.ExpiresOnUTC, w)
		}
	}
}

// newShimWithEngine is newShim with entratool-engine beside az-entra, where
// launch.Engine finds it (the az link resolved), and nowhere on PATH.
func newShimWithEngine(t *testing.T) *shim {
	t.Helper()
	s := newShim(t)
	s.bin = filepath.Join(testbin.Build(t, "./az-entra", "./entratool-engine"), "az-entra")
	os.Remove(s.az)
	if err := os.Symlink(s.bin, s.az); err != nil {
		t.Fatal(err)
	}
	return s
}

// inProcess runs the command as az-entra ran every --query before the engine's az
// entry point existed: azcli.Run in this process, go-jmespath evaluating, the same
// profile and cache. It is what the shim must still print.
func (s *shim) inProcess(env []string, args ...string) (stdout, stderr string, code int) {
	vars := map[string]string{"HOME": s.t.TempDir(), "ENTRATOOL_HOME": s.home}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		vars[k] = v
	}
	getenv := func(k string) string { return vars[k] }
	var out, errb strings.Builder
	e := azcli.Env{Args: args, Getenv: getenv, Stdout: &out, Stderr: &errb, Local: time.UTC, Query: azjmes.Compile}
	code = azcli.Run(context.Background(), e, &azcli.LocalSource{Program: program, Getenv: getenv, Stderr: &errb})
	return out.String(), errb.String(), code
}

// A --query other than a bare identifier goes to the engine's az entry point: the
// output, errors and exit code are those go-jmespath gave in-process, byte for byte.
// arm is the resource the tests' cached tokens are for.
const arm = "https://management.azure.com"

func TestComplexQueryThroughEngine(t *testing.T) {
	s := newShimWithEngine(t)
	exp := time.Now().Add(90 * time.Minute).Truncate(time.Second)
	tok := s.save(&profile.Profile{Name: "ci", ClientID: testkit.ClientID, TenantID: testkit.TenantID, SubscriptionID: "11111111-2222-3333-4444-555555555555"}, arm+"/.default", exp)
	env := []string{"TZ=UTC"}
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string // "" for err: nothing on stderr; out "-": not checked literally
	}{
		{[]string{"account", "list", "--query", "[0].user.name", "-o", "tsv"}, 0, testkit.ClientID + "\n", ""},
		{[]string{"account", "get-access-token", "--resource", arm, "--query", "{t:tokenType}"}, 0, "{\n  \"t\": \"Bearer\"\n}\n", ""},
		{[]string{"account", "get-access-token", "--resource", arm, "--query", "{e: expires_on, t: tokenType}", "-o", "tsv"}, 0, strconv.FormatInt(exp.Unix(), 10) + "\tBearer\n", ""},
		{[]string{"account", "get-access-token", "--resource", arm, "--query", "[accessToken, tokenType]", "-o", "tsv"}, 0, tok + "\nBearer\n", ""},
		{[]string{"account", "list", "--query", "[].{n: name, s: id}", "-o", "tsv"}, 0, "ci\t11111111-2222-3333-4444-555555555555\n", ""},
		{[]string{"account", "list", "--query", "[?isDefault].id", "-o", "json"}, 0, "[\n  \"11111111-2222-3333-4444-555555555555\"\n]\n", ""},
		{[]string{"account", "show", "--query", "user", "-o", "jsonc"}, 0, "-", ""},
		{[]string{"account", "show", "--query", "user.type", "-o", "tsv"}, 0, "servicePrincipal\n", ""},
		{[]string{"version", "--query", `"azure-cli"`, "-o", "tsv"}, 0, azcli.CLIVersion + "\n", ""},
		{[]string{"account", "show", "--query", "length(@)"}, 0, "-", ""},
		// Bare identifiers, answered by the front: the same again.
		{[]string{"account", "get-access-token", "--resource", arm, "--query", "accessToken", "-o", "tsv"}, 0, tok + "\n", ""},
		{[]string{"account", "get-access-token", "--resource", arm, "--query", "expiresOn", "-o", "tsv"}, 0, exp.UTC().Format("2006-01-02 15:04:05.000000") + "\n", ""},
		{[]string{"account", "show", "--query", "nosuchfield"}, 0, "", ""},
		// Errors, with az's words and exit codes.
		{[]string{"account", "get-access-token", "--resource", arm, "--query", "[["}, 2, "", "ERROR: argument --query: invalid jmespath_type value: '[['\n"},
		{[]string{"account", "list", "--query", "[0].{a:}", "-o", "tsv"}, 2, "", "ERROR: argument --query: invalid jmespath_type value: '[0].{a:}'\n"},
		{[]string{"account", "show", "--query", "abs(name)"}, 1, "", "-"},
		{[]string{"account", "show", "-s", "nope", "--query", "[0]"}, 1, "", "-"},
	} {
		out, errOut, code := s.run(s.az, env, tc.args...)
		wantOut, wantErr, wantCode := s.inProcess(env, tc.args...)
		if code != wantCode || out != wantOut || errOut != wantErr {
			t.Errorf("az %q: exit %d, stdout %q, stderr %q; in-process go-jmespath: exit %d, stdout %q, stderr %q", tc.args, code, out, errOut, wantCode, wantOut, wantErr)
			continue
		}
		if code != tc.code || (tc.out != "-" && out != tc.out) || (tc.err != "-" && errOut != tc.err) || (tc.err == "-" && !strings.HasPrefix(errOut, "ERROR: ")) {
			t.Errorf("az %q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr %q", tc.args, code, out, errOut, tc.code, tc.out, tc.err)
		}
	}

	// No profile: az's not-signed-in line, from the engine as from the front.
	out, errOut, code := s.run(s.az, []string{"ENTRATOOL_PROFILE=nope"}, "account", "show", "--query", "user.name")
	if code != 1 || out != "" || !strings.HasPrefix(errOut, "ERROR: Please run 'az login' to setup account.\n") {
		t.Errorf("no profile, through the engine: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

// The front evaluates bare identifiers itself: with no engine anywhere they still
// work, and any other --query is refused for want of the engine, which shows it was
// handed on rather than evaluated here.
func TestIdentifierQueriesNeedNoEngine(t *testing.T) {
	s := newShim(t)
	exp := time.Now().Add(90 * time.Minute).Truncate(time.Second)
	tok := s.save(&profile.Profile{Name: "ci", ClientID: testkit.ClientID, TenantID: testkit.TenantID}, arm+"/.default", exp)
	for q, want := range map[string]string{
		"accessToken": tok + "\n", "expires_on": strconv.FormatInt(exp.Unix(), 10) + "\n", "tokenType": "Bearer\n",
		"tenant": testkit.TenantID + "\n", "nosuchfield": "",
	} {
		out, errOut, code := s.run(s.az, []string{"TZ=UTC"}, "account", "get-access-token", "--resource", arm, "--query", q, "-o", "tsv")
		if code != 0 || out != want || errOut != "" {
			t.Errorf("--query %s: exit %d, stdout %q, stderr %q; want %q", q, code, out, errOut, want)
		}
	}
	for _, q := range []string{"{t:tokenType}", "[["} {
		out, errOut, code := s.run(s.az, nil, "account", "get-access-token", "--resource", arm, "--query", q)
		if code != 1 || out != "" || !strings.Contains(errOut, "entratool-engine not found") {
			t.Errorf("--query %s with no engine: exit %d, stdout %q, stderr %q", q, code, out, errOut)
		}
	}
}
