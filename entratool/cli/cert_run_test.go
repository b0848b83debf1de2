package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
)

// The cert commands' run functions, called without cobra: options built by hand,
// buffers for the streams (runEnv, config_run_test.go).

// runCreate makes name.pfx and name.cer in the scratch directory with runCertCreate,
// the password on stdin.
func (e *testEnv) runCreate(name string, days int) string {
	e.t.Helper()
	env, _, errb := e.runEnv(testPassword+"\n", false)
	pfx := filepath.Join(e.dir, name+".pfx")
	opts := &certCreateOptions{configEnv: env, Subject: "CN=" + name, Out: pfx, Days: days, KeySize: 2048, PasswordStdin: true}
	if err := runCertCreate(context.Background(), opts); err != nil {
		e.t.Fatalf("create %s: %v\nstderr:\n%s", name, err, errb)
	}
	return pfx
}

func TestRunCertCreatePasswordStdin(t *testing.T) {
	e := newTestEnv(t)
	pfx := filepath.Join(e.dir, "app.pfx")
	cer := filepath.Join(e.dir, "app.cer")
	env, out, errb := e.runEnv(testPassword+"\n", false)
	opts := &certCreateOptions{configEnv: env, Subject: "CN=RunApp", Out: pfx, Days: 365, KeySize: 2048, PasswordStdin: true}
	if err := runCertCreate(context.Background(), opts); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb)
	}
	if m := mode(t, pfx); m != 0o600 {
		t.Errorf("PFX mode %04o, want 0600", m)
	}
	c, err := cert.Load(context.Background(), pfx, testPassword)
	if err != nil {
		t.Fatalf("the PFX does not load with its password: %v", err)
	}
	if c.Leaf.Subject.String() != "CN=RunApp" {
		t.Errorf("subject %q", c.Leaf.Subject)
	}
	if data, err := os.ReadFile(cer); err != nil || !bytes.Equal(data, cert.EncodeCER(c.Leaf, false)) {
		t.Errorf(".cer is not the PFX's certificate (%v)", err)
	}
	inOrder(t, out.String(), "✓ Certificate created", "CN=RunApp", cert.ThumbprintSHA1(c.Leaf), pfx, cer, "Next: upload "+cer)
	if errb.Len() != 0 {
		t.Errorf("stderr %q", errb)
	}

	// Existing files stay without Force.
	env, _, _ = e.runEnv("other\n", false)
	opts = &certCreateOptions{configEnv: env, Subject: "CN=Other", Out: pfx, Days: 365, KeySize: 2048, PasswordStdin: true}
	if err := runCertCreate(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Errorf("second create without Force: %v", err)
	}
	// Bad sizes are usage errors before anything is read.
	env, _, _ = e.runEnv("", false)
	wantUsage(t, runCertCreate(context.Background(), &certCreateOptions{configEnv: env, Days: 0, KeySize: 2048}), "--days 0")
	wantUsage(t, runCertCreate(context.Background(), &certCreateOptions{configEnv: env, Days: 1, KeySize: 1024}), "--key-size 1024")
}

// Prompting is the options' decision: a run that may prompt asks for the subject, the
// file and the password twice on its own streams; one that may not names the flag,
// whatever the App's InTTY says.
func TestRunCertCreatePrompts(t *testing.T) {
	e := newTestEnv(t)
	pfx := filepath.Join(e.dir, "prompted.pfx")
	env, out, errb := e.runEnv("CN=Prompted\n"+pfx+"\n"+testPassword+"\n"+testPassword+"\n", true)
	if err := runCertCreate(context.Background(), &certCreateOptions{configEnv: env, Days: 30, KeySize: 2048}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb)
	}
	inOrder(t, errb.String(), "Subject (e.g. CN=MyApp): ", "Output file (.pfx): ", "Certificate password: ", "Confirm certificate password: ")
	if !strings.Contains(out.String(), "CN=Prompted") {
		t.Errorf("stdout %q", out)
	}
	if _, err := cert.Load(context.Background(), pfx, testPassword); err != nil {
		t.Fatal(err)
	}

	env, out, _ = e.runEnv("never read\n", false)
	if !env.App.InTTY {
		t.Fatal("setup: the App should think stdin is a terminal")
	}
	wantUsage(t, runCertCreate(context.Background(), &certCreateOptions{configEnv: env, Days: 30, KeySize: 2048}), "missing --subject")
	wantUsage(t, runCertCreate(context.Background(), &certCreateOptions{configEnv: env, Subject: "CN=x", Out: filepath.Join(e.dir, "x.pfx"), Days: 30, KeySize: 2048}),
		"missing --password-stdin")
	if out.Len() != 0 {
		t.Errorf("stdout %q", out)
	}
}

