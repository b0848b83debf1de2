//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package e2e

import "golang.org/x/sys/unix"

// ioctlGetTermios reads a terminal's settings.
const ioctlGetTermios = unix.TIOCGETA
