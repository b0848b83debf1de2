package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/helpers/execcred"
)

const kubeProfile = "aks-sp"

// kubeTestEnv is a test home with one profile, plus the secret values planted in the
// kubeconfig fixtures (random per run) that must not survive a conversion.
type kubeTestEnv struct {
	*testEnv
	secrets map[string]string
}

func newKubeTestEnv(t *testing.T) *kubeTestEnv {
	t.Helper()
	e := &kubeTestEnv{testEnv: newTestEnv(t), secrets: map[string]string{}}
	for _, k := range []string{"ACCESS_TOKEN", "REFRESH_TOKEN", "CLIENT_SECRET", "STATIC_TOKEN", "PASSWORD"} {
		b := make([]byte, 24)
		rand.Read(b)
		e.secrets[k] = k + "-" + hex.EncodeToString(b)
	}
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
	// PATH with a kubectl-exec-entra, so the command does not warn.
	bin := filepath.Join(e.dir, "bin")
	os.MkdirAll(bin, 0o755)
	os.WriteFile(filepath.Join(bin, "kubectl-exec-entra"), []byte("#!/bin/sh\n"), 0o755)
	e.vars["PATH"] = bin
	return e
}

// fixture copies testdata/kubeconfig/name into dir with the planted secrets, as mode.
func (e *kubeTestEnv) fixture(name, dir string, mode os.FileMode) string {
	e.t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "kubeconfig", name))
	if err != nil {
		e.t.Fatal(err)
	}
	s := string(data)
	for k, v := range e.secrets {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	if strings.Contains(s, "{{") {
		e.t.Fatalf("%s: unfilled placeholder", name)
	}
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, strings.TrimSuffix(name, ".yaml"))
	if err := os.WriteFile(path, []byte(s), mode); err != nil {
		e.t.Fatal(err)
	}
	os.Chmod(path, mode)
	return path
}

func loadKube(t *testing.T, path string) *clientcmdapi.Config {
	t.Helper()
	c, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("kubectl cannot load %s: %v", path, err)
	}
	return c
}

// wantEntraUser checks a user runs kubectl-exec-entra exactly as the SPEC says, with no
// credential of any kind beside it.
func wantEntraUser(t *testing.T, c *clientcmdapi.Config, user, serverID string) {
	t.Helper()
	u := c.AuthInfos[user]
	if u == nil || u.Exec == nil {
		t.Fatalf("user %s: %+v", user, u)
	}
	x := u.Exec
	if x.APIVersion != "client.authentication.k8s.io/v1" || x.Command != "kubectl-exec-entra" ||
		!slices.Equal(x.Args, []string{"--profile", kubeProfile, "--server-id", serverID}) ||
		x.InteractiveMode != clientcmdapi.IfAvailableExecInteractiveMode || !strings.Contains(x.InstallHint, "entratool") ||
		len(x.Env) != 0 || x.ProvideClusterInfo {
		t.Errorf("user %s exec: %+v", user, x)
	}
	if u.AuthProvider != nil || u.Token != "" || u.TokenFile != "" || u.Password != "" || u.Username != "" ||
		len(u.ClientKeyData) != 0 || len(u.ClientCertificateData) != 0 || u.ClientKey != "" {
		t.Errorf("user %s keeps credentials: %+v", user, u)
	}
}

// noSecrets fails if any planted secret of names is in the file.
func (e *kubeTestEnv) noSecrets(path string, names ...string) {
	e.t.Helper()
	data, _ := os.ReadFile(path)
	for _, n := range names {
		if strings.Contains(string(data), e.secrets[n]) {
			e.t.Errorf("%s still holds %s", path, n)
		}
	}
	for _, k := range []string{"access-token", "refresh-token", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"} {
		if strings.Contains(string(data), k) {
			e.t.Errorf("%s still has %s", path, k)
		}
	}
}

