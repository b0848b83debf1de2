package secret

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zalando/go-keyring"
)

const realKeyringEnv = "ENTRATOOL_TEST_KEYRING"

// TestKeyringReal talks to a real Secret Service. Run it with:
//
//	dbus-run-session -- sh -c 'echo -n pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null; ENTRATOOL_TEST_KEYRING=1 go test -race -run Keyring -v ./core/secret/'
func TestKeyringReal(t *testing.T) {
	if os.Getenv(realKeyringEnv) != "1" {
		t.Skip("needs a real Secret Service: set ENTRATOOL_TEST_KEYRING=1 inside dbus-run-session with gnome-keyring-daemon --unlock --components=secrets running")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open("keyring", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	profile := fmt.Sprintf("entratool-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	pw, cs := Key(profile, CertificatePassword), Key(profile, ClientSecret)
	t.Cleanup(func() {
		s.Delete(context.Background(), pw)
		s.Delete(context.Background(), cs)
	})

	if _, err := s.Get(ctx, pw); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before Set: %v, want ErrNotFound", err)
	}
	if err := s.Delete(ctx, pw); err != nil {
		t.Fatalf("Delete of an absent key: %v", err)
	}
	if err := s.Set(ctx, pw, "first"); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("pässwörd-€-", 200) // ~2.6 KB, near the macOS/Windows caps
	if err := s.Set(ctx, pw, long); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	if err := s.Set(ctx, cs, "client-secret-value"); err != nil {
		t.Fatal(err)
	}
	if v, err := s.Get(ctx, pw); err != nil || v != long {
		t.Fatalf("Get after overwrite = %d bytes, %v", len(v), err)
	}
	// The item is where other tools (secret-tool, seahorse) look: service "entratool",
	// account = key.
	if v, err := keyring.Get("entratool", cs); err != nil || v != "client-secret-value" {
		t.Fatalf("keyring.Get(entratool, %s) = %q, %v", cs, v, err)
	}

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if v, err := s.Get(ctx, cs); err != nil || v != "client-secret-value" {
				t.Errorf("concurrent Get = %q, %v", v, err)
			}
		})
	}
	wg.Wait()

	if err := s.Delete(ctx, pw); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Get(ctx, pw); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v", err)
	}
	if v, err := s.Get(ctx, cs); err != nil || v != "client-secret-value" {
		t.Fatalf("Delete removed the other key: %q, %v", v, err)
	}
}

