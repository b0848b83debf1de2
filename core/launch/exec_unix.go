//go:build unix

package launch

import (
	"fmt"
	"os"
	"syscall"
)

// Replace turns this process into the engine's whole command line (EntryCLI) with
// args, keeping the pid, stdin and terminal (for prompts). It returns only on failure;
// program names the front in that message.
func Replace(program string, args []string) int {
	engine, err := Engine()
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", program, err)
		return 1
	}
	err = syscall.Exec(engine, append([]string{engine, AsFlag + EntryCLI}, args...), os.Environ())
	fmt.Fprintf(os.Stderr, "%s: run %s: %v\n", program, EngineName, err)
	return 1
}
