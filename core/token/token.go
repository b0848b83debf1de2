// Package token acquires Entra ID access tokens and caches them across processes.
//
// The pipeline composes like golang.org/x/oauth2's TokenSource: a Source that talks to
// Entra (MSAL), wrapped by retries, wrapped by a cross-process single flight and a file
// cache. Provider wires that pipeline for one profile and is what the binaries use.
package token

import (
	"context"

	"github.com/entratool/entratool/core/tokencache"
)

// The cache-side types live in tokencache, which a cache hit can use without linking
// MSAL, TLS or the keyring.
type (
	Token = tokencache.Token
	Key   = tokencache.Key
	Cache = tokencache.Cache
)

// DefaultMargin is how long before expiry a cached token stops being served.
const DefaultMargin = tokencache.DefaultMargin

// CacheDir resolves the cache directory for home and the environment.
func CacheDir(home string, getenv func(string) string) string { return tokencache.Dir(home, getenv) }

// Source produces a fresh token for a scope. Implementations need not cache.
type Source interface {
	Token(ctx context.Context, scope string) (*Token, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, scope string) (*Token, error)

// Token calls f.
func (f SourceFunc) Token(ctx context.Context, scope string) (*Token, error) { return f(ctx, scope) }
