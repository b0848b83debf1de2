//go:build unix

package launch

import (
	"os/exec"
	"testing"
)

// The refresh child gets a session of its own and the null device for every stream:
// nothing of the front's (git reads its helper's stdout until EOF) and no signal sent to
// the host tool's process group.
func TestDetachedCommand(t *testing.T) {
	cmd := exec.Command("true")
	detach(cmd)
	if cmd.SysProcAttr == nil || !cmd.SysProcAttr.Setsid {
		t.Fatal("not in a session of its own")
	}
	if cmd.Stdin != nil || cmd.Stdout != nil || cmd.Stderr != nil || len(cmd.ExtraFiles) != 0 {
		t.Fatal("streams handed on")
	}
}
