//go:build unix

package tokencache

import (
	"fmt"
	"os"
	"syscall"
)

func fileIdentity(fi os.FileInfo) string {
	id := fmt.Sprintf("%d:%d", fi.Size(), fi.ModTime().UnixNano())
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id += fmt.Sprintf(":%d:%d", st.Dev, st.Ino)
	}
	return id
}