// TestKeyringMapping checks how library results become our errors, using go-keyring's
// in-memory mock. MockInit swaps the library's process-wide backend for good, so this
// test stands aside when TestKeyringReal runs in the same process.
func TestKeyringMapping(t *testing.T) {
	if os.Getenv(realKeyringEnv) == "1" {
		t.Skip("keyring.MockInit would replace the real Secret Service backend TestKeyringReal uses in this process")
	}
	ctx := context.Background()
	s := NewKeyring(0)
	if s.Timeout != DefaultKeyringTimeout {
		t.Fatalf("timeout %v", s.Timeout)
	}

	keyring.MockInit()
	k := Key("p", ClientSecret)
	if _, err := s.Get(ctx, k); !errors.Is(err, ErrNotFound) || errors.Is(err, ErrKeyringUnreachable) {
		t.Fatalf("absent: %v", err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatalf("Check on a reachable keyring: %v", err)
	}
	if err := s.Delete(ctx, k); err != nil {
		t.Fatalf("Delete absent: %v", err)
	}
	if err := s.Set(ctx, k, "v"); err != nil {
		t.Fatal(err)
	}
	if v, err := keyring.Get(KeyringService, k); err != nil || v != "v" {
		t.Fatalf("stored under service %q as %q: %q, %v", KeyringService, k, v, err)
	}

	keyring.MockInitWithError(errors.New("The name org.freedesktop.secrets was not provided by any .service files"))
	_, err := s.Get(ctx, k)
	// Plain words: the user needs to know what is missing, not godbus's internals, and
	// no advice naming flags (only the caller knows which command could act on it).
	want := "keyring unreachable: no Secret Service (such as gnome-keyring) is running in this session"
	if !errors.Is(err, ErrKeyringUnreachable) || err.Error() != want {
		t.Fatalf("got  %q\nwant %q", err, want)
	}
	if err := s.Check(ctx); !errors.Is(err, ErrKeyringUnreachable) || err.Error() != want {
		t.Fatalf("Check: %v", err)
	}
	if err := s.Delete(ctx, k); !errors.Is(err, ErrKeyringUnreachable) {
		t.Fatalf("Delete: %v", err)
	}

	keyring.MockInitWithError(keyring.ErrSetDataTooBig)
	err = s.Set(ctx, k, "big-secret-value")
	if err == nil || !strings.Contains(err.Error(), "too large for this keyring") || strings.Contains(err.Error(), "big-secret-value") {
		t.Fatalf("too big: %v", err)
	}
}

// The timeout is the Keyring's own field: a call that never returns gives up after it
// (5 ms here), and the caller's context ends a call earlier than a long timeout.
func TestKeyringCallTimeout(t *testing.T) {
	stuck := make(chan struct{})
	defer close(stuck) // lets the abandoned calls' goroutines end
	never := func() (string, error) { <-stuck; return "", nil }

	k := NewKeyring(5 * time.Millisecond)
	start := time.Now()
	_, err := k.call(context.Background(), never)
	took := time.Since(start)
	var timedOut errTimedOut
	if !errors.As(err, &timedOut) || err.Error() != "no answer from the keyring within 5ms" {
		t.Fatalf("call: %v", err)
	}
	if took < 5*time.Millisecond || took > 2*time.Second {
		t.Errorf("gave up after %v, want about 5ms", took)
	}
	e := k.explain("read", "p/x", err)
	if !errors.Is(e, ErrKeyringUnreachable) || e.Error() != "keyring unreachable: no answer from the keyring within 5ms (it may be locked, waiting for an unlock prompt nobody can see)" {
		t.Errorf("explain: %v", e)
	}

	long := NewKeyring(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
	defer cancel()
	if _, err := long.call(ctx, never); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call with a 5ms context: %v", err)
	}
	canceled, cancelNow := context.WithCancel(context.Background())
	cancelNow()
	_, err = long.call(canceled, never)
	if e := long.explain("read", "p/x", err); !errors.Is(e, context.Canceled) || errors.Is(e, ErrKeyringUnreachable) {
		t.Errorf("canceled call: %v", e)
	}
	if v, err := long.call(context.Background(), func() (string, error) { return "v", nil }); v != "v" || err != nil {
		t.Errorf("answered call: %q, %v", v, err)
	}
}

// childResult is one keyring call made by a child process, reported on its stdout.
type childResult struct {
	Op      string
	Err     string
	Elapsed time.Duration
}

// TestHelperProcess is the body of the child processes TestKeyringUnreachable starts with
// a D-Bus environment of its own; it does nothing in a normal run.
func TestHelperProcess(t *testing.T) {
	ops := os.Getenv("SECRET_TEST_CHILD_OPS")
	if ops == "" {
		t.Skip("child process body for TestKeyringUnreachable")
	}
	s, err := Open("keyring", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	// The parent may shorten the per-call timeout, so that waiting for it takes
	// milliseconds; "get-ctx" keeps the default and is bounded by its context instead.
	short := s.(*Keyring)
	if d, err := time.ParseDuration(os.Getenv("SECRET_TEST_CHILD_TIMEOUT")); err == nil {
		short = NewKeyring(d)
	}
	enc := json.NewEncoder(os.Stdout)
	for _, op := range strings.Split(ops, ",") {
		ctx := context.Background()
		s := short
		if op == "get-ctx" {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, 20*time.Millisecond)
			defer cancel()
			s = NewKeyring(DefaultKeyringTimeout)
		}
		start := time.Now()
		switch op {
		case "get", "get-ctx":
			_, err = s.Get(ctx, Key("p", CertificatePassword))
		case "set":
			err = s.Set(ctx, Key("p", CertificatePassword), "s3cr3t-child-value")
		case "delete":
			err = s.Delete(ctx, Key("p", CertificatePassword))
		case "check":
			err = s.Check(ctx)
		}
		r := childResult{Op: op, Elapsed: time.Since(start)}
		if err != nil {
			r.Err = err.Error()
		}
		enc.Encode(r)
	}
}

// runChild runs the keyring operations in a child process whose D-Bus environment is
// env (DBUS_SESSION_BUS_ADDRESS, XDG_RUNTIME_DIR and PATH replaced when given), so that
// godbus's process-wide session connection cannot leak between cases.
func runChild(t *testing.T, ops string, env map[string]string) []childResult {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if _, replaced := env[k]; !replaced && k != "GORACE" {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	for k, v := range env {
		if v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	// Under -race a process sleeps 1 s before exiting (GORACE atexit_sleep_ms): not here.
	cmd.Env = append(cmd.Env, "SECRET_TEST_CHILD_OPS="+ops, realKeyringEnv+"=",
		"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("child: %v\n%s\n%s", err, out, stderr.String())
	}
	var rs []childResult
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		var r childResult
		if json.Unmarshal(sc.Bytes(), &r) == nil && r.Op != "" {
			rs = append(rs, r)
		}
	}
	if len(rs) != len(strings.Split(ops, ",")) {
		t.Fatalf("child reported %d results for %q:\n%s\n%s", len(rs), ops, out, stderr.String())
	}
	return rs
}

// internals are words of D-Bus and godbus that mean nothing to someone at a headless
// box: the error says what is missing instead.
var internals = []string{"dbus-launch", "org.freedesktop", "$PATH", "exec:", "--secret-store"}

func checkUnreachable(t *testing.T, r childResult, cause string, maxElapsed time.Duration) {
	t.Helper()
	t.Logf("%s after %v: %s", r.Op, r.Elapsed.Round(time.Millisecond), r.Err)
	if !strings.HasPrefix(r.Err, "keyring unreachable: ") || !strings.Contains(r.Err, cause) {
		t.Errorf("%s: %q, want keyring unreachable: …%s…", r.Op, r.Err, cause)
	}
	for _, w := range internals {
		if strings.Contains(r.Err, w) {
			t.Errorf("%s: %q speaks of %q", r.Op, r.Err, w)
		}
	}
	if strings.Contains(r.Err, "s3cr3t-child-value") || strings.Contains(r.Err, "\n") {
		t.Errorf("%s: error is not one line free of the secret: %q", r.Op, r.Err)
	}
	if r.Elapsed > maxElapsed {
		t.Errorf("%s took %v, want at most %v", r.Op, r.Elapsed, maxElapsed)
	}
}

func TestKeyringUnreachable(t *testing.T) {
	emptyDir := t.TempDir()
	noBus := map[string]string{"DBUS_SESSION_BUS_ADDRESS": "", "XDG_RUNTIME_DIR": emptyDir, "PATH": emptyDir}

	t.Run("bus socket missing", func(t *testing.T) {
		env := map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + filepath.Join(emptyDir, "no-such-bus")}
		for _, r := range runChild(t, "get,set,delete,check", env) {
			checkUnreachable(t, r, "cannot connect to the D-Bus session bus", time.Second)
		}
	})

	t.Run("no bus address and no dbus-launch", func(t *testing.T) {
		for _, r := range runChild(t, "get,set,check", noBus) {
			checkUnreachable(t, r, "there is no D-Bus session here (usual on a headless or SSH login)", time.Second)
		}
	})

	// A bus that accepts the connection and never answers: what a wedged daemon or an
	// unanswerable unlock prompt looks like. Each call must give up at the keyring's
	// timeout (3 s by default, TestOpen; 50 ms here, so that the test waits 50 ms).
	t.Run("silent bus", func(t *testing.T) {
		const timeout = 50 * time.Millisecond
		sock := silentBus(t)
		env := map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + sock, "SECRET_TEST_CHILD_TIMEOUT": timeout.String()}
		rs := runChild(t, "get,set,check,get-ctx", env)
		for _, r := range rs[:3] {
			checkUnreachable(t, r, "no answer from the keyring within 50ms", timeout+2*time.Second)
			if r.Elapsed < timeout {
				t.Errorf("%s returned after %v, before the timeout: the bus did answer?", r.Op, r.Elapsed)
			}
		}
		// The caller's context (20 ms) bounds a call too, well before the 3 s default.
		checkUnreachable(t, rs[3], "gave up waiting for the keyring", 2*time.Second)
	})

	t.Run("bus without a Secret Service", func(t *testing.T) {
		addr := privateBus(t)
		for _, r := range runChild(t, "get,set,check", map[string]string{"DBUS_SESSION_BUS_ADDRESS": addr}) {
			checkUnreachable(t, r, "no Secret Service (such as gnome-keyring) is running in this session", 2*time.Second)
		}
	})
}

// silentBus listens on a unix socket, accepts connections and never says a word.
func silentBus(t *testing.T) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return sock
}

// privateBus starts a dbus-daemon with no service files, so that nothing can provide
// org.freedesktop.secrets.
func privateBus(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		t.Skip("dbus-daemon not installed (Debian package dbus)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "session.conf")
	sock := filepath.Join(dir, "bus")
	err = os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=`+sock+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`), 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	return strings.TrimSpace(line)
}
