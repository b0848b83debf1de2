// Package token acquires Entra ID access tokens and caches them across processes.
//
// The pipeline composes like golang.org/x/oauth2's TokenSource: a Source that talks to
// Entra (MSAL), wrapped by retries, wrapped by a cross-process single flight and a file
// cache. Provider wires that pipeline for one profile and is what the binaries use.
package token

import (
	"context"
	"time"
)

// Token is an access token with the facts every output format needs.
type Token struct {
	AccessToken string    `json:"accessToken"`
	TokenType   string    `json:"tokenType"`
	ExpiresOn   time.Time `json:"expiresOn"`
	Scope       string    `json:"scope"`
	TenantID    string    `json:"tenantId"`
	ClientID    string    `json:"clientId"`
}

// Source produces a fresh token for a scope. Implementations need not cache.
type Source interface {
	Token(ctx context.Context, scope string) (*Token, error)
}

// SourceFunc adapts a function to Source.
type SourceFunc func(ctx context.Context, scope string) (*Token, error)

// Token calls f.
func (f SourceFunc) Token(ctx context.Context, scope string) (*Token, error) { return f(ctx, scope) }
