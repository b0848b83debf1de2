package launch

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/version"
)

// EngineCheckedEnv carries a front's finding to the engine's doctor: the engine's path,
// set only once the front found the engine there answering the front's own version. The
// engine cannot make that check itself (it would find itself), so it reports what the
// front saw.
const EngineCheckedEnv = "ENTRATOOL_ENGINE_CHECKED"

// engineVersionBound bounds the version question: a healthy engine answers in a few
// milliseconds, and a hung one must not hang doctor.
const engineVersionBound = 5 * time.Second

// engineFix is the one remedy for an engine that is missing or from another build.
const engineFix = "reinstall every entratool binary together (one release archive or package, `make install`, or `go install github.com/entratool/entratool/...@VERSION`)"

// EngineCheck is what a front found when it looked for its engine.
type EngineCheck struct {
	Program string // the front, e.g. "entratool"
	Front   string // the front's version
	Beside  string // the front's executable (symlinks resolved), where the engine is looked for first
	Path    string // the engine found; "" when there is none
	Version string // the version the engine reports; "" when it reported none
	Problem string // why the engine at Path said nothing usable ("" when it answered)
}

// CheckEngine finds the engine as Replace, Delegate and Token will (Engine), asks its
// version (`entratool-engine --version`, which runs no command) and compares it with this
// program's. The engine cannot report this itself: when it is missing nothing runs, and
// an engine of another build may not even understand the command line it is handed
// (SPEC §16: doctor reports a missing or mismatched engine itself).
func CheckEngine(ctx context.Context, program string) EngineCheck {
	c := EngineCheck{Program: program, Front: version.Current(), Beside: frontExecutable()}
	path, err := Engine()
	if err != nil {
		return c
	}
	c.Path = path
	c.Version, c.Problem = askVersion(ctx, path)
	return c
}

// EngineChecked is, in the engine, the finding the front handed on (EngineCheckedEnv):
// the engine at that path is this process, so its version is this build's. false when
// no front checked (the engine was started directly).
func EngineChecked(program string, getenv func(string) string) (EngineCheck, bool) {
	p := getenv(EngineCheckedEnv)
	if p == "" {
		return EngineCheck{}, false
	}
	v := version.Current()
	return EngineCheck{Program: program, Front: v, Path: p, Version: v}, true
}

// OK reports whether the engine is there and of the front's version.
func (c EngineCheck) OK() bool { return c.Path != "" && c.Problem == "" && c.Version == c.Front }

// Line is the check as doctor prints it: ✓ with the version and path, or ✗ with what is
// wrong and the fix. The engine's answer and the paths are escaped for the terminal.
func (c EngineCheck) Line() string {
	var s string
	switch {
	case c.OK():
		s = fmt.Sprintf("✓ %s %s (%s)", EngineName, c.Version, c.Path)
	case c.Path == "":
		beside := c.Beside
		if beside == "" {
			beside = c.Program
		}
		s = fmt.Sprintf("✗ %s: not found beside %s or on PATH — fix: %s", EngineName, beside, engineFix)
	case c.Problem != "":
		s = fmt.Sprintf("✗ %s at %s %s — fix: %s", EngineName, c.Path, c.Problem, engineFix)
	default:
		s = fmt.Sprintf("✗ %s %s at %s does not match %s %s — fix: %s", EngineName, c.Version, c.Path, c.Program, c.Front, engineFix)
	}
	return termtext.Escape(s)
}

// frontExecutable is this program's path as Engine resolves it, for messages.
func frontExecutable() string {
	exe, err := os.Executable()
	if err != nil {
		return ""
	}
	if real, err := filepath.EvalSymlinks(exe); err == nil {
		return real
	}
	return exe
}

// askVersion runs `ENGINE --version` and reads the version from its answer
// (version.Line: "entratool-engine VERSION (go…, os/arch)"), or says why there is none.
func askVersion(ctx context.Context, path string) (ver, problem string) {
	bound := engineVersionBound
	if d, ok := ctx.Deadline(); ok && time.Until(d) < bound {
		bound = time.Until(d).Round(time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, "--version")
	out := &capped{max: 256}
	cmd.Stdout = out // stdin and stderr: the null device
	// A child that keeps stdout open after the engine is killed must not hold Wait.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return "", fmt.Sprintf("did not tell its version within %v", bound)
	case errors.As(err, &ee):
		return "", fmt.Sprintf("does not tell its version (--version: %v: an older build?)", ee)
	case err != nil:
		return "", fmt.Sprintf("cannot be run: %v", err)
	}
	line, _, _ := strings.Cut(string(out.b), "\n")
	line = strings.TrimSpace(line)
	ver, ok := version.Parse(line, EngineName)
	if !ok {
		return "", fmt.Sprintf("does not tell its version (--version answered %q)", line)
	}
	return ver, ""
}

// capped keeps the first max bytes written to it and drops the rest, so that whatever
// sits at the engine's path cannot fill memory.
type capped struct {
	b   []byte
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - len(c.b); room > 0 {
		c.b = append(c.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// Subcommand is the command an entratool command line runs: its first word that is
// neither a root flag (as GetTokenFlags lists them: --profile/-p NAME, --debug) nor
// such a flag's value, read by pflag's rules. "" when something else comes first
// ("--", another flag, nothing): cobra will judge that line.
func Subcommand(args []string) string {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "-" || !strings.HasPrefix(a, "-") {
			return a
		}
		f, inline := rootFlag(a)
		if f == nil {
			return ""
		}
		if !f.Bool && !inline {
			i++ // the value
		}
	}
	return ""
}

// rootFlag is the root flag a (starting with "-") sets, and whether a holds its value.
func rootFlag(a string) (f *Flag, inline bool) {
	name, long, _, inline := flagArg(a)
	return lookupFlag(rootFlags(), long, name), inline
}

// rootFlags are the root command's persistent flags, as GetTokenFlags lists them.
func rootFlags() []Flag {
	var root []Flag
	for _, f := range GetTokenFlags() {
		if f.Root {
			root = append(root, f)
		}
	}
	return root
}
