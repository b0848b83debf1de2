package e2e

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/internal/testkit"
)

const (
	aksServerID = "6dae42f8-4368-4678-94ff-3960e28e3630"
	execInfoV1  = `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":%v}}`
)

// kubeWorld is a world with an AKS-like API server and a profile "aks" whose
// certificate is registered.
type kubeWorld struct {
	*world
	kube *emulator.KubeAPI
	cf   *certFiles
}

func newKubeWorld(t *testing.T) *kubeWorld {
	t.Helper()
	w := newWorld(t)
	cf := w.newCert("aks", "aks-pw")
	w.register(cf.leaf)
	w.certProfile("aks", cf, cf.pfx)
	kube, err := w.emu.StartKubeAPI()
	if err != nil {
		t.Fatal(err)
	}
	return &kubeWorld{world: w, kube: kube, cf: cf}
}

// legacyKubeconfig writes what `az aks get-credentials` wrote for this cluster before
// kubelogin: the azure auth-provider with its cached tokens (random here).
func (w *kubeWorld) legacyKubeconfig() (path, accessToken string) {
	w.t.Helper()
	b := make([]byte, 32)
	rand.Read(b)
	accessToken = "legacy-" + hex.EncodeToString(b)
	cfg := fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: aks-emulated
  cluster:
    server: %s
    certificate-authority: %s
contexts:
- name: aks-emulated
  context:
    cluster: aks-emulated
    user: clusterUser_rg_aks-emulated
current-context: aks-emulated
users:
- name: clusterUser_rg_aks-emulated
  user:
    auth-provider:
      name: azure
      config:
        access-token: %s
        apiserver-id: %s
        client-id: 80faf920-1908-4b52-b5ef-a8e7bedfc67a
        config-mode: "1"
        environment: AzurePublicCloud
        expires-on: "1735689600"
        refresh-token: refresh-%s
        tenant-id: %s
`, w.kube.URL, w.kube.CAFile, accessToken, aksServerID, accessToken, tenantID)
	path = filepath.Join(w.dir, "kubeconfig")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path, accessToken
}

// TestKubeConvertedKubeconfigWithKubectlAndClientGo converts an AKS kubeconfig and uses
// it: with the real kubectl (discovery, then the pod list it prints), and in-process
// through client-go's exec authenticator, which runs the same plugin.
func TestKubeConvertedKubeconfigWithKubectlAndClientGo(t *testing.T) {
	w := newKubeWorld(t)
	path, legacyToken := w.legacyKubeconfig()
	out := w.mustRun("", "entratool", "kubeconfig", "convert", "-p", "aks", "--kubeconfig", path)
	if !strings.Contains(out, "✓ user 'clusterUser_rg_aks-emulated'") {
		t.Fatalf("convert: %s", out)
	}
	if data, _ := os.ReadFile(path); strings.Contains(string(data), legacyToken) {
		t.Fatal("converted kubeconfig still holds the auth-provider's tokens")
	}

	t.Run("kubectl", func(t *testing.T) {
		kubectl := requireTool(t, "kubectl")
		w.kube.ResetRequests()
		get := func() string {
			t.Helper()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, kubectl, "--kubeconfig", path, "get", "pods")
			cmd.Env = w.environ()
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("kubectl get pods: %v\nstdout: %s\nstderr: %s\nrequests: %+v", err, stdout.String(), stderr.String(), w.kube.Requests())
			}
			return stdout.String()
		}
		out := get()
		for _, want := range []string{"NAME", "READY", "STATUS", "hello-aks-6d4cf56db6-x7k2p", "worker-0", "Running"} {
			if !strings.Contains(out, want) {
				t.Errorf("kubectl output lacks %q:\n%s", want, out)
			}
		}
		if strings.Contains(out, "coredns") {
			t.Errorf("kube-system pod listed in default:\n%s", out)
		}
		sawPods := false
		for _, r := range w.kube.Requests() {
			t.Logf("kubectl: %s %s?%s Accept: %s -> %d", r.Method, r.Path, r.RawQuery, r.Accept, r.Status)
			if r.Status != 200 || r.AppID != clientID {
				t.Errorf("request %+v", r)
			}
			sawPods = sawPods || r.Path == "/api/v1/namespaces/default/pods"
		}
		if !sawPods {
			t.Errorf("no pod list among %+v", w.kube.Requests())
		}
		// The second kubectl is served from the token cache: no new token request.
		before := w.emu.Counts().Token
		get()
		if after := w.emu.Counts().Token; after != before {
			t.Errorf("second kubectl made %d token requests", after-before)
		}
	})

	t.Run("client-go", func(t *testing.T) {
		// client-go runs the plugin with this process's environment, as a program
		// started from the user's shell would.
		for k, v := range w.env {
			t.Setenv(k, v)
		}
		for _, k := range []string{"ENTRATOOL_PROFILE", "ENTRATOOL_CACHE_DIR", "ENTRATOOL_DEBUG", "KUBERNETES_EXEC_INFO"} {
			t.Setenv(k, "")
			os.Unsetenv(k)
		}
		// A fresh cache: the plugin's first run goes through the engine.
		os.RemoveAll(filepath.Join(w.home, "cache", "tokens"))
		w.kube.ResetRequests()
		rc, err := clientcmd.BuildConfigFromFlags("", path)
		if err != nil {
			t.Fatal(err)
		}
		if rc.ExecProvider == nil || rc.ExecProvider.Command != "kubectl-exec-entra" || rc.ExecProvider.APIVersion != "client.authentication.k8s.io/v1" {
			t.Fatalf("exec provider %+v", rc.ExecProvider)
		}
		core, err := corev1client.NewForConfig(rc)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		pods, err := core.Pods("default").List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatalf("list pods: %v (requests %+v)", err, w.kube.Requests())
		}
		var names []string
		for _, p := range pods.Items {
			names = append(names, p.Name)
			if p.Status.Phase != "Running" {
				t.Errorf("pod %s phase %q", p.Name, p.Status.Phase)
			}
		}
		if len(names) != 2 || names[1] != "worker-0" {
			t.Errorf("pods %v", names)
		}
		reqs := w.kube.Requests()
		if len(reqs) != 1 || reqs[0].AppID != clientID || reqs[0].Status != 200 {
			t.Errorf("requests %+v", reqs)
		}
	})
}

// TestKubeExecPluginProtocol runs the plugin as client-go does, by hand: the version
// asked for (v1beta1 when KUBERNETES_EXEC_INFO is unset or empty), a token for the
// server id, the cache on the second run, and clear failures.
func TestKubeExecPluginProtocol(t *testing.T) {
	w := newKubeWorld(t)
	plugin := func(execInfo string, args ...string) (clientauthv1.ExecCredential, string, int) {
		t.Helper()
		if execInfo == "-" {
			delete(w.env, "KUBERNETES_EXEC_INFO")
		} else {
			w.env["KUBERNETES_EXEC_INFO"] = execInfo
		}
		out, errOut, code := w.run("", "kubectl-exec-entra", args...)
		var ec clientauthv1.ExecCredential
		if code == 0 {
			if err := json.Unmarshal([]byte(out), &ec); err != nil {
				t.Fatalf("stdout is not an ExecCredential: %v\n%s", err, out)
			}
		} else if out != "" {
			t.Errorf("stdout on failure: %q", out)
		}
		return ec, errOut, code
	}

	ec, errOut, code := plugin("-")
	if code != 0 {
		t.Fatalf("unset: exit %d: %s", code, errOut)
	}
	if ec.APIVersion != "client.authentication.k8s.io/v1beta1" || ec.Kind != "ExecCredential" || ec.Status == nil {
		t.Fatalf("unset: %+v", ec)
	}
	c := w.claims(ec.Status.Token, aksServerID)
	if c.AppID != clientID || !ec.Status.ExpirationTimestamp.Time.Equal(c.ExpiresAt.Truncate(time.Second)) {
		t.Errorf("claims %+v, expirationTimestamp %v", c, ec.Status.ExpirationTimestamp)
	}

	tokens := w.emu.Counts().Token
	ec, _, code = plugin(fmt.Sprintf(execInfoV1, false), "--profile", "aks")
	if code != 0 || ec.APIVersion != "client.authentication.k8s.io/v1" {
		t.Fatalf("v1: %d %+v", code, ec)
	}
	w.claims(ec.Status.Token, aksServerID)
	if ec, _, code = plugin(""); code != 0 || ec.APIVersion != "client.authentication.k8s.io/v1beta1" {
		t.Fatalf("empty: %d %+v", code, ec)
	}
	if n := w.emu.Counts().Token - tokens; n != 0 {
		t.Errorf("cache hits made %d token requests", n)
	}

	// Another server application (legacy AKS AAD) and an explicit scope.
	ec, errOut, code = plugin(fmt.Sprintf(execInfoV1, false), "--server-id", "api://legacy-aks-server")
	if code != 0 {
		t.Fatalf("--server-id: %s", errOut)
	}
	w.claims(ec.Status.Token, "api://legacy-aks-server")
	ec, errOut, code = plugin(fmt.Sprintf(execInfoV1, false), "--scope", "https://management.azure.com/.default")
	if code != 0 {
		t.Fatalf("--scope: %s", errOut)
	}
	w.claims(ec.Status.Token, "https://management.azure.com")

	if _, errOut, code = plugin(`{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}`); code != 1 || !strings.Contains(errOut, `"client.authentication.k8s.io/v1alpha1"`) {
		t.Errorf("v1alpha1: exit %d, %q", code, errOut)
	}
	if _, errOut, code = plugin("{garbage"); code != 1 || !strings.Contains(errOut, "KUBERNETES_EXEC_INFO is not an ExecCredential") {
		t.Errorf("garbage: exit %d, %q", code, errOut)
	}
	if _, errOut, code = plugin("-", "--server-id", "a", "--scope", "b/.default"); code != 2 || !strings.Contains(errOut, "alternatives") {
		t.Errorf("usage: exit %d, %q", code, errOut)
	}
	// A profile that does not exist: the engine explains, the plugin adds nothing.
	if _, errOut, code = plugin("-", "--profile", "nobody"); code == 0 || !strings.Contains(errOut, `"nobody"`) || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("unknown profile: exit %d, %q", code, errOut)
	}
}

// waitEchoOff waits (up to 30 s) until the program on tty has switched echo off. The
// terminal's settings change without any event to wait on: they are looked at every 2 ms.
func waitEchoOff(t *testing.T, tty *os.File, screen *testkit.Transcript) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(2 * time.Millisecond) {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), ioctlGetTermios)
		if err != nil {
			t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("echo never switched off for the password prompt; terminal shows %q", screen.String())
		}
	}
}

// TestKubeExecPluginPromptsOnlyWhenInteractive gives the plugin a terminal and a profile
// whose certificate password is not stored: with spec.interactive false it fails at once
// without a prompt; with true it asks on the terminal (stderr) and the ExecCredential
// still comes out clean on stdout.
func TestKubeExecPluginPromptsOnlyWhenInteractive(t *testing.T) {
	w := newKubeWorld(t)
	w.saveProfile(&profile.Profile{Name: "nopw", UseCertificate: true, CertificatePath: w.cf.pfx, Scope: graph}, "")

	run := func(interactive bool, answers ...string) (string, string, error) {
		ptm, tty, err := pty.Open()
		if err != nil {
			t.Skipf("no pseudo-terminal: %v", err)
		}
		defer ptm.Close()
		defer tty.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, filepath.Join(binDir, "kubectl-exec-entra"), "--profile", "nopw")
		cmd.Env = append(w.environ(), "KUBERNETES_EXEC_INFO="+fmt.Sprintf(execInfoV1, interactive))
		var stdout bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, &stdout, tty
		cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
		screen := &testkit.Transcript{}
		drained := make(chan struct{})
		go func() {
			defer close(drained)
			io.Copy(screen, ptm) // until EIO: the terminal's last holder has closed it
		}()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitDone := make(chan error, 1)
		go func() { waitDone <- cmd.Wait() }()
		for _, a := range answers {
			prompt, answer, _ := strings.Cut(a, "=>")
			if !screen.WaitFor(prompt, 30*time.Second) {
				t.Fatalf("no prompt %q; terminal shows %q", prompt, screen.String())
			}
			if strings.Contains(prompt, "password") {
				// As a person would see no echo before typing: typed earlier, the password
				// would be echoed through no fault of the plugin.
				waitEchoOff(t, tty, screen)
			}
			ptm.Write([]byte(answer + "\r"))
		}
		err = <-waitDone
		// The plugin has exited; with our end of the terminal closed too, the reader gets
		// everything written, then EIO.
		tty.Close()
		select {
		case <-drained:
		case <-time.After(10 * time.Second):
			t.Fatal("the terminal's output did not end")
		}
		return stdout.String(), screen.String(), err
	}

	start := time.Now()
	out, screen, err := run(false)
	if err == nil || out != "" || strings.Contains(screen, "Certificate password for profile") {
		t.Fatalf("interactive=false: err %v, stdout %q, terminal %q", err, out, screen)
	}
	if !strings.Contains(screen, "certificate password required") {
		t.Errorf("interactive=false: terminal %q", screen)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("interactive=false took %s", d)
	}

	out, screen, err = run(true, "Certificate password for profile 'nopw'=>"+w.cf.password, "for next time?=>n")
	if err != nil {
		t.Fatalf("interactive=true: %v; terminal %q", err, screen)
	}
	var ec clientauthv1.ExecCredential
	if err := json.Unmarshal([]byte(out), &ec); err != nil || ec.Status == nil {
		t.Fatalf("stdout %q: %v", out, err)
	}
	w.claims(ec.Status.Token, aksServerID)
	if strings.Contains(screen, w.cf.password) {
		t.Error("the password was echoed on the terminal")
	}
}
