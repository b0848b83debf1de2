package token

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
)

// The variables the CI systems set for their ID token endpoints (SPEC §14).
const (
	EnvGitHubRequestURL      = "ACTIONS_ID_TOKEN_REQUEST_URL"
	EnvGitHubRequestToken    = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	EnvPipelinesOIDCURI      = "SYSTEM_OIDCREQUESTURI"
	EnvPipelinesAccessToken  = "SYSTEM_ACCESSTOKEN"
	EnvPipelinesConnectionID = "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID"
)

// maxExternalAnswer bounds what is read of a token file or an ID token endpoint's
// answer: a token is at most tokencache.MaxTokenLength, and the JSON around it small.
const maxExternalAnswer = tokencache.MaxTokenLength + 4<<10

// ExternalToken fetches a federated profile's external OIDC token — the client
// assertion Entra exchanges for an access token — afresh at every call: the file is
// re-read (AKS rotates it), the CI endpoint asked again. Nothing is cached here: a
// token is only ever fetched inside the cache's single flight, on a miss.
type ExternalToken struct {
	Profile    *profile.Profile
	Getenv     func(string) string
	HTTPClient *http.Client
	Log        func(attempt int, wait time.Duration, err error) // retries of the endpoint (optional)

	mu   sync.Mutex
	last externalClaims // of the last token fetched, for AADSTS70021's hint
}

// externalClaims are what a mismatch hint shows of the external token: whose it says
// it is. They are read without verification — Entra verifies; this is for people.
type externalClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience any    `json:"aud"`
}

// Credential is the MSAL credential whose assertion is the external token.
func (x *ExternalToken) Credential() confidential.Credential {
	return confidential.NewCredFromAssertionCallback(func(ctx context.Context, _ confidential.AssertionRequestOptions) (string, error) {
		return x.Fetch(ctx)
	})
}

// what names the source for messages.
func (x *ExternalToken) what() string {
	switch x.Profile.FederatedTokenSource {
	case profile.SourceGitHubActions:
		return "GitHub Actions"
	case profile.SourceAzurePipelines:
		return "Azure Pipelines"
	}
	return "file " + x.Profile.FederatedTokenFile
}

// Fetch returns the external token. Its errors are one line, never hold the token or
// the CI's request token, and are Permanent: the endpoint's retries are done here, and
// MSAL's request, which calls this, must not repeat them.
func (x *ExternalToken) Fetch(ctx context.Context) (string, error) {
	var tok string
	var err error
	switch x.Profile.FederatedTokenSource {
	case profile.SourceGitHubActions:
		tok, err = x.fromGitHub(ctx)
	case profile.SourceAzurePipelines:
		tok, err = x.fromAzurePipelines(ctx)
	case "":
		tok, err = x.fromFile()
	default:
		err = fmt.Errorf("federatedTokenSource %q is not %s or %s", x.Profile.FederatedTokenSource, profile.SourceGitHubActions, profile.SourceAzurePipelines)
	}
	if err == nil {
		err = checkExternal(tok)
	}
	if err != nil {
		return "", Permanent(fmt.Errorf("federated token (%s): %w", x.what(), err))
	}
	x.mu.Lock()
	x.last = peekClaims(tok)
	x.mu.Unlock()
	return tok, nil
}

// checkExternal holds the external token to an access token's rules (SPEC §12): it
// goes into a form body, and its text is a server's.
func checkExternal(tok string) error {
	switch {
	case tok == "":
		return errors.New("the answer holds no token")
	case len(tok) > tokencache.MaxTokenLength:
		return fmt.Errorf("the token is %d bytes long, more than the %d a token may be", len(tok), tokencache.MaxTokenLength)
	case !tokencache.ValidTokenChars(tok):
		return errors.New("the token is not a JWT: it holds characters outside A-Z a-z 0-9 - _ . ~ + / =")
	}
	return nil
}

