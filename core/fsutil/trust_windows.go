//go:build windows

package fsutil

import (
	"io/fs"
	"os"

	"golang.org/x/sys/windows"
)

// Windows has no mode bits worth checking: who may write is in the ACL, which these
// rules do not evaluate (docs/security.md says so). The owner is checked.
const modeBitsMeaningful = false

// ownedBy compares the file's owner SID with the current user's; with OwnerSelfOrRoot
// the Administrators group and LocalSystem also qualify (an elevated installer makes
// them owners of what it installs).
func ownedBy(path string, _ fs.FileInfo, owners Owners) (ok bool, owner string, known bool) {
	sd, err := windows.GetNamedSecurityInfo(path, windows.SE_FILE_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return false, "", false
	}
	sid, _, err := sd.Owner()
	if err != nil || sid == nil {
		return false, "", false
	}
	tu, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return false, "", false
	}
	if windows.EqualSid(sid, tu.User.Sid) {
		return true, "", true
	}
	if owners == OwnerSelfOrRoot && (sid.IsWellKnown(windows.WinBuiltinAdministratorsSid) || sid.IsWellKnown(windows.WinLocalSystemSid)) {
		return true, "", true
	}
	name := sid.String()
	if acct, dom, _, err := sid.LookupAccount(""); err == nil {
		name = dom + `\` + acct
	}
	return false, name, true
}

func openReadNoBlock(path string, follow bool) (*os.File, error) {
	if !follow {
		if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
			return nil, symlinkError{}
		}
	}
	return os.Open(path)
}

const openFlagsNoFollow = 0

type symlinkError struct{}

func (symlinkError) Error() string { return "is a symlink" }

func isSymlinkRefusal(err error) bool {
	_, ok := err.(symlinkError)
	return ok
}
