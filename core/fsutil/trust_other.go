//go:build !unix && !windows

package fsutil

import (
	"io/fs"
	"os"
)

const modeBitsMeaningful = false

func ownedBy(string, fs.FileInfo, Owners) (bool, string, bool) { return false, "", false }

func openReadNoBlock(path string, _ bool) (*os.File, error) { return os.Open(path) }

const openFlagsNoFollow = 0

func isSymlinkRefusal(error) bool { return false }
