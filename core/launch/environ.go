package launch

import (
	"os"
	"strings"
)

// Getenv is the lookup the fronts read their environment with: os.Getenv's answers.
// On Unix it searches the environment the runtime was started with (environ_unix.go)
// instead of asking os.Getenv: the first os.Getenv in a process copies every variable
// into a map (syscall's copyenv, ~1K instructions a variable, and the map's memory),
// which a cache hit — a handful of lookups — pays on every git or kubectl call. Nothing
// in a front sets a variable, so the two agree (TestGetenvIsOsGetenv); elsewhere it is
// os.Getenv.
func Getenv() func(string) string {
	if env, ok := startEnviron(); ok {
		return env.lookup
	}
	return os.Getenv
}

// environ is the environment as exec(2) handed it over: NAME=value entries.
type environ []string

// lookup returns the value of the first entry named key, as os.Getenv does (syscall
// keeps the first of repeated names).
func (e environ) lookup(key string) string {
	// A name has no '=' (an entry's name ends at its first) and no NUL.
	if key == "" || strings.IndexByte(key, '=') >= 0 || strings.IndexByte(key, 0) >= 0 {
		return ""
	}
	for _, entry := range e {
		if len(entry) > len(key) && entry[len(key)] == '=' && entry[:len(key)] == key {
			return entry[len(key)+1:]
		}
	}
	return ""
}
