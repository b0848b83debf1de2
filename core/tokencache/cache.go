package tokencache

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
)

// DefaultMargin is how long before expiry a cached token stops being served.
const DefaultMargin = 5 * time.Minute

// Key names one cache entry. Credential identifies the key material (for certificates
// "x5t:" and the SHA-1 thumbprint), so a new certificate never reuses an old one's token.
// Kind separates access tokens from other cached values (such as ACR refresh tokens).
type Key struct {
	Kind       string `json:"kind,omitempty"`
	Authority  string `json:"authority"`
	TenantID   string `json:"tenantId"`
	ClientID   string `json:"clientId"`
	Scope      string `json:"scope"`
	Credential string `json:"credential"`
}

// NormAuthority is an authority (or a derived key's registry) as keys compare it: lower
// case, without trailing '/'.
func NormAuthority(a string) string { return strings.ToLower(strings.TrimRight(a, "/")) }

// normalized is k in the one form that names its entry: the authority as NormAuthority
// gives it, tenant and client in lower case. ID digests it and every comparison of keys
// compares it, so that case variants of one key are one entry rather than two that
// share a file and evict each other.
func (k Key) normalized() Key {
	k.Authority = NormAuthority(k.Authority)
	k.TenantID = strings.ToLower(k.TenantID)
	k.ClientID = strings.ToLower(k.ClientID)
	return k
}

// ID is the file-name-safe digest of the key. FNV-128a, not SHA-256: it only has to
// spread distinct keys (each entry also stores its full key, compared on read), and
// crypto packages cost the lean front ends start-up time.
func (k Key) ID() string {
	d := k.digest()
	return hex.EncodeToString(d[:])
}

// digest is the FNV-128a digest ID spells in hex.
func (k Key) digest() [16]byte {
	n := k.normalized()
	h := newFNV128a()
	for _, s := range [...]string{n.Kind, n.Authority, n.TenantID, n.ClientID, n.Scope, n.Credential} {
		h.writeString(s)
		h.writeString("\x00")
	}
	return h.sum()
}

// OfApp reports whether k belongs to p's app registration: the same tenant and client
// (in any case) and, for access tokens, the same authority after NormAuthority. Derived
// values (Kind set, such as ACR refresh tokens) name their own resource in Authority —
// the registry — so for them tenant and client alone say whose they are. Callers add
// their own conditions (Kind, Scope, registry).
func (k Key) OfApp(p *profile.Profile) bool {
	n, app := k.normalized(), KeyFor(p, "", "").normalized()
	if n.TenantID != app.TenantID || n.ClientID != app.ClientID {
		return false
	}
	return n.Kind != "" || n.Authority == app.Authority
}

// Cache is a directory of one small JSON file per key, shared by every entratool
// process. Entries are written atomically; an entry that cannot be read or parsed is
// treated as absent and replaced on the next write.
type Cache struct {
	Dir string
	// Margin is how long before expiry a token stops being served: 0 means
	// DefaultMargin, NoMargin (any negative value) none at all.
	Margin time.Duration
	Now    func() time.Time
}

// NoMargin is the Margin of a cache that serves a token until it expires
// (ENTRATOOL_REFRESH_MARGIN=0).
const NoMargin time.Duration = -1

type cacheEntry struct {
	Version int    `json:"v"`
	Key     Key    `json:"key"`
	Token   *Token `json:"token"`
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) margin() time.Duration {
	if c.Margin != 0 {
		return max(c.Margin, 0)
	}
	return DefaultMargin
}

// tokensDir is the directory of the entries and their locks.
func (c *Cache) tokensDir() string { return joinElem(c.Dir, "tokens") }

// keyFile is k's file with extension ext in dir, a tokens directory: ".json" the entry,
// ".lock" and ".refresh.lock" its locks.
func keyFile(dir string, k Key, ext string) string {
	d := k.digest()
	return digestPath(dir, &d, ext)
}

func (c *Cache) path(k Key) string { return keyFile(c.tokensDir(), k, ".json") }

