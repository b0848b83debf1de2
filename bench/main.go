// Command bench measures entratool as git, kubectl and docker experience it: whole
// processes answering from cache (against a minimal Go program, alternated, medians),
// requests per cold token, herds of simultaneous cold processes, and peak memory.
// Everything runs against the in-process emulator on 127.0.0.1.
//
//	go run ./bench -bin ./bin -n 200
package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/emulator"
)

const (
	tenantID = "87654321-4321-4321-4321-cba987654321"
	clientID = "12345678-1234-1234-1234-123456789abc"
)

// target is one whole-process measurement: a binary answering from a warm cache.
type target struct {
	name  string
	bin   string
	args  []string
	stdin string
	// warm, if set, is run once before timing (fills the cache).
	warm bool
}

type env struct {
	bin, home, dir string
	emu            *emulator.Emulator
	vars           []string
	own            []string // the variables the bench sets; vars adds the caller's
	registry       string   // host:port of the emulator's ACR
}

func main() {
	binDir := flag.String("bin", "bin", "directory with the built binaries")
	n := flag.Int("n", 100, "runs per command in the alternated comparison")
	herds := flag.String("herds", "32,64,128", "simultaneous cold processes to start")
	baseline := flag.String("baseline", "", "directory with an earlier build's binaries: its cache hits are alternated with ours (before/after in one run)")
	setupDir := flag.String("setup", "", "only set up a warm cache in this (new) directory, print the environment and each target's command line, and exit: for perf stat, strace and GODEBUG=inittrace=1 runs by hand")
	flag.Parse()
	if *setupDir != "" {
		if err := setupOnly(*binDir, *setupDir); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			os.Exit(1)
		}
		return
	}
	if err := run(*binDir, *n, *herds, *baseline); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(binDir string, n int, herds, baselineDir string) error {
	bin, baseline, err := absDirs(binDir, baselineDir)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "entratool-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	if baseline != "" {
		if baseline, err = installCopy(baseline, filepath.Join(dir, "baseline")); err != nil {
			return err
		}
	}
	e, minimal, err := prepare(bin, dir)
	if err != nil {
		return err
	}
	defer e.emu.Close()
	bin = e.bin
	fmt.Printf("# entratool bench — %s, %d cores, %s\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), runtime.Version())
	if err := e.benchCacheHits(n, minimal, baseline); err != nil {
		return err
	}
	if err := e.benchColdToken(bin); err != nil {
		return err
	}
	e.benchHerds(bin, herds)
	return nil
}

// setupOnly builds the bench's home (profile, certificate, secret) in dir, warms every
// target's cache entry, and prints how to run each target by hand. The emulator stops
// on return: what is printed answers from the cache alone.
func setupOnly(binDir, dir string) error {
	bin, _, err := absDirs(binDir, "")
	if err != nil {
		return err
	}
	if dir, err = filepath.Abs(dir); err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	e, minimal, err := prepare(bin, dir)
	if err != nil {
		return err
	}
	defer e.emu.Close()
	fmt.Printf("export %s\n", strings.Join(e.own, " "))
	fmt.Printf("minimal: %s\n", strings.Join(minimal, " "))
	for _, t := range targets(e) {
		if _, err := os.Stat(t.bin); err != nil {
			continue
		}
		if _, err := e.runOnce(t.bin, t.args, t.stdin); err != nil {
			return err
		}
		in := filepath.Join(dir, strings.ReplaceAll(filepath.Base(t.bin), "-", "_")+".stdin")
		if err := os.WriteFile(in, []byte(t.stdin), 0o600); err != nil {
			return err
		}
		fmt.Printf("%s: %s < %s\n", t.name, strings.Join(append([]string{t.bin}, t.args...), " "), in)
	}
	return nil
}

// prepare installs the binaries of bin into dir/bin (installCopy), sets up the bench's
// home and emulator there, and builds the minimal program: what a run and a -setup run
// share. The caller closes e.emu.
func prepare(bin, dir string) (e *env, minimal []string, err error) {
	if bin, err = installCopy(bin, filepath.Join(dir, "bin")); err != nil {
		return nil, nil, err
	}
	if e, err = setup(bin, dir); err != nil {
		return nil, nil, err
	}
	if minimal, err = buildMinimal(dir); err != nil {
		e.emu.Close()
		return nil, nil, err
	}
	return e, minimal, nil
}

// absDirs makes the binary directories absolute; baselineDir only when given.
func absDirs(binDir, baselineDir string) (bin, baseline string, err error) {
	if bin, err = filepath.Abs(binDir); err != nil {
		return "", "", err
	}
	if baselineDir != "" {
		if baseline, err = filepath.Abs(baselineDir); err != nil {
			return "", "", err
		}
	}
	return bin, baseline, nil
}

