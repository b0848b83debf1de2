package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

const (
	hello = "./internal/testbin/testdata/hello"
	bye   = "github.com/entratool/entratool/internal/testbin/testdata/bye"
)

func run(t *testing.T, bin string) string {
	t.Helper()
	out, err := exec.Command(bin).Output()
	if err != nil {
		t.Fatalf("%s: %v", bin, err)
	}
	return strings.TrimSpace(string(out))
}

func TestBuild(t *testing.T) {
	// A test's working directory and environment change nothing.
	t.Chdir(t.TempDir())
	t.Setenv("PATH", t.TempDir())
	t.Setenv("HOME", t.TempDir())

	dir := Build(t, hello)
	if got := run(t, filepath.Join(dir, Name(hello))); got != "hello" {
		t.Fatalf("hello says %q", got)
	}
	// The same package by its import path, again: the same directory, holding only it.
	if again := Build(t, "github.com/entratool/entratool/internal/testbin/testdata/hello"); again != dir {
		t.Fatalf("second Build: %s, first %s", again, dir)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%s holds %d entries, want 1", dir, len(entries))
	}

	both := Build(t, bye, hello, hello)
	entries, err := os.ReadDir(both)
	if err != nil || len(entries) != 2 {
		t.Fatalf("set directory: %v, %v", entries, err)
	}
	if run(t, filepath.Join(both, Name(hello))) != "hello" || run(t, filepath.Join(both, Name(bye))) != "bye" {
		t.Fatal("set directory binaries")
	}
	if Build(t, hello, bye) != both {
		t.Fatal("the same set in another order is another directory")
	}
	if runtime.GOOS != "windows" {
		for d := both; d != tempDir; d = filepath.Dir(d) {
			if fi, err := os.Stat(d); err != nil || fi.Mode().Perm() != 0o755 {
				t.Fatalf("%s: %v %v, want 0755 (another user runs these binaries)", d, fi.Mode(), err)
			}
		}
	}

	dst := Install(t, hello, filepath.Join(t.TempDir(), "home", "plugins", "x"))
	if run(t, dst) != "hello" {
		t.Fatal("installed copy")
	}
	a, _ := os.Stat(dst)
	b, _ := os.Stat(filepath.Join(dir, Name(hello)))
	if os.SameFile(a, b) {
		t.Fatal("Install linked the shared binary instead of copying it")
	}
}

func TestBadPackages(t *testing.T) {
	for _, pkg := range []string{".", "../x", "/abs/path"} {
		if _, err := Dir(pkg); err == nil || !strings.Contains(err.Error(), "module root") {
			t.Errorf("Dir(%q) = %v", pkg, err)
		}
	}
	if _, err := Dir(); err == nil {
		t.Error("Dir() with no package")
	}
	if _, err := Dir("./internal/testbin/testdata/nosuch"); err == nil || !strings.Contains(err.Error(), "go build") {
		t.Errorf("Dir of a missing package: %v", err)
	}
}

// Processes of one run share the cache: however many ask at once, each package is
// built once.
func TestSharedBetweenProcesses(t *testing.T) {
	if root := os.Getenv("TESTBIN_CHILD_ROOT"); root != "" {
		c := childCache(t, root)
		if _, err := c.build(strings.Split(os.Getenv("TESTBIN_CHILD_PKGS"), ",")); err != nil {
			t.Fatal(err)
		}
		return
	}
	root := filepath.Join(t.TempDir(), "run")
	var wg sync.WaitGroup
	for i, pkgs := range []string{hello + "," + bye, hello, bye, hello + "," + bye} {
		wg.Go(func() {
			cmd := exec.Command(os.Args[0], "-test.run=^TestSharedBetweenProcesses$", "-test.count=1")
			cmd.Env = append(os.Environ(), "TESTBIN_CHILD_ROOT="+root, "TESTBIN_CHILD_PKGS="+pkgs,
				"GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0")) // no 1 s pause at exit under -race
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Errorf("child %d: %v\n%s", i, err, out)
			}
		})
	}
	wg.Wait()
	data, err := os.ReadFile(filepath.Join(root, "builds.log"))
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	for _, pkg := range []string{"testdata/hello", "testdata/bye"} {
		if n := strings.Count(log, pkg); n != 1 {
			t.Errorf("%s built %d times:\n%s", pkg, n, log)
		}
	}
	c := childCache(t, root)
	dir, err := c.build([]string{hello})
	if err != nil || run(t, filepath.Join(dir, Name(hello))) != "hello" {
		t.Fatalf("after the children: %s, %v", dir, err)
	}
	if data, _ := os.ReadFile(filepath.Join(root, "builds.log")); string(data) != log {
		t.Errorf("the parent built again:\n%s", data)
	}
}

func childCache(t *testing.T, root string) *cache {
	t.Helper()
	modRoot, modPath, err := findModule(startDir)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(root), 0o755); err != nil {
		t.Fatal(err)
	}
	c, err := newCache(root, modRoot, modPath)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRemoveStale(t *testing.T) {
	pid, tag := owner()
	prefix := fmt.Sprintf("entratool-testbin-%d-", os.Getuid())
	mine := filepath.Join(tempDir, prefix+fmt.Sprint(pid)+"-"+tag)
	// A pid that cannot be running (above Linux's pid_max), and this process with a start
	// time that is not its own: both ended.
	dead := []string{
		filepath.Join(tempDir, prefix+"4194305-1"),
		filepath.Join(tempDir, prefix+fmt.Sprint(os.Getpid())+"-1"),
	}
	if runtime.GOOS != "linux" {
		dead = dead[:1]
	}
	for _, d := range dead {
		if err := os.MkdirAll(filepath.Join(d, "pool"), 0o755); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(d) })
	}
	_, statErr := os.Stat(mine)
	removeStale(prefix)
	for _, d := range dead {
		if _, err := os.Stat(d); !os.IsNotExist(err) {
			t.Errorf("%s of an ended process left: %v", d, err)
		}
	}
	if _, err := os.Stat(mine); (err == nil) != (statErr == nil) {
		t.Errorf("this run's directory: before %v, after %v", statErr, err)
	}
}

func TestOwner(t *testing.T) {
	pid, tag := owner()
	if os.Getenv("TESTBIN_CHILD_OWNER") != "" {
		fmt.Printf("owner %d %s\n", pid, tag)
		return
	}
	if !alive(pid, tag) {
		t.Fatalf("owner %d (%s) is not alive", pid, tag)
	}
	testOwnerOS(t, pid, tag)
}
