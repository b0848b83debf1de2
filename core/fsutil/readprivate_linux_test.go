package fsutil

import (
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

// The hit path's fast rules (dirTrusted, fileTrusted) may only ever say yes where the
// full checks (checkDir, CheckFile) pass: a false yes would let a planted path through.
// They must also say yes to the usual case, or they save nothing.
func TestFastTrustRulesAgreeWithTheChecks(t *testing.T) {
	base := t.TempDir()
	var paths []string
	for i, m := range []fs.FileMode{0o700, 0o755, 0o711, 0o770, 0o777, 0o707, 0o720, 0o702, os.ModeSticky | 0o777, os.ModeSetgid | 0o750} {
		d := filepath.Join(base, "d", string(rune('a'+i)))
		f := filepath.Join(base, "f", string(rune('a'+i)))
		os.MkdirAll(d, 0o700)
		os.MkdirAll(filepath.Dir(f), 0o700)
		os.WriteFile(f, []byte("x"), 0o600)
		if err := os.Chmod(d, m); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(f, m); err != nil {
			t.Fatal(err)
		}
		paths = append(paths, d, f)
	}
	link := filepath.Join(base, "link")
	os.Symlink(filepath.Join(base, "d", "a"), link)
	fifo := filepath.Join(base, "fifo")
	syscall.Mkfifo(fifo, 0o600)
	paths = append(paths, link, fifo, filepath.Join(base, "missing"))
	if os.Geteuid() == 0 {
		theirs := filepath.Join(base, "theirs")
		os.Mkdir(theirs, 0o700)
		os.Chown(theirs, otherUID, otherUID)
		theirFile := filepath.Join(base, "theirfile")
		os.WriteFile(theirFile, nil, 0o600)
		os.Chown(theirFile, otherUID, otherUID)
		paths = append(paths, theirs, theirFile)
	}
	for _, p := range paths {
		_, dirErr := checkDir(p, OwnerSelf)
		if dirTrusted(p) && dirErr != nil {
			t.Errorf("dirTrusted(%s) = true, but checkDir refuses it: %v", p, dirErr)
		}
		var st syscall.Stat_t
		if syscall.Lstat(p, &st) == nil {
			fileErr := CheckFile(p, statInfo{p, &st})
			if fileTrusted(&st) && fileErr != nil {
				t.Errorf("fileTrusted(%s) = true, but CheckFile refuses it: %v", p, fileErr)
			}
		}
	}
	d, f := filepath.Join(base, "d", "a"), filepath.Join(base, "f", "a") // 0700, 0600-ish
	os.Chmod(f, 0o600)
	var st syscall.Stat_t
	syscall.Lstat(f, &st)
	if !dirTrusted(d) || !fileTrusted(&st) {
		t.Errorf("a private directory and file of the user's: dirTrusted %v, fileTrusted %v; want both", dirTrusted(d), fileTrusted(&st))
	}
	// The usual path allocates only the C string of the path (syscall's).
	if n := testing.AllocsPerRun(50, func() { CheckDir(d) }); n > 1 {
		t.Errorf("CheckDir of a private directory: %v allocations, want ≤ 1", n)
	}
}
