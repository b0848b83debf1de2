package fsutil

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The trust rules of SPEC §12, in one place. Every reader and writer of entratool's
// state (home, profiles.json, secrets.json, cache entries, memo files, metadata, locks,
// temp files, plugins) asks here whether a path may be used, because any of them can
// be planted by another local user who can write where the file lives:
//
//   - a directory or file must be owned by the current user and not writable by group
//     or others (plugins may also be owned by root);
//   - a file must be a regular file: a FIFO would block the reader for good, a device
//     has side effects, and a symlink can point anywhere;
//   - entratool tightens modes only on paths the user owns, and never a directory that
//     others can write to (it may already hold their files: it is refused instead).
//
// Checks are made on the opened file (fstat), so a swap between check and use changes
// nothing; directories are checked with stat, which costs about a microsecond.

// ErrUntrusted is matched (errors.Is) by every refusal of these rules.
var ErrUntrusted = errors.New("untrusted path")

// UntrustedError says which path was refused, why, and what the user can do.
type UntrustedError struct {
	Path    string
	Problem string // e.g. "is owned by uid 1001 (mallory), not by you"
	Fix     string // e.g. "chmod 700 '/home/me/.entratool'"
}

func (e *UntrustedError) Error() string {
	msg := "refusing " + e.Path + ": it " + e.Problem
	if e.Fix != "" {
		msg += "; " + e.Fix
	}
	return msg
}

func (e *UntrustedError) Is(target error) bool { return target == ErrUntrusted }

// Owners says who may own a path besides the current user.
type Owners int

const (
	// OwnerSelf: only the current user (state files and directories).
	OwnerSelf Owners = iota
	// OwnerSelfOrRoot: the current user or the administrator (executables such as
	// plugins, installed system-wide by a package manager).
	OwnerSelfOrRoot
)

// CheckDir reports whether dir is a directory entratool may trust: owned by the current
// user and not writable by group or others. A symlink to a directory is followed, but
// only if the link itself belongs to the user or root (as Linux's protected_symlinks
// rule asks in shared directories).
func CheckDir(dir string) error {
	if dirTrusted(dir) {
		return nil
	}
	_, err := checkDir(dir, OwnerSelf)
	return err
}

// CheckDirs applies CheckDir to each directory in turn (a cache directory, then the
// subdirectory a file is read from), stopping at the first refusal.
func CheckDirs(dirs ...string) error {
	for _, d := range dirs {
		if err := CheckDir(d); err != nil {
			return err
		}
	}
	return nil
}

// checkDir returns the directory's FileInfo (its target's, for a symlink) once it has
// passed, so that a caller needs no second stat.
func checkDir(dir string, owners Owners) (fs.FileInfo, error) {
	fi, err := os.Lstat(dir)
	if err != nil {
		return nil, err
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		if err := checkOwner(dir, fi, OwnerSelfOrRoot, "symlink"); err != nil {
			return nil, err
		}
		if fi, err = os.Stat(dir); err != nil {
			return nil, err
		}
	}
	if !fi.IsDir() {
		return nil, &UntrustedError{Path: dir, Problem: fmt.Sprintf("is not a directory (%s)", kindOf(fi.Mode()))}
	}
	if err := checkOwner(dir, fi, owners, "directory"); err != nil {
		return nil, err
	}
	mode := "700"
	if owners == OwnerSelfOrRoot {
		mode = "go-w"
	}
	return fi, checkNotWritableByOthers(dir, fi, mode)
}

// CheckFile applies the file rules to fi, the result of fstat on path's open file (or
// of Lstat before opening): a regular file, owned by the current user, not writable by
// group or others.
func CheckFile(path string, fi fs.FileInfo) error {
	return checkFile(path, fi, OwnerSelf)
}

func checkFile(path string, fi fs.FileInfo, owners Owners) error {
	if !fi.Mode().IsRegular() {
		return &UntrustedError{Path: path, Problem: fmt.Sprintf("is not a regular file (%s)", kindOf(fi.Mode())), Fix: "remove it"}
	}
	if err := checkOwner(path, fi, owners, "file"); err != nil {
		return err
	}
	mode := "600"
	if owners == OwnerSelfOrRoot {
		mode = "go-w"
	}
	return checkNotWritableByOthers(path, fi, mode)
}

// CheckExecutable applies the plugin rule to an executable and its directory: both
// owned by the current user or root, neither writable by group or others.
func CheckExecutable(path string) error {
	if _, err := checkDir(filepath.Dir(path), OwnerSelfOrRoot); err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	return checkFile(path, fi, OwnerSelfOrRoot)
}

