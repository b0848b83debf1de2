package kubeconfig

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/entratool/entratool/helpers/execcred"
)

const testProfile = "aks-sp"

// legacyServerID is the apiserver-id of the auth-provider user in aks-azure-legacy.yaml.
const legacyServerID = "3f6c2b1a-9d8e-4f70-8a6b-5c4d3e2f1a0b"

// rig is a temporary directory with the secret values planted in the kubeconfig
// fixtures (random per run) that must not survive a conversion, and the environment
// Convert reads.
type rig struct {
	t       *testing.T
	dir     string
	secrets map[string]string
	env     map[string]string
}

func newRig(t *testing.T) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), secrets: map[string]string{}, env: map[string]string{}}
	for _, k := range []string{"ACCESS_TOKEN", "REFRESH_TOKEN", "CLIENT_SECRET", "STATIC_TOKEN", "PASSWORD"} {
		b := make([]byte, 24)
		rand.Read(b)
		r.secrets[k] = k + "-" + hex.EncodeToString(b)
	}
	return r
}

func (r *rig) getenv(k string) string { return r.env[k] }

// fixture copies testdata/name into dir with the planted secrets, as mode.
func (r *rig) fixture(name, dir string, mode os.FileMode) string {
	r.t.Helper()
	s := string(r.fixtureData(name))
	os.MkdirAll(dir, 0o755)
	path := filepath.Join(dir, strings.TrimSuffix(name, ".yaml"))
	if err := os.WriteFile(path, []byte(s), mode); err != nil {
		r.t.Fatal(err)
	}
	os.Chmod(path, mode)
	return path
}

// fixtureData is testdata/name with the planted secrets.
func (r *rig) fixtureData(name string) []byte {
	r.t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		r.t.Fatal(err)
	}
	s := string(data)
	for k, v := range r.secrets {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	if strings.Contains(s, "{{") {
		r.t.Fatalf("%s: unfilled placeholder", name)
	}
	return []byte(s)
}

// convert runs Convert for testProfile and returns what it reported.
func (r *rig) convert(o Options) (string, error) {
	r.t.Helper()
	if o.Profile == "" {
		o.Profile = testProfile
	}
	o.Getenv = r.getenv
	var out bytes.Buffer
	err := Convert(context.Background(), o, &out)
	return out.String(), err
}

func (r *rig) mustConvert(o Options) string {
	r.t.Helper()
	out, err := r.convert(o)
	if err != nil {
		r.t.Fatalf("convert %+v: %v\n%s", o, err, out)
	}
	return out
}

// noSecrets fails if any planted secret of names is in the file.
func (r *rig) noSecrets(path string, names ...string) {
	r.t.Helper()
	data, _ := os.ReadFile(path)
	for _, n := range names {
		if strings.Contains(string(data), r.secrets[n]) {
			r.t.Errorf("%s still holds %s", path, n)
		}
	}
	for _, k := range []string{"access-token", "refresh-token", "AAD_SERVICE_PRINCIPAL_CLIENT_SECRET"} {
		if strings.Contains(string(data), k) {
			r.t.Errorf("%s still has %s", path, k)
		}
	}
}

