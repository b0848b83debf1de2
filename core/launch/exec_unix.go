//go:build unix

package launch

import (
	"fmt"
	"os"
	"syscall"
)

// Replace turns this process into the engine serving front end `as` with args, keeping
// the pid, stdin and terminal (for prompts). It returns only on failure.
func Replace(as string, args []string) int {
	engine, err := Engine()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", as, err)
		return 1
	}
	err = syscall.Exec(engine, append([]string{engine, AsFlag + as}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "%s: run %s: %v\n", as, EngineName, err)
	return 1
}
