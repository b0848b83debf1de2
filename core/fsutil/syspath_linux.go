package fsutil

import (
	"strings"
	"syscall"
	"unsafe"
)

// A cache hit opens or stats eight to ten paths. syscall.Open, Lstat and Stat each copy
// the path into a new NUL-terminated heap buffer first (BytePtrFromString); these copy it
// into one on the caller's stack instead, so a hit's system calls allocate nothing.
// Longer paths, and paths with a NUL (which the kernel would cut short, so syscall
// refuses them), take syscall's own route, with its errors.

// stackPath is the longest path copied to the stack, NUL included; real cache paths are
// well under 200 bytes.
const stackPath = 256

// _AT_FDCWD and _AT_SYMLINK_NOFOLLOW are Linux's values on every architecture.
const (
	_AT_FDCWD            = -0x64
	_AT_SYMLINK_NOFOLLOW = 0x100
)

// cPath copies path, NUL-terminated, into buf; ok is false when it does not fit or
// holds a NUL.
func cPath(buf *[stackPath]byte, path string) (p *byte, ok bool) {
	if len(path) >= len(buf) || strings.IndexByte(path, 0) >= 0 {
		return nil, false
	}
	copy(buf[:], path)
	buf[len(path)] = 0
	return &buf[0], true
}

// OpenRaw is syscall.Open without the heap copy of path.
func OpenRaw(path string, flags int, mode uint32) (int, error) {
	var buf [stackPath]byte
	p, ok := cPath(&buf, path)
	if !ok {
		return syscall.Open(path, flags, mode)
	}
	dirfd := _AT_FDCWD // a variable: uintptr of the negative constant does not compile
	fd, _, errno := syscall.Syscall6(syscall.SYS_OPENAT, uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(flags|syscall.O_LARGEFILE), uintptr(mode), 0, 0)
	if errno != 0 {
		return -1, errno
	}
	return int(fd), nil
}

// Lstat is syscall.Lstat without the heap copy of path.
func Lstat(path string, st *syscall.Stat_t) (err error) {
	if !fstatat(path, st, _AT_SYMLINK_NOFOLLOW, &err) {
		return syscall.Lstat(path, st)
	}
	return err
}

// Stat is syscall.Stat without the heap copy of path.
func Stat(path string, st *syscall.Stat_t) (err error) {
	if !fstatat(path, st, 0, &err) {
		return syscall.Stat(path, st)
	}
	return err
}

// fstatat is the call with path on the stack; done is false when it was not made (the
// path does not fit, or this architecture leaves it to syscall). No function value is
// passed in: st would then escape to the heap.
func fstatat(path string, st *syscall.Stat_t, flags int, err *error) (done bool) {
	var buf [stackPath]byte
	p, ok := cPath(&buf, path)
	if !ok || !haveFstatat {
		return false
	}
	dirfd := _AT_FDCWD
	_, _, errno := syscall.Syscall6(uintptr(sysFstatat), uintptr(dirfd), uintptr(unsafe.Pointer(p)), uintptr(unsafe.Pointer(st)), uintptr(flags), 0, 0)
	if errno != 0 {
		*err = errno
	}
	return true
}
