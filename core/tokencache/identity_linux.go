package tokencache

import (
	"syscall"

	"github.com/entratool/entratool/core/fsutil"
)

// statIdentity appends fileIdentity's form for the file at path (a symlink followed, as
// os.Stat does) to buf. On Linux it is read from a Stat_t on the stack: os.Stat's
// FileInfo is a 200-byte allocation every cache hit of a certificate profile made only
// to be formatted (TestStatIdentityIsFileIdentity).
func statIdentity(path string, buf []byte) ([]byte, error) {
	var st syscall.Stat_t
	err := fsutil.Stat(path, &st)
	for err == syscall.EINTR {
		err = fsutil.Stat(path, &st)
	}
	if err != nil {
		return nil, err
	}
	// What FileInfo.ModTime().UnixNano() gives: os makes ModTime from these two.
	return appendIdentity(buf, st.Size, int64(st.Mtim.Sec)*1e9+int64(st.Mtim.Nsec), &st), nil
}
