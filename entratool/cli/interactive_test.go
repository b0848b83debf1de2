package cli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/internal/testbin"
	"github.com/entratool/entratool/internal/testkit"
)

// buildEntratool returns the real binary (built once per run by internal/testbin), so
// the prompts go through a real terminal: echo switched off by term.ReadPassword, line
// discipline, stderr and stdout interleaved.
func buildEntratool(t *testing.T) string {
	t.Helper()
	// The lean front hands everything but cached get-token to the engine beside it.
	return filepath.Join(testbin.Build(t, "./entratool", "./entratool-engine"), "entratool")
}

// ptySession is the binary running on a pseudo-terminal, driven like a person would:
// wait for a prompt, type the answer.
type ptySession struct {
	t        *testing.T
	ptm, tty *os.File
	cmd      *exec.Cmd

	out  testkit.Transcript
	pos  int // end of the last expected text
	done chan struct{}
}

func startPTY(t *testing.T, bin string, env []string, args ...string) *ptySession {
	t.Helper()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal available: %v", err)
	}
	s := &ptySession{t: t, ptm: ptm, tty: tty, done: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdin, s.cmd.Stdout, s.cmd.Stderr = tty, tty, tty
	s.cmd.Env = env
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(s.done)
		io.Copy(&s.out, ptm) // until EIO, once the terminal is closed
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		ptm.Close()
		tty.Close()
	})
	return s
}

func (s *ptySession) output() string { return s.out.String() }

// expect waits until text appears after what was matched before.
func (s *ptySession) expect(text string) {
	s.t.Helper()
	end, ok := s.out.WaitFrom(s.pos, text, 30*time.Second)
	if !ok {
		s.t.Fatalf("timed out waiting for %q; output so far:\n%s", text, s.output())
	}
	s.pos = end
}

func (s *ptySession) typeLine(line string) {
	s.t.Helper()
	if _, err := s.ptm.Write([]byte(line + "\r")); err != nil {
		s.t.Fatal(err)
	}
}

// typeSecret waits until the program has switched echo off, as a person would see no
// echo, then types. Typing earlier would echo the secret through no fault of the program.
func (s *ptySession) typeSecret(secretText string) {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		tio, err := unix.IoctlGetTermios(int(s.tty.Fd()), unix.TCGETS)
		if err != nil {
			s.t.Fatal(err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			break
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("echo never switched off for the secret prompt; output:\n%s", s.output())
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.typeLine(secretText)
}

// wait returns the exit code and the whole transcript.
func (s *ptySession) wait() (int, string) {
	s.t.Helper()
	err := s.cmd.Wait()
	s.tty.Close()
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.t.Fatal("terminal output did not end")
	}
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, s.output()
	case errors.As(err, &ee):
		return ee.ExitCode(), s.output()
	}
	s.t.Fatal(err)
	return -1, ""
}

// inOrder checks that each piece occurs in out after the previous one.
func inOrder(t *testing.T, out string, pieces ...string) {
	t.Helper()
	at := 0
	for _, p := range pieces {
		i := strings.Index(out[at:], p)
		if i < 0 {
			t.Fatalf("%q missing or out of order (after byte %d) in transcript:\n%s", p, at, out)
		}
		at += i + len(p)
	}
}

