package fsutil

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"syscall"
	"time"
)

// readPrivate is readPrivateFile's rules with raw system calls. An os.File would
// start Go's network poller on first use (epoll_create1, eventfd2) and offer every file
// to it (an epoll_ctl that regular files refuse); a cache hit reads two or three small
// files and needs none of that. The checks are the same: O_NONBLOCK so a FIFO cannot
// hang us, O_NOFOLLOW unless the link is the user's own, fstat on the open file.
func readPrivate(path string, follow Follow, max int64) ([]byte, error) {
	fd, err := openFollowing(path, follow, func(follow bool) (int, error) { return openRaw(path, follow) })
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := ignoringEINTR(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		return nil, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	if !fileTrusted(&st) {
		// The refusal (or a case the fast rule does not decide) is CheckFile's to word.
		// A copy, so that st stays on the stack on the usual path.
		refused := st
		if err := CheckFile(path, statInfo{path, &refused}); err != nil {
			return nil, err
		}
	}
	if st.Size > max {
		return nil, tooBig(path, st.Size, max)
	}
	size := st.Size + 1
	if size < SmallBuffer {
		size = SmallBuffer
	}
	data := make([]byte, 0, size)
	for {
		want := cap(data) - len(data)
		var n int
		err := ignoringEINTR(func() (err error) { n, err = syscall.Read(fd, data[len(data):cap(data)]); return err })
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, &fs.PathError{Op: "read", Path: path, Err: err})
		}
		data = data[:len(data)+n]
		// A short read once fstat's size is in is the end: no second read to see 0 bytes.
		if n == 0 || (n < want && int64(len(data)) >= st.Size) {
			return data, nil
		}
		if int64(len(data)) > max {
			return nil, grewTooBig(path, max)
		}
		data = append(data, 0)[:len(data)]
	}
}

// fileTrusted is CheckFile's rule for what a cache hit meets every time — a regular file
// of the user's, not writable by group or others — decided on the Stat_t itself, with
// no fs.FileInfo to allocate. false means "ask CheckFile", which words any refusal.
func fileTrusted(st *syscall.Stat_t) bool { return ownPrivate(st, syscall.S_IFREG) }

// dirTrusted is checkDir's rule for a plain directory (not a symlink) of the user's, not
// writable by group or others, from lstat into a Stat_t on the stack: os.Lstat
// allocates a FileInfo for each of the four or five directories a hit checks. false
// means "ask checkDir", which follows a symlink by its rule and words any refusal.
func dirTrusted(dir string) bool {
	var st syscall.Stat_t
	if ignoringEINTR(func() error { return Lstat(dir, &st) }) != nil {
		return false
	}
	return ownPrivate(&st, syscall.S_IFDIR)
}

// ownPrivate is the rule both fast checks apply: of the kind asked, owned by the
// effective user, writable by no one else.
func ownPrivate(st *syscall.Stat_t, kind uint32) bool {
	return st.Mode&syscall.S_IFMT == kind && int(st.Uid) == effectiveUID() && st.Mode&0o022 == 0
}

// openRaw is openReadNoBlock with a raw descriptor; its errors are *fs.PathError, as
// os.OpenFile's are.
func openRaw(path string, follow bool) (fd int, err error) {
	flags := syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	if !follow {
		flags |= syscall.O_NOFOLLOW
	}
	err = ignoringEINTR(func() (err error) {
		fd, err = OpenRaw(path, flags, 0)
		return err
	})
	if err != nil {
		return -1, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return fd, nil
}

func ignoringEINTR(fn func() error) error {
	for {
		if err := fn(); err != syscall.EINTR {
			return err
		}
	}
}

// statInfo is fstat's answer as an fs.FileInfo, for the trust checks (os makes one
// only from an os.File or a path).
type statInfo struct {
	path string
	st   *syscall.Stat_t
}

func (s statInfo) Name() string       { return filepath.Base(s.path) }
func (s statInfo) Size() int64        { return s.st.Size }
func (s statInfo) ModTime() time.Time { return time.Unix(s.st.Mtim.Unix()) }
func (s statInfo) IsDir() bool        { return s.Mode().IsDir() }
func (s statInfo) Sys() any           { return s.st }

// Mode converts as os does (os/stat_linux.go).
func (s statInfo) Mode() fs.FileMode {
	m := fs.FileMode(s.st.Mode & 0o777)
	switch s.st.Mode & syscall.S_IFMT {
	case syscall.S_IFBLK:
		m |= fs.ModeDevice
	case syscall.S_IFCHR:
		m |= fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFDIR:
		m |= fs.ModeDir
	case syscall.S_IFIFO:
		m |= fs.ModeNamedPipe
	case syscall.S_IFLNK:
		m |= fs.ModeSymlink
	case syscall.S_IFSOCK:
		m |= fs.ModeSocket
	}
	if s.st.Mode&syscall.S_ISGID != 0 {
		m |= fs.ModeSetgid
	}
	if s.st.Mode&syscall.S_ISUID != 0 {
		m |= fs.ModeSetuid
	}
	if s.st.Mode&syscall.S_ISVTX != 0 {
		m |= fs.ModeSticky
	}
	return m
}
