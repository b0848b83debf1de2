//go:build !linux

package tokencache

import "os"

// statIdentity appends fileIdentity's form for the file at path (a symlink followed) to
// buf.
func statIdentity(path string, buf []byte) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	return append(buf, fileIdentity(fi)...), nil
}
