package e2e

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/docker-credential-helpers/client"
	"github.com/docker/docker-credential-helpers/credentials"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/emulator"
)

const nullUser = "00000000-0000-0000-0000-000000000000"

// acrWorld is a world with a certificate profile "ci" and an emulated ACR registry.
func acrWorld(t *testing.T, registries ...string) (*world, *emulator.Registry, *certFiles) {
	t.Helper()
	w := newWorld(t)
	reg, err := w.emu.StartRegistry(emulator.RegistryOptions{TenantID: tenantID})
	if err != nil {
		t.Fatal(err)
	}
	cf := w.newCert("acr", "pfx-pass")
	w.register(cf.leaf)
	p := &profile.Profile{Name: "ci", UseCertificate: true, CertificatePath: cf.pfx, Scope: graph}
	for _, r := range registries {
		if r == "REG" {
			r = reg.Host
		}
		p.Registries = append(p.Registries, r)
	}
	w.saveProfile(p, cf.password)
	w.env["DOCKER_CONFIG"] = filepath.Join(w.dir, "docker")
	return w, reg, cf
}

// docker's own client package runs the built helper exactly as docker does.
func TestDockerCredentialHelperThroughDockerClient(t *testing.T) {
	w, reg, _ := acrWorld(t, "REG", "myregistry.azurecr.io")
	prog := client.NewShellProgramFuncWithEnv(filepath.Join(binDir, "docker-credential-entra"), &w.env)

	creds, err := client.Get(prog, reg.Host)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if creds.Username != nullUser || creds.ServerURL != reg.Host || strings.Count(creds.Secret, ".") != 2 {
		t.Fatalf("credentials %+v", creds)
	}
	if c := w.emu.Counts(); c.TokenIssued != 1 {
		t.Fatalf("entra %+v", c)
	}
	if again, err := client.Get(prog, "https://"+reg.Host+"/v2/"); err != nil || again.Secret != creds.Secret {
		t.Fatalf("second get: %v (same token: %v)", err, err == nil && again.Secret == creds.Secret)
	}
	if rc := reg.Counts(); rc.Exchange != 1 {
		t.Fatalf("registry %+v, want one exchange", rc)
	}

	for _, host := range []string{"myregistry.azurecr.io.evil.com", "evil-myregistry.azurecr.io", "index.docker.io", "https://index.docker.io/v1/"} {
		if _, err := client.Get(prog, host); !credentials.IsErrCredentialsNotFound(err) {
			t.Fatalf("get %s: %v, want not found", host, err)
		}
	}
	list, err := client.List(prog)
	if err != nil || len(list) != 2 || list[reg.Host] != nullUser || list["myregistry.azurecr.io"] != nullUser {
		t.Fatalf("list: %v %v", list, err)
	}
	err = client.Store(prog, &credentials.Credentials{ServerURL: reg.Host, Username: "u", Secret: "typed-password"})
	if err == nil || !strings.Contains(err.Error(), "does not store credentials") || strings.Contains(err.Error(), "typed-password") {
		t.Fatalf("store: %v", err)
	}
	if err := client.Erase(prog, reg.Host); err != nil {
		t.Fatalf("erase: %v", err)
	}
	if _, err := client.Get(prog, reg.Host); err != nil {
		t.Fatalf("get after erase: %v", err)
	}
	if rc := reg.Counts(); rc.ExchangeIssued != 2 {
		t.Fatalf("registry %+v: erase did not force a new exchange", rc)
	}
	if out := w.mustRun("", "docker-credential-entra", "version"); !strings.HasPrefix(out, "docker-credential-entra (github.com/entratool/entratool) ") {
		t.Fatalf("version %q", out)
	}
}

