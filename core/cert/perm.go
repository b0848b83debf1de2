package cert

import (
	"fmt"
	"os"
	"runtime"

	"github.com/entratool/entratool/core/fsutil"
)

// PermissionWarning returns "" or a one-line warning, as ssh gives for private keys, when
// the file (after symlinks) is accessible to group or others. Windows has no such mode
// bits, so it always returns "" there; so does a path that cannot be stat'ed, which Load
// reports instead.
func PermissionWarning(path string) string {
	if runtime.GOOS == "windows" {
		return ""
	}
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return ""
	}
	perm := fi.Mode().Perm()
	var what string
	switch {
	case perm&0o044 != 0:
		what = "readable"
	case perm&0o033 != 0:
		what = "accessible"
	default:
		return ""
	}
	return fmt.Sprintf("warning: %s is %s by group or others (mode %04o); run: chmod 600 %s", path, what, perm, fsutil.ShellQuote(path))
}
