//go:build !unix

package testbin

import (
	"io/fs"
	"os"
	"strconv"
	"time"
)

// ownTag makes this process's directory name unique: nothing is shared between test
// processes here.
var ownTag = strconv.FormatInt(time.Now().UnixNano(), 36)

func owner() (int, string) { return os.Getpid(), ownTag }

// alive reports whether process pid exists (FindProcess fails for an ended process on
// Windows; elsewhere it always succeeds, and nothing is removed).
func alive(pid int, _ string) bool {
	p, err := os.FindProcess(pid)
	if err != nil {
		return false
	}
	p.Release()
	return true
}

func checkOwner(fs.FileInfo) error { return nil }
