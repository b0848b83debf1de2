package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/entratool/entratool/core/termtext"
)

// cmdIO is one command run's streams, and whether it may prompt on In for what its flags
// do not give. Each run has its own: a command that must not prompt (stdin carries a
// secret, or is no terminal) decides so here, and nothing shared changes.
type cmdIO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// CanPrompt: In is a terminal that may be asked for missing values. When false, a
	// missing value is a usage error naming its flag.
	CanPrompt bool
}

// newIO is a run's cmdIO: the App's streams, prompting when stdin is a terminal.
func (a *App) newIO() *cmdIO {
	return &cmdIO{In: a.In, Out: a.Out, Err: a.Err, CanPrompt: a.InTTY}
}

// prompt asks for a line on the terminal. Prompts go to stderr so that stdout carries
// only results (a token, JSON), as git and ssh do.
func (a *App) prompt(label string) (string, error) { return a.newIO().prompt(label) }

// promptSecret asks for a secret with echo off.
func (a *App) promptSecret(label string) (string, error) { return a.newIO().promptSecret(label) }

// need returns v, or prompts for it on a terminal, or fails with a usage error naming
// the flag.
func (a *App) need(v, flag, label string) (string, error) { return a.newIO().need(v, flag, label) }

// warn prints a one-line warning on stderr, control characters escaped (warnings quote
// certificate subjects and servers' errors).
func (c *cmdIO) warn(msg string) { fmt.Fprintln(c.Err, termtext.Escape(msg)) }

// prompt asks for a line on the terminal, on stderr (see App.prompt).
func (c *cmdIO) prompt(label string) (string, error) {
	if !c.CanPrompt {
		return "", errors.New("no terminal to prompt on")
	}
	fmt.Fprintf(c.Err, "%s: ", label)
	return readLine(c.In)
}

// promptSecret asks for a secret with echo off.
func (c *cmdIO) promptSecret(label string) (string, error) {
	if !c.CanPrompt {
		return "", errors.New("no terminal to prompt on")
	}
	fmt.Fprintf(c.Err, "%s: ", label)
	if f, ok := c.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.Err)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", strings.ToLower(label), err)
		}
		return string(b), nil
	}
	return readLine(c.In)
}

// need returns v, or prompts for it until the answer is not blank, or fails with a usage
// error naming the flag.
func (c *cmdIO) need(v, flag, label string) (string, error) {
	if v != "" {
		return v, nil
	}
	if !c.CanPrompt {
		return "", usageErr("missing --%s (stdin is not a terminal, so entratool cannot prompt for it)", flag)
	}
	for {
		s, err := c.prompt(label)
		if err != nil {
			return "", err
		}
		if s = strings.TrimSpace(s); s != "" {
			return s, nil
		}
	}
}

// ask returns v (checked), or prompts for it until the answer passes check, or fails
// with a usage error naming the flag.
func (c *cmdIO) ask(v, flag, label string, check func(string) error) (string, error) {
	if v != "" {
		if check != nil {
			if err := check(v); err != nil {
				return "", usageErr("--%s: %v", flag, err)
			}
		}
		return v, nil
	}
	for {
		s, err := c.need("", flag, label)
		if err != nil {
			return "", err
		}
		if check == nil {
			return s, nil
		}
		if err := check(s); err != nil {
			c.warn("  " + err.Error())
			continue
		}
		return s, nil
	}
}

// readLine reads one line byte by byte: no buffering, so a later term.ReadPassword on
// the same descriptor sees exactly what the user types next.
func readLine(r io.Reader) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				return strings.TrimRight(b.String(), "\r"), nil
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			if errors.Is(err, io.EOF) && b.Len() > 0 {
				return strings.TrimRight(b.String(), "\r"), nil
			}
			if errors.Is(err, io.EOF) {
				return "", errors.New("no answer (end of input)")
			}
			return "", err
		}
	}
}

// readSecretStdin reads a secret piped on stdin (--*-stdin flags): the whole input,
// trailing newline removed.
func readSecretStdin(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