// loadKube reads a file with kubectl's own loader.
func loadKube(t *testing.T, path string) *clientcmdapi.Config {
	t.Helper()
	c, err := clientcmd.LoadFromFile(path)
	if err != nil {
		t.Fatalf("kubectl cannot load %s: %v", path, err)
	}
	return c
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
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
		!slices.Equal(x.Args, []string{"--profile", testProfile, "--server-id", serverID}) ||
		x.InteractiveMode != clientcmdapi.IfAvailableExecInteractiveMode || !strings.Contains(x.InstallHint, "entratool") ||
		len(x.Env) != 0 || x.ProvideClusterInfo {
		t.Errorf("user %s exec: %+v", user, x)
	}
	if u.AuthProvider != nil || u.Token != "" || u.TokenFile != "" || u.Password != "" || u.Username != "" ||
		len(u.ClientKeyData) != 0 || len(u.ClientCertificateData) != 0 || u.ClientKey != "" {
		t.Errorf("user %s keeps credentials: %+v", user, u)
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

func TestConvertAzureAuthProvider(t *testing.T) {
	r := newRig(t)
	path := r.fixture("aks-azure-legacy.yaml", filepath.Join(r.dir, "kube"), 0o640)
	before := loadKube(t, path)

	out := r.mustConvert(Options{Kubeconfig: path})
	want := "✓ user 'clusterUser_myrg_myaks' in " + path + ": azure auth-provider → kubectl-exec-entra --profile aks-sp --server-id " + legacyServerID + "\n"
	if out != want {
		t.Errorf("report:\n%s\nwant:\n%s", out, want)
	}
	after := loadKube(t, path)
	// The server id comes from the auth-provider's apiserver-id.
	wantEntraUser(t, after, "clusterUser_myrg_myaks", legacyServerID)
	sameExcept(t, before, after, "clusterUser_myrg_myaks")
	r.noSecrets(path, "ACCESS_TOKEN", "REFRESH_TOKEN")
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
	out = r.mustConvert(Options{Kubeconfig: path})
	data2, _ := os.ReadFile(path)
	fi2, _ := os.Stat(path)
	if string(data1) != string(data2) || !fi1.ModTime().Equal(fi2.ModTime()) {
		t.Errorf("second run rewrote the file")
	}
	if want := "· user 'clusterUser_myrg_myaks' in " + path + " already uses kubectl-exec-entra\n"; out != want {
		t.Errorf("second run: %q, want %q", out, want)
	}
	// Also with a context, which rewrites whatever the user is: same values, no write.
	out = r.mustConvert(Options{Kubeconfig: path, Context: "myaks"})
	if data3, _ := os.ReadFile(path); string(data3) != string(data1) || !strings.Contains(out, "already runs kubectl-exec-entra --profile aks-sp --server-id "+legacyServerID) {
		t.Errorf("context rerun: %s", out)
	}
}

func TestConvertKubelogin(t *testing.T) {
	r := newRig(t)
	path := r.fixture("aks-kubelogin.yaml", filepath.Join(r.dir, "kube"), 0o600)
	before := loadKube(t, path)
	out := r.mustConvert(Options{Kubeconfig: path})
	for _, u := range []string{"clusterUser_prod-rg_prod-aks", "staging-kubelogin"} {
		if !strings.Contains(out, "✓ user '"+u+"' in "+path+": kubelogin → ") {
			t.Errorf("%s not reported: %s", u, out)
		}
	}
	after := loadKube(t, path)
	wantEntraUser(t, after, "clusterUser_prod-rg_prod-aks", execcred.DefaultServerID)
	wantEntraUser(t, after, "staging-kubelogin", "0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9") // from --server-id=…
	sameExcept(t, before, after, "clusterUser_prod-rg_prod-aks", "staging-kubelogin")
	r.noSecrets(path, "CLIENT_SECRET")
	if g := after.AuthInfos["gke_proj_europe-west1_gke1"]; g.Exec.Command != "gke-gcloud-auth-plugin" {
		t.Errorf("GKE user: %+v", g.Exec)
	}

	// An explicit server id wins over the entry's.
	r.mustConvert(Options{Profile: "other", Kubeconfig: path, Context: "prod-aks", ServerID: "api://custom-aks-server"})
	u := loadKube(t, path).AuthInfos["clusterUser_prod-rg_prod-aks"]
	if !slices.Equal(u.Exec.Args, []string{"--profile", "other", "--server-id", "api://custom-aks-server"}) {
		t.Errorf("args %q", u.Exec.Args)
	}
}

func TestConvertContext(t *testing.T) {
	r := newRig(t)
	path := r.fixture("multi-context.yaml", filepath.Join(r.dir, "kube"), 0o600)
	before := loadKube(t, path)

	// Nothing AKS-shaped without a context: an error that says what to do.
	_, err := r.convert(Options{Kubeconfig: path})
	if err == nil || !strings.Contains(err.Error(), "--context") {
		t.Fatalf("no AKS users: %v", err)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), r.secrets["STATIC_TOKEN"]) {
		t.Fatal("failed run changed the file")
	}
	_, err = r.convert(Options{Kubeconfig: path, Context: "nope"})
	var ue *UsageError
	if !errors.As(err, &ue) || err.Error() != `no context "nope" in the kubeconfig (have: local, team-aks, team-aks-ci)` {
		t.Fatalf("unknown context: %v", err)
	}

	r.mustConvert(Options{Kubeconfig: path, Context: "team-aks-ci"})
	after := loadKube(t, path)
	wantEntraUser(t, after, "team-token", execcred.DefaultServerID)
	if after.AuthInfos["team-token"].Impersonate != "ci-bot" {
		t.Errorf("impersonation dropped: %+v", after.AuthInfos["team-token"])
	}
	sameExcept(t, before, after, "team-token")
	r.noSecrets(path, "STATIC_TOKEN")
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

// TestConvertKUBECONFIG follows kubectl's merge of several files: each user is rewritten
// in the first file that defines it; a later, shadowed definition is left alone, and a
// missing file is skipped, not created.
func TestConvertKUBECONFIG(t *testing.T) {
	r := newRig(t)
	dir := filepath.Join(r.dir, "kube")
	a := r.fixture("aks-kubelogin.yaml", dir, 0o600)
	b := r.fixture("aks-azure-legacy.yaml", dir, 0o644)
	// b also defines a's kubelogin user, as an azure auth-provider user: shadowed by a.
	bc := loadKube(t, b)
	bc.AuthInfos["clusterUser_prod-rg_prod-aks"] = bc.AuthInfos["clusterUser_myrg_myaks"].DeepCopy()
	if err := clientcmd.WriteToFile(*bc, b); err != nil {
		t.Fatal(err)
	}
	os.Chmod(b, 0o644)
	missing := filepath.Join(dir, "missing")
	aBefore, bBefore := loadKube(t, a), loadKube(t, b)
	r.env["KUBECONFIG"] = strings.Join([]string{a, missing, b, a}, string(os.PathListSeparator))

	out := r.mustConvert(Options{})
	aAfter, bAfter := loadKube(t, a), loadKube(t, b)
	wantEntraUser(t, aAfter, "clusterUser_prod-rg_prod-aks", execcred.DefaultServerID)
	wantEntraUser(t, bAfter, "clusterUser_myrg_myaks", legacyServerID)
	sameExcept(t, aBefore, aAfter, "clusterUser_prod-rg_prod-aks", "staging-kubelogin")
	sameExcept(t, bBefore, bAfter, "clusterUser_myrg_myaks")
	if bAfter.AuthInfos["clusterUser_prod-rg_prod-aks"].AuthProvider == nil {
		t.Error("shadowed definition in the second file was rewritten")
	}
	// One line per user, in the order kubectl reads the files.
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(lines[0], " in "+a+": ") || !strings.Contains(lines[1], " in "+a+": ") || !strings.Contains(lines[2], "'clusterUser_myrg_myaks' in "+b+": ") {
		t.Errorf("report does not name the files in order:\n%s", out)
	}
	if _, err := os.Stat(missing); !os.IsNotExist(err) {
		t.Errorf("missing file created: %v", err)
	}
	if mode(t, b) != 0o644 {
		t.Errorf("mode of %s: %o", b, mode(t, b))
	}
}

func TestConvertDefaultFileAndSymlink(t *testing.T) {
	r := newRig(t)
	home := filepath.Join(r.dir, "userhome")
	real := r.fixture("aks-azure-legacy.yaml", filepath.Join(r.dir, "dotfiles"), 0o600)
	kubeDir := filepath.Join(home, ".kube")
	os.MkdirAll(kubeDir, 0o755)
	link := filepath.Join(kubeDir, "config")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	r.env["HOME"] = home
	r.mustConvert(Options{})
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("~/.kube/config is no longer a symlink: %v", err)
	}
	wantEntraUser(t, loadKube(t, real), "clusterUser_myrg_myaks", legacyServerID)
}

func TestConvertErrors(t *testing.T) {
	r := newRig(t)
	dir := filepath.Join(r.dir, "kube")
	path := r.fixture("aks-azure-legacy.yaml", dir, 0o600)

	_, err := r.convert(Options{})
	var ue *UsageError
	if !errors.As(err, &ue) || !strings.Contains(err.Error(), "give --kubeconfig FILE or set KUBECONFIG") {
		t.Errorf("no HOME: %v", err)
	}
	for _, c := range []struct {
		o    Options
		home string
		want string
	}{
		{Options{Kubeconfig: filepath.Join(dir, "nope")}, "", "kubeconfig not found: " + filepath.Join(dir, "nope")},
		{Options{}, filepath.Join(r.dir, "emptyhome"), "no kubeconfig found at " + filepath.Join(r.dir, "emptyhome", ".kube", "config")},
	} {
		r.env["HOME"] = c.home
		if _, err := r.convert(c.o); err == nil || errors.As(err, &ue) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want %q", c.o, err, c.want)
		}
	}

	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("apiVersion: v1\nkind: Config\nusers: {not: [a list\n"), 0o600)
	if _, err := r.convert(Options{Kubeconfig: bad}); err == nil || !strings.Contains(err.Error(), "kubeconfig "+bad+" is not valid") {
		t.Errorf("invalid file: %v", err)
	}

	// A lock left by kubectl is respected and named.
	os.WriteFile(path+".lock", nil, 0o600)
	if _, err := r.convert(Options{Kubeconfig: path}); err == nil || !strings.Contains(err.Error(), path+".lock exists") {
		t.Errorf("locked: %v", err)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), r.secrets["ACCESS_TOKEN"]) {
		t.Error("file changed while locked")
	}
	os.Remove(path + ".lock")
	r.mustConvert(Options{Kubeconfig: path})
}

