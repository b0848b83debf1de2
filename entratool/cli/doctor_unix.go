//go:build unix

package cli

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// dirWritable reports why the user cannot create files in dir, nil if they can. The
// owner's mode bits are checked as well as access(2): root passes access(2) on a 0500
// directory, but such a mode says the home was made read-only, and every other user
// of it fails.
func dirWritable(dir string, fi os.FileInfo) error {
	if m := fi.Mode().Perm(); m&0o300 != 0o300 {
		return fmt.Errorf("mode %04o", m)
	}
	if err := unix.Access(dir, unix.W_OK|unix.X_OK); err != nil {
		if errors.Is(err, unix.EROFS) {
			return errors.New("read-only file system")
		}
		return err
	}
	return nil
}