// buildMinimal builds the minimal program every cache hit is compared with, and writes
// the small file it reads; it returns the command line to run it with.
func buildMinimal(dir string) (minimal []string, err error) {
	built := filepath.Join(dir, "build", "minimal")
	if out, err := exec.Command("go", "build", "-o", built, "./bench/minimal").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("build minimal: %v\n%s", err, out)
	}
	prog := filepath.Join(dir, "minimal")
	if err := copyFile(built, prog); err != nil {
		return nil, err
	}
	small := filepath.Join(dir, "small.txt")
	os.WriteFile(small, []byte("eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.small.file\n"), 0o600)
	return []string{prog, small}, nil
}

// installCopy copies every executable in src to dst, as install(1), dpkg or tar write
// them, and returns dst. Every binary is measured as installed, the minimal program as
// well: the Go linker writes its output through mmap, and the page cache then holds
// the fresh file in 4 KB pages, where a file written with write(2) gets large folios
// (ext4 on Linux 6.x). A freshly linked binary took 10–20 more page faults per start
// (242 against 223 for git-credential-entra, 209 against 198 for the minimal program)
// and 8–15% more CPU time — until the kernel drops and rereads the file. That is the
// build's state, not what users run.
func installCopy(src, dst string) (string, error) {
	entries, err := os.ReadDir(src)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return "", err
	}
	for _, de := range entries {
		fi, err := de.Info()
		if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o100 == 0 {
			continue
		}
		if err := copyFile(filepath.Join(src, de.Name()), filepath.Join(dst, de.Name())); err != nil {
			return "", err
		}
	}
	return dst, nil
}

// copyFile writes src's bytes to a new executable dst with write(2), in small pieces:
// a child's peak RSS, as wait4 reports it, is never less than the bench's own at the
// fork, so the bench must stay small.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// benchCacheHits prints the cache-hit table: each target alternated with the minimal
// program (and the baseline build's binary, when given).
func (e *env) benchCacheHits(n int, minimal []string, baseline string) error {
	fmt.Printf("## Cache hit, whole process (%d runs each, alternated with the minimal program)\n\n", n)
	fmt.Printf("SPEC §11: CPU time ≤ %.2f× the minimal program's, median of ≥ 100 alternated pairs. Ratios are medians of the per-round ratio (ours / minimal, run in the same round), with p10–p90 of that ratio beside them.\n\n", targetRatio)
	if baseline != "" {
		fmt.Printf("Each round runs the minimal program, the baseline build's binary (%s) and ours, in an order that rotates from round to round.\n\n", baseline)
		fmt.Printf("| command | median | minimal median | wall ratio (p10–p90) | CPU ratio (p10–p90) | target ≤ %.2f× CPU | peak RSS | baseline CPU ratio (p10–p90) | vs baseline (wall) | vs baseline (CPU) |\n", targetRatio)
		fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	} else {
		fmt.Printf("| command | median | minimal median | wall ratio (p10–p90) | CPU ratio (p10–p90) | target ≤ %.2f× CPU | peak RSS |\n", targetRatio)
		fmt.Println("|---|---|---|---|---|---|---|")
	}
	for _, t := range targets(e) {
		if _, err := os.Stat(t.bin); err != nil {
			continue
		}
		if err := e.benchCacheHit(t, n, minimal, baseline); err != nil {
			return err
		}
	}
	return nil
}

// series is one command's measurements across the alternated rounds.
type series struct {
	bin       string
	args      []string
	stdin     string
	wall, cpu []time.Duration
	peak      int64 // KiB
}

// benchCacheHit measures one target and prints its row. A target whose warm-up fails
// gets a row saying so; the other targets are still measured.
func (e *env) benchCacheHit(t target, n int, minimal []string, baseline string) error {
	if t.warm {
		if _, err := e.runOnce(t.bin, t.args, t.stdin); err != nil {
			fmt.Printf("| `%s` | warm-up failed: %s | | | | not measured | |\n", t.name, oneLine(err.Error()))
			return nil
		}
	}
	before := e.emu.Counts().Total
	mini := &series{bin: minimal[0], args: minimal[1:]}
	ours := &series{bin: t.bin, args: t.args, stdin: t.stdin}
	var base *series
	runs := []*series{mini}
	if baseline != "" {
		base = &series{bin: filepath.Join(baseline, filepath.Base(t.bin)), args: t.args, stdin: t.stdin}
		runs = append(runs, base)
	}
	runs = append(runs, ours)
	if err := e.alternate(t.name, runs, n); err != nil {
		return err
	}
	if after := e.emu.Counts().Total; after != before {
		return fmt.Errorf("%s: %d requests during cache-hit runs", t.name, after-before)
	}
	printCacheHitRow(t.name, ours, mini, base)
	return nil
}

