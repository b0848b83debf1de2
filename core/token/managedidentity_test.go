package token

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
)

const (
	miClientID      = "0d3b8a1e-5f5c-4a43-9d7e-1c2b3a4d5e6f"
	identityHeader  = "App-Service-Header-Secret"
	miVaultScope    = "https://vault.azure.net/.default"
	miVaultResource = "https://vault.azure.net"
)

// appServiceIdentity is App Service's identity endpoint (api-version 2019-08-01):
// GET with X-IDENTITY-HEADER, the resource (not a scope) in the query, client_id for a
// user-assigned identity; the answer carries expires_on.
type appServiceIdentity struct {
	*httptest.Server
	hits     atomic.Int32
	lifetime atomic.Int64 // seconds; 0 → 3600
	answer   func(w http.ResponseWriter, r *http.Request, n int32) bool
	clientID atomic.Value
}

func newAppServiceIdentity(t *testing.T) *appServiceIdentity {
	s := &appServiceIdentity{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := s.hits.Add(1)
		q := r.URL.Query()
		if r.Header.Get("X-IDENTITY-HEADER") != identityHeader || q.Get("api-version") != "2019-08-01" || q.Get("resource") != miVaultResource {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"statusCode":400,"message":"bad request: resource %q"}`, q.Get("resource"))
			return
		}
		s.clientID.Store(q.Get("client_id"))
		if s.answer != nil && s.answer(w, r, n) {
			return
		}
		life := s.lifetime.Load()
		if life == 0 {
			life = 3600
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":"mi-token-%d","expires_on":"%d","resource":%q,"token_type":"Bearer","client_id":%q}`,
			n, time.Now().Unix()+life, miVaultResource, q.Get("client_id"))
	}))
	t.Cleanup(s.Close)
	// MSAL reads its variables with os.Getenv.
	for _, k := range []string{"IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"} {
		t.Setenv(k, "")
	}
	t.Setenv("IDENTITY_ENDPOINT", s.URL+"/msi/token")
	t.Setenv("IDENTITY_HEADER", identityHeader)
	return s
}

func miProvider(t *testing.T, clientID string) *Provider {
	p := &profile.Profile{Name: "mi"}
	p.SetMethod(profile.MethodManagedIdentity)
	p.ManagedIdentityClientID = clientID
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return NewProvider(p, Options{Home: t.TempDir(), Getenv: func(string) string { return "" }})
}

func TestManagedIdentityAppService(t *testing.T) {
	for _, id := range []string{"", miClientID} {
		s := newAppServiceIdentity(t)
		pr := miProvider(t, id)
		ctx := context.Background()
		tok, credID, err := pr.TokenWithCredential(ctx, miVaultScope, false)
		if err != nil {
			t.Fatal(err)
		}
		wantID := "mi:system"
		if id != "" {
			wantID = "mi:" + id
		}
		if tok.AccessToken != "mi-token-1" || credID != wantID || s.clientID.Load() != id || tok.Scope != miVaultScope {
			t.Fatalf("token %+v under %q, client_id sent %q", tok, credID, s.clientID.Load())
		}
		if life := time.Until(tok.ExpiresOn); life < 59*time.Minute || life > time.Hour {
			t.Fatalf("lifetime %v", life)
		}
		// The cache answers the next call; a forced refresh asks again (MSAL's own
		// in-memory cache does not answer it).
		if tok, err := pr.Token(ctx, miVaultScope, false); err != nil || tok.AccessToken != "mi-token-1" || s.hits.Load() != 1 {
			t.Fatalf("hit: %v %v after %d requests", tok, err, s.hits.Load())
		}
		if tok, err := pr.Token(ctx, miVaultScope, true); err != nil || tok.AccessToken != "mi-token-2" || s.hits.Load() != 2 {
			t.Fatalf("forced: %v %v after %d requests", tok, err, s.hits.Load())
		}
	}
}

// SPEC §12: a managed-identity answer carries expires_on; the lifetime it computes to is
// held to [60 s, 48 h].
func TestManagedIdentityLifetimeIsChecked(t *testing.T) {
	s := newAppServiceIdentity(t)
	for _, life := range []int64{49 * 3600, 30, -600} {
		s.lifetime.Store(life)
		_, err := miProvider(t, "").Token(context.Background(), miVaultScope, false)
		if err == nil || !strings.Contains(err.Error(), "out of range") || !strings.Contains(err.Error(), "App Service") {
			t.Fatalf("lifetime %ds: %v", life, err)
		}
	}
}

// Errors are one line naming the detected source and what it said; 5xx is retried
// under the retry rules, 4xx is not. The identity header never appears.
func TestManagedIdentityErrors(t *testing.T) {
	s := newAppServiceIdentity(t)
	s.answer = func(w http.ResponseWriter, r *http.Request, n int32) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	if _, err := miProvider(t, "").Token(context.Background(), miVaultScope, false); err != nil || s.hits.Load() != 2 {
		t.Fatalf("%v after %d requests", err, s.hits.Load())
	}

	s.hits.Store(0)
	s.answer = func(w http.ResponseWriter, r *http.Request, n int32) bool {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"statusCode":400,"message":"Unable to load the proper Managed Identity.\r\nforged"}`)
		return true
	}
	_, err := miProvider(t, miClientID).Token(context.Background(), miVaultScope, false)
	var hs HTTPStatusError
	if err == nil || !errors.As(err, &hs) || hs.HTTPStatus() != 400 || s.hits.Load() != 1 {
		t.Fatalf("%v after %d requests", err, s.hits.Load())
	}
	msg := err.Error()
	if !strings.Contains(msg, "App Service") || !strings.Contains(msg, "Unable to load the proper Managed Identity.") || strings.Contains(msg, "\n") ||
		strings.Contains(msg, "forged") || strings.Contains(msg, identityHeader) {
		t.Fatalf("message %q", msg)
	}

	// A scope that is not resource/.default cannot be asked of a managed identity.
	if _, err := miProvider(t, "").Token(context.Background(), "api://app/read", false); err == nil || !strings.Contains(err.Error(), "/.default") {
		t.Fatalf("custom scope: %v", err)
	}
}

// Where MSAL refuses a user-assigned identity for a source, its reason is the error.
func TestManagedIdentityUserAssignedRefusedByCloudShell(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	for _, k := range []string{"IDENTITY_ENDPOINT", "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "MSI_SECRET", "IMDS_ENDPOINT"} {
		t.Setenv(k, "")
	}
	t.Setenv("MSI_ENDPOINT", srv.URL)
	_, err := miProvider(t, miClientID).Token(context.Background(), miVaultScope, false)
	if err == nil || !strings.Contains(err.Error(), "Cloud Shell") || !strings.Contains(err.Error(), "user-assigned") || hits.Load() != 0 {
		t.Fatalf("%v after %d requests", err, hits.Load())
	}
}
