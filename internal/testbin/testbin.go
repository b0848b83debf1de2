// Package testbin builds the module's commands for tests that run them as separate
// processes, once per `go test` invocation however many test packages ask for them.
//
// `go test` runs the test binaries of several packages in parallel processes, each a
// child of the go command. Their binaries go to one directory keyed by that go command
// (its pid and start time), under os.TempDir():
//
//	entratool-testbin-<uid>-<pid>-<start>/
//	  pool/<hash>/<name>   one directory per package, holding just its binary
//	  sets/<hash>/         hard links to the pool, for a Build of several packages
//	  locks/<hash>         one gofrs/flock lock per package: the first process builds,
//	                       the others wait for it and reuse the result
//	  builds.log           one line per `go build` run, for whoever wonders
//
// A test binary started through another process (a test running its own binary as a
// child, go test -exec) finds the go command among its ancestors and shares its
// directory too. A directory whose go command has ended is removed by the next run. A
// test binary with no go command above it (run by hand) keys the directory by its own
// process instead: nothing is shared, and nothing stale is reused. The ancestry is read
// from /proc: on systems without it, every test process has a directory of its own.
//
// The binaries are built with plain `go build` (no -race) from the module root, whatever
// the test's working directory, with the environment the test process started with (a
// test's t.Setenv of HOME or PATH changes nothing). Every directory is 0755 so that a
// test may run a binary as another user.
//
// The binaries and their directories are shared: a test must not modify them. Install
// gives a test a private copy, for example as a plugin in an ENTRATOOL_HOME.
//
// This package is for tests only and imports nothing of the module, so that any test
// (core/ included) may use it.
package testbin

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gofrs/flock"
)

// What the test process looked like before any test ran: t.Setenv and os.Chdir in tests
// and TestMain must not change where or how the binaries are built.
var (
	startDir, _ = os.Getwd()
	startEnv    = os.Environ()
	tempDir     = os.TempDir()
	goTool      = lookGo()
)

func lookGo() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	if p := filepath.Join(runtime.GOROOT(), "bin", "go"+exeSuffix()); fileExists(p) {
		return p
	}
	return "go"
}