// alternate runs every command n times. Each round runs every command once; the order
// rotates from round to round, so that no command always follows the same one (a fixed
// order was worth ~4%).
func (e *env) alternate(name string, runs []*series, n int) error {
	for i := 0; i < n; i++ {
		for j := range runs {
			r := runs[(i+j)%len(runs)]
			d, c, peak, err := e.timed(r.bin, r.args, r.stdin)
			if err != nil {
				return fmt.Errorf("%s (%s): %w", name, r.bin, err)
			}
			r.wall, r.cpu = append(r.wall, d), append(r.cpu, c)
			r.peak = max(r.peak, peak)
		}
	}
	return nil
}

// targetRatio is SPEC §11's bound on a cache hit: CPU time against the minimal program.
const targetRatio = 1.15

// pairRatios are the per-round ratios a[i]/b[i] of two series run in the same rounds.
func pairRatios(a, b []time.Duration) []float64 {
	r := make([]float64, 0, len(a))
	for i := range a {
		if i < len(b) && b[i] > 0 {
			r = append(r, float64(a[i])/float64(b[i]))
		}
	}
	sort.Float64s(r)
	return r
}

// spread renders the median of sorted ratios with their p10–p90.
func spread(r []float64) string {
	if len(r) == 0 {
		return "–"
	}
	at := func(p int) float64 { return r[(len(r)-1)*p/100] }
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", at(50), at(10), at(90))
}

func medianRatio(r []float64) float64 {
	if len(r) == 0 {
		return 0
	}
	return r[(len(r)-1)/2]
}

// printCacheHitRow prints one row of the cache-hit table; base is nil without a
// baseline build. The target is judged on the median per-round CPU ratio.
func printCacheHitRow(name string, ours, mini, base *series) {
	cpu := pairRatios(ours.cpu, mini.cpu)
	met := "met"
	if medianRatio(cpu) > targetRatio {
		met = "NOT met"
	}
	fmt.Printf("| `%s` | %s | %s | %s | %s | %s | %.1f MB |", name, ms(median(ours.wall)), ms(median(mini.wall)),
		spread(pairRatios(ours.wall, mini.wall)), spread(cpu), met, float64(ours.peak)/1024)
	if base != nil {
		fmt.Printf(" %s | %.3f× | %.3f× |", spread(pairRatios(base.cpu, mini.cpu)),
			medianRatio(pairRatios(ours.wall, base.wall)), medianRatio(pairRatios(ours.cpu, base.cpu)))
	}
	fmt.Println()
}

// benchColdToken counts the requests of a cold get-token, first with an empty cache,
// then with only the OIDC metadata cached. A cold get-token becomes entratool-engine in
// the same process (exec), so its wall time and peak RSS are the engine's.
func (e *env) benchColdToken(bin string) error {
	fmt.Printf("\n## Requests per cold token\n\n| case | requests to the authority | target | wall | peak RSS (engine) |\n|---|---|---|---|---|\n")
	os.RemoveAll(filepath.Join(e.home, "cache"))
	e.emu.ResetCounts()
	d, _, rss, err := e.timed(filepath.Join(bin, "entratool"), []string{"get-token"}, "")
	if err != nil {
		return err
	}
	c := e.emu.Counts()
	fmt.Printf("| empty cache (metadata + token) | %d (metadata %d, token %d) | ≤ 2 | %s | %.1f MB |\n", c.Total, c.Metadata, c.Token, ms(d), float64(rss)/1024)
	os.RemoveAll(filepath.Join(e.home, "cache", "tokens"))
	e.emu.ResetCounts()
	d, _, rss, err = e.timed(filepath.Join(bin, "entratool"), []string{"get-token"}, "")
	if err != nil {
		return err
	}
	c = e.emu.Counts()
	fmt.Printf("| OIDC metadata cached on disk | %d (metadata %d, token %d) | 1 | %s | %.1f MB |\n", c.Total, c.Metadata, c.Token, ms(d), float64(rss)/1024)
	return nil
}

// benchHerds starts each comma-separated herd size of cold get-token processes at once
// on an empty cache; sizes that do not read as a positive number are skipped.
func (e *env) benchHerds(bin, herds string) {
	fmt.Printf("\n## Herds: N `entratool get-token` processes started at once on an empty cache\n\n| N | token requests | failures | slowest | target |\n|---|---|---|---|---|\n")
	for _, h := range strings.Split(herds, ",") {
		var size int
		fmt.Sscan(h, &size)
		if size <= 0 {
			continue
		}
		os.RemoveAll(filepath.Join(e.home, "cache"))
		e.emu.ResetCounts()
		fails, slowest := e.herd(filepath.Join(bin, "entratool"), size)
		c := e.emu.Counts()
		fmt.Printf("| %d | %d | %d | %s | exactly 1, all succeed |\n", size, c.Token, fails, ms(slowest))
	}
}

