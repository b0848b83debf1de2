package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// The config commands' run functions, called without cobra: options built by hand,
// buffers for the streams.

// runEnv is a configEnv on buffers over e's home; canPrompt is the run's decision,
// whatever the App's InTTY says.
func (e *testEnv) runEnv(stdin string, canPrompt bool) (configEnv, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	a := &App{Streams: Streams{In: strings.NewReader(stdin), Out: &out, Err: &errb, InTTY: !canPrompt}, Getenv: e.getenv, Now: time.Now}
	env := a.configEnv()
	env.IO.CanPrompt = canPrompt
	return env, &out, &errb
}

func wantUsage(t *testing.T, err error, text string) {
	t.Helper()
	var ee *launch.ExitError
	if !errors.As(err, &ee) || ee.Code != ExitUsage || !strings.Contains(err.Error(), text) {
		t.Fatalf("err = %v, want a usage error containing %q", err, text)
	}
}

func TestRunConfigCreatePrompts(t *testing.T) {
	e := newTestEnv(t)
	pfx := writePFX(t, filepath.Join(e.dir, "p.pfx"), "p", 365, time.Now(), testPassword)
	// Name, client ID, tenant ID, 2. Certificate, path, password, scope (blank: default).
	answers := strings.Join([]string{"prompted", seedClientID, seedTenantID, "2", pfx, testPassword, ""}, "\n") + "\n"
	env, out, errb := e.runEnv(answers, true)
	if err := runConfigCreate(context.Background(), &createOptions{configEnv: env}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb)
	}
	if out.String() != "✓ Profile 'prompted' created successfully\n" {
		t.Errorf("stdout %q", out)
	}
	inOrder(t, errb.String(), "Profile name: ", "Client ID: ", "Tenant ID: ", "1. Client Secret", "2. Certificate",
		"Select: ", "Certificate path: ", "Certificate password: ", "Scope: ")
	p := e.profileJSON("prompted")
	if p["certificatePath"] != pfx || p["scope"] != DefaultScope || p["useCertificate"] != true {
		t.Errorf("profile %v", p)
	}
	if got := e.secrets()[secret.Key("prompted", secret.CertificatePassword)]; got != testPassword {
		t.Errorf("stored password %q", got)
	}
	if e.profilesJSON()["defaultProfile"] != "prompted" {
		t.Error("the first profile is not the default")
	}
}

// The options decide whether to prompt, not the App: a run that may not prompt fails
// with a usage error naming the flag although the App's stdin is a terminal.
func TestRunConfigCreateWithoutPromptingNamesTheFlag(t *testing.T) {
	e := newTestEnv(t)
	env, out, _ := e.runEnv("never read\n", false)
	if !env.App.InTTY {
		t.Fatal("setup: the App should think stdin is a terminal")
	}
	err := runConfigCreate(context.Background(), &createOptions{configEnv: env, ProfileFlag: "from-p"})
	wantUsage(t, err, "missing --client-id")
	if out.Len() != 0 {
		t.Errorf("stdout %q", out)
	}
	// -p names the new profile when --name does not: a bad one is refused as --name.
	err = runConfigCreate(context.Background(), &createOptions{configEnv: env, ProfileFlag: "-bad"})
	wantUsage(t, err, "--name: name \"-bad\" must not start with '-'")
}

func TestRunConfigEdit(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.newCert("ed", testPassword)
	e.createProfile("ed", pfx, testPassword)

	env, out, _ := e.runEnv("", false)
	opts := &editOptions{configEnv: env, ProfileFlag: "ed", Changed: map[string]bool{"scope": true}}
	opts.Flags.scope = "api://flags/.default"
	if err := runConfigEdit(context.Background(), opts); err != nil {
		t.Fatal(err)
	}
	if out.String() != "✓ Profile 'ed' updated\n" || e.profileJSON("ed")["scope"] != "api://flags/.default" {
		t.Errorf("stdout %q, profile %v", out, e.profileJSON("ed"))
	}

	// No change flags and no prompting: a usage error, whatever the App's InTTY.
	env, _, _ = e.runEnv("", false)
	wantUsage(t, runConfigEdit(context.Background(), &editOptions{configEnv: env, Args: []string{"ed"}}), "nothing to change")

	// The menu: 4. Scope, then 9. Done.
	env, out, errb := e.runEnv("4\napi://menu/.default\n9\n", true)
	if err := runConfigEdit(context.Background(), &editOptions{configEnv: env, Args: []string{"ed"}}); err != nil {
		t.Fatalf("%v\n%s", err, errb)
	}
	if !strings.Contains(errb.String(), "4. Scope (api://flags/.default)") || e.profileJSON("ed")["scope"] != "api://menu/.default" {
		t.Errorf("menu edit: stderr %s, profile %v", errb, e.profileJSON("ed"))
	}
	if out.String() != "✓ Profile 'ed' updated\n" {
		t.Errorf("stdout %q", out)
	}

	// The profile named twice.
	env, _, _ = e.runEnv("", false)
	wantUsage(t, runConfigEdit(context.Background(), &editOptions{configEnv: env, ProfileFlag: "ed", Args: []string{"other"},
		Changed: map[string]bool{"scope": true}}), "the profile is named twice")
}

