package fsutil

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// OpenRaw, Lstat and Stat answer as syscall's own calls do: for files, links, missing
// paths, paths too long for the stack buffer and paths with a NUL.
func TestSysPathCallsMatchSyscall(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "l")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	long := filepath.Join(dir, strings.Repeat("d", 200), strings.Repeat("e", 100))
	if err := os.MkdirAll(filepath.Dir(long), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(long, []byte("y"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{file, link, dir, long, filepath.Join(dir, "missing"), file + "\x00x", ""} {
		var a, b syscall.Stat_t
		errA, errB := Lstat(p, &a), syscall.Lstat(p, &b)
		if errA != errB || a != b {
			t.Errorf("Lstat(%q) = %v %+v, syscall: %v %+v", p, errA, a.Ino, errB, b.Ino)
		}
		a, b = syscall.Stat_t{}, syscall.Stat_t{}
		errA, errB = Stat(p, &a), syscall.Stat(p, &b)
		if errA != errB || a != b {
			t.Errorf("Stat(%q) = %v %+v, syscall: %v %+v", p, errA, a.Ino, errB, b.Ino)
		}
		for _, flags := range []int{syscall.O_RDONLY | syscall.O_CLOEXEC, syscall.O_RDONLY | syscall.O_NOFOLLOW | syscall.O_CLOEXEC} {
			fdA, errA := OpenRaw(p, flags, 0)
			fdB, errB := syscall.Open(p, flags, 0)
			if errA != errB || (fdA < 0) != (fdB < 0) {
				t.Errorf("OpenRaw(%q, %#x) = %d %v, syscall: %d %v", p, flags, fdA, errA, fdB, errB)
			}
			if fdA >= 0 {
				var sa, sb syscall.Stat_t
				syscall.Fstat(fdA, &sa)
				syscall.Fstat(fdB, &sb)
				if sa.Ino != sb.Ino {
					t.Errorf("OpenRaw(%q) opened inode %d, syscall %d", p, sa.Ino, sb.Ino)
				}
				syscall.Close(fdA)
				syscall.Close(fdB)
			}
		}
	}
}

// The point of them: a path's system call allocates nothing.
func TestSysPathCallsDoNotAllocate(t *testing.T) {
	file := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if n := testing.AllocsPerRun(50, func() { Lstat(file, &st); Stat(file, &st) }); n != 0 {
		t.Errorf("Lstat+Stat allocate %v times", n)
	}
	if n := testing.AllocsPerRun(50, func() {
		fd, err := OpenRaw(file, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err == nil {
			syscall.Close(fd)
		}
	}); n != 0 {
		t.Errorf("OpenRaw allocates %v times", n)
	}
}
