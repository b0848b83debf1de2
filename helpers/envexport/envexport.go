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
			fmt.Fprintf(&b, "$Env:%s = '%s'\n", v.Name, strings.ReplaceAll(v.Value, "'", "''"))
		case "cmd":
			// cmd.exe has no escape for a quote inside "…", and expands %VAR% and !VAR!.
			if strings.ContainsAny(v.Value, "\"%!\r\n^") {
				return "", fmt.Errorf("value of %s has characters cmd.exe cannot carry in set \"NAME=value\"", v.Name)
			}
			fmt.Fprintf(&b, "set \"%s=%s\"\r\n", v.Name, v.Value)
		case "dotenv":
			fmt.Fprintf(&b, "%s=%s\n", v.Name, dotenvQuote(v.Value))
		case "github":
			// $GITHUB_ENV: NAME=value, or the heredoc form for multi-line values.
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

func dotenvQuote(s string) string {
	if dotenvPlain(s) {
		return s
	}
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`, "\r", `\r`, "$", `\$`).Replace(s) + `"`
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
