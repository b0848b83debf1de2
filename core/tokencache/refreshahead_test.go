package tokencache

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
)

// ENTRATOOL_REFRESH_AHEAD is read as ENTRATOOL_REFRESH_MARGIN is: a Go duration, anything
// unreadable or negative leaves the default; "0" turns refresh ahead off.
func TestRefreshAheadWindow(t *testing.T) {
	for _, c := range []struct {
		v    string
		want time.Duration
	}{
		{"", DefaultRefreshAhead},
		{"0", 0},
		{"0s", 0},
		{"10m", 10 * time.Minute},
		{"1h30m", 90 * time.Minute},
		{"59m59s", 59*time.Minute + 59*time.Second},
		{"bogus", DefaultRefreshAhead},
		{"15", DefaultRefreshAhead}, // no unit: not a duration
		{"-1m", DefaultRefreshAhead},
	} {
		got := RefreshAhead(func(k string) string {
			if k == RefreshAheadEnv {
				return c.v
			}
			return ""
		})
		if got != c.want {
			t.Errorf("%s=%q: window %v, want %v", RefreshAheadEnv, c.v, got, c.want)
		}
	}
	if DefaultRefreshAhead != 15*time.Minute || RefreshAheadEnv != "ENTRATOOL_REFRESH_AHEAD" {
		t.Fatalf("default %v %s", DefaultRefreshAhead, RefreshAheadEnv)
	}
	if RefreshAhead(nil) != DefaultRefreshAhead {
		t.Fatal("nil getenv")
	}
}

// TryLock is the front's single-flight decision: it takes the key's lock only when no
// other process holds it (a fetch on a miss, or a refresh already running), never waits.
func TestTryLockDecision(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	k := testKey("s")
	if err := c.ensureDirs(); err != nil {
		t.Fatal(err)
	}
	unlock, ok, err := c.TryLock(k)
	if err != nil || !ok {
		t.Fatalf("free lock: ok=%v err=%v", ok, err)
	}
	// Held (by this "front"): a second try fails at once, as does a waiting Lock.
	start := time.Now()
	if u2, ok, err := c.TryLock(k); ok || err != nil {
		if ok {
			u2()
		}
		t.Fatalf("held lock taken again: ok=%v err=%v", ok, err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("TryLock waited %v", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Lock(ctx, k); err == nil {
		t.Fatal("Lock taken while TryLock holds it")
	}
	unlock()
	// The same lock a fetch on a miss takes (Cache.Lock): while it is held, no refresh.
	held, err := c.Lock(context.Background(), k)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := c.TryLock(k); ok {
		t.Fatal("TryLock taken while a fetch holds the key's lock")
	}
	held()
	u, ok, err := c.TryLock(k)
	if !ok || err != nil {
		t.Fatalf("released lock: ok=%v err=%v", ok, err)
	}
	u()
	// Another key's lock is another lock.
	u, ok, _ = c.TryLock(k)
	u3, ok3, _ := c.TryLock(testKey("other"))
	if !ok || !ok3 {
		t.Fatal("two keys share a lock")
	}
	u()
	u3()
}

// The refresh lock serialises refresh children of one key (each re-checks the entry under
// it); it is not the key's lock, so a child holding it can still fetch.
func TestRefreshLockIsSeparateFromTheKeyLock(t *testing.T) {
	c := &Cache{Dir: filepath.Join(t.TempDir(), "cache")}
	k := testKey("s")
	ctx := context.Background()
	r, err := c.RefreshLock(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	kl, err := c.Lock(ctx, k)
	if err != nil {
		t.Fatalf("key lock while the refresh lock is held: %v", err)
	}
	kl()
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	if _, err := c.RefreshLock(short, k); err == nil {
		t.Fatal("two refresh locks at once")
	}
	r()
}

// HitKey is the key Lookup answered from, named without reading the memo again when the
// hit already read it.
func TestHitKeyIsTheLookupKey(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "cache")
	pfx := filepath.Join(home, "a.pfx")
	os.WriteFile(pfx, []byte("pfx"), 0o600)
	cert := &profile.Profile{Name: "a", ClientID: "c", TenantID: "t", UseCertificate: true, CertificatePath: pfx}
	if err := (CertMemo{Dir: MemoDir(dir)}).Store(pfx, CertInfo{Thumbprint: "ab:12", NotAfter: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	mi := &profile.Profile{Name: "mi", AuthMethod: profile.MethodManagedIdentity, ManagedIdentityClientID: "ID"}
	c := &Cache{Dir: dir}
	for _, p := range []*profile.Profile{cert, mi} {
		k := KeyFor(p, "s/.default", mustCred(t, p, dir))
		if err := c.Put(k, &Token{AccessToken: "at", TokenType: "Bearer", ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		_, ci, err := c.Lookup(p, "s/.default")
		if err != nil {
			t.Fatalf("%s: %v", p.Name, err)
		}
		got, ok := c.HitKey(p, "s/.default", ci)
		if !ok || got != k {
			t.Fatalf("%s: HitKey %+v %v, want %+v", p.Name, got, ok, k)
		}
	}
}

func mustCred(t *testing.T, p *profile.Profile, dir string) string {
	t.Helper()
	id, ok := CredentialID(p, dir)
	if !ok {
		t.Fatalf("%s: no credential id", p.Name)
	}
	return id
}
