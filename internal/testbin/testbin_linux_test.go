package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// testOwnerOS checks how the owner is found from /proc.
func testOwnerOS(t *testing.T, pid int, tag string) {
	if alive(pid, tag+"0") {
		t.Fatal("a different start time is the same process")
	}
	st, err := readStat(os.Getppid())
	if err != nil {
		t.Fatal(err)
	}
	if st.comm == "go" && pid != os.Getppid() {
		t.Fatalf("owner %d, want the go command %d", pid, os.Getppid())
	}
	fromGo := pid != os.Getpid()
	if fromGo {
		if o, err := readStat(pid); err != nil || o.comm != "go" {
			t.Fatalf("owner %d is not a go command: %+v, %v", pid, o, err)
		}
	}
	// This test binary run as a child of this one: the same owner when a go command
	// started this one, else the child's own.
	cmd := exec.Command(os.Args[0], "-test.run=^TestOwner$", "-test.count=1")
	cmd.Env = append(os.Environ(), "TESTBIN_CHILD_OWNER=1", "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	var childPID int
	var childTag string
	if _, err := fmt.Sscanf(string(out), "owner %d %s", &childPID, &childTag); err != nil {
		t.Fatalf("child said %q: %v", out, err)
	}
	if shared := childPID == pid && childTag == tag; shared != fromGo {
		t.Fatalf("child's owner %d %s, this process's %d %s (parent %q)", childPID, childTag, pid, tag, st.comm)
	}
}
