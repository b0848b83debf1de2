package testbin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// owner is the process the run's directory belongs to: the go command that started this
// test binary, directly or through a few processes (a test that runs its own test binary
// as a child shares its parent's binaries), or this process when no go command did. The
// tag, the process's start time in clock ticks since boot, tells a pid from its reuse by
// a later process.
func owner() (int, string) {
	for pid, depth := os.Getppid(), 0; pid > 1 && depth < 8; depth++ {
		st, err := readStat(pid)
		if err != nil {
			break
		}
		if st.comm == "go" {
			return pid, st.start
		}
		pid = st.ppid
	}
	pid := os.Getpid()
	start := "x"
	if st, err := readStat(pid); err == nil {
		start = st.start
	}
	return pid, start
}

// alive reports whether process pid, started at tag, is still running.
func alive(pid int, tag string) bool {
	st, err := readStat(pid)
	return err == nil && st.start == tag
}

type procStat struct {
	comm  string
	ppid  int
	start string
}

// readStat reads /proc/<pid>/stat: the command name (field 2, in parentheses, which it
// may itself contain), the parent (field 4) and the start time (field 22).
func readStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	s := string(data)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open {
		return procStat{}, errors.New("malformed stat")
	}
	f := strings.Fields(s[end+1:])
	if len(f) < 20 {
		return procStat{}, errors.New("malformed stat")
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return procStat{}, errors.New("malformed stat")
	}
	return procStat{comm: s[open+1 : end], ppid: ppid, start: f[19]}, nil
}

// checkOwner refuses a directory another user owns.
func checkOwner(fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("is owned by uid %d, not by you", st.Uid)
	}
	return nil
}