// sameExcept checks that everything but the named users is as before.
func sameExcept(t *testing.T, before, after *clientcmdapi.Config, users ...string) {
	t.Helper()
	if !reflect.DeepEqual(before.Clusters, after.Clusters) {
		t.Errorf("clusters changed:\n%+v\n%+v", before.Clusters, after.Clusters)
	}
	if !reflect.DeepEqual(before.Contexts, after.Contexts) {
		t.Errorf("contexts changed")
	}
	if !reflect.DeepEqual(before.Extensions, after.Extensions) || !reflect.DeepEqual(before.Preferences, after.Preferences) || before.CurrentContext != after.CurrentContext {
		t.Errorf("extensions, preferences or current-context changed")
	}
	for name, u := range before.AuthInfos {
		if slices.Contains(users, name) {
			continue
		}
		if !reflect.DeepEqual(u, after.AuthInfos[name]) {
			t.Errorf("unrelated user %s changed:\n%+v\n%+v", name, u, after.AuthInfos[name])
		}
	}
	if len(before.AuthInfos) != len(after.AuthInfos) {
		t.Errorf("users %d → %d", len(before.AuthInfos), len(after.AuthInfos))
	}
}

func TestKubeconfigConvertAzureAuthProvider(t *testing.T) {
	e := newKubeTestEnv(t)
	path := e.fixture("aks-azure-legacy.yaml", filepath.Join(e.dir, "kube"), 0o640)
	before := loadKube(t, path)

	r := e.ok("", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path)
	if !strings.Contains(r.out, "✓ user 'clusterUser_myrg_myaks'") || !strings.Contains(r.out, "azure auth-provider") || r.err != "" {
		t.Errorf("output: %s", r)
	}
	after := loadKube(t, path)
	// The server id comes from the auth-provider's apiserver-id.
	wantEntraUser(t, after, "clusterUser_myrg_myaks", "3f6c2b1a-9d8e-4f70-8a6b-5c4d3e2f1a0b")
	sameExcept(t, before, after, "clusterUser_myrg_myaks")
	e.noSecrets(path, "ACCESS_TOKEN", "REFRESH_TOKEN")
	if m := mode(t, path); m != 0o640 {
		t.Errorf("mode %o, want 640", m)
	}
	if _, err := os.Stat(path + ".lock"); !os.IsNotExist(err) {
		t.Errorf("lock file left behind: %v", err)
	}

	// kubectl's own loader builds a client for the context with the exec provider.
	rc, err := clientcmd.NewNonInteractiveClientConfig(*after, "myaks", &clientcmd.ConfigOverrides{}, nil).ClientConfig()
	if err != nil {
		t.Fatalf("client config: %v", err)
	}
	if rc.ExecProvider == nil || rc.ExecProvider.Command != "kubectl-exec-entra" || rc.BearerToken != "" || rc.AuthProvider != nil {
		t.Errorf("rest config: %+v", rc)
	}

	// Idempotent: the second run writes nothing.
	data1, _ := os.ReadFile(path)
	fi1, _ := os.Stat(path)
	r = e.ok("", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path)
	data2, _ := os.ReadFile(path)
	fi2, _ := os.Stat(path)
	if string(data1) != string(data2) || !fi1.ModTime().Equal(fi2.ModTime()) {
		t.Errorf("second run rewrote the file")
	}
	if !strings.Contains(r.out, "already uses kubectl-exec-entra") {
		t.Errorf("second run: %s", r)
	}
	// Also with --context, which rewrites whatever the user is: same values, no write.
	r = e.ok("", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path, "--context", "myaks")
	if data3, _ := os.ReadFile(path); string(data3) != string(data1) || !strings.Contains(r.out, "already runs") {
		t.Errorf("--context rerun: %s", r)
	}
}

