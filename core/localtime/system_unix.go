//go:build unix && !ios && !android

package localtime

import (
	"syscall"
	"time"
)

// System returns the zone time.Local is for the environment lookup reads — without
// Go's own first read of TZ, which copies every environment variable into a map
// (syscall's copyenv: ~1K instructions a variable and the map's memory, on each az-entra
// call). It reads the two cases time's initLocal settles without a zone name: TZ unset,
// the system zone in /etc/localtime, and TZ empty, UTC; for any other TZ (a path or a
// zone name) it is time.Local, Go's own reading (TestSystemIsTimeLocal).
func System(lookup func(string) (string, bool)) *time.Location {
	tz, ok := lookup("TZ")
	switch {
	case ok && tz == "":
		return time.UTC
	case ok:
		return time.Local
	}
	data, err := readZoneFile("/etc/localtime")
	if err != nil {
		return time.UTC // as initLocal: no readable system zone is UTC
	}
	loc, err := time.LoadLocationFromTZData("Local", data)
	if err != nil {
		return time.UTC
	}
	return loc
}

// maxZoneFile is time's own bound on a zoneinfo file.
const maxZoneFile = 10 << 20

// readZoneFile reads a zoneinfo file with system calls, as package time does: an
// os.File would start the network poller for it.
func readZoneFile(path string) ([]byte, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, err
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, err
	}
	if st.Size > maxZoneFile {
		return nil, syscall.EFBIG
	}
	buf := make([]byte, 0, st.Size+1)
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= maxZoneFile {
				return nil, syscall.EFBIG
			}
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := syscall.Read(fd, buf[len(buf):cap(buf)])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return buf, nil
		}
		buf = buf[:len(buf)+n]
	}
}