// TestRewrite converts content to content: nothing is written when nothing changes,
// and a user no file defines is created beside the context that names it.
func TestRewrite(t *testing.T) {
	r := newRig(t)
	data := r.fixtureData("multi-context.yaml")
	out, results, err := Rewrite("cfg", data, []string{"team-token", "new-user"}, Options{Profile: testProfile, ServerID: "srv"})
	if err != nil || out == nil {
		t.Fatalf("Rewrite: %v", err)
	}
	want := []Result{{User: "team-token", From: "token", ServerID: "srv", Changed: true}, {User: "new-user", From: "no credentials", ServerID: "srv", Changed: true}}
	if !reflect.DeepEqual(results, want) {
		t.Errorf("results %+v, want %+v", results, want)
	}
	if bytes.Contains(out, []byte(r.secrets["STATIC_TOKEN"])) {
		t.Error("the static token survived")
	}
	cfg, err := clientcmd.Load(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"team-token", "new-user"} {
		if x := cfg.AuthInfos[u].Exec; x == nil || !slices.Equal(x.Args, []string{"--profile", testProfile, "--server-id", "srv"}) {
			t.Errorf("%s: %+v", u, cfg.AuthInfos[u])
		}
	}
	again, results, err := Rewrite("cfg", out, []string{"team-token", "new-user"}, Options{Profile: testProfile, ServerID: "srv"})
	if err != nil || again != nil || results[0].Changed || results[1].Changed {
		t.Errorf("second pass: %q, %+v, %v", again, results, err)
	}
	if _, _, err := Rewrite("cfg", []byte("users: {"), nil, Options{}); err == nil || !strings.Contains(err.Error(), "kubeconfig cfg is not valid") {
		t.Errorf("bad content: %v", err)
	}
}

