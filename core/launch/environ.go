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

// Environ returns Getenv and, from the same list, a lookup with os.LookupEnv's second
// answer: whether the variable is set at all (TZ unset and TZ empty name different
// zones).
func Environ() (getenv func(string) string, lookup func(string) (string, bool)) {
	if env, ok := startEnviron(); ok {
		return env.lookup, env.lookupSet
	}
	return os.Getenv, os.LookupEnv
}

// environ is the environment as exec(2) handed it over: NAME=value entries.
type environ []string

// lookup returns the value of the first entry named key, as os.Getenv does (syscall
// keeps the first of repeated names).
func (e environ) lookup(key string) string {
	v, _ := e.lookupSet(key)
	return v
}

// lookupSet is lookup, and whether an entry is named key.
func (e environ) lookupSet(key string) (string, bool) {
	// A name has no '=' (an entry's name ends at its first) and no NUL.
	if key == "" || strings.IndexByte(key, '=') >= 0 || strings.IndexByte(key, 0) >= 0 {
		return "", false
	}
	for _, entry := range e {
		if len(entry) > len(key) && entry[len(key)] == '=' && entry[:len(key)] == key {
			return entry[len(key)+1:], true
		}
	}
	return "", false
}
