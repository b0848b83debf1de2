package launch

import (
	"syscall"
	"unsafe"

	"github.com/entratool/entratool/core/fsutil"
)

// maxEnviron bounds the environment read: Linux allows a few MB of arguments and
// environment together; beyond this, os.Getenv is cheaper than the read anyway.
const maxEnviron = 1 << 20

// startEnviron reads /proc/self/environ with raw system calls (an os.File would start
// the network poller). ok is false if it cannot be read whole.
func startEnviron() (environ, bool) {
	fd, err := fsutil.OpenRaw("/proc/self/environ", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return "", false
	}
	defer syscall.Close(fd)
	buf := make([]byte, 0, 16<<10)
	for {
		if len(buf) == cap(buf) {
			if cap(buf) >= maxEnviron {
				return "", false
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		switch {
		case err == syscall.EINTR:
			continue
		case err != nil:
			return "", false
		case n == 0:
			if len(buf) == 0 {
				return "", true // an empty environment
			}
			// The buffer is never written again: the strings looked up share it.
			return environ(unsafe.String(&buf[0], len(buf))), true
		}
		buf = buf[:len(buf)+n]
	}
}
