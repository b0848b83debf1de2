package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"

	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
)

// EntraSource asks Entra ID (through MSAL's confidential client) for an app token with
// the client-credentials grant. It keeps no cache: each call is one token request, plus
// the OIDC metadata request unless the HTTP client serves that from disk.
type EntraSource struct {
	Authority  string // e.g. https://login.microsoftonline.com
	TenantID   string
	ClientID   string
	Credential confidential.Credential
	SendX5C    bool
	HTTPClient *http.Client
	Now        func() time.Time
}

// Token implements Source.
func (s *EntraSource) Token(ctx context.Context, scope string) (*Token, error) {
	opts := []confidential.Option{
		// Instance discovery would call login.microsoftonline.com for any host it does not
		// know; with it off, requests go only to the profile's authority.
		confidential.WithInstanceDiscovery(false),
	}
	// Whatever client the caller gave (or none, which would be MSAL's own): the token
	// and metadata requests never follow a redirect.
	httpClient := s.HTTPClient
	if httpClient == nil {
		httpClient = NewHTTPClient(HTTPOptions{})
	}
	opts = append(opts, confidential.WithHTTPClient(NoRedirects(httpClient)))
	if s.SendX5C {
		opts = append(opts, confidential.WithX5C())
	}
	authority := strings.TrimRight(s.Authority, "/") + "/" + s.TenantID
	client, err := confidential.New(authority, s.ClientID, s.Credential, opts...)
	if err != nil {
		return nil, fmt.Errorf("authority %s: %w", authority, err)
	}
	res, err := client.AcquireTokenByCredential(ctx, []string{scope})
	// MSAL turns expires_in into ExpiresOn = its time.Now() + expires_in when it reads
	// the answer, with no bound (99999999999 overflows to year 2273; 0 and negatives give
	// an expired token), and takes expires_on, when present, as it is. The real clock,
	// not s.Now, taken right after it returns, recovers the lifetime the authority gave.
	answered := time.Now()
	if err != nil {
		var je msalerrors.InvalidJsonErr
		if errors.As(err, &je) {
			return nil, invalidAnswer(je, authority)
		}
		return nil, mapError(err, s.TenantID, s.ClientID)
	}
	t := &Token{
		AccessToken: res.AccessToken,
		TokenType:   "Bearer",
		ExpiresOn:   res.ExpiresOn,
		Scope:       scope,
		TenantID:    s.TenantID,
		ClientID:    s.ClientID,
	}
	if err := tokencache.CheckToken(t, authority, answered); err != nil {
		return nil, err
	}
	t.ExpiresOn = t.ExpiresOn.UTC().Truncate(time.Second)
	return t, nil
}

// EntraError is a refusal or failure answered by the authority, reduced to what a user
// can act on.
type EntraError struct {
	Status        int
	Code          int    // AADSTS number, 0 if none
	ErrorName     string // OAuth "error", e.g. invalid_client
	Description   string // first sentence of error_description, without the trace lines
	Hint          string
	TraceID       string
	CorrelationID string
	RequestID     string // x-ms-request-id
	RetryAfter    string
	URL           string
}