func TestUserKindAndServerID(t *testing.T) {
	for _, c := range []struct {
		u        *clientcmdapi.AuthInfo
		kind, id string
	}{
		{nil, "no credentials", ""},
		{&clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{Name: "azure", Config: map[string]string{"apiserver-id": "a"}}}, KindAzureAuthProvider, "a"},
		{&clientcmdapi.AuthInfo{AuthProvider: &clientcmdapi.AuthProviderConfig{Name: "gcp"}}, "gcp auth-provider", ""},
		{&clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "kubelogin", Args: []string{"get-token", "--server-id=b"}}}, KindKubelogin, "b"},
		{&clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "kubelogin", Args: []string{"convert-kubeconfig"}}}, "exec kubelogin", ""},
		{&clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: `C:\bin\kubectl-exec-entra.exe`, Args: []string{"--scope", "c/.default"}}}, KindEntra, "c"},
		{&clientcmdapi.AuthInfo{Exec: &clientcmdapi.ExecConfig{Command: "kubectl-exec-entra", Args: []string{"--server-id", "d", "--scope", "c/.default"}}}, KindEntra, "d"},
		{&clientcmdapi.AuthInfo{TokenFile: "/t"}, "token", ""},
		{&clientcmdapi.AuthInfo{ClientCertificate: "/c"}, "client certificate", ""},
		{&clientcmdapi.AuthInfo{Username: "u"}, "basic auth", ""},
		{&clientcmdapi.AuthInfo{}, "no credentials", ""},
	} {
		if k, id := UserKind(c.u), ServerIDOf(c.u); k != c.kind || id != c.id {
			t.Errorf("%+v: %q %q, want %q %q", c.u, k, id, c.kind, c.id)
		}
	}
}

