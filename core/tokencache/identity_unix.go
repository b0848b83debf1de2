//go:build unix

package tokencache

import (
	"os"
	"strconv"
	"syscall"
)

// fileIdentity is "size:mtime-ns:dev:inode", the form memos hold. It is built with
// strconv into one buffer rather than fmt: a cache hit computes it for the profile's
// certificate, and fmt's first use in a process (its printer pool, its verbs) costs
// more than the formatting.
func fileIdentity(fi os.FileInfo) string {
	st, _ := fi.Sys().(*syscall.Stat_t)
	return string(appendIdentity(make([]byte, 0, 64), fi.Size(), fi.ModTime().UnixNano(), st))
}

// appendIdentity appends the form to b: size and mtime, then device and inode when st
// is known. fileIdentity and statIdentity both write through it.
func appendIdentity(b []byte, size, mtimeNs int64, st *syscall.Stat_t) []byte {
	b = strconv.AppendInt(b, size, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, mtimeNs, 10)
	if st != nil {
		b = append(b, ':')
		b = appendDecimal(b, st.Dev)
		b = append(b, ':')
		b = appendDecimal(b, st.Ino)
	}
	return b
}

// appendDecimal is %d for Stat_t's fields, whose types differ between systems (Dev is
// uint64 on Linux, int32 on macOS).
func appendDecimal[T ~int32 | ~int64 | ~uint32 | ~uint64](b []byte, v T) []byte {
	if v < 0 {
		return strconv.AppendInt(b, int64(v), 10)
	}
	return strconv.AppendUint(b, uint64(v), 10)
}