// `entratool docker setup`, then go-containerregistry — what crane, ko and many CI
// tools are — with the default keychain, which reads config.json and runs the helper
// from PATH: push a random image, pull it back, and pull again from the cache.
func TestDockerSetupThenPushAndPull(t *testing.T) {
	w, reg, _ := acrWorld(t)
	out := w.mustRun("", "entratool", "docker", "setup", "-p", "ci", "--registry", reg.Host)
	if !strings.Contains(out, "✓ docker will log in to "+reg.Host) {
		t.Fatalf("setup: %q", out)
	}
	// The keychain runs in this process: give it the world's environment.
	for k, v := range w.env {
		t.Setenv(k, v)
	}
	t.Setenv("ENTRATOOL_PROFILE", "")
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.emu.CAPool}}
	opts := []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithTransport(tr)}

	ref, err := name.ParseReference(reg.Host + "/team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(2048, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(ref, img, opts...); err != nil {
		t.Fatalf("push: %v", err)
	}
	if c, rc := w.emu.Counts(), reg.Counts(); c.TokenIssued != 1 || rc.ExchangeIssued != 1 {
		t.Fatalf("push: entra %+v, registry %+v", c, rc)
	}
	pull := func() {
		t.Helper()
		got, err := remote.Image(ref, opts...)
		if err != nil {
			t.Fatalf("pull: %v", err)
		}
		sameImage(t, img, got)
	}
	pull()

	// Within the refresh token's life: no Entra request and no exchange, only the
	// registry's own token requests.
	w.emu.ResetCounts()
	reg.ResetCounts()
	pull()
	if c, rc := w.emu.Counts(), reg.Counts(); c.Total != 0 || rc.Exchange != 0 || rc.TokenIssued == 0 {
		t.Fatalf("second pull: entra %+v, registry %+v", c, rc)
	}

	// A registry that config.json sends to the helper but no profile lists goes
	// anonymous (and the registry says 401), rather than failing in the helper.
	other, err := w.emu.StartRegistry(emulator.RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(w.env["DOCKER_CONFIG"], "config.json")
	var cfg map[string]map[string]string
	data, _ := os.ReadFile(cfgPath)
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatal(err)
	}
	cfg["credHelpers"][other.Host] = "entra"
	data, _ = json.Marshal(cfg)
	os.WriteFile(cfgPath, data, 0o600)
	otherRef, err := name.ParseReference(other.Host + "/team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	_, err = remote.Image(otherRef, opts...)
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("unlisted registry: %v, want the registry's 401 for an anonymous pull", err)
	}
	if rc := other.Counts(); rc.Exchange != 0 {
		t.Fatalf("unlisted registry got an exchange: %+v", rc)
	}
}

func sameImage(t *testing.T, want, got v1.Image) {
	t.Helper()
	wd, _ := want.Digest()
	gd, err := got.Digest()
	if err != nil || gd != wd {
		t.Fatalf("pulled %v (%v), pushed %v", gd, err, wd)
	}
	layers, err := got.Layers()
	if err != nil || len(layers) != 3 {
		t.Fatalf("layers: %d %v", len(layers), err)
	}
	wl, _ := want.Layers()
	for i, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatalf("layer %d: %v", i, err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		wrc, _ := wl[i].Compressed()
		wb, _ := io.ReadAll(wrc)
		wrc.Close()
		if err != nil || !bytes.Equal(b, wb) {
			t.Fatalf("layer %d differs (%v)", i, err)
		}
	}
}

