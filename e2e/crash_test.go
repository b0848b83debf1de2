package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/entratool/entratool/core/profile"
)

const crashIterations = 30

// killLoop starts entratool with args(i), kills it with SIGKILL after a random delay,
// waits for it and runs check. It returns how many runs were killed and how many
// finished.
//
// The delay is drawn from 0 to the longer of 30 ms and the time one run takes here, so
// that kills land before, during and after the write whatever the machine's speed.
func killLoop(t *testing.T, w *world, args func(i int) []string, check func(i int)) (killed, finished int) {
	t.Helper()
	one := time.Hour
	for range 3 {
		start := time.Now()
		w.command(context.Background(), "", "entratool", args(0)...).Run()
		one = min(one, time.Since(start))
	}
	span := max(30*time.Millisecond, one*5/4)
	check(-1)
	var groups []int
	defer func() { waitForOrphans(t, groups) }()
	for i := 0; i < crashIterations; i++ {
		cmd := w.command(context.Background(), "", "entratool", args(i)...)
		cmd.Stdout, cmd.Stderr = io.Discard, io.Discard
		// A process group of its own, which the children it leaves behind (git) keep.
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		groups = append(groups, cmd.Process.Pid)
		// The kill lands at a random moment: this sleep is the behaviour under test.
		time.Sleep(rand.N(span))
		cmd.Process.Kill()
		cmd.Wait()
		if cmd.ProcessState.Exited() {
			finished++
		} else {
			killed++
		}
		check(i)
	}
	t.Logf("%d runs killed, %d finished first (delays 0–%v)", killed, finished, span.Round(time.Millisecond))
	if killed == 0 {
		t.Fatal("no run was killed: the loop proves nothing")
	}
	return killed, finished
}

