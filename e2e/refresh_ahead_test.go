package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entratool/entratool/emulator"
)

// SPEC §15. The emulator's tokens live an hour; ENTRATOOL_REFRESH_AHEAD=2h puts every
// cached token inside the window at once, without waiting for one to age. The refresh
// request is held back by a token-endpoint delay, so that "the caller did not wait for
// it" is seen in the counts: the hits have all returned while the one refresh is still
// at the authority.
const (
	openWindow   = "2h"
	refreshDelay = 6 * time.Second
)

// waitIssued polls the emulator until it has issued n tokens, for up to 30 s.
func waitIssued(t *testing.T, w *world, n int) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for w.emu.Counts().TokenIssued < n {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(w.home, "cache", "refresh.log"))
			t.Fatalf("no background refresh: %+v; refresh.log: %s", w.emu.Counts(), log)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// settle gives any refresh started by mistake time to reach the authority.
func settle() { time.Sleep(1500 * time.Millisecond) }

// hitsInWindow runs get 16 times at once with the window open and a delayed token
// endpoint: every hit answers the cached token without waiting for Entra, and exactly one
// token request follows in the background. It returns the token the refresh wrote, as
// the next hit (window back to its default) serves it.
func hitsInWindow(t *testing.T, w *world, cached string, get func() (string, string, int)) string {
	t.Helper()
	base := w.emu.Counts()
	w.env["ENTRATOOL_REFRESH_AHEAD"] = openWindow
	w.emu.QueueFaults(emulator.Fault{Delay: refreshDelay})
	const n = 16
	type hit struct {
		tok, errOut string
		code        int
		took        time.Duration
	}
	hits := make([]hit, n)
	var wg sync.WaitGroup
	for i := range hits {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			tok, errOut, code := get()
			hits[i] = hit{tok, errOut, code, time.Since(start)}
		}()
	}
	wg.Wait()
	// All answered while the refresh is still held at the authority: none waited for it.
	if c := w.emu.Counts(); c.TokenIssued != base.TokenIssued {
		t.Fatalf("a token was issued before the hits returned (they waited for Entra): %+v", c)
	}
	for i, h := range hits {
		if h.code != 0 || h.tok != cached {
			t.Fatalf("hit %d: exit %d, token changed %v: %s", i, h.code, h.tok != cached, h.errOut)
		}
		if h.errOut != "" {
			t.Errorf("hit %d wrote to stderr: %q", i, h.errOut)
		}
		if h.took >= refreshDelay {
			t.Errorf("hit %d took %v, as long as the token endpoint's delay", i, h.took)
		}
	}
	waitIssued(t, w, base.TokenIssued+1)
	w.env["ENTRATOOL_REFRESH_AHEAD"] = "0"
	settle()
	if c := w.emu.Counts(); c.Token != base.Token+1 || c.TokenIssued != base.TokenIssued+1 {
		t.Fatalf("16 hits in the window made %d token requests, want 1", c.Token-base.Token)
	}
	if log, err := os.ReadFile(filepath.Join(w.home, "cache", "refresh.log")); err == nil {
		t.Errorf("refresh.log after a good refresh: %s", log)
	}
	// The next call, window closed, gets the refreshed token from the cache.
	delete(w.env, "ENTRATOOL_REFRESH_AHEAD")
	tok, errOut, code := get()
	if code != 0 || tok == cached {
		t.Fatalf("after the refresh: exit %d, same token %v: %s", code, tok == cached, errOut)
	}
	if c := w.emu.Counts(); c.Token != base.Token+1 {
		t.Fatalf("the refreshed token was not served from the cache: %+v", c)
	}
	return tok
}

// offStartsNothing: ENTRATOOL_REFRESH_AHEAD=0 starts no refresh, where the open window
// just did.
func offStartsNothing(t *testing.T, w *world, cached string, get func() (string, string, int)) {
	t.Helper()
	base := w.emu.Counts()
	w.env["ENTRATOOL_REFRESH_AHEAD"] = "0"
	for range 4 {
		if tok, errOut, code := get(); code != 0 || tok != cached {
			t.Fatalf("hit with refresh ahead off: exit %d: %s", code, errOut)
		}
	}
	settle()
	if c := w.emu.Counts(); c.Total != base.Total {
		t.Fatalf("ENTRATOOL_REFRESH_AHEAD=0 reached the authority: %+v", c)
	}
	delete(w.env, "ENTRATOOL_REFRESH_AHEAD")
}

