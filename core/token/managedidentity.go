package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"

	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
)

// ManagedIdentitySource asks the machine's managed identity endpoint for a token through
// MSAL Go, which also finds the endpoint (App Service / Functions, Service Fabric, Azure
// Arc, Azure ML, Cloud Shell, else IMDS) from the process environment. Each call is one
// request: MSAL's own retries are off (Retrying applies SPEC §5's), and so is its
// in-memory cache (the shared file cache decided a token is needed).
type ManagedIdentitySource struct {
	ClientID   string // a user-assigned identity's client id; "" for system-assigned
	HTTPClient *http.Client
}

// SourceName is how messages name a managed identity endpoint MSAL detected.
func SourceName(s managedidentity.Source) string {
	switch s {
	case managedidentity.AppService:
		return "App Service (IDENTITY_ENDPOINT)"
	case managedidentity.ServiceFabric:
		return "Service Fabric (IDENTITY_ENDPOINT)"
	case managedidentity.AzureArc:
		return "Azure Arc"
	case managedidentity.AzureML:
		return "Azure ML (MSI_ENDPOINT)"
	case managedidentity.CloudShell:
		return "Cloud Shell (MSI_ENDPOINT)"
	case managedidentity.DefaultToIMDS:
		return "IMDS (169.254.169.254)"
	}
	return string(s)
}

// Token implements Source. scope must be a resource's "/.default": a managed identity
// is asked for a resource, not a scope.
func (s *ManagedIdentitySource) Token(ctx context.Context, scope string) (*Token, error) {
	resource, ok := strings.CutSuffix(scope, "/.default")
	if !ok || resource == "" {
		return nil, fmt.Errorf("a managed identity gives tokens for a resource: use a scope of the form RESOURCE/.default, not %q", termtext.Escape(scope))
	}
	detected, err := managedidentity.GetSource()
	if err != nil {
		return nil, fmt.Errorf("managed identity: %w", err)
	}
	name := SourceName(detected)
	id := managedidentity.SystemAssigned()
	if s.ClientID != "" {
		id = managedidentity.UserAssignedClientID(s.ClientID)
	}
	client, err := managedidentity.New(id, managedidentity.WithHTTPClient(NoRedirects(s.HTTPClient)), managedidentity.WithRetryPolicyDisabled())
	if err != nil {
		// MSAL's reason, e.g. that Cloud Shell has no user-assigned identities.
		return nil, Permanent(fmt.Errorf("managed identity (%s): %s", name, termtext.Escape(firstLine(err.Error()))))
	}
	// WithClaims only makes MSAL skip its package-level in-memory cache (v1.10.1 sends
	// claims nowhere for managed identities): a forced refresh must reach the endpoint,
	// and a token MSAL kept would escape the lifetime check below.
	res, err := client.AcquireToken(ctx, resource, managedidentity.WithClaims("{}"))
	// MSAL turns expires_on into ExpiresOn as it is: the lifetime is counted from now.
	answered := time.Now()
	if err != nil {
		return nil, miError(err, detected, name)
	}
	t := &Token{AccessToken: res.AccessToken, TokenType: "Bearer", ExpiresOn: res.ExpiresOn, Scope: scope}
	if err := tokencache.CheckToken(t, "the managed identity endpoint, "+name, answered); err != nil {
		return nil, err
	}
	t.ExpiresOn = t.ExpiresOn.UTC().Truncate(time.Second)
	return t, nil
}

// miError reduces what MSAL returned to one line naming the endpoint. Answers become a
// *ManagedIdentityError (an HTTPStatusError, so Retry reads the status); permanent
// transport failures an *UnreachableError; the rest are wrapped as they are.
func miError(err error, detected managedidentity.Source, name string) error {
	var je msalerrors.InvalidJsonErr
	if errors.As(err, &je) {
		return invalidAnswer(je, "the managed identity endpoint, "+name)
	}
	var ce msalerrors.CallErr
	if errors.As(err, &ce) && ce.Resp != nil {
		e := &ManagedIdentityError{Source: name, Status: ce.Resp.StatusCode, RetryAfter: ce.Resp.Header.Get("Retry-After")}
		if ce.Req != nil {
			e.Endpoint = hostPort(ce.Req.URL)
		}
		// MSAL has read and closed the body; its text follows the first line of Err.
		if _, body, ok := strings.Cut(ce.Err.Error(), "\n"); ok {
			e.Message = miMessage(body)
		}
		return e
	}
	setting := "the managed identity endpoint's variables (IDENTITY_ENDPOINT, MSI_ENDPOINT)"
	if detected == managedidentity.DefaultToIMDS {
		// No variable named an endpoint: IMDS is the guess. A connect that times out or
		// finds no route means there is none here, and waiting longer will not make one.
		var oe *net.OpError
		if errors.As(err, &oe) && oe.Op == "dial" && (oe.Timeout() || errnoClass(err) == errnoUnreachable) {
			return Permanent(fmt.Errorf("managed identity (%s): no endpoint answered: this machine has no managed identity (not an Azure VM or VM scale set), or IMDS is blocked", name))
		}
		setting = "that this is an Azure VM with a managed identity"
	}
	if tf := TransportFailure(err, setting); tf != nil {
		return fmt.Errorf("managed identity (%s): %w", name, tf)
	}
	return fmt.Errorf("managed identity (%s): %w", name, err)
}

// miMessage is what an endpoint's error body says: IMDS's error_description, App
// Service's message, or a nested error's message; escaped, one line.
func miMessage(body string) string {
	var m struct {
		Description string          `json:"error_description"`
		Message     string          `json:"message"`
		Error       json.RawMessage `json:"error"`
	}
	if json.Unmarshal([]byte(strings.TrimSpace(body)), &m) != nil {
		return termtext.Escape(firstLine(body))
	}
	s := m.Description
	if s == "" {
		s = m.Message
	}
	if s == "" && len(m.Error) > 0 {
		var nested struct {
			Message string `json:"message"`
		}
		var plain string
		if json.Unmarshal(m.Error, &plain) == nil {
			s = plain
		} else if json.Unmarshal(m.Error, &nested) == nil {
			s = nested.Message
		}
	}
	return termtext.Escape(firstLine(s))
}

// ManagedIdentityError is a managed identity endpoint's refusal or failure.
type ManagedIdentityError struct {
	Source     string // SourceName's
	Endpoint   string // host:port
	Status     int
	RetryAfter string
	Message    string
}

func (e *ManagedIdentityError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	at := ""
	if e.Endpoint != "" {
		at = " at " + e.Endpoint
	}
	return fmt.Sprintf("managed identity (%s%s) refused the token request: HTTP %d: %s", e.Source, at, e.Status, msg)
}

// HTTPStatus implements HTTPStatusError.
func (e *ManagedIdentityError) HTTPStatus() int { return e.Status }

// RetryAfterValue implements HTTPStatusError.
func (e *ManagedIdentityError) RetryAfterValue() string { return e.RetryAfter }

// managedIdentityHTTPClient is the client for the identity endpoints, which are all on
// the machine or link-local: never through a proxy (HTTPS_PROXY would send the request,
// and IMDS refuses proxied ones), and a short connect bound, since a local endpoint
// that does not accept at once is not there.
func managedIdentityHTTPClient(o HTTPOptions) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.Proxy = nil
	t.DialContext = (&net.Dialer{Timeout: 3 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.ResponseHeaderTimeout = 60 * time.Second
	o.Base, o.CacheDir = t, ""
	return NewHTTPClient(o)
}