// maxEntrySize bounds a cache or memo file; real ones are a few kilobytes.
const maxEntrySize = 1 << 20

// Entry returns the entry for k whatever its age (nil if none, unreadable, or refused by
// the trust rules).
func (c *Cache) Entry(k Key) *Token {
	t, _ := c.entry(k)
	return t
}

// entry is Entry with the reason an existing entry was not used: fsutil.ErrUntrusted
// when the cache directory or the file fails the trust rules (SPEC §12), so that the
// caller can warn.
func (c *Cache) entry(k Key) (*Token, error) {
	dir := c.tokensDir() // named once: the check and the read are a hit's
	if err := fsutil.CheckDirs(c.Dir, dir); err != nil {
		return nil, err
	}
	data, err := fsutil.ReadPrivate(keyFile(dir, k, ".json"), fsutil.NoFollow, maxEntrySize)
	if err != nil {
		return nil, err
	}
	var e cacheEntry
	if decodeEntry(data, &e) != nil || e.Version != 1 || e.Token == nil || e.Key.normalized() != k.normalized() {
		return nil, nil
	}
	// What is handed to git or kubectl obeys SPEC §12 whatever wrote the file.
	if CheckServable(e.Token, k.Authority, c.now()) != nil {
		return nil, nil
	}
	return e.Token, nil
}

// CheckDirs applies the trust rules to the cache directory and its tokens directory:
// another user who can write there could plant the token a helper hands to git.
func (c *Cache) CheckDirs() error {
	return fsutil.CheckDirs(c.Dir, c.tokensDir())
}

// Get returns the cached token for k if it is valid for longer than the margin.
func (c *Cache) Get(k Key) (*Token, bool) {
	t := c.Entry(k)
	if t == nil || !c.Fresh(t) {
		return nil, false
	}
	return t, true
}

// Fresh reports whether t has more than the margin left.
func (c *Cache) Fresh(t *Token) bool { return t.ExpiresOn.Sub(c.now()) > c.margin() }

// Usable reports whether t has not yet expired (it may be within the margin).
func (c *Cache) Usable(t *Token) bool { return t.ExpiresOn.After(c.now()) }

// Put stores t under k.
func (c *Cache) Put(k Key, t *Token) error {
	if err := c.ensureDirs(); err != nil {
		return err
	}
	data, err := json.Marshal(cacheEntry{Version: 1, Key: k, Token: t})
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(c.path(k), data, 0o600)
}

// Delete forgets k. A missing entry is not an error.
func (c *Cache) Delete(k Key) error {
	err := os.Remove(c.path(k))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("forget cached token: %w", err)
	}
	return nil
}

// DeleteMatching forgets every entry whose key satisfies match (used when a profile is
// deleted or its secret changes). It returns how many entries were removed.
func (c *Cache) DeleteMatching(match func(Key) bool) (int, error) {
	dir := c.tokensDir()
	if err := fsutil.CheckDirs(c.Dir, dir); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return 0, nil
		}
		return 0, err
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, de := range ents {
		if !strings.HasSuffix(de.Name(), ".json") {
			continue
		}
		p := filepath.Join(dir, de.Name())
		data, err := fsutil.ReadPrivate(p, fsutil.NoFollow, maxEntrySize)
		if err != nil {
			continue
		}
		var e cacheEntry
		if json.Unmarshal(data, &e) != nil || !match(e.Key) {
			continue
		}
		if os.Remove(p) == nil {
			n++
		}
	}
	return n, nil
}

// Lock takes the cross-process lock for k; whoever holds it is the one process that
// asks Entra for this key's token.
func (c *Cache) Lock(ctx context.Context, k Key) (func(), error) {
	if err := c.ensureDirs(); err != nil {
		return nil, err
	}
	return fsutil.Lock(ctx, c.lockPath(k))
}

func (c *Cache) ensureDirs() error {
	return fsutil.EnsurePrivateDirs(c.Dir, filepath.Join(c.Dir, "tokens"))
}
