// Package envexport prints environment variable assignments quoted for a shell, so that
// `eval "$(entratool env)"` and its fish, PowerShell, cmd, dotenv and GitHub Actions
// counterparts set exactly the values given.
package envexport

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Var is one assignment.
type Var struct{ Name, Value string }

// shells lists the accepted --shell values.
const shells = "sh, bash, zsh, fish, powershell, pwsh, cmd, dotenv, github"

// validName: an identifier every shell accepts. Hand-written rather than a regexp: this
// package is linked into the lean front ends, where start-up time counts.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		if c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// Format renders vars for shell. Names must be identifiers; values that a format
// cannot carry faithfully are refused rather than mangled.
func Format(shell string, vars []Var) (string, error) {
	switch shell {
	case "", "sh", "bash", "zsh", "fish", "powershell", "pwsh", "cmd", "dotenv", "github":
	default:
		return "", fmt.Errorf("unknown shell %q: use one of %s", shell, shells)
	}
	var b strings.Builder
	for _, v := range vars {
		if !validName(v.Name) {
			return "", fmt.Errorf("invalid variable name %q", v.Name)
		}
		if strings.ContainsRune(v.Value, 0) {
			return "", fmt.Errorf("value of %s contains a NUL byte", v.Name)
		}
		switch shell {
		case "sh", "bash", "zsh", "":
			fmt.Fprintf(&b, "export %s=%s\n", v.Name, shQuote(v.Value))
		case "fish":
			fmt.Fprintf(&b, "set -gx %s %s;\n", v.Name, fishQuote(v.Value))
		case "powershell", "pwsh":
			fmt.Fprintf(&b, "$Env:%s = '%s'\n", v.Name, psQuote(v.Value))
		case "cmd":
			// cmd.exe has no escape for a quote inside "…", expands %VAR% and !VAR!, and
			// reads Ctrl-Z (like CR and LF) as a line break in a batch file.
			if strings.ContainsAny(v.Value, "\"%!^") || hasControl(v.Value) {
				return "", fmt.Errorf("value of %s has characters cmd.exe cannot carry in set \"NAME=value\"", v.Name)
			}
			fmt.Fprintf(&b, "set \"%s=%s\"\r\n", v.Name, v.Value)
		case "dotenv":
			fmt.Fprintf(&b, "%s=%s\n", v.Name, dotenvQuote(v.Value))
		case "github":
			// $GITHUB_ENV: NAME=value, or the heredoc form for multi-line values. A
			// Windows runner splits lines at \r\n as well as \n, so it would take a final
			// \r of the value for part of the line break before the delimiter.
			if strings.HasSuffix(v.Value, "\r") {
				return "", fmt.Errorf("value of %s ends in a carriage return, which $GITHUB_ENV cannot carry", v.Name)
			}
			if strings.ContainsAny(v.Value, "\r\n") {
				d := delimiter(v.Value)
				fmt.Fprintf(&b, "%s<<%s\n%s\n%s\n", v.Name, d, v.Value, d)
			} else {
				fmt.Fprintf(&b, "%s=%s\n", v.Name, v.Value)
			}
		}
	}
	return b.String(), nil
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// psQuote escapes s for a PowerShell single-quoted (verbatim) string. PowerShell ends
// such a string at any single-quote character — ' and the typographic ‘ ’ ‚ ‛
// (U+2018–U+201B) alike — and reads two in a row as one; so each is doubled, as
// PowerShell's own CodeGeneration.EscapeSingleQuotedStringContent does.
func psQuote(s string) string {
	if !strings.ContainsAny(s, "'\u2018\u2019\u201a\u201b") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		b.WriteRune(r)
		if r == '\'' || r >= '\u2018' && r <= '\u201b' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// hasControl reports a C0 control character other than tab, or DEL.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' || c == 0x7f {
			return true
		}
	}
	return false
}

func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// dotenvPlain: values that need no quotes in any dotenv dialect.
func dotenvPlain(s string) bool {
	for _, c := range s {
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.ContainsRune("_./:+=@,-", c) {
			continue
		}
		return false
	}
	return true
}

// dotenvQuote double-quotes s with backslash, ", $ and backtick escaped and line breaks
// written as \n and \r: the dialect of Ruby dotenv, godotenv and docker compose, and,
// for values without line breaks, of sh sourcing the file (`set -a; . .env`). Plain
// values stay unquoted, as docker run --env-file, which strips no quotes, needs them.
func dotenvQuote(s string) string {
	if dotenvPlain(s) {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", `\$`, "`", "\\`", "\n", `\n`, "\r", `\r`).Replace(s) + `"`
}

// delimiter picks a heredoc delimiter that does not occur in value. It only has to
// differ from the value's lines; the value is ours (a token), not an attacker's.
func delimiter(value string) string {
	for {
		d := "EOF_" + strconv.FormatUint(rand.Uint64(), 16)
		if !strings.Contains(value, d) {
			return d
		}
	}
}
