package testkit

import (
	"errors"
	"io"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// PTY is a program running on a pseudo-terminal, driven as a person would: wait for a
// prompt, type the answer. Prompts go through a real terminal: echo switched off by
// term.ReadPassword, line discipline, stderr and stdout interleaved.
type PTY struct {
	t        *testing.T
	ptm, tty *os.File
	cmd      *exec.Cmd

	out  Transcript
	pos  int // end of the last expected text
	done chan struct{}
}

// StartPTY starts bin with args and env (the whole environment) on a new terminal,
// as its controlling terminal; the test is skipped where no pseudo-terminal exists.
func StartPTY(t *testing.T, bin string, env []string, args ...string) *PTY {
	t.Helper()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal available: %v", err)
	}
	s := &PTY{t: t, ptm: ptm, tty: tty, done: make(chan struct{})}
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

// Output is everything the program wrote so far.
func (s *PTY) Output() string { return s.out.String() }

// Expect waits until text appears after what was matched before.
func (s *PTY) Expect(text string) {
	s.t.Helper()
	end, ok := s.out.WaitFrom(s.pos, text, 30*time.Second)
	if !ok {
		s.t.Fatalf("timed out waiting for %q; output so far:\n%s", text, s.Output())
	}
	s.pos = end
}

// TypeLine types line and Enter.
func (s *PTY) TypeLine(line string) {
	s.t.Helper()
	s.Send([]byte(line + "\r"))
}

// Send writes raw bytes to the terminal (Ctrl-D is {4}).
func (s *PTY) Send(b []byte) {
	s.t.Helper()
	if _, err := s.ptm.Write(b); err != nil {
		s.t.Fatal(err)
	}
}

// TypeSecret waits until the program has switched echo off, as a person would see no
// echo, then types. Typing earlier would echo the secret through no fault of the program.
func (s *PTY) TypeSecret(secretText string) {
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
			s.t.Fatalf("echo never switched off for the secret prompt; output:\n%s", s.Output())
		}
		time.Sleep(5 * time.Millisecond)
	}
	s.TypeLine(secretText)
}

// Wait returns the exit code and the whole transcript.
func (s *PTY) Wait() (int, string) {
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
		return 0, s.Output()
	case errors.As(err, &ee):
		return ee.ExitCode(), s.Output()
	}
	s.t.Fatal(err)
	return -1, ""
}