func checkNotWritableByOthers(path string, fi fs.FileInfo, mode string) error {
	if !modeBitsMeaningful {
		return nil
	}
	if perm := fi.Mode().Perm(); perm&0o022 != 0 {
		who := "group and others"
		switch {
		case perm&0o020 == 0:
			who = "others"
		case perm&0o002 == 0:
			who = "its group"
		}
		return &UntrustedError{Path: path, Problem: fmt.Sprintf("is writable by %s (mode %s)", who, modeString(fi.Mode())), Fix: fmt.Sprintf("run chmod %s %s, or use a private path", mode, ShellQuote(path))}
	}
	return nil
}

func checkOwner(path string, fi fs.FileInfo, owners Owners, what string) error {
	ok, owner, known := ownedBy(path, fi, owners)
	if !known || ok {
		return nil
	}
	fix := "use a " + what + " of your own"
	if owners == OwnerSelfOrRoot {
		return &UntrustedError{Path: path, Problem: fmt.Sprintf("is owned by %s, neither you nor root", owner), Fix: fix}
	}
	return &UntrustedError{Path: path, Problem: fmt.Sprintf("is owned by %s, not by you", owner), Fix: fix}
}

// modeString shows the permission bits with setuid/setgid/sticky, as ls and chmod do.
func modeString(m fs.FileMode) string {
	n := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		n |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		n |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		n |= 0o1000
	}
	return fmt.Sprintf("%04o", n)
}

func kindOf(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "a symlink"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	case m.IsDir():
		return "a directory"
	default:
		return "mode " + m.String()
	}
}

// ShellQuote quotes s for sh when it needs it: for a path in a suggested command, or a
// value in a command line written into git config.
func ShellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-+:@,=%") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Follow says whether OpenPrivate may follow a symlink at the path itself.
type Follow bool

const (
	// NoFollow: cache, memo, lock and temp files, which entratool alone creates; a
	// symlink there was planted.
	NoFollow Follow = false
	// FollowOwnLink: profiles.json and secrets.json, which users may keep in a dotfiles
	// repository; the link must be the user's (or root's), the target is checked.
	FollowOwnLink Follow = true
)

// OpenPrivate opens path for reading without blocking (a FIFO cannot hang the caller)
// and returns it only if the opened file passes CheckFile. fs.ErrNotExist passes
// through unwrapped in meaning (errors.Is works).
func OpenPrivate(path string, follow Follow) (*os.File, fs.FileInfo, error) {
	f, err := openFollowing(path, follow, func(follow bool) (*os.File, error) { return openReadNoBlock(path, follow) })
	if err != nil {
		return nil, nil, err
	}
	fi, err := f.Stat()
	if err == nil {
		err = CheckFile(path, fi)
	}
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	return f, fi, nil
}

// openFollowing opens path with open, refusing a symlink (open(false) uses O_NOFOLLOW)
// unless follow is FollowOwnLink and the link is the user's or root's: then it opens
// again, following it. The file reached is checked by the caller, on the open file.
func openFollowing[F any](path string, follow Follow, open func(follow bool) (F, error)) (F, error) {
	f, err := open(false)
	if err != nil && isSymlinkRefusal(err) && follow == FollowOwnLink {
		// Only now, so that the usual case (no link) costs no extra lstat.
		var none F
		li, lerr := os.Lstat(path)
		if lerr != nil {
			return none, lerr
		}
		if err := checkOwner(path, li, OwnerSelfOrRoot, "symlink"); err != nil {
			return none, err
		}
		f, err = open(true)
	}
	if err != nil && isSymlinkRefusal(err) {
		return f, &UntrustedError{Path: path, Problem: "is a symlink", Fix: "remove it"}
	}
	return f, err
}

// ReadPrivate reads a whole file that passes OpenPrivate, refusing more than max bytes.
// On Linux it makes raw system calls (readprivate_linux.go): every cache hit reads two
// or three small files, and an os.File would start Go's network poller for them.
func ReadPrivate(path string, follow Follow, max int64) ([]byte, error) {
	return readPrivate(path, follow, max)
}

// readPrivateFile is ReadPrivate through an os.File, on every platform.
func readPrivateFile(path string, follow Follow, max int64) ([]byte, error) {
	f, fi, err := OpenPrivate(path, follow)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > max {
		return nil, tooBig(path, fi.Size(), max)
	}
	data := make([]byte, 0, fi.Size()+1)
	for {
		n, err := f.Read(data[len(data):cap(data)])
		data = data[:len(data)+n]
		if err == io.EOF {
			return data, nil
		}
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		if int64(len(data)) > max {
			return nil, grewTooBig(path, max)
		}
		if len(data) == cap(data) {
			data = append(data, 0)[:len(data)]
		}
	}
}

func tooBig(path string, size, max int64) error {
	return fmt.Errorf("%s is %d bytes, more than the %d accepted", path, size, max)
}

func grewTooBig(path string, max int64) error {
	return fmt.Errorf("%s is more than the %d bytes accepted", path, max)
}
