package launch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
)

func TestRefreshDue(t *testing.T) {
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		left, window time.Duration
		want         bool
	}{
		{10 * time.Minute, 15 * time.Minute, true},
		{15 * time.Minute, 15 * time.Minute, false}, // less than the window left: strictly
		{16 * time.Minute, 15 * time.Minute, false},
		{time.Hour, 15 * time.Minute, false},
		{10 * time.Minute, 0, false}, // ENTRATOOL_REFRESH_AHEAD=0
		{time.Hour, 2 * time.Hour, true},
	} {
		if got := refreshDue(now.Add(c.left), now, c.window); got != c.want {
			t.Errorf("left %v window %v: due %v, want %v", c.left, c.window, got, c.want)
		}
	}
}

func TestRefreshArgsRoundTrip(t *testing.T) {
	seen := time.Date(2026, 1, 1, 12, 34, 56, 123456789, time.FixedZone("x", 3600))
	r := Request{Program: "git-credential-entra", Profile: "ado", Scope: "s/.default", Timeout: DefaultTimeout}
	args := RefreshArgs(r, seen)
	got, gotSeen, err := ParseRefreshArgs(args)
	if err != nil {
		t.Fatal(err)
	}
	if !gotSeen.Equal(seen) {
		t.Fatalf("seen %v, want %v (to the nanosecond: the child compares it with the entry)", gotSeen, seen)
	}
	r.Version = ContractVersion
	if got != r {
		t.Fatalf("request %+v, want %+v", got, r)
	}
	for _, bad := range [][]string{nil, args[:1], {args[0], "yesterday"}, {"{}", args[1]}, append(args, "x")} {
		if _, _, err := ParseRefreshArgs(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if strings.Contains(strings.Join(args, " "), "secret") {
		t.Fatal("arguments carry more than the request")
	}
}

// refreshHome is a home with a certificate profile "soon" whose token has left to live,
// and getenv with env on top.
func refreshHome(t *testing.T, left time.Duration, env map[string]string) (getenv func(string) string, p *profile.Profile, tok *tokencache.Token, cacheDir string) {
	t.Helper()
	home := t.TempDir()
	pfx := filepath.Join(home, "soon.pfx")
	if err := os.WriteFile(pfx, []byte("pfx"), 0o600); err != nil {
		t.Fatal(err)
	}
	p = &profile.Profile{Name: "soon", ClientID: "11111111-1111-1111-1111-111111111111", TenantID: "22222222-2222-2222-2222-222222222222",
		UseCertificate: true, CertificatePath: pfx, Scope: profile.DefaultScope}
	if err := (&profile.Store{Home: home}).Update(context.Background(), func(c *profile.Config) error { c.Put(p); return nil }); err != nil {
		t.Fatal(err)
	}
	cacheDir = filepath.Join(home, "cache")
	info := tokencache.CertInfo{Thumbprint: "AB12", NotAfter: time.Now().AddDate(1, 0, 0), Subject: "CN=soon"}
	if err := (tokencache.CertMemo{Dir: tokencache.MemoDir(cacheDir)}).Store(pfx, info); err != nil {
		t.Fatal(err)
	}
	tok = &tokencache.Token{AccessToken: "eyJ0eXAiOiJKV1QifQ.e30.sig", TokenType: "Bearer", ExpiresOn: time.Now().Add(left), Scope: p.Scope}
	if err := (&tokencache.Cache{Dir: cacheDir}).Put(tokencache.KeyFor(p, p.Scope, "x5t:AB12"), tok); err != nil {
		t.Fatal(err)
	}
	return func(k string) string {
		if k == "ENTRATOOL_HOME" {
			return home
		}
		return env[k]
	}, p, tok, cacheDir
}

// started records what would have been started detached.
type started struct {
	mu    sync.Mutex
	calls [][]string
}

func stubStart(t *testing.T) *started {
	s := &started{}
	old := startDetached
	startDetached = func(entry string, args []string) (int, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.calls = append(s.calls, append([]string{entry}, args...))
		return 4242, nil
	}
	t.Cleanup(func() { startDetached = old })
	return s
}

func (s *started) n() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.calls)
}

