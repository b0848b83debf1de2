package fsutil

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// tempsOf lists WriteFileAtomic's temp files for path.
func tempsOf(t *testing.T, path string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestWriteFileAtomicCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "state.json")
	if err := WriteFileAtomic(p, []byte("first"), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(p); err != nil || string(b) != "first" {
		t.Fatalf("after create: %q, %v", b, err)
	}
	if fi, _ := os.Stat(p); modeBitsMeaningful && fi.Mode().Perm() != 0o600 {
		t.Fatalf("created %v, want 0600", fi.Mode())
	}
	// A shorter content replaces a longer one whole, with the mode asked for.
	if err := WriteFileAtomic(p, []byte("2"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "2" {
		t.Fatalf("after replace: %q", b)
	}
	if fi, _ := os.Stat(p); modeBitsMeaningful && fi.Mode().Perm() != 0o644 {
		t.Fatalf("replaced with %v, want 0644", fi.Mode())
	}
	// Empty content is content.
	if err := WriteFileAtomic(p, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Size() != 0 {
		t.Fatalf("after empty write: %v, %v", fi, err)
	}
	if tmps := tempsOf(t, p); len(tmps) != 0 {
		t.Fatalf("temp files left: %v", tmps)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("directory holds %d entries, want 1", len(entries))
	}
}

// The mode is that of the new file from its first byte on, whatever the umask: a
// secret is never readable by others, even for a moment.
func TestWriteFileAtomicModeIgnoresUmask(t *testing.T) {
	if !modeBitsMeaningful {
		t.Skip("no Unix mode bits here")
	}
	p := filepath.Join(t.TempDir(), "shared.txt")
	if err := WriteFileAtomic(p, []byte("x"), 0o664); err != nil { // umask is usually 022
		t.Fatal(err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o664 {
		t.Fatalf("mode %v, want 0664", fi.Mode())
	}
}

func TestWriteFileAtomicFailuresLeaveNothing(t *testing.T) {
	dir := t.TempDir()

	// No directory to write in.
	missing := filepath.Join(dir, "no-such-dir", "f")
	err := WriteFileAtomic(missing, []byte("x"), 0o600)
	if err == nil || !strings.HasPrefix(err.Error(), "write "+missing+": ") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing directory: %v", err)
	}

	// The target is a directory: the rename fails, the temp file goes, the directory stays.
	target := filepath.Join(dir, "is-a-dir")
	if err := os.Mkdir(target, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(target, "inside"), []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := WriteFileAtomic(target, []byte("x"), 0o600); err == nil || !strings.HasPrefix(err.Error(), "write "+target+": ") {
		t.Fatalf("over a directory: %v", err)
	}
	if tmps := tempsOf(t, target); len(tmps) != 0 {
		t.Fatalf("temp files left after a failed write: %v", tmps)
	}
	if b, err := os.ReadFile(filepath.Join(target, "inside")); err != nil || string(b) != "keep" {
		t.Fatalf("the directory was disturbed: %q, %v", b, err)
	}
}

// Readers running while the file is rewritten see the old content or the new, never a
// mix or an empty file.
func TestWriteFileAtomicReadersSeeWholeContents(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	a, b := bytes.Repeat([]byte("a"), 64<<10), bytes.Repeat([]byte("b"), 3<<10)
	if err := WriteFileAtomic(p, a, 0o600); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	var reads int
	wg.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			got, err := os.ReadFile(p)
			if err != nil || !(bytes.Equal(got, a) || bytes.Equal(got, b)) {
				t.Errorf("read %d bytes (%v) during a rewrite", len(got), err)
				return
			}
			reads++
		}
	})
	for i := range 40 {
		data := a
		if i%2 == 0 {
			data = b
		}
		if err := WriteFileAtomic(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d reads during 40 rewrites", reads)
}

// A temp file older than StaleTempAge is a killed writer's and goes at the next write;
// a younger one may belong to a writer still running and stays, as do the files around.
func TestWriteFileAtomicRemovesStaleTemps(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "secrets.json")
	old := time.Now().Add(-StaleTempAge - time.Minute)
	mk := func(name string, age time.Time) string {
		t.Helper()
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte("leftover"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(f, age, age); err != nil {
			t.Fatal(err)
		}
		return f
	}
	stale := mk(".secrets.json.tmp-111", old)
	young := mk(".secrets.json.tmp-222", time.Now())
	otherFile := mk(".profiles.json.tmp-333", old)
	unrelated := mk("secrets.json.bak", old)
	staleDir := filepath.Join(dir, ".secrets.json.tmp-dir")
	if err := os.Mkdir(staleDir, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(staleDir, old, old)

	if err := WriteFileAtomic(p, []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("stale temp file kept: %v", err)
	}
	for _, keep := range []string{young, otherFile, unrelated, staleDir, p} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(keep), err)
		}
	}
	tmps := tempsOf(t, p)
	slices.Sort(tmps)
	if want := []string{young, staleDir}; !slices.Equal(tmps, want) {
		t.Errorf("temps after the write: %v, want %v", tmps, want)
	}
}

func TestEnsurePrivateDirsInOrder(t *testing.T) {
	base := t.TempDir()
	cache := filepath.Join(base, "cache")
	sub := filepath.Join(cache, "tokens", "v1")
	if err := EnsurePrivateDirs(cache, sub); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{cache, filepath.Join(cache, "tokens"), sub} {
		fi, err := os.Stat(d)
		if err != nil || !fi.IsDir() {
			t.Fatalf("%s: %v", d, err)
		}
		if modeBitsMeaningful && fi.Mode().Perm() != 0o700 {
			t.Errorf("%s created %v, want 0700", d, fi.Mode().Perm())
		}
	}
	// Again: nothing to do, no error.
	if err := EnsurePrivateDirs(cache, sub); err != nil {
		t.Fatal(err)
	}
	if err := EnsurePrivateDirs(); err != nil {
		t.Fatal(err)
	}
	// A file where a directory should be stops the walk.
	file := filepath.Join(base, "file")
	os.WriteFile(file, nil, 0o600)
	if err := EnsurePrivateDirs(file, filepath.Join(base, "after")); err == nil {
		t.Fatal("a file accepted as a directory")
	}
	if _, err := os.Stat(filepath.Join(base, "after")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("went on after a failure: %v", err)
	}
}

// Nothing is created inside a directory that fails the trust rules.
func TestEnsurePrivateDirsStopsAtAnUntrustedDirectory(t *testing.T) {
	if !modeBitsMeaningful {
		t.Skip("no Unix mode bits here")
	}
	shared := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(shared, 0o700); err != nil {
		t.Fatal(err)
	}
	os.Chmod(shared, 0o777)
	sub := filepath.Join(shared, "mine")
	err := EnsurePrivateDirs(shared, sub)
	if !errors.Is(err, ErrUntrusted) {
		t.Fatalf("err = %v, want ErrUntrusted", err)
	}
	if _, err := os.Stat(sub); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("created inside the untrusted directory: %v", err)
	}
}

// A waiting Lock gets the lock as soon as its holder lets go, and the lock excludes:
// goroutines counting under it never overlap.
func TestLockWaitsForTheHolder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "x.lock")
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	unlock, err := Lock(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan error, 1)
	go func() {
		u, err := Lock(ctx, p)
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("second Lock returned while the first was held: %v", err)
	case <-time.After(20 * time.Millisecond): // what "it waits" looks like: no answer yet
	}
	unlock()
	if err := <-got; err != nil {
		t.Fatalf("second Lock after the release: %v", err)
	}

	var inside, overlaps, total int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 5 {
				u, err := Lock(ctx, p)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				inside++
				if inside > 1 {
					overlaps++
				}
				total++
				mu.Unlock()
				runtime.Gosched() // room for another goroutine to come in, were the lock not held
				mu.Lock()
				inside--
				mu.Unlock()
				u()
			}
		})
	}
	wg.Wait()
	if overlaps != 0 || total != 40 {
		t.Fatalf("%d overlaps in %d locked sections", overlaps, total)
	}
}

func TestLockErrors(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "held.lock")
	unlock, err := Lock(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()

	// A context already over: a timeout that says which lock, and why.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Lock(ctx, p)
	if !errors.Is(err, ErrLockTimeout) || !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), p) {
		t.Fatalf("canceled: %v", err)
	}

	// No directory for the lock file: an error of its own, not a timeout.
	missing := filepath.Join(dir, "no-such-dir", "x.lock")
	_, err = Lock(context.Background(), missing)
	if err == nil || errors.Is(err, ErrLockTimeout) || !strings.Contains(err.Error(), missing) {
		t.Fatalf("missing directory: %v", err)
	}
}
