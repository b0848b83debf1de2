//go:build !unix

package token

import (
	"fmt"
	"os"
)

func fileIdentity(fi os.FileInfo) string {
	return fmt.Sprintf("%d:%d", fi.Size(), fi.ModTime().UnixNano())
}