func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// Build builds the main packages pkgs (import paths, or paths relative to the module
// root starting with "./", such as "./entratool") and returns a directory holding their
// binaries and nothing else, named as `go build` names them (the last path element).
// Each package is built once per `go test` invocation.
func Build(t testing.TB, pkgs ...string) string {
	t.Helper()
	dir, err := Dir(pkgs...)
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Path builds the main package pkg (see Build) and returns its binary.
func Path(t testing.TB, pkg string) string {
	t.Helper()
	return filepath.Join(Build(t, pkg), Name(pkg))
}

// Install copies pkg's binary (see Build) to dst, mode 0755, creating dst's directory
// (0755) when missing, and returns dst. The copy is the test's own to change or remove.
func Install(t testing.TB, pkg, dst string) string {
	t.Helper()
	if err := copyFile(Path(t, pkg), dst); err != nil {
		t.Fatalf("testbin: install %s: %v", pkg, err)
	}
	return dst
}

// Name is the file name `go build` gives pkg's binary.
func Name(pkg string) string {
	return path.Base(strings.TrimSuffix(filepath.ToSlash(pkg), "/")) + exeSuffix()
}

// Dir is Build for a TestMain, which has no testing.TB.
func Dir(pkgs ...string) (string, error) {
	if len(pkgs) == 0 {
		return "", errors.New("testbin: no package to build")
	}
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.c == nil {
		c, err := openCache()
		if err != nil {
			return "", err
		}
		shared.c = c
	}
	return shared.c.build(pkgs)
}

// shared is this process's cache; its mutex also serialises the builds of parallel tests
// in this process (the file locks serialise those of other processes).
var shared struct {
	mu sync.Mutex
	c  *cache
}

// cache is one run's directory of binaries.
type cache struct {
	root    string // the run's directory
	modRoot string // where go.mod is
	modPath string // the module's path
	sets    map[string]string
}

func openCache() (*cache, error) {
	modRoot, modPath, err := findModule(startDir)
	if err != nil {
		return nil, err
	}
	pid, tag := owner()
	prefix := fmt.Sprintf("entratool-testbin-%d-", os.Getuid())
	removeStale(prefix)
	root := filepath.Join(tempDir, prefix+strconv.Itoa(pid)+"-"+tag)
	if err := makeRoot(root); err != nil {
		return nil, err
	}
	return newCache(root, modRoot, modPath)
}

func newCache(root, modRoot, modPath string) (*cache, error) {
	for _, d := range []string{root, filepath.Join(root, "pool"), filepath.Join(root, "sets"), filepath.Join(root, "locks")} {
		if err := os.Mkdir(d, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("testbin: %w", err)
		}
		if err := os.Chmod(d, 0o755); err != nil { // whatever the umask: others may traverse
			return nil, fmt.Errorf("testbin: %w", err)
		}
	}
	return &cache{root: root, modRoot: modRoot, modPath: modPath, sets: map[string]string{}}, nil
}

// makeRoot creates the run's directory, or checks that the one found is ours: it lives
// in a directory everyone can write to, under a name anyone can guess.
func makeRoot(root string) error {
	err := os.Mkdir(root, 0o755)
	if err == nil || !errors.Is(err, os.ErrExist) {
		if err != nil {
			return fmt.Errorf("testbin: %w", err)
		}
		return nil
	}
	fi, err := os.Lstat(root)
	if err != nil {
		return fmt.Errorf("testbin: %w", err)
	}
	if !fi.IsDir() {
		return fmt.Errorf("testbin: %s is not a directory", root)
	}
	if err := checkOwner(fi); err != nil {
		return fmt.Errorf("testbin: %s %w", root, err)
	}
	return nil
}

// removeStale removes the directories of go commands that have ended.
func removeStale(prefix string) {
	entries, err := os.ReadDir(tempDir)
	if err != nil {
		return
	}
	for _, e := range entries {
		rest, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || !e.IsDir() {
			continue
		}
		pidText, tag, ok := strings.Cut(rest, "-")
		pid, err := strconv.Atoi(pidText)
		if !ok || err != nil || alive(pid, tag) {
			continue
		}
		os.RemoveAll(filepath.Join(tempDir, e.Name()))
	}
}

// findModule walks up from dir to go.mod and returns its directory and module path.
func findModule(dir string) (string, string, error) {
	for d := dir; ; {
		data, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			for line := range strings.Lines(string(data)) {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "module"); ok && rest != "" && (rest[0] == ' ' || rest[0] == '\t') {
					return d, strings.Trim(strings.TrimSpace(rest), `"`), nil
				}
			}
			return "", "", fmt.Errorf("testbin: no module line in %s", filepath.Join(d, "go.mod"))
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", "", fmt.Errorf("testbin: no go.mod above %s", dir)
		}
		d = parent
	}
}

// canonical is pkg as an import path: "./x" is relative to the module root.
func (c *cache) canonical(pkg string) (string, error) {
	p := filepath.ToSlash(pkg)
	switch {
	case p == "." || p == "./" || strings.HasPrefix(p, "../") || path.IsAbs(p) || filepath.IsAbs(pkg):
		return "", fmt.Errorf("testbin: %q: give an import path or a path below the module root starting with ./", pkg)
	case strings.HasPrefix(p, "./"):
		return path.Join(c.modPath, p), nil
	}
	return strings.TrimSuffix(p, "/"), nil
}

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:8])
}