// fromFile re-reads the token file (bounded, trimmed). It must be a regular file:
// opening a FIFO planted in its place would block. Symlinks are followed, as AKS's
// projected volume is made of them.
func (x *ExternalToken) fromFile() (string, error) {
	path := x.Profile.FederatedTokenFile
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "", errors.New("the file does not exist (is the workload identity token mounted, and AZURE_FEDERATED_TOKEN_FILE right?)")
	case err != nil:
		return "", errors.Unwrap(err) // the *PathError's path is in the prefix already
	case !fi.Mode().IsRegular():
		return "", errors.New("not a regular file")
	}
	f, err := os.Open(path)
	if err != nil {
		return "", errors.Unwrap(err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxExternalAnswer+1))
	if err != nil {
		return "", err
	}
	if len(data) > maxExternalAnswer {
		return "", fmt.Errorf("the file is larger than %d bytes: it is not a token", maxExternalAnswer)
	}
	tok := string(bytes.TrimSpace(data))
	if tok == "" {
		return "", errors.New("the file is empty")
	}
	return tok, nil
}

// missingEnv is the error for CI variables that are not set.
func missingEnv(getenv func(string) string, hint string, names ...string) error {
	var missing []string
	for _, n := range names {
		if getenv(n) == "" {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	list, verb := missing[0], "is"
	if n := len(missing); n > 1 {
		list, verb = strings.Join(missing[:n-1], ", ")+" and "+missing[n-1], "are"
	}
	return fmt.Errorf("%s %s not set: %s", list, verb, hint)
}

// fromGitHub asks GitHub Actions' ID token endpoint: GET $ACTIONS_ID_TOKEN_REQUEST_URL
// with the audience added, "bearer" and the request token, the token in "value".
func (x *ExternalToken) fromGitHub(ctx context.Context) (string, error) {
	if err := missingEnv(x.Getenv, "add `permissions: id-token: write` to the workflow or job", EnvGitHubRequestURL, EnvGitHubRequestToken); err != nil {
		return "", err
	}
	u, err := url.Parse(x.Getenv(EnvGitHubRequestURL))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%s is not an http(s) URL", EnvGitHubRequestURL)
	}
	q := u.Query()
	q.Set("audience", x.Profile.Audience())
	u.RawQuery = q.Encode()
	var answer struct {
		Value string `json:"value"`
	}
	err = x.request(ctx, EnvGitHubRequestURL, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
		if err == nil {
			req.Header.Set("Authorization", "bearer "+x.Getenv(EnvGitHubRequestToken))
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	}, &answer)
	return answer.Value, err
}

// fromAzurePipelines asks Azure Pipelines' OIDC endpoint: POST $SYSTEM_OIDCREQUESTURI
// with api-version 7.1 and the service connection, "Bearer" and the job's access token,
// the token in "oidcToken".
func (x *ExternalToken) fromAzurePipelines(ctx context.Context) (string, error) {
	conn := x.Profile.ServiceConnectionID
	if conn == "" {
		conn = x.Getenv(EnvPipelinesConnectionID)
	}
	names := []string{EnvPipelinesOIDCURI, EnvPipelinesAccessToken}
	if conn == "" {
		names = append(names, EnvPipelinesConnectionID)
	}
	if err := missingEnv(x.Getenv, "map $(System.AccessToken) into the step's env as SYSTEM_ACCESSTOKEN, and give the profile serviceConnectionId (or run in an AzureCLI@2 task, which sets AZURESUBSCRIPTION_SERVICE_CONNECTION_ID)", names...); err != nil {
		return "", err
	}
	u, err := url.Parse(x.Getenv(EnvPipelinesOIDCURI))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", fmt.Errorf("%s is not an http(s) URL", EnvPipelinesOIDCURI)
	}
	q := u.Query()
	q.Set("api-version", "7.1")
	q.Set("serviceConnectionId", conn)
	u.RawQuery = q.Encode()
	var answer struct {
		OIDCToken string `json:"oidcToken"`
	}
	err = x.request(ctx, EnvPipelinesOIDCURI, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), nil)
		if err == nil {
			req.Header.Set("Authorization", "Bearer "+x.Getenv(EnvPipelinesAccessToken))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json")
		}
		return req, err
	}, &answer)
	return answer.OIDCToken, err
}