func TestRunConfigListShowExportImport(t *testing.T) {
	e := newTestEnv(t)
	ctx := context.Background()
	env, out, errb := e.runEnv("", false)
	if err := runConfigList(ctx, &listOptions{configEnv: env, Output: "table"}); err != nil || out.Len() != 0 ||
		!strings.Contains(errb.String(), "No profiles yet") {
		t.Fatalf("empty list: %v, stdout %q, stderr %q", err, out, errb)
	}
	wantUsage(t, runConfigList(ctx, &listOptions{configEnv: env, Output: "yaml"}), `unknown output "yaml"`)

	// Import from stdin (IO.In).
	one := `{"name":"imp","clientId":"` + seedClientID + `","tenantId":"` + seedTenantID + `","useCertificate":false,"clientSecret":"s3cr3t"}`
	env, out, errb = e.runEnv(one, false)
	if err := runConfigImport(ctx, &importOptions{configEnv: env, File: "-"}); err != nil {
		t.Fatal(err)
	}
	if out.String() != "✓ Profile 'imp' imported\n" || !strings.Contains(errb.String(), "dropped clientSecret (profile 'imp')") {
		t.Errorf("import: stdout %q, stderr %q", out, errb)
	}
	env, _, _ = e.runEnv(one, false)
	if err := runConfigImport(ctx, &importOptions{configEnv: env, File: "-"}); err == nil ||
		!strings.Contains(err.Error(), "already exist: pass --force to replace them, or rename them in stdin") {
		t.Errorf("second import without --force: %v", err)
	}

	env, out, _ = e.runEnv("", false)
	if err := runConfigList(ctx, &listOptions{configEnv: env, Output: "json"}); err != nil {
		t.Fatal(err)
	}
	var l listJSON
	if err := json.Unmarshal(out.Bytes(), &l); err != nil || len(l.Profiles) != 1 || l.DefaultProfile != "" {
		t.Fatalf("list json %v: %s", err, out)
	}

	env, out, _ = e.runEnv("", false)
	if err := runConfigShow(ctx, &showOptions{configEnv: env, Args: []string{"imp"}, Output: "table"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "Authentication:") || !strings.Contains(out.String(), "client secret") {
		t.Errorf("show:\n%s", out)
	}

	env, out, _ = e.runEnv("", false)
	if err := runConfigExport(ctx, &exportOptions{configEnv: env, ProfileFlag: "imp"}); err != nil {
		t.Fatal(err)
	}
	c, dropped, err := profile.ParseImport("export", out.Bytes())
	if err != nil || dropped != nil || c.Get("imp") == nil {
		t.Errorf("export: %v, %v\n%s", err, dropped, out)
	}

	env, out, _ = e.runEnv("", false)
	if err := runConfigUse(ctx, &useOptions{configEnv: env, Name: "imp"}); err != nil || out.String() != "✓ Default profile is now 'imp'\n" {
		t.Errorf("use: %v, %q", err, out)
	}
	env, _, _ = e.runEnv("", false)
	wantUsage(t, runConfigDelete(ctx, &deleteOptions{configEnv: env}), "missing --profile")
	env, out, _ = e.runEnv("", false)
	if err := runConfigDelete(ctx, &deleteOptions{configEnv: env, Args: []string{"imp"}}); err != nil || out.String() != "✓ Profile 'imp' deleted\n" {
		t.Errorf("delete: %v, %q", err, out)
	}
}

// The cobra commands only fill in the options: a secret on stdin turns prompting off
// for that run, and the App, shared by every command, keeps its InTTY.
func TestConfigCommandsFillOptionsWithoutChangingTheApp(t *testing.T) {
	var out, errb bytes.Buffer
	a := &App{Streams: Streams{In: strings.NewReader("pw"), Out: &out, Err: &errb, InTTY: true}, Getenv: func(string) string { return "" }, Now: time.Now}

	var created *createOptions
	cmd := newConfigCreateCmd(a, func(_ context.Context, o *createOptions) error { created = o; return nil })
	cmd.SetArgs([]string{"--name", "n", "--certificate", "c.pfx", "--certificate-password-stdin"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if created == nil || created.IO.CanPrompt || created.Flags.name != "n" || !created.Flags.certPasswordStdin {
		t.Fatalf("create options %+v", created)
	}

	var edited *editOptions
	cmd = newConfigEditCmd(a, func(_ context.Context, o *editOptions) error { edited = o; return nil })
	cmd.SetArgs([]string{"prof", "--scope", "api://x/.default", "--client-secret-stdin"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if edited == nil || edited.IO.CanPrompt || len(edited.Args) != 1 || edited.Args[0] != "prof" ||
		!edited.Changed["scope"] || !edited.Changed["client-secret-stdin"] || edited.Changed["tenant-id"] {
		t.Fatalf("edit options %+v", edited)
	}

	// Without a secret on stdin, a terminal may be prompted on.
	cmd = newConfigEditCmd(a, func(_ context.Context, o *editOptions) error { edited = o; return nil })
	cmd.SetArgs([]string{"prof"})
	if err := cmd.ExecuteContext(context.Background()); err != nil {
		t.Fatal(err)
	}
	if !edited.IO.CanPrompt || len(edited.Changed) != 0 {
		t.Fatalf("menu edit options %+v", edited)
	}
	if !a.InTTY {
		t.Fatal("a command changed the App's InTTY")
	}
}
