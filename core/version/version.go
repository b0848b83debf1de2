// Package version carries the build's version, commit and date — stamped by the Makefile
// with -ldflags, else read from what the go command recorded in the binary — and the one
// line every entratool binary answers --version with.
//
// Nothing here runs at start-up: the lean fronts link this package, and a build's
// description is worked out only when asked for (Info, Current, Line).
package version

import (
	"runtime"
	"runtime/debug"
	"strings"
)

// Version, Commit and Date are overwritten at link time (-X) by the Makefile: the
// release's version (`git describe`), the commit built and that commit's time (RFC 3339,
// UTC: not the time of the build, so that one commit always builds the same bytes).
// Left as they are here (`go install …@VERSION`, `go build`), Info reads what the go
// command recorded instead.
var (
	Version = "dev"
	Commit  = ""
	Date    = ""
)

// Unknown is what Info says of a commit or date nothing recorded.
const Unknown = "unknown"

// Build describes one binary: what `entratool version` prints.
type Build struct {
	Version string // Version as linked, else the module version `go install …@VERSION` recorded, else "dev"
	Commit  string // the commit built, "-dirty" appended when the tree had changes; or Unknown
	Date    string // that commit's time, RFC 3339 UTC; or Unknown
	Go      string // the toolchain, runtime.Version()
	OS      string // runtime.GOOS
	Arch    string // runtime.GOARCH
}

// Info describes this build. Each of Version, Commit and Date comes from the linker
// flags when they set it, else from the build information the go command records:
//
//   - the main module's version, when the go command took the module at a version
//     (`go install github.com/entratool/entratool/...@v1.2.3`). Not "(devel)", and not
//     a version the go command derived from the checkout it built in (a build in a
//     checkout records vcs.* settings): such a build is "dev", told apart by its commit;
//   - vcs.revision (with -dirty when vcs.modified) and vcs.time, which the go command
//     records when it builds in a checkout (unless -buildvcs=false).
//
// It is computed on every call, from the binary's own build information: nothing is
// done at start-up, and nothing is kept.
func Info() Build {
	b := Build{Version: Version, Commit: Commit, Date: Date}
	if !linked(b.Version) || !linked(b.Commit) || !linked(b.Date) {
		bi, _ := debug.ReadBuildInfo()
		b = resolve(b, bi)
	}
	b.Go, b.OS, b.Arch = runtime.Version(), runtime.GOOS, runtime.GOARCH
	return b
}

// Current is this build's version, as Info says it: what Line prints, and what a front
// compares with the version its engine reports.
func Current() string {
	if linked(Version) {
		return Version // a release build: no build information to read
	}
	return Info().Version
}

// linked reports whether the linker set a value ("" and the defaults mean it did not;
// the Makefile says "unknown" when git could not tell, and "dev" for no version).
func linked(v string) bool { return v != "" && v != "dev" && v != Unknown }

// resolve fills what the linker left unset in b from the go command's build information
// (nil when the binary has none); what neither tells is "dev" or Unknown.
func resolve(b Build, bi *debug.BuildInfo) Build {
	var rev, at string
	modified, vcs := false, false
	if bi != nil {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs":
				vcs = true
			case "vcs.revision":
				rev, vcs = s.Value, true
			case "vcs.time":
				at, vcs = s.Value, true
			case "vcs.modified":
				modified, vcs = s.Value == "true", true
			}
		}
	}
	if !linked(b.Version) {
		b.Version = "dev"
		// A checkout's build records its commit: the version the go command derives from
		// it (a pseudo-version, +dirty) says no more, and would differ between a front
		// and an engine built from one checkout a moment apart.
		if bi != nil && !vcs && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			b.Version = bi.Main.Version
		}
	}
	if !linked(b.Commit) {
		b.Commit = Unknown
		if rev != "" {
			b.Commit = rev
			if modified {
				b.Commit += "-dirty"
			}
		}
	}
	if !linked(b.Date) {
		b.Date = Unknown
		if at != "" {
			b.Date = at // the go command writes it in UTC, RFC 3339
		}
	}
	return b
}

// Line is what every binary prints for --version: the program's name, the build's
// version (Current), and the Go toolchain and platform it was built with — what a bug
// report needs to tell builds apart. One function, so that every binary says it the
// same way and a mismatched set is easy to spot.
func Line(program string) string {
	return program + " " + Current() + " (" + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")"
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
