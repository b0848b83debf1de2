//go:build unix

package fsutil

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

const modeBitsMeaningful = true

// ownedBy compares the file's owner with the effective uid (what the kernel checks
// access against). known is false when the FileInfo carries no owner.
func ownedBy(_ string, fi fs.FileInfo, owners Owners) (ok bool, owner string, known bool) {
	st, isStat := fi.Sys().(*syscall.Stat_t)
	if !isStat {
		return false, "", false
	}
	uid := int(st.Uid)
	if uid == effectiveUID() || (owners == OwnerSelfOrRoot && uid == 0) {
		return true, "", true
	}
	return false, userName(uid), true
}

// effectiveUID is os.Geteuid, asked once: a cache hit checks five or six paths, and
// each call is a system call. entratool never changes its uid, so the answer holds.
// A zero sync.Once rather than sync.OnceValue: that is built by package init, which
// every front runs on every start.
func effectiveUID() int {
	euid.once.Do(func() { euid.uid = os.Geteuid() })
	return euid.uid
}

var euid struct {
	once sync.Once
	uid  int
}

// userName says "uid 1001 (mallory)". It reads /etc/passwd itself: os/user would link
// cgo's getpwuid_r into the lean front ends, and this runs only on the refusal path.
func userName(uid int) string {
	s := "uid " + strconv.Itoa(uid)
	f, err := os.Open("/etc/passwd")
	if err != nil {
		return s
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	want := strconv.Itoa(uid)
	for sc.Scan() {
		fields := strings.SplitN(sc.Text(), ":", 4)
		if len(fields) >= 3 && fields[2] == want && fields[0] != "" {
			return s + " (" + fields[0] + ")"
		}
	}
	return s
}

// openReadNoBlock opens read-only with O_NONBLOCK, so that opening a FIFO returns at
// once instead of waiting for a writer, and (unless follow) O_NOFOLLOW.
func openReadNoBlock(path string, follow bool) (*os.File, error) {
	flags := os.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	return os.OpenFile(path, flags, 0)
}

// openFlagsNoFollow are added to every open of a lock file.
const openFlagsNoFollow = syscall.O_NOFOLLOW | syscall.O_NONBLOCK | syscall.O_CLOEXEC

// isSymlinkRefusal recognises O_NOFOLLOW meeting a symlink: ELOOP on Linux and macOS,
// EMLINK on FreeBSD.
func isSymlinkRefusal(err error) bool {
	return errors.Is(err, syscall.ELOOP) || errors.Is(err, syscall.EMLINK)
}