// request makes a CI endpoint request under the retry rules (SPEC §5, §12): no
// redirects, 429/5xx retried, the answer bounded and decoded into v. setting is the
// variable that names the endpoint, for the hints.
func (x *ExternalToken) request(ctx context.Context, setting string, build func(context.Context) (*http.Request, error), v any) error {
	client := NoRedirects(x.HTTPClient)
	return Retry(ctx, RetryPolicy{Log: x.Log}, func(ctx context.Context) error {
		req, err := build(ctx)
		if err != nil {
			return err
		}
		resp, err := client.Do(req)
		if err != nil {
			if tf := TransportFailure(err, setting); tf != nil {
				return tf
			}
			return err
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, maxExternalAnswer+1))
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK {
			return &ExternalTokenError{Endpoint: hostPort(req.URL), Status: resp.StatusCode,
				RetryAfter: resp.Header.Get("Retry-After"), Message: serverMessage(body)}
		}
		if len(body) > maxExternalAnswer {
			return fmt.Errorf("the answer of %s is larger than %d bytes", hostPort(req.URL), maxExternalAnswer)
		}
		if err := json.Unmarshal(body, v); err != nil {
			// The decoder's words only: the body may hold a token.
			return fmt.Errorf("the answer of %s is not the expected JSON", hostPort(req.URL))
		}
		return nil
	})
}

// ExternalTokenError is a CI ID token endpoint's refusal or failure.
type ExternalTokenError struct {
	Endpoint   string // host:port
	Status     int
	RetryAfter string
	Message    string // the server's "message", escaped, one line
}

func (e *ExternalTokenError) Error() string {
	msg := e.Message
	if msg == "" {
		msg = http.StatusText(e.Status)
	}
	return fmt.Sprintf("the ID token request to %s failed: HTTP %d: %s", e.Endpoint, e.Status, msg)
}

// HTTPStatus implements HTTPStatusError.
func (e *ExternalTokenError) HTTPStatus() int { return e.Status }

// RetryAfterValue implements HTTPStatusError.
func (e *ExternalTokenError) RetryAfterValue() string { return e.RetryAfter }

// serverMessage is what an error answer says in a JSON "message" (GitHub's and Azure
// DevOps' shape), else its first line when it is short text: escaped, one line,
// bounded. A body that looks like it holds a token is not shown.
func serverMessage(body []byte) string {
	var m struct {
		Message string `json:"message"`
	}
	s := ""
	if json.Unmarshal(body, &m) == nil {
		s = m.Message
	} else if len(body) < 400 {
		s = string(body)
	}
	s = firstLine(s)
	if strings.Contains(s, "eyJ") {
		return "(message withheld: it may hold a token)"
	}
	return termtext.Escape(s)
}

// peekClaims reads iss, sub and aud of a JWT without verifying it, for messages.
func peekClaims(tok string) externalClaims {
	var c externalClaims
	parts := strings.Split(tok, ".")
	if len(parts) < 2 {
		return c
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return c
	}
	_ = json.Unmarshal(payload, &c)
	return c
}

// federatedHints are the AADSTS codes that say no federated credential of the app
// matches the presented token (any of issuer, subject, audience).
var federatedHints = map[int]bool{70021: true, 700211: true, 700212: true, 700213: true}

// hint returns the hint for a refusal of the external token, or "".
func (x *ExternalToken) hint(code int) string {
	x.mu.Lock()
	c := x.last
	x.mu.Unlock()
	switch {
	case federatedHints[code]:
		aud := x.Profile.Audience()
		switch v := c.Audience.(type) {
		case string:
			aud = v
		case []any:
			if len(v) == 1 {
				aud = fmt.Sprint(v[0])
			}
		}
		return fmt.Sprintf("the %s token has issuer %q, subject %q and audience %q: compare them with the app's federated credential in the portal (Certificates & secrets → Federated credentials)",
			x.what(), termtext.Escape(c.Issuer), termtext.Escape(c.Subject), termtext.Escape(aud))
	case code == 700024:
		return fmt.Sprintf("the %s token has expired or is not yet valid: check that it is rotated, and this machine's clock", x.what())
	}
	return ""
}
