//go:build !unix && !windows

package launch

import "os/exec"

// detach has nothing to set where there are no sessions or process groups.
func detach(*exec.Cmd) {}
