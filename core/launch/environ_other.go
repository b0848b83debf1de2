//go:build !linux

package launch

// startEnviron leaves the environment to os.Getenv (environ_linux.go says why Linux reads it).
func startEnviron() (environ, bool) { return "", false }
