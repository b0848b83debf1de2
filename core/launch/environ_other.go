//go:build !unix

package launch

// startEnviron leaves the environment to os.Getenv: on Windows names are
// case-insensitive, and the system keeps the block (environ_unix.go says why Unix does not).
func startEnviron() (environ, bool) { return nil, false }