func TestKubeconfigConvertKubelogin(t *testing.T) {
	e := newKubeTestEnv(t)
	path := e.fixture("aks-kubelogin.yaml", filepath.Join(e.dir, "kube"), 0o600)
	before := loadKube(t, path)
	r := e.ok("", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path)
	for _, u := range []string{"clusterUser_prod-rg_prod-aks", "staging-kubelogin"} {
		if !strings.Contains(r.out, "✓ user '"+u+"'") {
			t.Errorf("%s not reported: %s", u, r)
		}
	}
	after := loadKube(t, path)
	wantEntraUser(t, after, "clusterUser_prod-rg_prod-aks", execcred.DefaultServerID)
	wantEntraUser(t, after, "staging-kubelogin", "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9") // from --server-id=…
	sameExcept(t, before, after, "clusterUser_prod-rg_prod-aks", "staging-kubelogin")
	e.noSecrets(path, "CLIENT_SECRET")
	if g := after.AuthInfos["gke_proj_europe-west1_gke1"]; g.Exec.Command != "gke-gcloud-auth-plugin" {
		t.Errorf("GKE user: %+v", g.Exec)
	}

	// An explicit --server-id wins over the entry's; -p falls back to the default profile.
	r = e.ok("", "kubeconfig", "convert", "--kubeconfig", path, "--context", "prod-aks", "--server-id", "api://custom-aks-server")
	u := loadKube(t, path).AuthInfos["clusterUser_prod-rg_prod-aks"]
	if !slices.Equal(u.Exec.Args, []string{"--profile", "other", "--server-id", "api://custom-aks-server"}) {
		t.Errorf("args %q (%s)", u.Exec.Args, r)
	}
}

func TestKubeconfigConvertContext(t *testing.T) {
	e := newKubeTestEnv(t)
	path := e.fixture("multi-context.yaml", filepath.Join(e.dir, "kube"), 0o600)
	before := loadKube(t, path)

	// Nothing AKS-shaped without --context: an error that says what to do.
	r := e.expect(ExitFailure, "--context", "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path)
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), e.secrets["STATIC_TOKEN"]) {
		t.Fatalf("failed run changed the file: %s", r)
	}
	e.expect(ExitUsage, `no context "nope" in the kubeconfig (have: local, team-aks, team-aks-ci)`, "",
		"kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path, "--context", "nope")

	e.ok("", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path, "--context", "team-aks-ci")
	after := loadKube(t, path)
	wantEntraUser(t, after, "team-token", execcred.DefaultServerID)
	if after.AuthInfos["team-token"].Impersonate != "ci-bot" {
		t.Errorf("impersonation dropped: %+v", after.AuthInfos["team-token"])
	}
	sameExcept(t, before, after, "team-token")
	e.noSecrets(path, "STATIC_TOKEN")
	// The relative CA path is written back as it was, not resolved.
	if ca := after.Clusters["team-aks"].CertificateAuthority; ca != "ca/team-aks.crt" {
		t.Errorf("certificate-authority %q", ca)
	}
	// Both contexts that share the user now run the plugin.
	for _, c := range []string{"team-aks", "team-aks-ci"} {
		if after.Contexts[c].AuthInfo != "team-token" {
			t.Errorf("context %s: %+v", c, after.Contexts[c])
		}
	}
}

// TestKubeconfigConvertKUBECONFIG follows kubectl's merge of several files: each user is
// rewritten in the first file that defines it; a later, shadowed definition is left
// alone, and a missing file is skipped, not created.
func TestKubeconfigConvertKUBECONFIG(t *testing.T) {
	e := newKubeTestEnv(t)
	dir := filepath.Join(e.dir, "kube")
	a := e.fixture("aks-kubelogin.yaml", dir, 0o600)
	b := e.fixture("aks-azure-legacy.yaml", dir, 0o644)
	// b also defines a's kubelogin user, as an azure auth-provider user: shadowed by a.
	bc := loadKube(t, b)
	bc.AuthInfos["clusterUser_prod-rg_prod-aks"] = bc.AuthInfos["clusterUser_myrg_myaks"].DeepCopy()
	if err := clientcmd.WriteToFile(*bc, b); err != nil {
		t.Fatal(err)
	}
	os.Chmod(b, 0o644)
	missing := filepath.Join(dir, "missing")
	aBefore, bBefore := loadKube(t, a), loadKube(t, b)
	e.vars["KUBECONFIG"] = strings.Join([]string{a, missing, b, a}, string(os.PathListSeparator))

	r := e.ok("", "kubeconfig", "convert", "-p", kubeProfile)
	aAfter, bAfter := loadKube(t, a), loadKube(t, b)
	wantEntraUser(t, aAfter, "clusterUser_prod-rg_prod-aks", execcred.DefaultServerID)
	wantEntraUser(t, bAfter, "clusterUser_myrg_myaks", "3f6c2b1a-9d8e-4f70-8a6b-5c4d3e2f1a0b")
	sameExcept(t, aBefore, aAfter, "clusterUser_prod-rg_prod-aks", "staging-kubelogin")
	sameExcept(t, bBefore, bAfter, "clusterUser_myrg_myaks")
	if bAfter.AuthInfos["clusterUser_prod-rg_prod-aks"].AuthProvider == nil {
		t.Error("shadowed definition in the second file was rewritten")
	}
	if !strings.Contains(r.out, a) || !strings.Contains(r.out, b) {
		t.Errorf("output does not name the files: %s", r)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("missing file created: %v", err)
	}
	if mode(t, b) != 0o644 {
		t.Errorf("mode of %s: %o", b, mode(t, b))
	}
}

