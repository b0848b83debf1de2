//go:build unix && !linux

package testbin

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"syscall"
	"time"
)

// ownTag makes this process's directory name unique: without /proc, there is no telling
// the go command from whatever else started this process, so nothing is shared.
var ownTag = strconv.FormatInt(time.Now().UnixNano(), 36)

func owner() (int, string) { return os.Getpid(), ownTag }

// alive reports whether a process pid exists (the tag cannot be checked here).
func alive(pid int, _ string) bool {
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// checkOwner refuses a directory another user owns.
func checkOwner(fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Getuid() {
		return fmt.Errorf("is owned by uid %d, not by you", st.Uid)
	}
	return nil
}
