package main

import (
	"bufio"
	"io"
	"strings"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/entratool/output"
)

// fastGetToken answers `entratool get-token [-p NAME] [--scope S] [-o FORMAT]
// [--silent] [--timeout D]` from the cache alone. It reports false — and has written
// nothing — whenever the full CLI must run: other commands or flags, --debug,
// --force-refresh, a miss, or any error (the engine then reports it properly).
func fastGetToken(args []string, getenv func(string) string, stdout io.Writer) bool {
	if len(args) == 0 || args[0] != "get-token" || getenv("ENTRATOOL_DEBUG") != "" {
		return false
	}
	var name, scope, format = "", "", "token"
	for i := 1; i < len(args); i++ {
		a := args[i]
		flag, val, hasVal := strings.Cut(a, "=")
		takesValue := map[string]bool{"-p": true, "--profile": true, "--scope": true, "-o": true, "--output": true, "--timeout": true}
		switch {
		case a == "--silent":
			continue
		case takesValue[flag]:
			if !hasVal {
				if i+1 >= len(args) {
					return false
				}
				i++
				val = args[i]
			}
		case strings.HasPrefix(a, "-p") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			flag, val = "-p", a[2:]
		case strings.HasPrefix(a, "-o") && len(a) > 2 && !strings.HasPrefix(a, "--"):
			flag, val = "-o", a[2:]
		default:
			return false
		}
		switch flag {
		case "-p", "--profile":
			name = val
		case "--scope":
			scope = val
		case "-o", "--output":
			format = val
		case "--timeout":
			// 0, a negative or a malformed value is the engine's usage error to report.
			if d, err := time.ParseDuration(val); err != nil || d <= 0 {
				return false
			}
		}
	}
	if !output.Valid(format) {
		return false
	}
	home, err := profile.Home(getenv)
	if err != nil {
		return false
	}
	cfg, err := (&profile.Store{Home: home}).Load()
	if err != nil {
		return false
	}
	p, err := cfg.Resolve(name, getenv)
	if err != nil {
		return false
	}
	if scope == "" {
		scope = p.Scope
	}
	if scope == "" {
		scope = "https://graph.microsoft.com/.default"
	}
	c := tokencache.Open(home, getenv)
	t, err := c.Lookup(p, scope)
	if err != nil {
		return false
	}
	w := bufio.NewWriter(stdout)
	if output.Write(w, format, t, p) != nil {
		return false
	}
	return w.Flush() == nil
}
