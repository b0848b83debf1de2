package tokencache

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
)

func testKey(scope string) Key {
	return Key{Authority: "https://login.example", TenantID: "t", ClientID: "c", Scope: scope, Credential: "x5t:AB"}
}

func TestCachePutGetMarginAndPermissions(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	now := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	c := &Cache{Dir: dir, Now: func() time.Time { return now }}
	k := testKey("s")
	if _, ok := c.Get(k); ok {
		t.Fatal("empty cache hit")
	}
	tok := &Token{AccessToken: "at-1", TokenType: "Bearer", ExpiresOn: now.Add(time.Hour), Scope: "s"}
	if err := c.Put(k, tok); err != nil {
		t.Fatal(err)
	}
	got, ok := c.Get(k)
	if !ok || got.AccessToken != "at-1" || !got.ExpiresOn.Equal(tok.ExpiresOn) {
		t.Fatalf("Get = %+v, %v", got, ok)
	}
	// Another key (a new certificate) never sees it.
	other := k
	other.Credential = "x5t:CD"
	if _, ok := c.Get(other); ok {
		t.Fatal("token served for a different credential")
	}
	for _, p := range []string{dir, filepath.Join(dir, "tokens")} {
		fi, err := os.Stat(p)
		if err != nil || fi.Mode().Perm() != 0o700 {
			t.Fatalf("%s mode %v %v, want 0700", p, fi.Mode().Perm(), err)
		}
	}
	fi, err := os.Stat(c.path(k))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("entry mode %v %v, want 0600", fi.Mode().Perm(), err)
	}
	// Inside the 5-minute margin: not served by Get, still Usable.
	now = now.Add(56 * time.Minute)
	if _, ok := c.Get(k); ok {
		t.Fatal("token within the margin was served")
	}
	if l := c.Entry(k); l == nil || !c.Usable(l) {
		t.Fatal("token within the margin should still be usable")
	}
}

