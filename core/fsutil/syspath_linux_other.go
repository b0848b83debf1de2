//go:build linux && !amd64 && !arm64

package fsutil

// On other architectures Stat_t and the stat call differ (fstatat64): fstatat leaves
// them to syscall.
const (
	sysFstatat  = 0
	haveFstatat = false
)
