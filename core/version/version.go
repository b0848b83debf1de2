// Package version carries the build's version, stamped by the Makefile with -ldflags,
// and the one line every entratool binary answers --version with.
package version

import (
	"runtime"
	"strings"
)

// Version is overwritten at link time (-X); "dev" marks a plain `go build`.
var Version = "dev"

// Line is what every binary prints for --version: the program's name, the build's
// version, and the Go toolchain and platform it was built with — what a bug report
// needs to tell builds apart. One function, so that every binary says it the same way
// and a mismatched set is easy to spot.
func Line(program string) string {
	return program + " " + Version + " (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
}

// Parse reads the version out of a line Line(program) printed, for a binary that asks
// another (the entratool front asking the engine beside it); ok is false for a line of
// another form or another program.
func Parse(line, program string) (v string, ok bool) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(line), program+" ")
	v, _, _ = strings.Cut(rest, " (")
	return v, ok && v != ""
}

// Requested reports whether a command line is exactly `--version`: how a binary that
// parses no flags before handing its command line on (the entratool front, the engine,
// a key-store plugin) recognises the question without guessing at anything else.
func Requested(args []string) bool { return len(args) == 1 && args[0] == "--version" }