func TestCommandIsAndFlagValue(t *testing.T) {
	for cmd, want := range map[string]bool{
		"kubelogin": true, "/usr/local/bin/kubelogin": true, `C:\tools\kubelogin.exe`: true, "KUBELOGIN.EXE": true,
		"kubelogin-wrapper": false, "/opt/kubelogin/bin/other": false, "": false,
	} {
		if got := CommandIs(cmd, "kubelogin"); got != want {
			t.Errorf("CommandIs(%q) = %v", cmd, got)
		}
	}
	args := []string{"get-token", "--server-id", "a", "--client-id=b"}
	if FlagValue(args, "--server-id") != "a" || FlagValue(args, "--client-id") != "b" || FlagValue(args, "--tenant-id") != "" || FlagValue([]string{"--server-id"}, "--server-id") != "" {
		t.Error("FlagValue")
	}
}

func TestPaths(t *testing.T) {
	env := map[string]string{}
	getenv := func(k string) string { return env[k] }
	if p, err := Paths("x", getenv); err != nil || !slices.Equal(p, []string{"x"}) {
		t.Errorf("explicit: %q %v", p, err)
	}
	sep := string(os.PathListSeparator)
	env["KUBECONFIG"] = "a" + sep + sep + "b" + sep + "a"
	env["HOME"] = "/h"
	if p, err := Paths("", getenv); err != nil || !slices.Equal(p, []string{"a", "b"}) {
		t.Errorf("KUBECONFIG: %q %v", p, err)
	}
	env["KUBECONFIG"] = sep
	if p, err := Paths("", getenv); err != nil || !slices.Equal(p, []string{filepath.Join("/h", ".kube", "config")}) {
		t.Errorf("HOME: %q %v", p, err)
	}
}

// kubectl shows the hint to whoever runs it: a user who installs entratool, not a
// developer with the source tree.
func TestInstallHintSpeaksToUsers(t *testing.T) {
	for _, dev := range []string{"make build", "./bin"} {
		if strings.Contains(InstallHint, dev) {
			t.Errorf("install hint speaks of %q:\n%s", dev, InstallHint)
		}
	}
	for _, want := range []string{"Install entratool", "go install github.com/entratool/entratool/...@latest", "entratool config create"} {
		if !strings.Contains(InstallHint, want) {
			t.Errorf("install hint lacks %q:\n%s", want, InstallHint)
		}
	}
}
