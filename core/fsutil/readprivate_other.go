//go:build !linux

package fsutil

func readPrivate(path string, follow Follow, max int64) ([]byte, error) {
	return readPrivateFile(path, follow, max)
}
