//go:build !unix

package launch

import "os"

// Replace runs the engine's whole command line as a child with this process's streams
// (no exec(2) here).
func Replace(program string, args []string) int {
	return Delegate(program, EntryCLI, args, nil, os.Stdout, os.Stderr)
}