func TestCacheCorruptEntryIgnoredAndReplaced(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	k := testKey("s")
	if err := os.MkdirAll(filepath.Join(c.Dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, junk := range []string{"", "{", "null", `{"v":1,"key":{},"token":{"accessToken":"x"}}`, "\x00\xff"} {
		if err := os.WriteFile(c.path(k), []byte(junk), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, ok := c.Get(k); ok {
			t.Fatalf("corrupt entry %q served", junk)
		}
	}
	tok, err := c.Fetch(context.Background(), k, false, func(context.Context) (*Token, error) {
		return &Token{AccessToken: "fresh", ExpiresOn: time.Now().Add(time.Hour)}, nil
	}, nil)
	if err != nil || tok.AccessToken != "fresh" {
		t.Fatalf("Fetch = %v, %v", tok, err)
	}
	if got, ok := c.Get(k); !ok || got.AccessToken != "fresh" {
		t.Fatal("corrupt entry was not replaced")
	}
}

func TestFetchSingleFlightAcrossGoroutines(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	k := testKey("s")
	var calls atomic.Int32
	var wg sync.WaitGroup
	results := make([]string, 24)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := c.Fetch(context.Background(), k, false, func(context.Context) (*Token, error) {
				calls.Add(1)
				time.Sleep(50 * time.Millisecond)
				return &Token{AccessToken: "only-one", ExpiresOn: time.Now().Add(time.Hour)}, nil
			}, nil)
			if err != nil {
				t.Error(err)
				return
			}
			results[i] = tok.AccessToken
		}()
	}
	wg.Wait()
	if n := calls.Load(); n != 1 {
		t.Fatalf("fetch called %d times, want 1", n)
	}
	for _, r := range results {
		if r != "only-one" {
			t.Fatalf("results %v", results)
		}
	}
}

func TestFetchServesStillValidTokenWhenRefreshFails(t *testing.T) {
	now := time.Now()
	c := &Cache{Dir: t.TempDir(), Now: func() time.Time { return now }}
	k := testKey("s")
	if err := c.Put(k, &Token{AccessToken: "old", ExpiresOn: now.Add(2 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	var warned []string
	tok, err := c.Fetch(context.Background(), k, false, func(context.Context) (*Token, error) {
		return nil, errors.New("authority down")
	}, func(s string) { warned = append(warned, s) })
	if err != nil || tok.AccessToken != "old" {
		t.Fatalf("Fetch = %v, %v", tok, err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "authority down") {
		t.Fatalf("warnings %q", warned)
	}
	// Expired: the failure is reported.
	now = now.Add(3 * time.Minute)
	if _, err := c.Fetch(context.Background(), k, false, func(context.Context) (*Token, error) {
		return nil, errors.New("authority down")
	}, nil); err == nil {
		t.Fatal("expired token served")
	}
	// --force-refresh never falls back.
	now = now.Add(-3 * time.Minute)
	if _, err := c.Fetch(context.Background(), k, true, func(context.Context) (*Token, error) {
		return nil, errors.New("authority down")
	}, nil); err == nil {
		t.Fatal("force refresh fell back to the cache")
	}
}

func TestFetchReadOnlyCacheStillYieldsToken(t *testing.T) {
	// Root ignores directory permissions, so the unwritable cache is a path below a regular file.
	base := t.TempDir()
	blocker := filepath.Join(base, "file")
	if err := os.WriteFile(blocker, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c := &Cache{Dir: filepath.Join(blocker, "cache")} // cannot be created: parent is a file
	var warned []string
	tok, err := c.Fetch(context.Background(), testKey("s"), false, func(context.Context) (*Token, error) {
		return &Token{AccessToken: "t", ExpiresOn: time.Now().Add(time.Hour)}, nil
	}, func(s string) { warned = append(warned, s) })
	if err != nil || tok.AccessToken != "t" {
		t.Fatalf("Fetch = %v, %v", tok, err)
	}
	if len(warned) == 0 || !strings.Contains(warned[0], "cache") {
		t.Fatalf("warnings %q", warned)
	}
}

func TestDeleteMatching(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	for _, s := range []string{"a", "b"} {
		if err := c.Put(testKey(s), &Token{AccessToken: s, ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	other := testKey("a")
	other.ClientID = "other"
	if err := c.Put(other, &Token{AccessToken: "o", ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	n, err := c.DeleteMatching(func(k Key) bool { return k.ClientID == "c" })
	if err != nil || n != 2 {
		t.Fatalf("DeleteMatching = %d, %v", n, err)
	}
	if _, ok := c.Get(other); !ok {
		t.Fatal("unrelated entry removed")
	}
}

func TestOpenTakesTheMarginFromTheEnvironment(t *testing.T) {
	checkMargins(t, 30*time.Minute, map[string]bool{"": true, "junk": true, "10m": true, "45m": false, "0s": true})
	// ENTRATOOL_REFRESH_MARGIN=0 means no margin — a token is served to its last second —
	// not the default 5 minutes that an unset variable means.
	checkMargins(t, 2*time.Minute, map[string]bool{"": false, "0": true, "0s": true, "1m": true, "3m": false})
}

// checkMargins caches a token that lives for life and checks, for each value of
// ENTRATOOL_REFRESH_MARGIN, whether a cache opened with it serves the token.
func checkMargins(t *testing.T, life time.Duration, hits map[string]bool) {
	t.Helper()
	home := t.TempDir()
	k := testKey("s")
	put := Open(home, func(string) string { return "" })
	if err := put.Put(k, &Token{AccessToken: "t", ExpiresOn: time.Now().Add(life)}); err != nil {
		t.Fatal(err)
	}
	for margin, hit := range hits {
		c := Open(home, func(k string) string {
			if k == MarginEnv {
				return margin
			}
			return ""
		})
		if _, ok := c.Get(k); ok != hit {
			t.Errorf("token living %v, %s=%q: hit=%v, want %v", life, MarginEnv, margin, ok, hit)
		}
	}
}

// Issue 13: ID folds the case of authority, tenant and client (and the authority's
// trailing '/'), so case variants of one key share a file; the entry's stored key must
// be compared the same way, or each variant evicts the other's token.
func TestCacheKeyCaseVariantsShareOneEntry(t *testing.T) {
	c := &Cache{Dir: t.TempDir()}
	lower := Key{Authority: "https://login.example", TenantID: "abcdef00-1111-2222-3333-444455556666", ClientID: "c0ffee00-aaaa-bbbb-cccc-ddddeeeeffff", Scope: "s", Credential: "x5t:AB"}
	upper := lower
	upper.Authority = "HTTPS://Login.Example/"
	upper.TenantID = strings.ToUpper(lower.TenantID)
	upper.ClientID = strings.ToUpper(lower.ClientID)
	if lower.ID() != upper.ID() {
		t.Fatal("case variants have different IDs")
	}
	if err := c.Put(lower, &Token{AccessToken: "at-lower", ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.Get(upper); !ok || got.AccessToken != "at-lower" {
		t.Fatalf("Get(upper-case variant) = %v, %v; want the token stored under the lower-case one", got, ok)
	}
	// Fetch under the other variant is a hit: it neither calls fetch nor replaces the entry.
	tok, err := c.Fetch(context.Background(), upper, false, func(context.Context) (*Token, error) {
		t.Error("fetch called although a case variant of the key holds a fresh token")
		return &Token{AccessToken: "at-upper", ExpiresOn: time.Now().Add(time.Hour)}, nil
	}, nil)
	if err != nil || tok.AccessToken != "at-lower" {
		t.Fatalf("Fetch(upper) = %v, %v", tok, err)
	}
	if got, ok := c.Get(lower); !ok || got.AccessToken != "at-lower" {
		t.Fatalf("Get(lower) after Fetch(upper) = %v, %v", got, ok)
	}
	// Deleting under one variant forgets the other's.
	if err := c.Delete(upper); err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Get(lower); ok {
		t.Fatal("entry survived Delete of its case variant")
	}
}

func TestKeyOfApp(t *testing.T) {
	p := &profile.Profile{Name: "p", TenantID: "ABCDEF00-1111-2222-3333-444455556666", ClientID: "c0ffee00-aaaa-bbbb-cccc-ddddeeeeffff", AuthorityHost: "https://Login.Example/"}
	k := Key{Authority: "https://login.example", TenantID: strings.ToLower(p.TenantID), ClientID: strings.ToUpper(p.ClientID), Scope: "s", Credential: "x5t:AB"}
	if !k.OfApp(p) {
		t.Fatalf("%+v is not of %+v", k, p)
	}
	for name, mod := range map[string]func(*Key){
		"other tenant":    func(k *Key) { k.TenantID = "other" },
		"other client":    func(k *Key) { k.ClientID = "other" },
		"other authority": func(k *Key) { k.Authority = "https://login.other" },
		"longer path":     func(k *Key) { k.Authority = "https://login.example/x" },
	} {
		o := k
		mod(&o)
		if o.OfApp(p) {
			t.Errorf("%s: %+v matched", name, o)
		}
	}
	// Derived values name their own resource (an ACR refresh token's registry) in
	// Authority: only tenant and client say whose they are.
	d := k
	d.Kind, d.Authority = "acr-refresh", "myreg.azurecr.io"
	if !d.OfApp(p) {
		t.Fatalf("derived %+v is not of %+v", d, p)
	}
	d.ClientID = "other"
	if d.OfApp(p) {
		t.Fatalf("derived %+v of another client matched", d)
	}
	// The public cloud's authority, named or by default.
	pub := &profile.Profile{TenantID: "t", ClientID: "c"}
	if !(Key{Authority: profile.AuthorityPublic + "/", TenantID: "T", ClientID: "C"}).OfApp(pub) {
		t.Fatal("public cloud key not matched")
	}
}

// Issue 13: a thumbprint is normalised one way everywhere, so that the separators and
// case it was pasted with never give one key two cache credentials.
func TestCredentialIDNormalisesThumbprint(t *testing.T) {
	const tp = "ABCDEF0123456789ABCDEF0123456789ABCDEF01"
	want, ok := CredentialID(&profile.Profile{Name: "a", UseCertificate: true, CertificateStore: "pkcs11", CertificateThumbprint: tp}, t.TempDir())
	if !ok || want != "x5t:"+tp {
		t.Fatalf("CredentialID = %q, %v", want, ok)
	}
	for _, pasted := range []string{"ab cd-ef 01:23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01", " abcdef0123456789abcdef0123456789abcdef01 ", "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01"} {
		got, ok := CredentialID(&profile.Profile{Name: "a", UseCertificate: true, CertificateStore: "pkcs11", CertificateThumbprint: pasted}, t.TempDir())
		if !ok || got != want {
			t.Errorf("thumbprint %q: CredentialID = %q, want %q", pasted, got, want)
		}
	}
}
