//go:build windows

package launch

import (
	"os/exec"
	"syscall"
)

// detachedProcess is DETACHED_PROCESS: no console is inherited or created.
const detachedProcess = 0x00000008

// detach starts cmd without the front's console and in a process group of its own, so
// that closing the console or Ctrl-C in it does not stop the refresh.
func detach(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{CreationFlags: syscall.CREATE_NEW_PROCESS_GROUP | detachedProcess}
}
