package fsutil

import "syscall"

// sysFstatat is fstatat(2) with the Stat_t syscall.Lstat fills.
const (
	sysFstatat  = syscall.SYS_FSTATAT
	haveFstatat = true
)
