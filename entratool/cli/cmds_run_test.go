package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
)

// The docker, az-shim, doctor, env and exec run functions, called without cobra:
// options built by hand, buffers for the streams (runEnv, config_run_test.go).

// wantExit fails the test unless err carries exit code code.
func wantExit(t *testing.T, err error, code int) {
	t.Helper()
	var ee *launch.ExitError
	if !errors.As(err, &ee) || ee.Code != code {
		t.Fatalf("err = %v, want exit code %d", err, code)
	}
}

// cachedTokenEnv is a home with one client-secret profile "p" and a cached token for
// its scope, as entratool/fast_test.go makes: env and exec answer without Entra ID.
func cachedTokenEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	p := &profile.Profile{Name: "p", ClientID: seedClientID, TenantID: seedTenantID, Scope: "https://graph.microsoft.com/.default"}
	if err := (&profile.Store{Home: e.home}).Update(context.Background(), func(c *profile.Config) error { c.Put(p); return nil }); err != nil {
		t.Fatal(err)
	}
	c := &tokencache.Cache{Dir: filepath.Join(e.home, "cache")}
	id, _ := tokencache.CredentialID(p, c.Dir)
	tok := &tokencache.Token{AccessToken: "cached-access-token", TokenType: "Bearer", ExpiresOn: time.Now().Add(time.Hour).Truncate(time.Second),
		Scope: p.Scope, TenantID: p.TenantID, ClientID: p.ClientID}
	if err := c.Put(tokencache.KeyFor(p, p.Scope, id), tok); err != nil {
		t.Fatal(err)
	}
	return e
}

func TestRunDockerSetupAndRemove(t *testing.T) {
	e, path := dockerEnv(t)
	ctx := context.Background()

	env, out, errb := e.runEnv("", false)
	wantUsage(t, runDockerSetup(ctx, &dockerSetupOptions{configEnv: env, ProfileFlag: "ci"}), "missing --registry")
	if out.Len() != 0 {
		t.Errorf("stdout %q", out)
	}

	env, out, errb = e.runEnv("", false)
	if err := runDockerSetup(ctx, &dockerSetupOptions{configEnv: env, ProfileFlag: "ci", Registry: "https://shared.azurecr.io/v2/"}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb)
	}
	if want := "✓ docker will log in to shared.azurecr.io with profile 'ci' (credHelpers in " + path + ")\n"; out.String() != want {
		t.Errorf("stdout %q, want %q", out, want)
	}
	inOrder(t, errb.String(), "note: profile 'other' listed shared.azurecr.io as well", "warning: docker-credential-entra is not on PATH")
	var dc struct{ CredHelpers map[string]string }
	data, err := os.ReadFile(path)
	if err != nil || json.Unmarshal(data, &dc) != nil || dc.CredHelpers["shared.azurecr.io"] != "entra" {
		t.Fatalf("config.json (%v): %s", err, data)
	}
	if got := registries(e, "ci"); strings.Join(got, ",") != "old.azurecr.io,shared.azurecr.io" {
		t.Errorf("ci registries %v", got)
	}
	if _, ok := e.profileJSON("other")["registries"]; ok {
		t.Errorf("other still lists a registry: %v", e.profileJSON("other"))
	}

	// The engine's helper now lists the registry (docker credential protocol: list).
	env, out, _ = e.runEnv("", false)
	if err := runDockerCredentialHelper(ctx, &dockerHelperOptions{configEnv: env, Args: []string{"list"}}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `shared.azurecr.io"`) {
		t.Errorf("list: %s", out)
	}
	env, out, _ = e.runEnv("", false)
	wantExit(t, runDockerCredentialHelper(ctx, &dockerHelperOptions{configEnv: env, Args: []string{"bogus"}}), 1)
	if !strings.Contains(out.String(), `unknown action "bogus"`) {
		t.Errorf("bogus action: %s", out)
	}

	env, out, _ = e.runEnv("", false)
	if err := runDockerSetup(ctx, &dockerSetupOptions{configEnv: env, ProfileFlag: "ci", Registry: "shared.azurecr.io", Remove: true}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "✓ docker no longer logs in to shared.azurecr.io with profile 'ci'\n" {
		t.Errorf("remove stdout %q", out)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), "shared.azurecr.io") {
		t.Errorf("config.json after remove: %s", data)
	}
	if got := registries(e, "ci"); strings.Join(got, ",") != "old.azurecr.io" {
		t.Errorf("ci registries after remove %v", got)
	}
}