// build returns the directory holding exactly pkgs' binaries, building those no process
// of this run has built yet.
func (c *cache) build(pkgs []string) (string, error) {
	var canon []string
	for _, p := range pkgs {
		cp, err := c.canonical(p)
		if err != nil {
			return "", err
		}
		if !slices.Contains(canon, cp) {
			canon = append(canon, cp)
		}
	}
	slices.Sort(canon) // also the order of the locks: no two processes wait on each other
	setKey := hashOf(strings.Join(canon, "\n"))
	if d, ok := c.sets[setKey]; ok {
		return d, nil
	}
	names := map[string]string{}
	for _, p := range canon {
		if other, dup := names[Name(p)]; dup {
			return "", fmt.Errorf("testbin: %s and %s both build a binary named %s", other, p, Name(p))
		}
		names[Name(p)] = p
	}
	if err := c.ensure(canon); err != nil {
		return "", err
	}
	dir := c.poolDir(canon[0])
	if len(canon) > 1 {
		var err error
		if dir, err = c.link(setKey, canon); err != nil {
			return "", err
		}
	}
	c.sets[setKey] = dir
	return dir, nil
}

func (c *cache) poolDir(pkg string) string { return filepath.Join(c.root, "pool", hashOf(pkg)) }

// ensure builds, under each package's lock, those of pkgs not in the pool yet.
func (c *cache) ensure(pkgs []string) error {
	var missing []string
	for _, p := range pkgs {
		if dirExists(c.poolDir(p)) {
			continue
		}
		l := flock.New(filepath.Join(c.root, "locks", hashOf(p)), flock.SetPermissions(0o644))
		if err := l.Lock(); err != nil {
			return fmt.Errorf("testbin: lock for %s: %w", p, err)
		}
		defer l.Close()
		if !dirExists(c.poolDir(p)) { // another process may have built it while we waited
			missing = append(missing, p)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	stage, err := os.MkdirTemp(c.root, "stage-")
	if err != nil {
		return fmt.Errorf("testbin: %w", err)
	}
	defer os.RemoveAll(stage)
	out := filepath.Join(stage, "out") + string(filepath.Separator)
	args := append([]string{"build", "-o", out}, missing...)
	cmd := exec.Command(goTool, args...)
	cmd.Dir = c.modRoot
	cmd.Env = startEnv
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("testbin: go %s (in %s): %v\n%s", strings.Join(args, " "), c.modRoot, err, b)
	}
	c.log(fmt.Sprintf("%s pid %d built %s in %v\n", time.Now().Format(time.RFC3339), os.Getpid(), strings.Join(missing, " "), time.Since(start).Round(time.Millisecond)))
	for _, p := range missing {
		// A directory per package, renamed into place whole: it exists only complete.
		d := filepath.Join(stage, hashOf(p))
		if err := os.Mkdir(d, 0o755); err != nil {
			return fmt.Errorf("testbin: %w", err)
		}
		if err := os.Rename(filepath.Join(out, Name(p)), filepath.Join(d, Name(p))); err != nil {
			return fmt.Errorf("testbin: %s: %w", p, err)
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return fmt.Errorf("testbin: %w", err)
		}
		if err := os.Rename(d, c.poolDir(p)); err != nil {
			return fmt.Errorf("testbin: %s: %w", p, err)
		}
	}
	return nil
}

// link makes sets/<key>: hard links to the pool's binaries of pkgs (copies where links
// are refused), renamed into place whole.
func (c *cache) link(key string, pkgs []string) (string, error) {
	dir := filepath.Join(c.root, "sets", key)
	if dirExists(dir) {
		return dir, nil
	}
	tmp, err := os.MkdirTemp(filepath.Join(c.root, "sets"), "tmp-")
	if err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, p := range pkgs {
		src, dst := filepath.Join(c.poolDir(p), Name(p)), filepath.Join(tmp, Name(p))
		if os.Link(src, dst) != nil {
			if err := copyFile(src, dst); err != nil {
				return "", fmt.Errorf("testbin: %w", err)
			}
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("testbin: %w", err)
	}
	if err := os.Rename(tmp, dir); err != nil && !dirExists(dir) { // another process won the race
		return "", fmt.Errorf("testbin: %w", err)
	}
	return dir, nil
}

func (c *cache) log(line string) {
	f, err := os.OpenFile(filepath.Join(c.root, "builds.log"), os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	io.WriteString(f, line)
}

// copyFile copies src to dst, mode 0755, creating dst's directory (0755) when missing.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(dst, 0o755) // whatever the umask
	}
	return err
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular()
}
