package cli

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/entratool/entratool/core/profile"
)

// The kubeconfig file format is tested in helpers/execcred/kubeconfig; these tests are
// the command's: profile resolution, flags, messages and exit codes.

const kubeProfile = "aks-sp"

// kubeToken is the cached token of the legacy user, which must not survive.
const kubeToken = "cached-access-token-0123456789"

// legacyKubeconfig is an azure auth-provider user as old `az aks get-credentials` wrote it.
const legacyKubeconfig = `apiVersion: v1
kind: Config
clusters:
- cluster: {server: "https://myaks.hcp.westeurope.azmk8s.io:443"}
  name: myaks
contexts:
- context: {cluster: myaks, user: clusterUser_myrg_myaks}
  name: myaks
current-context: myaks
users:
- name: clusterUser_myrg_myaks
  user:
    auth-provider:
      name: azure
      config:
        access-token: ` + kubeToken + `
        apiserver-id: 3f6c2b1a-9d8e-4f70-8a6b-5c4d3e2f1a0b
`

// newKubeTestEnv is a test home with two profiles ("other" the default) and a PATH with
// a kubectl-exec-entra, so the command does not warn.
func newKubeTestEnv(t *testing.T) *testEnv {
	t.Helper()
	e := newTestEnv(t)
	st := &profile.Store{Home: e.home}
	err := st.Update(context.Background(), func(c *profile.Config) error {
		c.Put(&profile.Profile{Name: kubeProfile, ClientID: seedClientID, TenantID: seedTenantID, UseCertificate: true,
			CertificatePath: filepath.Join(e.dir, "aks-sp.pfx")})
		c.Put(&profile.Profile{Name: "other", ClientID: seedClientID, TenantID: seedTenantID, UseCertificate: true,
			CertificatePath: filepath.Join(e.dir, "other.pfx")})
		c.DefaultProfile = "other"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(e.dir, "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "kubectl-exec-entra"), []byte("#!/bin/sh\n"), 0o755)
	e.vars["PATH"] = bin
	return e
}

func writeKubeconfig(t *testing.T, path, content string) string {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func kubeArgs(t *testing.T, path, user string) []string {
	t.Helper()
	c, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("kubectl cannot load %s: %v", path, err)
	}
	u := c.AuthInfos[user]
	if u == nil || u.Exec == nil || u.Exec.Command != "kubectl-exec-entra" || u.AuthProvider != nil {
		t.Fatalf("user %s: %+v", user, u)
	}
	return u.Exec.Args
}

func TestKubeconfigConvertCommand(t *testing.T) {
	e := newKubeTestEnv(t)
	path := writeKubeconfig(t, filepath.Join(e.dir, "kube", "config"), legacyKubeconfig)

	r := e.ok("", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path)
	want := "✓ user 'clusterUser_myrg_myaks' in " + path + ": azure auth-provider → kubectl-exec-entra --profile aks-sp --server-id 3f6c2b1a-9d8e-4f70-8a6b-5c4d3e2f1a0b\n"
	if r.out != want || r.err != "" {
		t.Errorf("output: %s\nwant: %s", r, want)
	}
	if got := kubeArgs(t, path, "clusterUser_myrg_myaks"); !slices.Equal(got, []string{"--profile", kubeProfile, "--server-id", "3f6c2b1a-9d8e-4f70-8a6b-5c4d3e2f1a0b"}) {
		t.Errorf("args %q", got)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), kubeToken) {
		t.Error("the cached token survived")
	}

	// A second run changes nothing and says so.
	r = e.ok("", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path)
	if !strings.Contains(r.out, "already uses kubectl-exec-entra") {
		t.Errorf("second run: %s", r)
	}
	r = e.ok("", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path, "--context", "myaks")
	if !strings.Contains(r.out, "already runs kubectl-exec-entra --profile aks-sp") {
		t.Errorf("--context rerun: %s", r)
	}

	// Without -p the default profile; --server-id (trimmed) wins over the entry's.
	e.ok("", "kubeconfig", "convert", "--kubeconfig", path, "--context", "myaks", "--server-id", " api://custom-aks-server ")
	if got := kubeArgs(t, path, "clusterUser_myrg_myaks"); !slices.Equal(got, []string{"--profile", "other", "--server-id", "api://custom-aks-server"}) {
		t.Errorf("args %q", got)
	}

	// $KUBECONFIG, then ~/.kube/config.
	other := writeKubeconfig(t, filepath.Join(e.dir, "kube", "second"), legacyKubeconfig)
	e.vars["KUBECONFIG"] = other
	e.ok("", "kubeconfig", "convert", "-p", kubeProfile)
	kubeArgs(t, other, "clusterUser_myrg_myaks")
	delete(e.vars, "KUBECONFIG")
	home := filepath.Join(e.dir, "userhome")
	def := writeKubeconfig(t, filepath.Join(home, ".kube", "config"), legacyKubeconfig)
	e.vars["HOME"] = home
	e.ok("", "kubeconfig", "convert", "-p", kubeProfile)
	kubeArgs(t, def, "clusterUser_myrg_myaks")
}

func TestKubeconfigConvertErrors(t *testing.T) {
	e := newKubeTestEnv(t)
	dir := filepath.Join(e.dir, "kube")
	path := writeKubeconfig(t, filepath.Join(dir, "config"), legacyKubeconfig)

	e.expect(ExitUsage, "give --kubeconfig FILE or set KUBECONFIG", "", "kubeconfig", "convert", "-p", kubeProfile)
	e.expect(ExitFailure, "kubeconfig not found: "+filepath.Join(dir, "nope"), "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", filepath.Join(dir, "nope"))
	e.vars["HOME"] = filepath.Join(e.dir, "emptyhome")
	e.expect(ExitFailure, "no kubeconfig found at "+filepath.Join(e.dir, "emptyhome", ".kube", "config"), "", "kubeconfig", "convert", "-p", kubeProfile)
	e.expect(ExitFailure, `"nobody"`, "", "kubeconfig", "convert", "-p", "nobody", "--kubeconfig", path)
	e.expect(ExitUsage, "--server-id is empty", "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path, "--server-id", "")
	e.expect(ExitUsage, `no context "nope" in the kubeconfig (have: myaks)`, "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path, "--context", "nope")

	static := writeKubeconfig(t, filepath.Join(dir, "static"), "users:\n- name: u\n  user: {token: t}\ncontexts:\n- name: c\n  context: {user: u}\n")
	e.expect(ExitFailure, "name the context to convert with --context", "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", static)
	noUser := writeKubeconfig(t, filepath.Join(dir, "nouser"), "contexts:\n- name: c\n  context: {cluster: x}\n")
	e.expect(ExitFailure, `context "c" names no user`, "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", noUser, "--context", "c")

	bad := writeKubeconfig(t, filepath.Join(dir, "bad"), "apiVersion: v1\nkind: Config\nusers: {not: [a list\n")
	e.expect(ExitFailure, "kubeconfig "+bad+" is not valid", "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", bad)

	// A lock left by kubectl is respected and named.
	os.WriteFile(path+".lock", nil, 0o600)
	e.expect(ExitFailure, path+".lock exists", "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path)
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), kubeToken) {
		t.Error("file changed while locked")
	}
	os.Remove(path + ".lock")

	// Without kubectl-exec-entra on PATH the conversion works and warns.
	e.vars["PATH"] = filepath.Join(e.dir, "empty")
	r := e.ok("", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path)
	if !strings.Contains(r.err, "kubectl-exec-entra is not on PATH") || !strings.Contains(r.out, "✓ user") {
		t.Errorf("no PATH warning: %s", r)
	}
	kubeArgs(t, path, "clusterUser_myrg_myaks")
}