func TestRunEnvPrintsExportsOfTheCachedToken(t *testing.T) {
	e := cachedTokenEnv(t)
	ctx := context.Background()
	env, out, errb := e.runEnv("", false)
	if err := runEnv(ctx, &envOptions{configEnv: env, Token: launch.NewGetToken(), Shell: "sh"}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb)
	}
	inOrder(t, out.String(), "export ENTRA_ACCESS_TOKEN='cached-access-token'\n", "export ENTRA_TOKEN_EXPIRES_ON=",
		"export AZURE_TENANT_ID='"+seedTenantID+"'\n", "export AZURE_CLIENT_ID='"+seedClientID+"'\n")

	env, out, _ = e.runEnv("", false)
	if err := runEnv(ctx, &envOptions{configEnv: env, Token: launch.NewGetToken(), Shell: "dotenv"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ENTRA_ACCESS_TOKEN=") || strings.Contains(out.String(), "export ") {
		t.Errorf("dotenv: %s", out)
	}

	env, out, _ = e.runEnv("", false)
	wantUsage(t, runEnv(ctx, &envOptions{configEnv: env, Token: launch.NewGetToken(), Shell: "tcsh"}), "tcsh")
	if out.Len() != 0 {
		t.Errorf("stdout %q", out)
	}
}

func TestRunExecGivesTheTokenNotTheSecrets(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("runs sh")
	}
	e := cachedTokenEnv(t)
	ctx := context.Background()
	environ := []string{"PATH=" + os.Getenv("PATH"), "ENTRATOOL_CLIENT_SECRET=s3cr3t"}
	script := `printf '%s|%s' "$ENTRA_ACCESS_TOKEN" "$ENTRATOOL_CLIENT_SECRET"`
	env, out, errb := e.runEnv("", false)
	if err := runExec(ctx, &execOptions{configEnv: env, Token: launch.NewGetToken(), Args: []string{"sh", "-c", script}, Environ: environ}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb)
	}
	if out.String() != "cached-access-token|" {
		t.Errorf("child saw %q", out)
	}

	env, out, _ = e.runEnv("", false)
	if err := runExec(ctx, &execOptions{configEnv: env, Token: launch.NewGetToken(), Args: []string{"sh", "-c", script}, Environ: environ, PassSecretEnv: true}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "cached-access-token|s3cr3t" {
		t.Errorf("child with --pass-secret-env saw %q", out)
	}

	env, _, _ = e.runEnv("", false)
	wantExit(t, runExec(ctx, &execOptions{configEnv: env, Token: launch.NewGetToken(), Args: []string{"sh", "-c", "exit 3"}}), 3)
	wantExit(t, runExec(ctx, &execOptions{configEnv: env, Token: launch.NewGetToken(), Args: []string{"no-such-command-entratool"}}), 127)
	wantUsage(t, runExec(ctx, &execOptions{configEnv: env}), "exec needs a command")
}

