//go:build unix

package fsutil

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// otherUID is a uid that is not the test's; files are chowned to it to stand for
// another local user's (possible only as root, which CI is).
const otherUID = 65534

func needRoot(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("chown to another user needs root; the mode cases cover the rest")
	}
}

func mode(t *testing.T, p string) fs.FileMode {
	t.Helper()
	fi, err := os.Lstat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode()
}

func wantUntrusted(t *testing.T, err error, says string) {
	t.Helper()
	var u *UntrustedError
	if !errors.Is(err, ErrUntrusted) || !errors.As(err, &u) || !strings.Contains(err.Error(), says) {
		t.Fatalf("err = %v, want a refusal saying %q", err, says)
	}
}

func TestCheckDir(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, m fs.FileMode) string {
		p := filepath.Join(base, name)
		if err := os.Mkdir(p, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, m); err != nil {
			t.Fatal(err)
		}
		return p
	}
	for _, ok := range []fs.FileMode{0o700, 0o755, 0o750, 0o711} {
		if err := CheckDir(mk("ok"+ok.String(), ok)); err != nil {
			t.Errorf("mode %v: %v", ok, err)
		}
	}
	wantUntrusted(t, CheckDir(mk("world", 0o777)), "is writable by group and others (mode 0777)")
	wantUntrusted(t, CheckDir(mk("tmp", os.ModeSticky|0o777)), "(mode 1777)")
	wantUntrusted(t, CheckDir(mk("group", 0o770)), "is writable by its group (mode 0770)")
	f := filepath.Join(base, "file")
	os.WriteFile(f, nil, 0o600)
	wantUntrusted(t, CheckDir(f), "is not a directory")
	if err := CheckDir(filepath.Join(base, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing: %v", err)
	}
	// A symlink of the user's to a private directory is fine (dotfile setups).
	link := filepath.Join(base, "link")
	os.Symlink(mk("target", 0o700), link)
	if err := CheckDir(link); err != nil {
		t.Fatalf("own symlink: %v", err)
	}
	if err := CheckDir(filepath.Join(base, "world")); err == nil || !strings.Contains(err.Error(), "chmod 700") {
		t.Fatalf("fix not named: %v", err)
	}
}

func TestCheckDirRefusesOtherUsers(t *testing.T) {
	needRoot(t)
	base := t.TempDir()
	theirs := filepath.Join(base, "theirs")
	os.Mkdir(theirs, 0o700)
	os.Chown(theirs, otherUID, otherUID)
	wantUntrusted(t, CheckDir(theirs), "is owned by uid 65534")
	// Their symlink to our own directory is refused too: they choose where it points.
	mine := filepath.Join(base, "mine")
	os.Mkdir(mine, 0o700)
	link := filepath.Join(base, "link")
	os.Symlink(mine, link)
	os.Lchown(link, otherUID, otherUID)
	wantUntrusted(t, CheckDir(link), "is owned by uid 65534")
}

func TestEnsurePrivateDirTightensOnlyWhatIsOurs(t *testing.T) {
	base := t.TempDir()
	fresh := filepath.Join(base, "a", "b")
	if err := EnsurePrivateDir(fresh); err != nil {
		t.Fatal(err)
	}
	if m := mode(t, fresh).Perm(); m != 0o700 {
		t.Fatalf("created %v", m)
	}
	// Readable by others only: ours to tighten.
	readable := filepath.Join(base, "readable")
	os.Mkdir(readable, 0o755)
	os.Chmod(readable, 0o755)
	if err := EnsurePrivateDir(readable); err != nil || mode(t, readable).Perm() != 0o700 {
		t.Fatalf("0755: %v, now %v", err, mode(t, readable))
	}
	// Writable by others: refused and left exactly as it was (sticky bit included).
	shared := filepath.Join(base, "shared")
	os.Mkdir(shared, 0o700)
	os.Chmod(shared, os.ModeSticky|0o777)
	wantUntrusted(t, EnsurePrivateDir(shared), "writable by group and others")
	if m := mode(t, shared); m&os.ModeSticky == 0 || m.Perm() != 0o777 {
		t.Fatalf("shared dir changed to %v", m)
	}
}