// A real config.json keeps every key but credHelpers byte for byte, and a malformed
// one is reported with its line and column and left alone.
func TestDockerSetupKeepsRichConfig(t *testing.T) {
	w, reg, _ := acrWorld(t)
	cfgPath := filepath.Join(w.env["DOCKER_CONFIG"], "config.json")
	os.MkdirAll(filepath.Dir(cfgPath), 0o700)
	rich := `{
	"auths": {
		"https://index.docker.io/v1/": {
			"auth": "dXNlcjpwYXNz"
		},
		"quay.io": {}
	},
	"credsStore": "desktop",
	"credHelpers": {
		"123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login"
	},
	"proxies": {
		"default": {
			"httpProxy": "http://proxy.example:3128",
			"noProxy": "localhost,<local>"
		}
	},
	"experimental": "enabled",
	"x-unknown": {"nested": [1.0, 2e2, "\u00e9"]}
}
`
	os.WriteFile(cfgPath, []byte(rich), 0o644)
	w.mustRun("", "entratool", "docker", "setup", "--registry", reg.Host)
	after, _ := os.ReadFile(cfgPath)
	var a, b map[string]json.RawMessage
	if json.Unmarshal([]byte(rich), &b) != nil || json.Unmarshal(after, &a) != nil {
		t.Fatalf("config.json after setup:\n%s", after)
	}
	for k, v := range b {
		if k != "credHelpers" && !bytes.Equal(a[k], v) {
			t.Errorf("%s changed: %s → %s", k, v, a[k])
		}
	}
	var helpers map[string]string
	json.Unmarshal(a["credHelpers"], &helpers)
	if len(a) != len(b) || helpers[reg.Host] != "entra" || helpers["123456789012.dkr.ecr.us-east-1.amazonaws.com"] != "ecr-login" {
		t.Fatalf("credHelpers %v, keys %d→%d", helpers, len(b), len(a))
	}
	if fi, _ := os.Stat(cfgPath); fi.Mode().Perm() != 0o644 {
		t.Fatalf("mode %v", fi.Mode().Perm())
	}
	// The helper serves what setup configured.
	if out := w.mustRun("", "docker-credential-entra", "list"); !strings.Contains(out, `"`+reg.Host+`":"`+nullUser+`"`) {
		t.Fatalf("list %q", out)
	}
	// --remove restores the file exactly.
	w.mustRun("", "entratool", "docker", "setup", "--registry", reg.Host, "--remove")
	if back, _ := os.ReadFile(cfgPath); string(back) != rich {
		t.Fatalf("after --remove:\n%s", back)
	}

	broken := strings.Replace(rich, `"experimental": "enabled",`, `"experimental": enabled,`, 1)
	os.WriteFile(cfgPath, []byte(broken), 0o644)
	_, errOut, code := w.run("", "entratool", "docker", "setup", "--registry", reg.Host)
	if code != 1 || !strings.Contains(errOut, cfgPath+":18:18: not valid JSON") {
		t.Fatalf("malformed config: exit %d, %q", code, errOut)
	}
	if now, _ := os.ReadFile(cfgPath); string(now) != broken {
		t.Fatal("malformed config.json was rewritten")
	}
}

// The docker CLI itself, through credHelpers: `docker manifest inspect` talks to the
// registry from the CLI (no daemon needed) and logs in with the helper.
func TestDockerCLIManifestInspect(t *testing.T) {
	docker := requireTool(t, "docker")
	w, reg, _ := acrWorld(t)
	w.mustRun("", "entratool", "docker", "setup", "-p", "ci", "--registry", reg.Host)
	ref, err := name.ParseReference(reg.Host + "/team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Pushed with the refresh token the helper hands docker.
	prog := client.NewShellProgramFuncWithEnv(filepath.Join(binDir, "docker-credential-entra"), &w.env)
	creds, err := client.Get(prog, reg.Host)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.emu.CAPool}}
	auth := authn.FromConfig(authn.AuthConfig{Username: creds.Username, Password: creds.Secret})
	if err := remote.Write(ref, img, remote.WithAuth(auth), remote.WithTransport(tr)); err != nil {
		t.Fatalf("push: %v", err)
	}
	reg.ResetCounts()
	cmd := exec.CommandContext(t.Context(), docker, "manifest", "inspect", ref.String())
	cmd.Env = w.environ()
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("docker manifest inspect: %v\n%s%s", err, out, stderr)
	}
	raw, _ := img.RawManifest()
	var got, want any
	if json.Unmarshal(out, &got) != nil || json.Unmarshal(raw, &want) != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("docker printed %s, pushed %s", out, raw)
	}
	if rc := reg.Counts(); rc.TokenIssued == 0 || rc.Exchange != 0 {
		t.Fatalf("registry %+v", rc)
	}
}