// Inside the window a hit answers from the cache and starts one refresh for its key,
// with the expiry it saw; the request names the profile and scope served.
func TestCachedInTheWindowStartsOneRefresh(t *testing.T) {
	s := stubStart(t)
	getenv, p, tok, _ := refreshHome(t, 10*time.Minute, nil) // default window 15m, margin 5m
	l, err := OpenLocal(getenv, "")
	if err != nil {
		t.Fatal(err)
	}
	if l.RefreshAhead != tokencache.DefaultRefreshAhead {
		t.Fatalf("window %v", l.RefreshAhead)
	}
	got, _, err := l.Cached("")
	if err != nil || got.AccessToken != tok.AccessToken {
		t.Fatalf("not a hit: %v", err)
	}
	if s.n() != 1 {
		t.Fatalf("%d refreshes started, want 1", s.n())
	}
	c := s.calls[0]
	if c[0] != EntryRefresh {
		t.Fatalf("entry %q", c[0])
	}
	r, seen, err := ParseRefreshArgs(c[1:])
	if err != nil {
		t.Fatal(err)
	}
	if !seen.Equal(tok.ExpiresOn) || r.Profile != p.Name || r.Scope != p.Scope || r.Timeout != DefaultTimeout || r.Debug || r.Interactive {
		t.Fatalf("refresh request %+v seen %v", r, seen)
	}
}

// Single flight under the key's lock: while another process holds it (a fetch on a miss,
// or a refresh under way), a hit starts nothing.
func TestCachedStartsNothingWhileTheKeyIsLocked(t *testing.T) {
	s := stubStart(t)
	getenv, p, _, cacheDir := refreshHome(t, 10*time.Minute, nil)
	c := &tokencache.Cache{Dir: cacheDir}
	unlock, err := c.Lock(context.Background(), tokencache.KeyFor(p, p.Scope, "x5t:AB12"))
	if err != nil {
		t.Fatal(err)
	}
	l, err := OpenLocal(getenv, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Cached(""); err != nil {
		t.Fatalf("not a hit: %v", err)
	}
	if s.n() != 0 {
		t.Fatalf("%d refreshes started while the key was locked", s.n())
	}
	unlock()
	// The front does not keep the lock: the child takes it (and re-checks) itself.
	l.Cached("")
	if s.n() != 1 {
		t.Fatalf("%d refreshes after unlock, want 1", s.n())
	}
	u, err := c.Lock(context.Background(), tokencache.KeyFor(p, p.Scope, "x5t:AB12"))
	if err != nil {
		t.Fatalf("the front kept the key's lock: %v", err)
	}
	u()
}

// Outside the window a hit costs nothing more: no lock is even tried (no lock file is
// made); ENTRATOOL_REFRESH_AHEAD=0 starts nothing.
func TestCachedOutsideTheWindowOrOffStartsNothing(t *testing.T) {
	for _, c := range []struct {
		name string
		left time.Duration
		env  map[string]string
	}{
		{"outside", time.Hour, nil},
		{"off", 10 * time.Minute, map[string]string{tokencache.RefreshAheadEnv: "0"}},
		{"shorter window", 10 * time.Minute, map[string]string{tokencache.RefreshAheadEnv: "8m"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := stubStart(t)
			getenv, _, _, cacheDir := refreshHome(t, c.left, c.env)
			l, err := OpenLocal(getenv, "")
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := l.Cached(""); err != nil {
				t.Fatalf("not a hit: %v", err)
			}
			if s.n() != 0 {
				t.Fatalf("%d refreshes started", s.n())
			}
			if locks, _ := filepath.Glob(filepath.Join(cacheDir, "tokens", "*.lock")); len(locks) != 0 {
				t.Fatalf("lock tried: %v", locks)
			}
		})
	}
}

// A miss never starts a refresh of its own (the engine fetches).
func TestMissStartsNoRefresh(t *testing.T) {
	s := stubStart(t)
	getenv, _, _, _ := refreshHome(t, 4*time.Minute, nil) // inside the margin: a miss
	l, err := OpenLocal(getenv, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := l.Cached(""); err == nil {
		t.Fatal("hit inside the margin")
	}
	if s.n() != 0 {
		t.Fatalf("%d refreshes started on a miss", s.n())
	}
}

// Local.Token under --debug goes to the engine for its answer, but the front still says
// what it did about refresh ahead: debug stays honest.
func TestLocalTokenDebugSaysARefreshWasStarted(t *testing.T) {
	s := stubStart(t)
	getenv, _, _, _ := refreshHome(t, 10*time.Minute, nil)
	l, err := OpenLocal(getenv, "")
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", t.TempDir()) // no engine: only the refresh decision is looked at
	var stderr bytes.Buffer
	l.Token(context.Background(), Request{Program: "git-credential-entra", Debug: true}, &stderr)
	if s.n() != 1 || !strings.Contains(stderr.String(), "refresh ahead: started "+EngineName) {
		t.Fatalf("%d started; stderr %q", s.n(), stderr.String())
	}
	// Without debug the hit answers and says nothing.
	stderr.Reset()
	res, err := l.Token(context.Background(), Request{Program: "git-credential-entra"}, &stderr)
	if err != nil || res.Token.AccessToken == "" || stderr.Len() != 0 {
		t.Fatalf("hit: %v %q", err, stderr.String())
	}
	if s.n() != 2 {
		t.Fatalf("%d started", s.n())
	}
}