func (e *EntraError) Error() string {
	var b strings.Builder
	if e.Code != 0 {
		fmt.Fprintf(&b, "Entra ID refused the token request: AADSTS%d: %s", e.Code, e.Description)
	} else {
		desc := e.Description
		if desc == "" {
			desc = http.StatusText(e.Status)
		}
		fmt.Fprintf(&b, "token request to %s failed: HTTP %d: %s", e.URL, e.Status, desc)
	}
	if e.Hint != "" {
		b.WriteString(" — ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// HTTPStatus implements HTTPStatusError: Retry reads the status of the answer.
func (e *EntraError) HTTPStatus() int { return e.Status }

// RetryAfterValue implements HTTPStatusError: the answer's Retry-After header.
func (e *EntraError) RetryAfterValue() string { return e.RetryAfter }

// DebugIDs returns the ids Microsoft support asks for, for --debug output. They are the
// server's text: escaped for the terminal.
func (e *EntraError) DebugIDs() string {
	return termtext.Escape(fmt.Sprintf("request-id=%s trace-id=%s correlation-id=%s", e.RequestID, e.TraceID, e.CorrelationID))
}

var hints = map[int]string{
	700027:  "the certificate is not uploaded to the app registration, has expired there, or is a different one: compare `entratool cert info -p PROFILE` thumbprints with the app's Certificates & secrets",
	7000215: "invalid client secret: use the secret's value (not its ID) and update it with `entratool config edit -p PROFILE`",
	7000222: "the client secret has expired: create a new one in the app registration and update the profile",
	700016:  "application not found in the tenant: check clientId and tenantId, and that the app is registered (or consented) in that tenant",
	90002:   "tenant not found: check tenantId (a GUID or a verified domain) and the profile's cloud/authorityHost",
	70011:   "invalid scope: use a resource followed by /.default, e.g. https://graph.microsoft.com/.default",
	700024:  "the client assertion is outside its valid time range: check this machine's clock",
	50027:   "the token request was malformed: check the authority host and tenant",
}

type entraBody struct {
	Error         string `json:"error"`
	Description   string `json:"error_description"`
	Codes         []int  `json:"error_codes"`
	TraceID       string `json:"trace_id"`
	CorrelationID string `json:"correlation_id"`
}

// mapError turns MSAL's HTTP errors into an EntraError; other errors pass through.
// Whatever the server wrote into Description and ErrorName is escaped for the terminal.
func mapError(err error, tenant, client string) error {
	if isPermanent(err) {
		// Already one line about someone else (a federated credential's token source):
		// it is not the authority's failure.
		return err
	}
	if tf := transportFailure(err); tf != nil {
		return tf
	}
	var je msalerrors.InvalidJsonErr
	if errors.As(err, &je) {
		return invalidAnswer(je, "the authority")
	}
	var ce msalerrors.CallErr
	if !errors.As(err, &ce) || ce.Resp == nil {
		return err
	}
	ee := &EntraError{Status: ce.Resp.StatusCode}
	if ce.Req != nil {
		ee.URL = ce.Req.URL.Scheme + "://" + ce.Req.URL.Host + ce.Req.URL.Path
	}
	ee.RequestID = ce.Resp.Header.Get("x-ms-request-id")
	ee.RetryAfter = ce.Resp.Header.Get("Retry-After")
	var body entraBody
	if ce.Resp.Body != nil {
		dec := json.NewDecoder(http.MaxBytesReader(nil, ce.Resp.Body, 1<<20))
		if dec.Decode(&body) == nil {
			ee.ErrorName = termtext.Escape(body.Error)
			ee.TraceID = body.TraceID
			ee.CorrelationID = body.CorrelationID
			if len(body.Codes) > 0 {
				ee.Code = body.Codes[0]
			}
			ee.Description = termtext.Escape(firstLine(body.Description))
			if ee.Description == "" {
				ee.Description = ee.ErrorName
			}
		}
	}
	if ee.Code != 0 {
		ee.Description = strings.TrimSpace(strings.TrimPrefix(ee.Description, fmt.Sprintf("AADSTS%d:", ee.Code)))
		ee.Hint = hints[ee.Code]
	}
	return ee
}

// invalidAnswer reports an answer MSAL could not read as a token response, naming who
// gave it. MSAL quotes the whole raw body in its JSON decode errors, and a token
// response cut short may hold the access token: only the decoder's reason is kept. MSAL
// also fails here when an answer has neither expires_in nor expires_on.
func invalidAnswer(je msalerrors.InvalidJsonErr, who string) error {
	reason := "unreadable"
	if inner := errors.Unwrap(je.Err); inner != nil {
		reason = inner.Error()
	}
	return fmt.Errorf("the answer of %s is not a valid token response (%s; body withheld, it may hold a token): check authorityHost and any proxy in between", who, termtext.Escape(reason))
}

// firstLine keeps Entra's human sentence and drops the "Trace ID: … Correlation ID: …"
// lines it appends.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	for _, cut := range []string{" Trace ID:", " Correlation ID:", " Timestamp:"} {
		if i := strings.Index(s, cut); i >= 0 {
			s = s[:i]
		}
	}
	if len(s) > 400 {
		s = s[:400] + "…"
	}
	return strings.TrimSpace(s)
}
