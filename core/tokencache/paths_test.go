package tokencache

import (
	"bytes"
	"encoding/hex"
	"hash/fnv"
	"path/filepath"
	"strings"
	"testing"
)

// joinElem and digestPath build what filepath.Join builds, for clean and unclean
// directories alike (ENTRATOOL_CACHE_DIR is the user's spelling).
func TestJoinElemIsJoin(t *testing.T) {
	d := [16]byte{0xde, 0xad, 0xbe, 0xef, 15: 0x01}
	hx := hex.EncodeToString(d[:])
	for _, dir := range []string{"", ".", "..", "/", "//", "/a", "/a/", "a", "a/b", "a//b", "/a/./b", "/a/../b", "./a", "a/.", "/tmp/x/.entratool/cache", "/home/u/.entratool/cache/"} {
		if got, want := joinElem(dir, "tokens"), filepath.Join(dir, "tokens"); got != want {
			t.Errorf("joinElem(%q) = %q, want %q", dir, got, want)
		}
		if got, want := digestPath(dir, &d, ".json"), filepath.Join(dir, hx+".json"); got != want {
			t.Errorf("digestPath(%q) = %q, want %q", dir, got, want)
		}
	}
}

// A hit names the token file with one allocation for the tokens directory and one for
// the path.
func TestCachePathAllocations(t *testing.T) {
	c := &Cache{Dir: "/home/someone/.entratool/cache"}
	k := Key{Authority: "https://login.microsoftonline.com", TenantID: "t", ClientID: "c", Scope: "s/.default", Credential: "x5t:ab"}
	if got, want := c.path(k), filepath.Join(c.Dir, "tokens", k.ID()+".json"); got != want {
		t.Fatalf("path = %q, want %q", got, want)
	}
	// The locks are shared with other builds' processes: their names must not move.
	if got, want := c.lockPath(k), filepath.Join(c.Dir, "tokens", k.ID()+".lock"); got != want {
		t.Fatalf("lockPath = %q, want %q", got, want)
	}
	if got, want := keyFile(c.tokensDir(), k, ".refresh.lock"), filepath.Join(c.Dir, "tokens", k.ID()+".refresh.lock"); got != want {
		t.Fatalf("refresh lock = %q, want %q", got, want)
	}
	if n := testing.AllocsPerRun(100, func() { _ = c.path(k) }); n > 2 {
		t.Errorf("Cache.path allocates %v times, want ≤ 2", n)
	}
}

func TestFNV128aIsHashFNV(t *testing.T) {
	for _, s := range []string{"", "a", "\x00", "https://login.microsoftonline.com\x00tenant\x00", strings.Repeat("xyz\xff", 100)} {
		want := fnv.New128a()
		want.Write([]byte(s))
		h := newFNV128a()
		h.writeString(s[:len(s)/2])
		h.writeString(s[len(s)/2:])
		if got := h.sum(); !bytes.Equal(got[:], want.Sum(nil)) {
			t.Errorf("%q: %x, want %x", s, got, want.Sum(nil))
		}
	}
}

// Entries on disk are named by ID: it must stay hash/fnv's digest of the normalized key.
func TestKeyIDIsStable(t *testing.T) {
	k := Key{Kind: "acr", Authority: "HTTPS://Login.Example/", TenantID: "T", ClientID: "C", Scope: "s", Credential: "x5t:AB"}
	h := fnv.New128a()
	for _, s := range []string{"acr", "https://login.example", "t", "c", "s", "x5t:AB"} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if got, want := k.ID(), hex.EncodeToString(h.Sum(nil)); got != want {
		t.Fatalf("ID = %s, want %s", got, want)
	}
}
