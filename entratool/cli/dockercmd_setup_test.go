package cli

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
)

// A registry that is not an Azure Container Registry is allowed (the emulator, a
// registry behind a proxy) but warned about: the helper will try ACR's token exchange
// there.
func TestDockerSetupWarnsAboutARegistryThatIsNotACR(t *testing.T) {
	e, path := dockerEnv(t)
	for _, host := range []string{"registry.example.com:5000", "127.0.0.1:5000", "azurecr.io", "myreg.azurecr.io.example.com", "[::1]:5000"} {
		r := e.ok("", "docker", "setup", "-p", "ci", "--registry", host)
		want := "warning: " + host + " is not an Azure Container Registry (*.azurecr.io, *.azurecr.us, *.azurecr.cn): docker-credential-entra will still try ACR's token exchange there\n"
		if !strings.Contains(r.err, want) {
			t.Errorf("%s: stderr %q, want the line %q", host, r.err, want)
		}
		if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"`+host+`": "entra"`) {
			t.Errorf("%s: not set up anyway: %s", host, data)
		}
	}
	for _, host := range []string{"myreg.azurecr.io", "MyReg.AzureCR.io:443", "gov.azurecr.us", "cn.azurecr.cn", "myreg.azurecr.io:5000", "https://x.azurecr.io/v2/"} {
		if r := e.ok("", "docker", "setup", "-p", "ci", "--registry", host); strings.Contains(r.err, "not an Azure Container Registry") {
			t.Errorf("%s: stderr %q", host, r.err)
		}
	}
	// --remove undoes whatever it was; no warning there.
	if r := e.ok("", "docker", "setup", "-p", "ci", "--registry", "registry.example.com:5000", "--remove"); strings.Contains(r.err, "Azure Container Registry") {
		t.Errorf("--remove warned: %q", r.err)
	}
}

// fileID is what tells a rewritten file from an untouched one: the atomic write makes
// a new inode, and any write a new modification time.
type fileID struct {
	fi   os.FileInfo
	data string
}

func statFile(t *testing.T, path string) fileID {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return fileID{fi: fi, data: string(data)}
}

func (a fileID) same(b fileID) bool {
	return os.SameFile(a.fi, b.fi) && a.fi.ModTime().Equal(b.fi.ModTime()) && a.data == b.data
}

// A run with nothing to change says so, and writes neither docker's config (however
// the user laid it out) nor profiles.json.
func TestDockerSetupAgainIsUnchanged(t *testing.T) {
	e, path := dockerEnv(t)
	const host = "myreg.azurecr.io"
	e.ok("", "docker", "setup", "-p", "ci", "--registry", host)
	// Laid out by hand since: what setup would write differs, what it means does not.
	handmade := "{\n  \"auths\": {},\n  \"credHelpers\": {\"myreg.azurecr.io\": \"entra\"}\n}\n"
	if err := os.WriteFile(path, []byte(handmade), 0o600); err != nil {
		t.Fatal(err)
	}
	// Stamps in the past, so that a rewrite within the same clock tick still shows.
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	for _, p := range []string{path, e.profilesPath()} {
		if err := os.Chtimes(p, old, old); err != nil {
			t.Fatal(err)
		}
	}
	config, profiles := statFile(t, path), statFile(t, e.profilesPath())

	r := e.ok("", "docker", "setup", "-p", "ci", "--registry", "https://MyReg.azurecr.io/")
	want := "✓ credHelpers[\"myreg.azurecr.io\"] = \"entra\" in " + path + ": unchanged\n" +
		"✓ profile 'ci' lists myreg.azurecr.io already: unchanged\n"
	if r.out != want {
		t.Errorf("stdout %q, want %q", r.out, want)
	}
	if strings.Contains(r.out, "will log in") {
		t.Errorf("claims to have set things up again: %q", r.out)
	}
	if !config.same(statFile(t, path)) {
		t.Errorf("docker config rewritten although unchanged:\n%s", readFile(t, path))
	}
	if !profiles.same(statFile(t, e.profilesPath())) {
		t.Error("profiles.json rewritten although unchanged")
	}

	// Half set up (the profile lost the host): only that half changes, and is reported.
	_, err := (&profile.Store{Home: e.home}).UpdateProfile(context.Background(), "ci", func(p *profile.Profile) error {
		p.Registries = []string{"old.azurecr.io"}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r = e.ok("", "docker", "setup", "-p", "ci", "--registry", host)
	want = "✓ credHelpers[\"myreg.azurecr.io\"] = \"entra\" in " + path + ": unchanged\n" +
		"✓ profile 'ci' now lists myreg.azurecr.io\n"
	if r.out != want {
		t.Errorf("stdout %q, want %q", r.out, want)
	}
	if !config.same(statFile(t, path)) {
		t.Errorf("docker config rewritten although its entry was there:\n%s", readFile(t, path))
	}
	if got := registries(e, "ci"); strings.Join(got, ",") != "old.azurecr.io,"+host {
		t.Errorf("registries %v", got)
	}
}