func TestRunCertInfoJSON(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.runCreate("InfoRun", 365)
	ctx := context.Background()

	env, out, _ := e.runEnv(testPassword, false)
	opts := &certInfoOptions{certReadOptions: certReadOptions{configEnv: env, Args: []string{pfx}, PasswordStdin: true}, Output: "json"}
	if err := runCertInfo(ctx, opts); err != nil {
		t.Fatal(err)
	}
	var got infoOut
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if got.Path != pfx || got.Subject != "CN=InfoRun" || got.Issuer != "CN=InfoRun" || !got.HasPrivateKey || got.Expired ||
		got.KeyType != "RSA" || got.KeySize != 2048 || got.DaysLeft < 363 || got.DaysLeft > 365 || got.Profile != "" {
		t.Errorf("info json %+v", got)
	}

	// No password and no prompting: a usage error naming --password-stdin. With
	// prompting, the password is asked for on the run's stderr.
	env, _, _ = e.runEnv("", false)
	wantUsage(t, runCertInfo(ctx, &certInfoOptions{certReadOptions: certReadOptions{configEnv: env, Args: []string{pfx}}, Output: "table"}), "--password-stdin")
	env, out, errb := e.runEnv(testPassword+"\n", true)
	if err := runCertInfo(ctx, &certInfoOptions{certReadOptions: certReadOptions{configEnv: env, Args: []string{pfx}}, Output: "table"}); err != nil {
		t.Fatalf("%v\nstderr:\n%s", err, errb)
	}
	if errb.String() != "Certificate password: " || !strings.Contains(out.String(), "Subject:") || !strings.Contains(out.String(), "RSA 2048") {
		t.Errorf("prompted info: stdout %q, stderr %q", out, errb)
	}

	env, _, _ = e.runEnv("", false)
	wantUsage(t, runCertInfo(ctx, &certInfoOptions{certReadOptions: certReadOptions{configEnv: env}, Output: "yaml"}), `unknown output "yaml"`)
	wantUsage(t, runCertInfo(ctx, &certInfoOptions{certReadOptions: certReadOptions{configEnv: env, ProfileFlag: "p", Args: []string{pfx}}, Output: "json"}), "not both")
}

// The clock is the App's: a certificate made today is within --warn-days of its expiry
// at a later now, and expired after it.
func TestRunCertCheckExitCodes(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.runCreate("CheckRun", 40)
	ctx := context.Background()
	check := func(warnDays int, now time.Time) (string, int) {
		t.Helper()
		env, out, _ := e.runEnv(testPassword, false)
		env.App.Now = func() time.Time { return now }
		opts := &certCheckOptions{certReadOptions: certReadOptions{configEnv: env, Args: []string{pfx}, PasswordStdin: true}, WarnDays: warnDays}
		code := exitCode(runCertCheck(ctx, opts))
		return out.String(), code
	}
	if out, code := check(30, time.Now()); code != checkOK || !strings.HasPrefix(out, "✓ "+pfx+": CN=CheckRun valid until") {
		t.Errorf("fresh: exit %d, %q", code, out)
	}
	if out, code := check(30, time.Now().AddDate(0, 0, 20)); code != checkExpiring || !strings.HasPrefix(out, "! ") || !strings.Contains(out, "expires in") {
		t.Errorf("expiring: exit %d, %q", code, out)
	}
	if out, code := check(10, time.Now().AddDate(0, 0, 20)); code != checkOK {
		t.Errorf("expiring outside --warn-days: exit %d, %q", code, out)
	}
	if out, code := check(30, time.Now().AddDate(0, 0, 60)); code != checkBad || !strings.HasPrefix(out, "✗ ") {
		t.Errorf("expired: exit %d, %q", code, out)
	}

	env, _, errb := e.runEnv("", false)
	wantUsage(t, runCertCheck(ctx, &certCheckOptions{certReadOptions: certReadOptions{configEnv: env}, WarnDays: -1}), "--warn-days -1")
	wantUsage(t, runCertCheck(ctx, &certCheckOptions{certReadOptions: certReadOptions{configEnv: env, Args: []string{pfx}}, All: true}), "--all checks every profile")
	if err := runCertCheck(ctx, &certCheckOptions{certReadOptions: certReadOptions{configEnv: env}, All: true, WarnDays: 30}); err != nil ||
		!strings.Contains(errb.String(), "No profile uses a certificate") {
		t.Errorf("--all without profiles: %v, stderr %q", err, errb)
	}
}