// waitForOrphans waits (up to 10 s) until the process groups of the killed runs are
// empty: a killed entratool may leave a child running (git editing its config), which
// must not outlive the loop and race with what the test does next.
func waitForOrphans(t *testing.T, groups []int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for _, pgid := range groups {
		for syscall.Kill(-pgid, 0) == nil {
			if time.Now().After(deadline) {
				t.Logf("process group %d still has members after 10 s", pgid)
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// leftovers lists temp files of WriteFileAtomic for path.
func leftovers(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ageLeftovers makes temp files look older than fsutil.StaleTempAge, as if the crash
// had been a while ago.
func ageLeftovers(t *testing.T, files []string) {
	t.Helper()
	old := time.Now().Add(-2 * time.Minute)
	for _, f := range files {
		if err := os.Chtimes(f, old, old); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCrashWhileSavingProfiles(t *testing.T) {
	w, cf := faultWorld(t)
	st := &profile.Store{Home: w.home}
	mk := func(scope string) string {
		f := filepath.Join(w.dir, "import-"+fmt.Sprint(len(scope))+".json")
		var ps []string
		for _, n := range []string{"x", "y"} {
			ps = append(ps, fmt.Sprintf(`{"name":%q,"clientId":%q,"tenantId":%q,"useCertificate":true,"certificatePath":%q,"scope":%q,"authorityHost":%q}`,
				n, clientID, tenantID, cf.pfx, scope, w.emu.URL))
		}
		if err := os.WriteFile(f, []byte(`{"profiles":[`+strings.Join(ps, ",")+`]}`), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	scopeA, scopeB := "https://graph.microsoft.com/.default", "https://management.azure.com/.default"
	fileA, fileB := mk(scopeA), mk(scopeB)
	w.mustRun("", "entratool", "config", "import", "--force", fileA)
	path := filepath.Join(w.home, "profiles.json")

	killLoop(t, w, func(i int) []string {
		switch i % 4 {
		case 0:
			return []string{"config", "import", "--force", fileB}
		case 1:
			return []string{"config", "use", "x"}
		case 2:
			return []string{"config", "import", "--force", fileA}
		default:
			return []string{"config", "use", "y"}
		}
	}, func(i int) {
		cfg, err := st.Load()
		if err != nil {
			t.Fatalf("after kill %d: profiles.json does not load: %v", i, err)
		}
		for _, n := range []string{"x", "y", "p"} {
			p := cfg.Get(n)
			if p == nil {
				t.Fatalf("after kill %d: profile %s lost", i, n)
			}
			if n != "p" && p.Scope != scopeA && p.Scope != scopeB {
				t.Fatalf("after kill %d: profile %s holds a mix: %q", i, n, p.Scope)
			}
		}
		if d := cfg.DefaultProfile; d != "p" && d != "x" && d != "y" {
			t.Fatalf("after kill %d: defaultProfile %q", i, d)
		}
	})
	checkLeftoversCleaned(t, path, func() { w.mustRun("", "entratool", "config", "use", "x") })
}

// checkLeftoversCleaned reports temp files a kill left behind and proves the next
// write removes them once they are stale.
func checkLeftoversCleaned(t *testing.T, path string, write func()) {
	t.Helper()
	left := leftovers(t, path)
	t.Logf("%d temp file(s) of %s left by SIGKILL", len(left), filepath.Base(path))
	ageLeftovers(t, left)
	write()
	if again := leftovers(t, path); len(again) != 0 {
		t.Fatalf("stale temp files survive the next write: %v", again)
	}
}

func TestCrashWhileWritingCache(t *testing.T) {
	w, _ := faultWorld(t)
	w.mustRun("", "entratool", "get-token")
	tokens := filepath.Join(w.home, "cache", "tokens")
	killLoop(t, w, func(int) []string { return []string{"get-token", "--force-refresh"} }, func(i int) {
		ents, err := filepath.Glob(filepath.Join(tokens, "*.json"))
		if err != nil || len(ents) == 0 {
			t.Fatalf("after kill %d: cache entries %v %v", i, ents, err)
		}
		for _, e := range ents {
			data, err := os.ReadFile(e)
			if err != nil {
				t.Fatal(err)
			}
			var entry struct {
				V     int `json:"v"`
				Token struct {
					AccessToken string `json:"accessToken"`
				} `json:"token"`
			}
			if err := json.Unmarshal(data, &entry); err != nil || entry.V != 1 {
				t.Fatalf("after kill %d: %s is torn: %v", i, filepath.Base(e), err)
			}
		}
	})
	// Whatever the kills left, the next call gets a token Entra issued.
	tok := strings.TrimSpace(w.mustRun("", "entratool", "get-token"))
	w.claims(tok, "https://graph.microsoft.com")
	ents, _ := filepath.Glob(filepath.Join(tokens, "*.json"))
	if len(ents) != 1 {
		t.Fatalf("one key, %d cache entries", len(ents))
	}
	checkLeftoversCleaned(t, ents[0], func() { w.mustRun("", "entratool", "get-token", "--force-refresh") })
}

func TestCrashWhileEditingDockerConfig(t *testing.T) {
	w, _ := faultWorld(t)
	w.env["DOCKER_CONFIG"] = filepath.Join(w.dir, "docker")
	if err := os.MkdirAll(w.env["DOCKER_CONFIG"], 0o700); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(w.env["DOCKER_CONFIG"], "config.json")
	const host = "crash.azurecr.io"
	orig := `{"auths":{"other.io":{"auth":"b3RoZXI6eA=="}},"psFormat":"table {{.ID}}","credHelpers":{"gcr.io":"gcloud"}}`
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	st := &profile.Store{Home: w.home}
	killLoop(t, w, func(i int) []string {
		if i%2 == 0 {
			return []string{"docker", "setup", "-p", "p", "--registry", host}
		}
		return []string{"docker", "setup", "-p", "p", "--registry", host, "--remove"}
	}, func(i int) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var c struct {
			Auths       map[string]any    `json:"auths"`
			PSFormat    string            `json:"psFormat"`
			CredHelpers map[string]string `json:"credHelpers"`
		}
		if err := json.Unmarshal(data, &c); err != nil {
			t.Fatalf("after kill %d: config.json torn: %v", i, err)
		}
		if c.Auths["other.io"] == nil || c.PSFormat == "" || c.CredHelpers["gcr.io"] != "gcloud" {
			t.Fatalf("after kill %d: other keys lost: %s", i, data)
		}
		if v, ok := c.CredHelpers[host]; ok && v != "entra" {
			t.Fatalf("after kill %d: credHelpers[%s] = %q", i, host, v)
		}
		if _, err := st.Load(); err != nil {
			t.Fatalf("after kill %d: %v", i, err)
		}
	})
	checkLeftoversCleaned(t, path, func() {
		// A setup that changes nothing writes nothing: remove, then add, is one write at
		// least, whichever state the last killed run left.
		w.mustRun("", "entratool", "docker", "setup", "-p", "p", "--registry", host, "--remove")
		w.mustRun("", "entratool", "docker", "setup", "-p", "p", "--registry", host)
	})
}

func TestCrashWhileEditingGitConfig(t *testing.T) {
	git := requireTool(t, "git")
	w, _ := faultWorld(t)
	if err := os.MkdirAll(w.env["HOME"], 0o700); err != nil {
		t.Fatal(err)
	}
	gitconfig := filepath.Join(w.env["HOME"], ".gitconfig")
	if err := os.WriteFile(gitconfig, []byte("[user]\n\tname = Crash Test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const url = "https://dev.azure.com/crashorg"
	gitGet := func(key string) (string, error) {
		cmd := exec.Command(git, "config", "--global", "--get-all", key)
		cmd.Env = w.environ()
		out, err := cmd.Output()
		return string(out), err
	}
	killLoop(t, w, func(i int) []string {
		if i%2 == 0 {
			return []string{"git", "setup", "-p", "p", "--url", url, "--global"}
		}
		return []string{"git", "setup", "-p", "p", "--url", url, "--global", "--remove"}
	}, func(i int) {
		// git's own writer (lock file + rename) does the writing; a killed entratool may
		// leave its git child running, and a second git then finds the lock: the config
		// must parse at every moment regardless.
		cmd := exec.Command(git, "config", "--global", "--list")
		cmd.Env = w.environ()
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("after kill %d: git cannot read its config: %v\n%s", i, err, out)
		}
		if name, err := gitGet("user.name"); err != nil || strings.TrimSpace(name) != "Crash Test" {
			t.Fatalf("after kill %d: user.name lost: %q %v", i, name, err)
		}
	})
	// killLoop has waited for every orphaned git to finish; a lock left behind would be
	// one of a git killed outright, which none is.
	os.Remove(gitconfig + ".lock")
	w.mustRun("", "entratool", "git", "setup", "-p", "p", "--url", url, "--global")
	if h, err := gitGet("credential." + url + ".helper"); err != nil || !strings.Contains(h, "entra --profile p") {
		t.Fatalf("setup after the kills: %q %v", h, err)
	}
}

func TestCrashWhileConvertingKubeconfig(t *testing.T) {
	w, _ := faultWorld(t)
	kc := filepath.Join(w.dir, "kubeconfig")
	orig := `apiVersion: v1
kind: Config
clusters:
- name: aks
  cluster:
    server: https://aks.example.invalid:443
    certificate-authority-data: ` + "dGVzdA==" + `
contexts:
- name: aks
  context:
    cluster: aks
    user: aks-user
    namespace: crash
current-context: aks
users:
- name: aks-user
  user:
    exec:
      apiVersion: client.authentication.k8s.io/v1beta1
      command: kubelogin
      args: [get-token, --server-id, 6dae42f8-4368-4678-94ff-3960e28e3630]
`
	if err := os.WriteFile(kc, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	ids := []string{"11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"}
	staleLocks := 0
	killLoop(t, w, func(i int) []string {
		return []string{"kubeconfig", "convert", "-p", "p", "--kubeconfig", kc, "--context", "aks", "--server-id", ids[i%2]}
	}, func(i int) {
		cfg, err := clientcmd.LoadFromFile(kc)
		if err != nil {
			t.Fatalf("after kill %d: kubeconfig torn: %v", i, err)
		}
		if cfg.CurrentContext != "aks" || cfg.Contexts["aks"] == nil || cfg.Contexts["aks"].Namespace != "crash" || cfg.Clusters["aks"] == nil {
			t.Fatalf("after kill %d: the rest of the file was lost", i)
		}
		u := cfg.AuthInfos["aks-user"]
		if u == nil || u.Exec == nil {
			t.Fatalf("after kill %d: user lost", i)
		}
		switch u.Exec.Command {
		case "kubelogin":
		case "kubectl-exec-entra":
			if !slices.Contains(ids, flagValueOf(u.Exec.Args, "--server-id")) {
				t.Fatalf("after kill %d: args %v", i, u.Exec.Args)
			}
		default:
			t.Fatalf("after kill %d: command %q", i, u.Exec.Command)
		}
		// kubectl's own lock protocol: a holder killed with SIGKILL leaves FILE.lock,
		// which blocks kubectl too; the error names it. Remove it as a user would.
		if _, err := os.Stat(kc + ".lock"); err == nil {
			staleLocks++
			os.Remove(kc + ".lock")
		}
	})
	t.Logf("%d stale kubeconfig lock file(s) removed", staleLocks)
	checkLeftoversCleaned(t, kc, func() {
		w.mustRun("", "entratool", "kubeconfig", "convert", "-p", "p", "--kubeconfig", kc, "--context", "aks", "--server-id", "33333333-3333-3333-3333-333333333333")
	})
}

func flagValueOf(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// Two streams of `config create` at once lose no profile and no secret.
func TestCrashConcurrentProfileEdits(t *testing.T) {
	w, cf := faultWorld(t)
	const perStream = 20
	var wg sync.WaitGroup
	errs := make(chan string, 2*perStream)
	for s := 0; s < 2; s++ {
		wg.Add(1)
		go func(s int) {
			defer wg.Done()
			for i := 0; i < perStream; i++ {
				name := fmt.Sprintf("s%d-n%02d", s, i)
				out, errOut, code := w.run("", "entratool", "config", "create", "--name", name, "--client-id", clientID,
					"--tenant-id", tenantID, "--certificate", cf.pem, "--authority-host", w.emu.URL, "--secret-store", "file")
				if code != 0 {
					errs <- fmt.Sprintf("%s: exit %d: %s%s", name, code, out, errOut)
				}
			}
		}(s)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	cfg, err := (&profile.Store{Home: w.home}).Load()
	if err != nil {
		t.Fatal(err)
	}
	for s := 0; s < 2; s++ {
		for i := 0; i < perStream; i++ {
			if cfg.Get(fmt.Sprintf("s%d-n%02d", s, i)) == nil {
				t.Errorf("profile s%d-n%02d lost", s, i)
			}
		}
	}
	if n := len(cfg.Names()); n != 2*perStream+1 {
		t.Fatalf("%d profiles, want %d", n, 2*perStream+1)
	}
	// secrets.json is still whole (the file store is written under its own lock).
	data, err := os.ReadFile(filepath.Join(w.home, "secrets.json"))
	if err == nil && !json.Valid(data) {
		t.Fatal("secrets.json torn by concurrent creates")
	}
}
