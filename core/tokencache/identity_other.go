//go:build !unix

package tokencache

import (
	"fmt"
	"os"
)

func fileIdentity(fi os.FileInfo) string {
	return fmt.Sprintf("%d:%d", fi.Size(), fi.ModTime().UnixNano())
}
