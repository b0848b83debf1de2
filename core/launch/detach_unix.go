//go:build unix

package launch

import (
	"os/exec"
	"syscall"
)

// detach puts cmd in a new session: no controlling terminal, and no signal sent to the
// front's process group (git's or kubectl's Ctrl-C) reaches it.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
}