func TestEnsurePrivateDirNeverChmodsAnotherUsersDirectory(t *testing.T) {
	needRoot(t)
	theirs := filepath.Join(t.TempDir(), "theirs")
	os.Mkdir(theirs, 0o700)
	os.Chmod(theirs, os.ModeSticky|0o777)
	os.Chown(theirs, otherUID, otherUID)
	wantUntrusted(t, EnsurePrivateDir(theirs), "is owned by uid 65534")
	if m := mode(t, theirs); m&os.ModeSticky == 0 || m.Perm() != 0o777 {
		t.Fatalf("their dir changed to %v", m)
	}
	// Nor one it merely cannot see as ours: a 0755 directory of theirs is not tightened.
	os.Chmod(theirs, 0o755)
	wantUntrusted(t, EnsurePrivateDir(theirs), "is owned by uid 65534")
	if m := mode(t, theirs).Perm(); m != 0o755 {
		t.Fatalf("their dir changed to %v", m)
	}
}

type readFunc func(path string, follow Follow, max int64) ([]byte, error)

// forEachReader runs a ReadPrivate test against the exported function (raw system
// calls on Linux) and the os.File reader the other platforms use.
func forEachReader(t *testing.T, test func(t *testing.T, read readFunc)) {
	t.Run("ReadPrivate", func(t *testing.T) { test(t, ReadPrivate) })
	t.Run("os.File", func(t *testing.T) { test(t, readPrivateFile) })
}

func TestOpenPrivate(t *testing.T) {
	forEachReader(t, func(t *testing.T, ReadPrivate readFunc) {
		dir := t.TempDir()
		good := filepath.Join(dir, "good")
		os.WriteFile(good, []byte("data"), 0o600)
		if data, err := ReadPrivate(good, NoFollow, 100); err != nil || string(data) != "data" {
			t.Fatalf("ReadPrivate = %q, %v", data, err)
		}
		if _, err := ReadPrivate(good, NoFollow, 3); err == nil || !strings.Contains(err.Error(), "more than the 3") {
			t.Fatalf("size bound: %v", err)
		}
		if _, err := ReadPrivate(filepath.Join(dir, "missing"), NoFollow, 100); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("missing: %v", err)
		}
		loose := filepath.Join(dir, "loose")
		os.WriteFile(loose, nil, 0o600)
		os.Chmod(loose, 0o666)
		_, err := ReadPrivate(loose, NoFollow, 100)
		wantUntrusted(t, err, "is writable by group and others (mode 0666)")

		link := filepath.Join(dir, "link")
		os.Symlink(good, link)
		_, err = ReadPrivate(link, NoFollow, 100)
		wantUntrusted(t, err, "is a symlink")
		if data, err := ReadPrivate(link, FollowOwnLink, 100); err != nil || string(data) != "data" {
			t.Fatalf("own link followed: %q, %v", data, err)
		}
		// A symlink to a file that is not private is judged by the file.
		os.Symlink(loose, filepath.Join(dir, "link2"))
		_, err = ReadPrivate(filepath.Join(dir, "link2"), FollowOwnLink, 100)
		wantUntrusted(t, err, "writable by group and others")
	})
}

// A FIFO where a file should be must be refused at once: opened without O_NONBLOCK, the
// reader would wait for a writer forever.
func TestOpenPrivateRefusesFIFOWithoutBlocking(t *testing.T) {
	forEachReader(t, func(t *testing.T, ReadPrivate readFunc) {
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("mkfifo:", err)
		}
		done := make(chan error, 2)
		go func() { _, err := ReadPrivate(fifo, NoFollow, 100); done <- err }()
		go func() { _, err := ReadPrivate(fifo, FollowOwnLink, 100); done <- err }()
		for range 2 {
			select {
			case err := <-done:
				wantUntrusted(t, err, "is not a regular file (a FIFO)")
			case <-time.After(10 * time.Second):
				t.Fatal("ReadPrivate blocked on a FIFO")
			}
		}
	})
}

