package cli

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/helpers/dockercred"
)

// dockerEnv is a test home with two profiles and a DOCKER_CONFIG directory.
func dockerEnv(t *testing.T) (*testEnv, string) {
	t.Helper()
	e := newTestEnv(t)
	dir := filepath.Join(e.dir, "docker")
	e.vars["DOCKER_CONFIG"] = dir
	e.vars["PATH"] = e.dir // no docker-credential-entra there
	err := (&profile.Store{Home: e.home}).Update(context.Background(), func(c *profile.Config) error {
		c.Put(&profile.Profile{Name: "ci", ClientID: seedClientID, TenantID: seedTenantID, Registries: []string{"old.azurecr.io"}})
		c.Put(&profile.Profile{Name: "other", ClientID: seedClientID, TenantID: seedTenantID, Registries: []string{"shared.azurecr.io"}})
		c.DefaultProfile = "ci"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, filepath.Join(dir, "config.json")
}

func registries(e *testEnv, name string) []string {
	var out []string
	for _, r := range e.profileJSON(name)["registries"].([]any) {
		out = append(out, r.(string))
	}
	return out
}

// richDockerConfig is as docker writes config.json, with everything a real one holds.
const richDockerConfig = `{
	"auths": {
		"https://index.docker.io/v1/": {
			"auth": "dXNlcjpwYXNz"
		},
		"myreg.azurecr.io": {
			"identitytoken": "kept-as-is"
		}
	},
	"credsStore": "desktop",
	"proxies": {
		"default": {
			"httpProxy": "http://proxy.example:3128",
			"noProxy": "*.azurecr.io,<local>"
		}
	},
	"x-team-setting": {"n": 1.50, "list": [1,  2]},
	"credHelpers": {
		"gcr.io": "gcloud"
	}
}`

func TestDockerSetupChangesOnlyCredHelpers(t *testing.T) {
	e, path := dockerEnv(t)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(richDockerConfig), 0o640); err != nil {
		t.Fatal(err)
	}
	r := e.ok("", "docker", "setup", "-p", "ci", "--registry", "https://MyReg.azurecr.io/")
	if !strings.Contains(r.out, "✓ docker will log in to myreg.azurecr.io with profile 'ci'") {
		t.Fatalf("output %q", r.out)
	}
	if !strings.Contains(r.err, "docker-credential-entra is not on PATH") {
		t.Fatalf("no PATH warning: %q", r.err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Replace(richDockerConfig, `"gcr.io": "gcloud"`, `"gcr.io": "gcloud",`+"\n\t\t"+`"myreg.azurecr.io": "entra"`, 1)
	if string(data) != want {
		t.Fatalf("config.json\n%s\nwant\n%s", data, want)
	}
	if m := mode(t, path); m != 0o640 {
		t.Fatalf("mode %v, want 0640 kept", m)
	}
	if got := registries(e, "ci"); !reflect.DeepEqual(got, []string{"old.azurecr.io", "myreg.azurecr.io"}) {
		t.Fatalf("registries %v", got)
	}
	// Again: nothing changes, nothing is added twice.
	e.ok("", "docker", "setup", "-p", "ci", "--registry", "myreg.azurecr.io")
	if again, _ := os.ReadFile(path); string(again) != want || len(registries(e, "ci")) != 2 {
		t.Fatalf("second setup changed things:\n%s\n%v", again, registries(e, "ci"))
	}
	// --remove gives the original file back.
	e.ok("", "docker", "setup", "-p", "ci", "--registry", "myreg.azurecr.io", "--remove")
	if back, _ := os.ReadFile(path); string(back) != richDockerConfig {
		t.Fatalf("after --remove\n%s", back)
	}
	if got := registries(e, "ci"); !reflect.DeepEqual(got, []string{"old.azurecr.io"}) {
		t.Fatalf("registries after --remove %v", got)
	}
}

func TestDockerSetupNewConfig(t *testing.T) {
	e, path := dockerEnv(t)
	e.ok("", "docker", "setup", "--registry", "127.0.0.1:5000")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != "{\n\t\"credHelpers\": {\n\t\t\"127.0.0.1:5000\": \"entra\"\n\t}\n}\n" {
		t.Fatalf("new config.json %q", data)
	}
	if m := mode(t, path); m != 0o600 {
		t.Fatalf("new config.json mode %v", m)
	}
	if m := mode(t, filepath.Dir(path)); m != 0o700 {
		t.Fatalf("new docker dir mode %v", m)
	}
	// With the helper on PATH, no warning about it; only that this is not ACR.
	bin := filepath.Join(e.dir, "docker-credential-entra")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := e.ok("", "docker", "setup", "--registry", "127.0.0.1:5000"); r.err != "warning: 127.0.0.1:5000 is not an Azure Container Registry (*.azurecr.io, *.azurecr.us, *.azurecr.cn): docker-credential-entra will still try ACR's token exchange there\n" {
		t.Fatalf("stderr %q", r.err)
	}
	if r := e.ok("", "docker", "setup", "--registry", "myreg.azurecr.io"); r.err != "" {
		t.Fatalf("stderr %q", r.err)
	}
}

func TestDockerSetupMovesRegistryFromAnotherProfile(t *testing.T) {
	e, path := dockerEnv(t)
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(path, []byte(`{"credHelpers":{"shared.azurecr.io":"acr-env"}}`), 0o600)
	r := e.ok("", "docker", "setup", "-p", "ci", "--registry", "SHARED.azurecr.io:443")
	if !strings.Contains(r.err, "profile 'other' listed shared.azurecr.io as well") || !strings.Contains(r.err, `was "acr-env"`) {
		t.Fatalf("stderr %q", r.err)
	}
	if _, ok := e.profileJSON("other")["registries"]; ok {
		t.Fatalf("other still lists it: %v", e.profileJSON("other"))
	}
	if data, _ := os.ReadFile(path); string(data) != `{"credHelpers":{"shared.azurecr.io":"entra"}}` {
		t.Fatalf("config %s", data)
	}
}

func TestDockerSetupRefusesMalformedConfig(t *testing.T) {
	e, path := dockerEnv(t)
	os.MkdirAll(filepath.Dir(path), 0o700)
	bad := "{\n\t\"auths\": {\n\t\t\"x\": {}\n\t}\n\t\"credsStore\": \"desktop\"\n}\n"
	os.WriteFile(path, []byte(bad), 0o600)
	before, _ := os.ReadFile(e.profilesPath())
	e.expect(ExitFailure, path+":5:2: not valid JSON", "", "docker", "setup", "--registry", "myreg.azurecr.io")
	if data, _ := os.ReadFile(path); string(data) != bad {
		t.Fatalf("malformed config.json was rewritten: %q", data)
	}
	if after, _ := os.ReadFile(e.profilesPath()); string(after) != string(before) {
		t.Fatal("profiles.json changed although docker's config could not be")
	}
}

func TestDockerSetupUsage(t *testing.T) {
	e, _ := dockerEnv(t)
	e.expect(ExitUsage, "missing --registry", "", "docker", "setup", "-p", "ci")
	e.expect(ExitUsage, "not a registry name", "", "docker", "setup", "-p", "ci", "--registry", "http://myreg.azurecr.io")
	e.expect(ExitUsage, "not a registry name", "", "docker", "setup", "-p", "ci", "--registry", "myreg.azurecr.io.")
	e.expect(ExitFailure, `profile "nope" not found`, "", "docker", "setup", "-p", "nope", "--registry", "myreg.azurecr.io")
}

// docker writes through a symlinked config.json (dotfiles); so does setup.
func TestDockerSetupWritesThroughSymlink(t *testing.T) {
	e, path := dockerEnv(t)
	target := filepath.Join(e.dir, "dotfiles", "docker.json")
	os.MkdirAll(filepath.Dir(target), 0o700)
	os.MkdirAll(filepath.Dir(path), 0o700)
	os.WriteFile(target, []byte("{}\n"), 0o600)
	if err := os.Symlink(target, path); err != nil {
		t.Fatal(err)
	}
	e.ok("", "docker", "setup", "--registry", "myreg.azurecr.io")
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("symlink replaced: %v", err)
	}
	if data, _ := os.ReadFile(target); !strings.Contains(string(data), `"myreg.azurecr.io": "entra"`) {
		t.Fatalf("target %s", data)
	}
}

// Issue 13: --remove forgets the refresh tokens this profile's app made for the
// registry, not those of every profile.
func TestDockerRemoveForgetsOnlyThisProfilesRefreshTokens(t *testing.T) {
	e, _ := dockerEnv(t)
	const host = "myreg.azurecr.io"
	err := (&profile.Store{Home: e.home}).Update(context.Background(), func(c *profile.Config) error {
		c.Put(&profile.Profile{Name: "elsewhere", ClientID: "aaaaaaaa-1234-1234-1234-123456789abc", TenantID: seedTenantID})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e.ok("", "docker", "setup", "-p", "ci", "--registry", host)
	cache := tokencache.Open(e.home, e.getenv)
	mine := dockercred.RefreshKey(&profile.Profile{TenantID: seedTenantID, ClientID: strings.ToUpper(seedClientID)}, host, dockercred.DefaultScope, "x5t:AB")
	theirs := dockercred.RefreshKey(&profile.Profile{TenantID: seedTenantID, ClientID: "aaaaaaaa-1234-1234-1234-123456789abc"}, host, dockercred.DefaultScope, "x5t:CD")
	for _, k := range []tokencache.Key{mine, theirs} {
		if err := cache.Put(k, &tokencache.Token{AccessToken: "rt-" + k.Credential[4:], ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	e.ok("", "docker", "setup", "-p", "ci", "--registry", host, "--remove")
	if _, ok := cache.Get(mine); ok {
		t.Fatal("the profile's refresh token survived --remove")
	}
	if _, ok := cache.Get(theirs); !ok {
		t.Fatal("--remove forgot another app's refresh token")
	}
}

// Issue 13: when the certificate's thumbprint cannot be remembered (the memo directory
// is unusable), the refresh token is still keyed by the thumbprint of the certificate
// actually loaded — never by its path — so a new certificate at the same path never
// reuses the old one's refresh token.
func TestDockerRefreshTokenNotReusedAfterCertReplacedWhenMemoUnwritable(t *testing.T) {
	bin := buildEntratool(t)
	engine := filepath.Join(filepath.Dir(bin), "entratool-engine")
	e := newTestEnv(t)
	emu, err := emulator.Start(emulator.Options{Dir: filepath.Join(e.dir, "emu")})
	if err != nil {
		t.Fatal(err)
	}
	defer emu.Close()
	reg, err := emu.StartRegistry(emulator.RegistryOptions{TenantID: seedTenantID})
	if err != nil {
		t.Fatal(err)
	}
	var leaves []*x509.Certificate
	var pfxData [][]byte
	for i := range 2 {
		c, err := cert.Create(cert.CreateOptions{Subject: fmt.Sprintf("CN=acr-%d", i), Days: 90})
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(e.dir, fmt.Sprintf("acr-%d.pfx", i))
		if err := cert.WritePFX(p, c, "pfx-Pw-1"); err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		leaves, pfxData = append(leaves, c.Leaf), append(pfxData, data)
	}
	emu.RegisterApp(emulator.App{TenantID: seedTenantID, ClientID: seedClientID, Certificates: leaves})
	pfx := filepath.Join(e.dir, "acr.pfx")
	install := func(i int) {
		t.Helper()
		// As a rotation does: a new file renamed over the old one.
		tmp := pfx + ".new"
		if err := os.WriteFile(tmp, pfxData[i], 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, pfx); err != nil {
			t.Fatal(err)
		}
	}
	install(0)
	err = (&profile.Store{Home: e.home}).Update(context.Background(), func(c *profile.Config) error {
		c.Put(&profile.Profile{Name: "ci", ClientID: seedClientID, TenantID: seedTenantID, UseCertificate: true,
			CertificatePath: pfx, AuthorityHost: emu.URL, Registries: []string{reg.Host}})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	store, err := secret.Open("file", e.home, e.getenv)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Set(context.Background(), secret.Key("ci", secret.CertificatePassword), "pfx-Pw-1"); err != nil {
		t.Fatal(err)
	}
	// The memo directory cannot be made (root ignores modes, so it is a regular file).
	cacheDir := filepath.Join(e.home, "cache")
	if err := os.MkdirAll(cacheDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(cacheDir, "certs"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	env := []string{"ENTRATOOL_HOME=" + e.home, "ENTRATOOL_SECRET_STORE=file", "SSL_CERT_FILE=" + emu.CAFile, "PATH=" + os.Getenv("PATH")}
	get := func() (secretOut, stderr string) {
		t.Helper()
		cmd := exec.Command(engine, "docker", "credential-helper", "get")
		cmd.Env = env
		cmd.Stdin = strings.NewReader(reg.Host)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		if err := cmd.Run(); err != nil {
			t.Fatalf("get: %v\nstdout: %s\nstderr: %s", err, out.String(), errb.String())
		}
		var creds struct{ Username, Secret string }
		if err := json.Unmarshal(out.Bytes(), &creds); err != nil || creds.Secret == "" {
			t.Fatalf("get printed %q (%v)", out.String(), err)
		}
		return creds.Secret, errb.String()
	}
	first, stderr := get()
	if strings.Count(stderr, "thumbprint") != 1 {
		t.Fatalf("want one warning that the thumbprint could not be remembered; stderr %q", stderr)
	}
	// The same certificate: the cached refresh token, though its thumbprint is not remembered.
	if again, _ := get(); again != first {
		t.Fatal("same certificate: the cached refresh token was not reused")
	}
	if rc := reg.Counts(); rc.ExchangeIssued != 1 {
		t.Fatalf("registry %+v, want one exchange", rc)
	}
	install(1)
	if replaced, _ := get(); replaced == first {
		t.Fatal("the refresh token made with the replaced certificate was reused")
	}
	if rc := reg.Counts(); rc.ExchangeIssued != 2 {
		t.Fatalf("registry %+v, want a second exchange for the new certificate", rc)
	}
}