func TestRunDoctorReportsAMissingProfile(t *testing.T) {
	e := cachedTokenEnv(t)
	ctx := context.Background()

	env, out, _ := e.runEnv("", false)
	err := runDoctor(ctx, &doctorOptions{configEnv: env, ProfileFlag: "nope"})
	wantExit(t, err, ExitFailure)
	if err.Error() != "doctor: 1 check(s) failed" {
		t.Errorf("err %v", err)
	}
	inOrder(t, out.String(), "✓ home "+e.home, "✓ profiles: 1 in ", "✗ ", "nope", "— fix: pick an existing profile (`entratool config list`)")

	// The profile the App's -p would name plays no part: the options carry it.
	env, out, _ = e.runEnv("", false)
	env.App.profileName = "nope"
	e.vars["ENTRATOOL_SECRET_STORE"] = "env"
	e.vars["ENTRATOOL_CLIENT_SECRET"] = "s3cr3t"
	if err := runDoctor(ctx, &doctorOptions{configEnv: env, ProfileFlag: "p"}); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !strings.Contains(out.String(), "✓ profile p: secret store env reachable, client-secret present") {
		t.Errorf("doctor -p p:\n%s", out)
	}

	empty := newTestEnv(t)
	env, out, _ = empty.runEnv("", false)
	wantExit(t, runDoctor(ctx, &doctorOptions{configEnv: env}), ExitFailure)
	if !strings.Contains(out.String(), "✗ home "+empty.home+" does not exist — fix: run `entratool config create`") {
		t.Errorf("empty home:\n%s", out)
	}
}

func TestRunAzShimInstallUninstall(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	e := newTestEnv(t)
	ctx := context.Background()
	bin := filepath.Join(e.dir, "az-entra")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(e.dir, "shims")

	env, out, _ := e.runEnv("", false)
	wantUsage(t, runAzShimInstall(ctx, &azShimInstallOptions{configEnv: env, Binary: bin}), "az-shim install needs --dir DIR")
	wantUsage(t, runAzShimInstall(ctx, &azShimInstallOptions{configEnv: env, Dir: dir, Binary: filepath.Join(e.dir, "missing")}), "is not an executable file")
	if out.Len() != 0 {
		t.Errorf("stdout %q", out)
	}

	e.vars["PATH"] = "/usr/bin"
	env, out, _ = e.runEnv("", false)
	if err := runAzShimInstall(ctx, &azShimInstallOptions{configEnv: env, Dir: dir, Binary: bin}); err != nil {
		t.Fatal(err)
	}
	inOrder(t, out.String(), "✓ "+filepath.Join(dir, "az")+" -> "+bin+" (created)\n", "✓ "+filepath.Join(dir, "azd")+" -> "+bin+" (created)\n",
		"Put it first on PATH", `export PATH="`+dir+`:$PATH"`)
	for _, n := range []string{"az", "azd"} {
		if dest, err := os.Readlink(filepath.Join(dir, n)); err != nil || dest != bin {
			t.Errorf("%s -> %q (%v)", n, dest, err)
		}
	}

	// Again with DIR first on PATH: unchanged, and no advice but that.
	e.vars["PATH"] = dir + string(filepath.ListSeparator) + "/usr/bin"
	env, out, _ = e.runEnv("", false)
	if err := runAzShimInstall(ctx, &azShimInstallOptions{configEnv: env, Dir: dir, Binary: bin}); err != nil {
		t.Fatal(err)
	}
	inOrder(t, out.String(), "(unchanged)", dir+" is first on PATH")

	env, out, _ = e.runEnv("", false)
	wantUsage(t, runAzShimUninstall(ctx, &azShimUninstallOptions{configEnv: env}), "az-shim uninstall needs --dir DIR")
	if err := runAzShimUninstall(ctx, &azShimUninstallOptions{configEnv: env, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "✓ removed "+filepath.Join(dir, "az")+"\n✓ removed "+filepath.Join(dir, "azd")+"\n" {
		t.Errorf("uninstall stdout %q", out)
	}
	env, out, _ = e.runEnv("", false)
	if err := runAzShimUninstall(ctx, &azShimUninstallOptions{configEnv: env, Dir: dir}); err != nil || out.String() != "no az shim in "+dir+"\n" {
		t.Errorf("second uninstall: %v, stdout %q", err, out)
	}
}