func TestOpenPrivateRefusesAnotherUsersFile(t *testing.T) {
	needRoot(t)
	forEachReader(t, func(t *testing.T, ReadPrivate readFunc) {
		p := filepath.Join(t.TempDir(), "theirs")
		os.WriteFile(p, []byte("{}"), 0o600)
		os.Chown(p, otherUID, otherUID)
		_, err := ReadPrivate(p, FollowOwnLink, 100)
		wantUntrusted(t, err, "is owned by uid 65534")
		// Their symlink to our file is refused as well.
		mine := filepath.Join(filepath.Dir(p), "mine")
		os.WriteFile(mine, []byte("{}"), 0o600)
		link := filepath.Join(filepath.Dir(p), "link")
		os.Symlink(mine, link)
		os.Lchown(link, otherUID, otherUID)
		_, err = ReadPrivate(link, FollowOwnLink, 100)
		wantUntrusted(t, err, "is owned by uid 65534")
	})
}

// SPEC §12: a lock file planted as a FIFO used to hang `get-token --timeout 3s` and
// `config edit` for good; one planted as a symlink made entratool create the file it
// pointed to.
func TestLockRefusesSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()

	fifo := filepath.Join(dir, "fifo.lock")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := Lock(ctx, fifo)
	wantUntrusted(t, err, "is not a regular file (a FIFO)")
	if errors.Is(err, ErrLockTimeout) || time.Since(start) > 4*time.Second {
		t.Fatalf("waited on the FIFO: %v after %v", err, time.Since(start))
	}

	target := filepath.Join(dir, "elsewhere", "created-through-link")
	os.Mkdir(filepath.Dir(target), 0o700)
	link := filepath.Join(dir, "link.lock")
	os.Symlink(target, link)
	_, err = Lock(ctx, link)
	wantUntrusted(t, err, "a symlink")
	if _, err := os.Lstat(target); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the lock was created through the symlink: %v", err)
	}

	// A normal lock still works, and excludes.
	p := filepath.Join(dir, "ok.lock")
	unlock, err := Lock(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	short, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := Lock(short, p); !errors.Is(err, ErrLockTimeout) {
		t.Fatalf("second lock: %v", err)
	}
	unlock()
	if m := mode(t, p).Perm(); m != 0o600 {
		t.Fatalf("lock file mode %v", m)
	}
}

func TestUntrustedErrorIsOneLineWithFix(t *testing.T) {
	p := filepath.Join(t.TempDir(), "with space")
	os.Mkdir(p, 0o700)
	os.Chmod(p, 0o777)
	err := CheckDir(p)
	want := "refusing " + p + ": it is writable by group and others (mode 0777); run chmod 700 '" + p + "', or use a private path"
	if err == nil || err.Error() != want {
		t.Fatalf("got  %v\nwant %s", err, want)
	}
}

// One quoting for sh, used by hints (chmod PATH) and by the helper command line that
// git setup writes into git config.
func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"ado":           "ado",
		"build-agent.1": "build-agent.1",
		"/a/b-c_d.pfx":  "/a/b-c_d.pfx",
		"50%":           "50%",
		"a b":           "'a b'",
		"it's":          `'it'\''s'`,
		"$(id)":         "'$(id)'",
		"":              "''",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

// Both readers return exactly the file's bytes at sizes around their buffer's edges.
func TestReadPrivateSizes(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []int{0, 1, 511, 4096, 4097, 1 << 20} {
		p := filepath.Join(dir, fmt.Sprint(n))
		want := bytes.Repeat([]byte("0123456789abcdef"), n/16+1)[:n]
		if err := os.WriteFile(p, want, 0o600); err != nil {
			t.Fatal(err)
		}
		forEachReader(t, func(t *testing.T, read readFunc) {
			got, err := read(p, NoFollow, 2<<20)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("%d bytes: got %d bytes, %v", n, len(got), err)
			}
		})
	}
}
