//go:build !unix

package launch

import "os"

// Replace runs the engine as a child with this process's streams (no exec(2) here).
func Replace(as string, args []string) int {
	return Delegate(as, args, nil, os.Stdout, os.Stderr)
}