func TestInteractiveSeedTranscripts(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go toolchain not on PATH")
	}
	bin := buildEntratool(t)
	e := newTestEnv(t)
	pfx := e.newCert("certificate", testPassword)
	env := []string{"ENTRATOOL_HOME=" + e.home, "ENTRATOOL_SECRET_STORE=file", "HOME=" + e.dir, "PATH=" + os.Getenv("PATH"), "TERM=dumb"}

	t.Run("config create", func(t *testing.T) {
		s := startPTY(t, bin, env, "config", "create")
		s.expect("Profile name: ")
		s.typeLine(seedName)
		s.expect("Client ID: ")
		s.typeLine("not-a-guid") // asked again, with the reason
		s.expect("not a GUID")
		s.expect("Client ID: ")
		s.typeLine(seedClientID)
		s.expect("Tenant ID: ")
		s.typeLine(seedTenantID)
		s.expect("Select: ")
		s.typeLine("2")
		s.expect("Certificate path: ")
		s.typeLine(pfx)
		s.expect("Certificate password: ")
		s.typeSecret("wrong-password-typed")
		s.expect("invalid certificate password for " + pfx)
		s.expect("Certificate password: ")
		s.typeSecret(testPassword)
		s.expect("Scope: ")
		s.typeLine("")
		code, out := s.wait()
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		inOrder(t, out, "Profile name: ", "Client ID: ", "Tenant ID: ", "Authentication method:", "1. Client Secret",
			"2. Certificate", "Select: ", "Certificate path: ", "Certificate password: ", "Scope: ")
		if !strings.HasSuffix(strings.TrimSpace(out), "✓ Profile 'production-service' created successfully") {
			t.Errorf("transcript does not end with the seed's success line:\n%s", out)
		}
		for _, pw := range []string{testPassword, "wrong-password-typed"} {
			if strings.Contains(out, pw) {
				t.Errorf("password %q echoed:\n%s", pw, out)
			}
		}
		want := map[string]any{"name": seedName, "clientId": seedClientID, "tenantId": seedTenantID,
			"certificatePath": pfx, "useCertificate": true, "scope": DefaultScope}
		if got := e.profileJSON(seedName); !reflect.DeepEqual(got, want) {
			t.Errorf("profile = %v\nwant %v", got, want)
		}
		if e.secrets()[secret.Key(seedName, secret.CertificatePassword)] != testPassword {
			t.Error("password not stored")
		}
	})

	t.Run("config edit", func(t *testing.T) {
		newPFX := e.newCert("new-certificate", "rotated-Pa55")
		s := startPTY(t, bin, env, "config", "edit", "-p", seedName)
		s.expect("9. Done")
		s.expect("Select: ")
		s.typeLine("Certificate Path") // the seed's words; "1" works too
		s.expect("Certificate path: ")
		s.typeLine(newPFX)
		s.expect("Certificate password: ")
		s.typeSecret("rotated-Pa55")
		s.expect("Select: ")
		s.typeLine("9")
		code, out := s.wait()
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, out)
		}
		inOrder(t, out, "1. Certificate Path", "2. Certificate Password", "3. Client Secret", "4. Scope", "5. Client ID",
			"6. Tenant ID", "7. Authority Host", "8. Secret Store", "9. Done", "Select: ", "Certificate path: ", "Certificate password: ")
		if !strings.HasSuffix(strings.TrimSpace(out), "✓ Profile 'production-service' updated") {
			t.Errorf("transcript end:\n%s", out)
		}
		if strings.Contains(out, "rotated-Pa55") {
			t.Errorf("password echoed:\n%s", out)
		}
		if got := e.profileJSON(seedName)["certificatePath"]; got != newPFX {
			t.Errorf("certificatePath = %v", got)
		}
		if e.secrets()[secret.Key(seedName, secret.CertificatePassword)] != "rotated-Pa55" {
			t.Error("new password not stored")
		}
	})

	t.Run("config edit aborted by end of input saves nothing", func(t *testing.T) {
		before, _ := os.ReadFile(e.profilesPath())
		s := startPTY(t, bin, env, "config", "edit", "-p", seedName)
		s.expect("Select: ")
		s.typeLine("4")
		s.expect("Scope: ")
		s.typeLine("api://changed/.default")
		s.expect("Select: ")
		if _, err := s.ptm.Write([]byte{4}); err != nil { // Ctrl-D
			t.Fatal(err)
		}
		code, out := s.wait()
		if code != 1 || !strings.Contains(out, "no changes saved") {
			t.Errorf("exit %d:\n%s", code, out)
		}
		if after, _ := os.ReadFile(e.profilesPath()); !bytes.Equal(before, after) {
			t.Error("an aborted edit changed profiles.json")
		}
	})

	t.Run("cert create asks for the password twice", func(t *testing.T) {
		out := filepath.Join(e.dir, "tty.pfx")
		s := startPTY(t, bin, env, "cert", "create", "--subject", "CN=Tty", "--out", out)
		s.expect("Certificate password: ")
		s.typeSecret("first-Pa55")
		s.expect("Confirm certificate password: ")
		s.typeSecret("typo-Pa55")
		s.expect("did not match")
		s.expect("Certificate password: ")
		s.typeSecret("first-Pa55")
		s.expect("Confirm certificate password: ")
		s.typeSecret("first-Pa55")
		code, transcript := s.wait()
		if code != 0 || strings.Contains(transcript, "Pa55") {
			t.Fatalf("exit %d:\n%s", code, transcript)
		}
		e.ok("first-Pa55", "cert", "info", out, "--password-stdin")
	})
}