func TestRefreshAheadGetToken(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("ci", "ci-pw")
	w.register(cf.leaf)
	w.certProfile("ci", cf, cf.pfx)
	get := func() (string, string, int) {
		out, errOut, code := w.run("", "entratool", "get-token", "-p", "ci")
		return strings.TrimSpace(out), errOut, code
	}
	first := strings.TrimSpace(w.mustRun("", "entratool", "get-token", "-p", "ci"))
	// The default window (15 m) is far from an hour-long token: a hit starts nothing.
	if tok, _, _ := get(); tok != first {
		t.Fatal("second call not a hit")
	}
	settle()
	if c := w.emu.Counts(); c.Token != 1 {
		t.Fatalf("token requests %d, want 1", c.Token)
	}
	second := hitsInWindow(t, w, first, get)
	w.claims(second, "https://graph.microsoft.com")
	offStartsNothing(t, w, second, get)

	// Debug output says a refresh was started: the engine answers (and logs), the front
	// decides and says so. kubectl-exec-entra's switch is ENTRATOOL_DEBUG.
	w.env["ENTRATOOL_REFRESH_AHEAD"] = openWindow
	w.env["ENTRATOOL_DEBUG"] = "1"
	w.emu.QueueFaults(emulator.Fault{Delay: refreshDelay})
	base := w.emu.Counts()
	out, errOut, code := w.run("", "kubectl-exec-entra", "--profile", "ci", "--scope", graph)
	delete(w.env, "ENTRATOOL_DEBUG")
	delete(w.env, "ENTRATOOL_REFRESH_AHEAD")
	if code != 0 || execCredToken(out) != second {
		t.Fatalf("debug hit: exit %d, %s\n%s", code, out, errOut)
	}
	if !strings.Contains(errOut, "refresh ahead: started entratool-engine") {
		t.Fatalf("debug output does not say a refresh was started:\n%s", errOut)
	}
	waitIssued(t, w, base.TokenIssued+1)
	settle()
}

// execCredToken is the token of an ExecCredential ("" if out is not one).
func execCredToken(out string) string {
	var ec struct {
		Status struct {
			Token string `json:"token"`
		} `json:"status"`
	}
	json.Unmarshal([]byte(out), &ec)
	return ec.Status.Token
}

func TestRefreshAheadKubectlExecPlugin(t *testing.T) {
	w := newKubeWorld(t)
	get := func() (string, string, int) {
		out, errOut, code := w.run("", "kubectl-exec-entra")
		return execCredToken(out), errOut, code
	}
	first, errOut, code := get()
	if code != 0 || first == "" {
		t.Fatalf("first: exit %d: %s", code, errOut)
	}
	w.claims(first, aksServerID)
	second := hitsInWindow(t, w.world, first, get)
	w.claims(second, aksServerID)
	offStartsNothing(t, w.world, second, get)
}

// git waits for its credential helper's stdout to reach EOF. The helper that starts a
// refresh must not hand that stdout (or stderr) to the refresh: git ls-remote returns
// while the refresh is still held at the authority.
func TestRefreshAheadGitDoesNotWait(t *testing.T) {
	g := newGitWorld(t)
	g.mustRun("", "entratool", "git", "setup", "-p", "ado", "--url", g.gs.URL+"/org")
	g.mustGit(g.dir, "ls-remote", g.repo)
	if n := g.emu.Counts().TokenIssued; n != 1 {
		t.Fatalf("tokens issued %d", n)
	}
	g.env["ENTRATOOL_REFRESH_AHEAD"] = openWindow
	g.emu.QueueFaults(emulator.Fault{Delay: refreshDelay})
	start := time.Now()
	g.mustGit(g.dir, "ls-remote", g.repo)
	took := time.Since(start)
	delete(g.env, "ENTRATOOL_REFRESH_AHEAD")
	if c := g.emu.Counts(); c.TokenIssued != 1 {
		t.Fatalf("git returned after the refresh (took %v): %+v", took, c)
	}
	if took >= refreshDelay {
		t.Errorf("git ls-remote took %v, as long as the token endpoint's delay", took)
	}
	waitIssued(t, g.world, 2)
	settle()
	g.mustGit(g.dir, "ls-remote", g.repo)
	if got := g.accepted(); len(got) != 2 {
		t.Fatalf("git server accepted %d tokens, want the first and the refreshed one", len(got))
	}
	if c := g.emu.Counts(); c.Token != 2 {
		t.Fatalf("token requests %d, want 2", c.Token)
	}
}
