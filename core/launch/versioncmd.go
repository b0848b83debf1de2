package launch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/version"
)

// VersionOutputs are `entratool version -o`'s values.
const VersionOutputs = "text or json"

// ValidVersionOutput reports whether f is one of VersionOutputs.
func ValidVersionOutput(f string) bool { return f == "text" || f == "json" }

// versionFix is the remedy for a version warning.
const versionFix = "install every entratool binary from the same release (one release archive or package, `make install`, or `go install github.com/entratool/entratool/...@VERSION`)"

// VersionJSON is `entratool version -o json`: the build (version.Info) and the engine
// it found.
type VersionJSON struct {
	Version string            `json:"version"`
	Commit  string            `json:"commit"`
	Date    string            `json:"date"`
	Go      string            `json:"go"`
	OS      string            `json:"os"`
	Arch    string            `json:"arch"`
	Engine  VersionJSONEngine `json:"engine"`
}

// VersionJSONEngine is the engine as `entratool version` found it: path "" when there is
// none, version "" when it told none.
type VersionJSONEngine struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Matches bool   `json:"matches"`
}

// ParseVersion reads an `entratool version` command line as cobra reads it, for the
// entratool front, which answers it itself (the engine may be missing, or of another
// build, which is what the command is there to say). ok is true only for a line cobra
// would run: root flags (--profile/-p NAME, --debug[=BOOL]), -o/--output text|json and
// the word version, in any order, and a "--" ending them. Any other line (--help,
// another value, an argument) is false: the engine's cobra answers it, help or usage
// error alike.
func ParseVersion(args []string) (output string, ok bool) {
	output, seen := "text", false
	flags := append(rootFlags(), Flag{Name: "output", Short: "o", Set: func(_ *GetToken, v string) error {
		if !ValidVersionOutput(v) {
			return errors.New("not " + VersionOutputs)
		}
		output = v
		return nil
	}})
	err := scanFlags(args, flags, &GetToken{}, func(i int, a string) (bool, error) {
		switch {
		case a == "version" && !seen:
			seen = true
			return false, nil
		case a == "--" && seen && i == len(args)-1:
			return true, nil // the end of the flags; version takes no arguments
		}
		return false, ErrNotParsed
	})
	if err != nil || !seen {
		return "", false
	}
	return output, true
}

// WriteVersion is `entratool version` (program "entratool"): this build's version,
// commit, date, toolchain and platform (version.Info), as text (one item a line) or
// json, on stdout, with the engine this program would run. Its own version needs no
// engine; an engine that is missing, tells no version or tells another version than this
// build's is a warning on stderr with the fix, and no error: the version asked for was
// printed. The error is stdout's.
//
// Run in the engine itself (`entratool-engine version`), the engine it would run is
// itself, and is not asked.
func WriteVersion(ctx context.Context, program, output string, stdout, stderr io.Writer) error {
	b := version.Info()
	text := []string{
		program + " " + b.Version,
		"commit: " + b.Commit,
		"built: " + b.Date,
		"go: " + b.Go + " " + b.OS + "/" + b.Arch,
	}
	if output == "text" {
		// Before the engine is asked: what was asked for is out, however long that takes.
		var s strings.Builder
		for _, l := range text {
			s.WriteString(termtext.Escape(l) + "\n")
		}
		if _, err := io.WriteString(stdout, s.String()); err != nil {
			return err
		}
	}
	var c EngineCheck
	if exe := frontExecutable(); strings.TrimSuffix(filepath.Base(exe), ".exe") == EngineName {
		c = EngineCheck{Program: program, Front: b.Version, Beside: exe, Path: exe, Version: b.Version}
	} else {
		c = CheckEngine(ctx, program) // its Front is version.Current(), b.Version
	}
	engine := "not found"
	switch {
	case c.Path != "" && c.Version != "":
		engine = c.Version + " (" + c.Path + ")"
	case c.Path != "":
		engine = "version unknown (" + c.Path + ")"
	}
	var err error
	if output == "json" {
		err = termtext.WriteJSON(stdout, VersionJSON{Version: b.Version, Commit: b.Commit, Date: b.Date, Go: b.Go, OS: b.OS, Arch: b.Arch,
			Engine: VersionJSONEngine{Path: c.Path, Version: c.Version, Matches: c.OK()}})
	} else {
		_, err = io.WriteString(stdout, termtext.Escape("engine: "+engine)+"\n")
	}
	if w := c.warning(); w != "" {
		fmt.Fprintf(stderr, "%s: warning: %s\n", program, termtext.Escape(w))
	}
	return err
}

// warning is what `entratool version` says of an engine that cannot serve this build,
// with the fix; "" when it can.
func (c EngineCheck) warning() string {
	switch {
	case c.OK():
		return ""
	case c.Path == "":
		beside := c.Beside
		if beside == "" {
			beside = c.Program
		}
		return fmt.Sprintf("%s not found beside %s or on PATH, and every %s command but version needs it: %s", EngineName, beside, c.Program, versionFix)
	case c.Problem != "":
		return fmt.Sprintf("%s at %s %s: %s", EngineName, c.Path, c.Problem, versionFix)
	default:
		return fmt.Sprintf("%s at %s is version %s, %s is version %s: %s", EngineName, c.Path, c.Version, c.Program, c.Front, versionFix)
	}
}