func targets(e *env) []target {
	return []target{
		{name: "entratool get-token", bin: filepath.Join(e.bin, "entratool"), args: []string{"get-token"}, warm: true},
		{name: "git-credential-entra get", bin: filepath.Join(e.bin, "git-credential-entra"), args: []string{"get"}, stdin: "protocol=https\nhost=dev.azure.com\npath=org/project/_git/repo\n\n", warm: true},
		{name: "kubectl-exec-entra", bin: filepath.Join(e.bin, "kubectl-exec-entra"), warm: true},
		{name: "docker-credential-entra get", bin: filepath.Join(e.bin, "docker-credential-entra"), args: []string{"get"}, stdin: e.registry + "\n", warm: true},
		{name: "az account get-access-token", bin: filepath.Join(e.bin, "az-entra"), args: []string{"account", "get-access-token", "-o", "json"}, warm: true},
	}
}

func setup(bin, dir string) (*env, error) {
	// The default home, ~/.entratool, as users have it: ENTRATOOL_HOME set would skip
	// finding HOME, which a hit pays for otherwise.
	e := &env{bin: bin, dir: dir, home: filepath.Join(dir, ".entratool")}
	emu, err := emulator.Start(emulator.Options{Dir: filepath.Join(dir, "emulator")})
	if err != nil {
		return nil, err
	}
	e.emu = emu
	c, err := cert.Create(cert.CreateOptions{Subject: "CN=bench", Days: 30 * 12, KeySize: 2048})
	if err != nil {
		return nil, err
	}
	pfx := filepath.Join(dir, "bench.pfx")
	if err := cert.WritePFX(pfx, c, "bench-pw"); err != nil {
		return nil, err
	}
	emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Certificates: []*x509.Certificate{c.Leaf}})
	reg, err := emu.StartRegistry(emulator.RegistryOptions{})
	if err != nil {
		return nil, err
	}
	e.registry = reg.Host
	st := &profile.Store{Home: e.home}
	err = st.Update(context.Background(), func(cfg *profile.Config) error {
		cfg.Put(&profile.Profile{Name: "bench", ClientID: clientID, TenantID: tenantID, UseCertificate: true,
			CertificatePath: pfx, Scope: profile.DefaultScope, AuthorityHost: emu.URL, SecretStore: "file",
			GitHosts: []string{"dev.azure.com"}, Registries: []string{reg.Host}})
		cfg.DefaultProfile = "bench"
		return nil
	})
	if err != nil {
		return nil, err
	}
	s, err := secret.Open("file", e.home, func(string) string { return "" })
	if err != nil {
		return nil, err
	}
	if err := s.Set(context.Background(), secret.Key("bench", secret.CertificatePassword), "bench-pw"); err != nil {
		return nil, err
	}
	// The caller's environment comes along (less entratool's own variables and the ones
	// set here): git and kubectl pass the user's, and a process's first lookup costs in
	// proportion to its size.
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); !strings.HasPrefix(k, "ENTRATOOL_") && k != "SSL_CERT_FILE" && k != "PATH" && k != "HOME" {
			e.vars = append(e.vars, kv)
		}
	}
	e.own = []string{"SSL_CERT_FILE=" + emu.CAFile, "PATH=" + bin + ":/usr/bin:/bin", "HOME=" + dir}
	e.vars = append(e.vars, e.own...)
	return e, nil
}

func (e *env) command(bin string, args []string, stdin string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Env = e.vars
	cmd.Stdin = strings.NewReader(stdin)
	return cmd
}

func (e *env) runOnce(bin string, args []string, stdin string) (string, error) {
	var out, errb bytes.Buffer
	cmd := e.command(bin, args, stdin)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %v: %v: %s", filepath.Base(bin), args, err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// timed runs one process and returns its wall time, CPU time (user+system) and peak
// RSS (KiB). CPU time is steadier than wall time when the machine is shared.
func (e *env) timed(bin string, args []string, stdin string) (time.Duration, time.Duration, int64, error) {
	cmd := e.command(bin, args, stdin)
	var errb bytes.Buffer
	cmd.Stderr = &errb
	start := time.Now()
	err := cmd.Run()
	d := time.Since(start)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("%v: %s", err, strings.TrimSpace(errb.String()))
	}
	var rss int64
	var cpu time.Duration
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		rss = ru.Maxrss
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return d, cpu, rss, nil
}

func (e *env) herd(bin string, n int) (fails int, slowest time.Duration) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			t0 := time.Now()
			_, err := e.runOnce(bin, []string{"get-token"}, "")
			d := time.Since(t0)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fails++
			}
			slowest = max(slowest, d)
		}()
	}
	close(start)
	wg.Wait()
	return fails, slowest
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func median(d []time.Duration) time.Duration { return pct(d, 50) }

func pct(d []time.Duration, p int) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[(len(s)-1)*p/100]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