func TestRunCertExportPublic(t *testing.T) {
	e := newTestEnv(t)
	pfx := e.runCreate("ExportRun", 365)
	want, err := os.ReadFile(strings.TrimSuffix(pfx, ".pfx") + ".cer")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()

	out := filepath.Join(e.dir, "exported.cer")
	env, stdout, _ := e.runEnv(testPassword, false)
	opts := &certExportOptions{certReadOptions: certReadOptions{configEnv: env, Args: []string{pfx}, PasswordStdin: true}, Output: out}
	if err := runCertExportPublic(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(out); err != nil || !bytes.Equal(got, want) {
		t.Errorf("exported .cer differs from the one create wrote (%v)", err)
	}
	if !strings.HasPrefix(stdout.String(), "✓ Public certificate written to "+out+" (thumbprint ") {
		t.Errorf("stdout %q", stdout)
	}

	// To stdout, DER: the .cer's certificate, no key.
	env, stdout, _ = e.runEnv(testPassword, false)
	opts = &certExportOptions{certReadOptions: certReadOptions{configEnv: env, Args: []string{pfx}, PasswordStdin: true}, Output: "-", DER: true}
	if err := runCertExportPublic(ctx, opts); err != nil {
		t.Fatal(err)
	}
	if block, _ := pem.Decode(want); block == nil || !bytes.Equal(stdout.Bytes(), block.Bytes) {
		t.Error("DER on stdout is not the certificate's")
	}
}

// The cobra commands only fill in the options: the global -p and PATH, and no prompting
// when stdin carries the password. The App, shared by every command, keeps its InTTY.
func TestCertCommandsFillOptionsWithoutChangingTheApp(t *testing.T) {
	var out, errb bytes.Buffer
	a := &App{Streams: Streams{In: strings.NewReader("pw"), Out: &out, Err: &errb, InTTY: true}, Getenv: func(string) string { return "" }, Now: time.Now}
	ctx := context.Background()

	var created *certCreateOptions
	cmd := newCertCreateCmd(a, func(_ context.Context, o *certCreateOptions) error { created = o; return nil })
	cmd.SetArgs([]string{"--subject", "CN=x", "--out", "x.pfx", "--password-stdin", "--days", "9"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if created == nil || created.IO.CanPrompt || created.Subject != "CN=x" || created.Out != "x.pfx" || created.Days != 9 || created.KeySize != 2048 {
		t.Fatalf("create options %+v", created)
	}

	a.profileName = "prof"
	var checked *certCheckOptions
	cmd = newCertCheckCmd(a, func(_ context.Context, o *certCheckOptions) error { checked = o; return nil })
	cmd.SetArgs([]string{"--all", "--warn-days", "7"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if checked == nil || !checked.IO.CanPrompt || checked.ProfileFlag != "prof" || !checked.All || checked.WarnDays != 7 {
		t.Fatalf("check options %+v", checked)
	}

	var exported *certExportOptions
	cmd = newCertExportPublicCmd(a, func(_ context.Context, o *certExportOptions) error { exported = o; return nil })
	cmd.SetArgs([]string{"c.pfx", "--password-stdin", "-o", "c.cer", "--der"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if exported == nil || exported.IO.CanPrompt || len(exported.Args) != 1 || exported.Args[0] != "c.pfx" || exported.Output != "c.cer" || !exported.DER {
		t.Fatalf("export options %+v", exported)
	}

	var info *certInfoOptions
	cmd = newCertInfoCmd(a, func(_ context.Context, o *certInfoOptions) error { info = o; return nil })
	cmd.SetArgs([]string{"-o", "json"})
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if info == nil || !info.IO.CanPrompt || info.Output != "json" || len(info.Args) != 0 {
		t.Fatalf("info options %+v", info)
	}
	if !a.InTTY || out.Len() != 0 || errb.Len() != 0 {
		t.Fatalf("the App changed (InTTY %v) or a stream was written: %q %q", a.InTTY, out.String(), errb.String())
	}
}