func TestKubeconfigConvertDefaultFileAndSymlink(t *testing.T) {
	e := newKubeTestEnv(t)
	home := filepath.Join(e.dir, "userhome")
	real := e.fixture("aks-azure-legacy.yaml", filepath.Join(e.dir, "dotfiles"), 0o600)
	kubeDir := filepath.Join(home, ".kube")
	os.MkdirAll(kubeDir, 0o755)
	link := filepath.Join(kubeDir, "config")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	e.vars["HOME"] = home
	e.ok("", "kubeconfig", "convert", "-p", kubeProfile)
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("~/.kube/config is no longer a symlink: %v", err)
	}
	wantEntraUser(t, loadKube(t, real), "clusterUser_myrg_myaks", "3f6c2b1a-9d8e-4f70-8a6b-5c4d3e2f1a0b")
}

func TestKubeconfigConvertErrors(t *testing.T) {
	e := newKubeTestEnv(t)
	dir := filepath.Join(e.dir, "kube")
	path := e.fixture("aks-azure-legacy.yaml", dir, 0o600)

	e.expect(ExitUsage, "give --kubeconfig FILE or set KUBECONFIG", "", "kubeconfig", "convert", "-p", kubeProfile)
	e.expect(ExitFailure, "kubeconfig not found: "+filepath.Join(dir, "nope"), "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", filepath.Join(dir, "nope"))
	e.vars["HOME"] = filepath.Join(e.dir, "emptyhome")
	e.expect(ExitFailure, "no kubeconfig found at "+filepath.Join(e.dir, "emptyhome", ".kube", "config"), "", "kubeconfig", "convert", "-p", kubeProfile)
	e.expect(ExitFailure, `"nobody"`, "", "kubeconfig", "convert", "-p", "nobody", "--kubeconfig", path)
	e.expect(ExitUsage, "--server-id is empty", "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path, "--server-id", "")

	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("apiVersion: v1\nkind: Config\nusers: {not: [a list\n"), 0o600)
	e.expect(ExitFailure, "kubeconfig "+bad+" is not valid", "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", bad)

	// A lock left by kubectl is respected and named.
	os.WriteFile(path+".lock", nil, 0o600)
	e.expect(ExitFailure, path+".lock exists", "", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path)
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), e.secrets["ACCESS_TOKEN"]) {
		t.Error("file changed while locked")
	}
	os.Remove(path + ".lock")

	// Without kubectl-exec-entra on PATH the conversion works and warns.
	e.vars["PATH"] = filepath.Join(e.dir, "empty")
	r := e.ok("", "kubeconfig", "convert", "-p", kubeProfile, "--kubeconfig", path)
	if !strings.Contains(r.err, "kubectl-exec-entra is not on PATH") {
		t.Errorf("no PATH warning: %s", r)
	}
}

func TestCommandIsAndFlagValue(t *testing.T) {
	for cmd, want := range map[string]bool{
		"kubelogin": true, "/usr/local/bin/kubelogin": true, `C:\tools\kubelogin.exe`: true, "KUBELOGIN.EXE": true,
		"kubelogin-wrapper": false, "/opt/kubelogin/bin/other": false, "": false,
	} {
		if got := commandIs(cmd, "kubelogin"); got != want {
			t.Errorf("commandIs(%q) = %v", cmd, got)
		}
	}
	args := []string{"get-token", "--server-id", "a", "--client-id=b"}
	if flagValue(args, "--server-id") != "a" || flagValue(args, "--client-id") != "b" || flagValue(args, "--tenant-id") != "" || flagValue([]string{"--server-id"}, "--server-id") != "" {
		t.Error("flagValue")
	}
}
