package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// prompt asks for a line on the terminal. Prompts go to stderr so that stdout carries
// only results (a token, JSON), as git and ssh do.
func (a *App) prompt(label string) (string, error) {
	if !a.InTTY {
		return "", errors.New("no terminal to prompt on")
	}
	fmt.Fprintf(a.Err, "%s: ", label)
	return readLine(a.In)
}

// promptSecret asks for a secret with echo off.
func (a *App) promptSecret(label string) (string, error) {
	if !a.InTTY {
		return "", errors.New("no terminal to prompt on")
	}
	fmt.Fprintf(a.Err, "%s: ", label)
	if f, ok := a.In.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.Err)
		if err != nil {
			return "", fmt.Errorf("read %s: %w", strings.ToLower(label), err)
		}
		return string(b), nil
	}
	return readLine(a.In)
}

// need returns v, or prompts for it on a terminal, or fails with a usage error naming
// the flag.
func (a *App) need(v, flag, label string) (string, error) {
	if v != "" {
		return v, nil
	}
	if !a.InTTY {
		return "", usageErr("missing --%s (stdin is not a terminal, so entratool cannot prompt for it)", flag)
	}
	for {
		s, err := a.prompt(label)
		if err != nil {
			return "", err
		}
		if s = strings.TrimSpace(s); s != "" {
			return s, nil
		}
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
