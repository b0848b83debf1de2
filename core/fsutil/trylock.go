package fsutil

import (
	"fmt"
	"os"

	"github.com/gofrs/flock"
)

// TryLock takes the exclusive advisory lock on path (created 0600 if missing) only if no
// one holds it, without waiting: ok is false when another holder has it. The file is
// opened as Lock opens it (no symlink followed, never blocking) and must turn out to be
// a regular file of the user's; a symlink, FIFO or device in its place is an error.
func TryLock(path string) (unlock func(), ok bool, err error) {
	if fi, err := os.Lstat(path); err == nil {
		if err := CheckFile(path, fi); err != nil {
			return nil, false, err
		}
	}
	l := flock.New(path, flock.SetFlag(os.O_CREATE|os.O_RDONLY|openFlagsNoFollow), flock.SetPermissions(0o600))
	ok, err = l.TryLock()
	if err != nil {
		if isSymlinkRefusal(err) {
			return nil, false, &UntrustedError{Path: path, Problem: "is a symlink", Fix: "remove it"}
		}
		return nil, false, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		return nil, false, nil // flock closed the file it opened
	}
	// Checked again on what was opened: the path may have been swapped after Lstat.
	fi, err := l.Stat()
	if err == nil {
		err = CheckFile(path, fi)
	}
	if err != nil {
		l.Unlock()
		return nil, false, err
	}
	return func() { l.Unlock() }, true, nil
}
