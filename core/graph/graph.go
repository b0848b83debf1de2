// Package graph is the Microsoft Graph client for key rolling (SPEC §13): addKey and
// removeKey on the app's own application object, with a proof of possession signed
// by a key the app has registered, and reading the app's keyCredentials.
//
// Its requests follow the token requests' HTTP rules (SPEC §12) through core/token's
// client and retry loop: no redirect is followed, 429 and 5xx are retried after
// Retry-After within the context's deadline, and a refused connection, an unknown
// host or a TLS failure ends the call at once naming the host. What Graph answers is
// read bounded and escaped.
package graph

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/token"
)

// maxAnswer bounds what is read of any answer: Graph's are a few kilobytes.
const maxAnswer = 1 << 20

// setting is what a user checks when the Graph host cannot be reached, for the hints
// of token.UnreachableError and token.RedirectError.
const setting = "the Graph endpoint (the profile's cloud, graphEndpoint or ENTRATOOL_GRAPH_ENDPOINT)"

// Client calls Microsoft Graph for one app. It holds no state of its own between
// calls and may be used concurrently.
type Client struct {
	// Endpoint is Graph's base URL, scheme and host, e.g. https://graph.microsoft.com
	// (profile.Profile.Graph).
	Endpoint string
	// HTTP is the client from token.NewHTTPClient; nil means a new one. Whatever it is,
	// redirects are refused: every request carries a Graph token and a proof.
	HTTP *http.Client
	// Token returns a Graph access token (scope <Endpoint>/.default), got by the caller
	// through the normal token path. It is asked once per call, before the first
	// attempt: its own retries are the token path's.
	Token func(ctx context.Context) (string, error)
	// Now is the clock of Proof; nil means time.Now.
	Now func() time.Time
	// Log, when set, gets one debug line per request (method, URL without query,
	// status, request ids, elapsed) and one per retry; never a token or a proof.
	Log *slog.Logger

	// retry is the backoff policy; zero means token.Retry's defaults. Tests shorten it.
	retry token.RetryPolicy
}

// Proof is NewProof at the client's time.
func (c *Client) Proof(key crypto.Signer, cert *x509.Certificate, objectID string) (string, error) {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return NewProof(key, cert, objectID, now())
}

// addKeyBody is addKey's request, fields in the documented order.
type addKeyBody struct {
	KeyCredential struct {
		Type        string `json:"type"`
		Usage       string `json:"usage"`
		Key         string `json:"key"`
		DisplayName string `json:"displayName"`
	} `json:"keyCredential"`
	PasswordCredential *struct{} `json:"passwordCredential"` // always null, as the documentation sends it
	Proof              string    `json:"proof"`
}

type removeKeyBody struct {
	KeyID string `json:"keyId"`
	Proof string `json:"proof"`
}

// AddKey registers cert (its public part only) on the application objectID:
// POST {Endpoint}/v1.0/applications/{objectID}/addKey. proof is NewProof's, signed
// with a certificate the app has now. displayName "" means cert's subject. It returns
// the new keyCredential; its KeyID is what removeKey takes.
func (c *Client) AddKey(ctx context.Context, objectID string, cert *x509.Certificate, displayName, proof string) (KeyCredential, error) {
	if cert == nil {
		return KeyCredential{}, errors.New("addKey: no certificate to add")
	}
	if proof == "" {
		return KeyCredential{}, errors.New("addKey: no proof of possession")
	}
	if displayName == "" {
		displayName = cert.Subject.String()
	}
	var body addKeyBody
	body.KeyCredential.Type = "AsymmetricX509Cert"
	body.KeyCredential.Usage = "Verify"
	body.KeyCredential.Key = base64.StdEncoding.EncodeToString(cert.Raw)
	body.KeyCredential.DisplayName = displayName
	body.Proof = proof
	answer, err := c.call(ctx, OpAddKey, http.MethodPost, objectID, "/addKey", body, http.StatusOK, http.StatusCreated)
	if err != nil {
		return KeyCredential{}, err
	}
	kc, err := decodeKeyCredential(answer)
	if err != nil {
		return KeyCredential{}, fmt.Errorf("Graph answered addKey with %w", err)
	}
	return kc, nil
}

// RemoveKey removes the key keyID (a GUID: the portal's Certificate ID) from the
// application objectID: POST {Endpoint}/v1.0/applications/{objectID}/removeKey, which
// Graph answers 204. proof is NewProof's, signed with a certificate the app keeps.
func (c *Client) RemoveKey(ctx context.Context, objectID, keyID, proof string) error {
	if !profile.ValidGUID(keyID) {
		return fmt.Errorf("removeKey: keyId %q is not a GUID (the Certificate ID column under the app's Certificates & secrets)", termtext.Line(cut(keyID, 60)))
	}
	if proof == "" {
		return errors.New("removeKey: no proof of possession")
	}
	_, err := c.call(ctx, OpRemoveKey, http.MethodPost, objectID, "/removeKey", removeKeyBody{KeyID: keyID, Proof: proof}, http.StatusNoContent, http.StatusOK)
	return err
}

// KeyCredentials lists the application's keys: GET
// {Endpoint}/v1.0/applications/{objectID}?$select=keyCredentials. Graph answers it
// only where the app may read itself (403 Authorization_RequestDenied otherwise).
func (c *Client) KeyCredentials(ctx context.Context, objectID string) ([]KeyCredential, error) {
	answer, err := c.call(ctx, OpKeyCredentials, http.MethodGet, objectID, "", nil, http.StatusOK)
	if err != nil {
		return nil, err
	}
	list, err := decodeKeyCredentials(answer)
	if err != nil {
		return nil, fmt.Errorf("Graph answered the keyCredentials request with %w", err)
	}
	return list, nil
}

// call sends one Graph request, retried as token requests are, and returns the body of
// an answer whose status is one of ok.
func (c *Client) call(ctx context.Context, op, method, objectID, action string, payload any, ok ...int) ([]byte, error) {
	base, err := c.endpoint()
	if err != nil {
		return nil, err
	}
	if err := checkObjectID(objectID); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	u := base + "/v1.0/applications/" + url.PathEscape(objectID) + action
	if method == http.MethodGet {
		// Written as Graph's documentation does; url.Values would send %24select.
		u += "?$select=keyCredentials"
	}
	var reqBody []byte
	if payload != nil {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		// The display name is a certificate subject: "R&D" goes as it is, not \u0026.
		enc.SetEscapeHTML(false)
		if err := enc.Encode(payload); err != nil {
			return nil, fmt.Errorf("%s: %w", op, err)
		}
		reqBody = bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	}
	if c.Token == nil {
		return nil, fmt.Errorf("%s: no Graph token source", op)
	}
	tok, err := c.Token(ctx)
	if err != nil {
		return nil, fmt.Errorf("getting a token for Graph (%s/.default): %w", base, err)
	}
	if tok == "" {
		return nil, fmt.Errorf("getting a token for Graph (%s/.default): the token is empty", base)
	}
	// One id for the call and all its retries, so that Microsoft support sees them
	// together; each attempt still gets its own request-id from Graph.
	clientRequestID, err := uuid.NewRandom()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	// Whatever client the caller gave: a 307 would re-post the token and the proof.
	var hc *http.Client
	if c.HTTP != nil {
		hc = token.NoRedirects(c.HTTP)
	} else {
		hc = token.NewHTTPClient(token.HTTPOptions{})
		// Its connections are this call's alone: do not leave them idle behind it.
		defer hc.CloseIdleConnections()
	}
	policy := c.retry
	policy.Log = func(attempt int, wait time.Duration, err error) {
		if c.Log != nil {
			c.Log.Debug("retrying Graph request", "op", op, "attempt", attempt, "wait", wait, "error", err.Error())
		}
	}
	// ambiguous: an earlier attempt may have reached Graph and been carried out (a 5xx,
	// a timeout, a dropped connection), so a refusal now may be of a change already made.
	ambiguous := false
	var answer []byte
	err = token.Retry(ctx, policy, func(ctx context.Context) error {
		var err error
		answer, err = c.attempt(ctx, hc, op, method, u, tok, clientRequestID.String(), reqBody, ok)
		var ge *Error
		if errors.As(err, &ge) && ge.Status != http.StatusTooManyRequests && ge.Status < 500 && ambiguous {
			ge.Hint = strings.TrimSpace(ge.Hint + " " + earlierAttempt(op))
		}
		if err != nil && (!errors.As(err, &ge) || ge.Status != http.StatusTooManyRequests) {
			ambiguous = true
		}
		return err
	})
	if err == nil {
		return answer, nil
	}
	var ge *Error
	if !errors.As(err, &ge) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		// "context deadline exceeded" tells the user nothing; say who did not answer.
		return nil, fmt.Errorf("no answer from Graph at %s to %s within the timeout (raise --timeout, or check %s and any proxy): %w", hostOf(base), op, setting, err)
	}
	return nil, err
}

func earlierAttempt(op string) string {
	switch op {
	case OpAddKey:
		return "(an earlier attempt may have added it: look for the new thumbprint under the app's Certificates & secrets)"
	case OpRemoveKey:
		return "(an earlier attempt may have removed it: look under the app's Certificates & secrets)"
	}
	return ""
}

// attempt is one request and its answer: the body for a status in ok, an *Error for
// another status, the transport's error (permanent ones as token.UnreachableError or
// token.RedirectError) when there is no answer.
func (c *Client) attempt(ctx context.Context, hc *http.Client, op, method, u, tok, clientRequestID string, body []byte, ok []int) ([]byte, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("client-request-id", clientRequestID)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	logURL := req.URL.Scheme + "://" + req.URL.Host + req.URL.EscapedPath()
	start := time.Now()
	resp, err := hc.Do(req)
	if err != nil {
		if c.Log != nil {
			c.Log.Debug("graph", "op", op, "method", method, "url", logURL, "client-request-id", clientRequestID,
				"error", err.Error(), "elapsed", time.Since(start).Round(time.Millisecond))
		}
		if tf := token.TransportFailure(err, setting); tf != nil {
			return nil, tf
		}
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if c.Log != nil {
		c.Log.Debug("graph", "op", op, "method", method, "url", logURL, "status", resp.StatusCode,
			"request-id", termtext.Line(cut(resp.Header.Get("request-id"), 100)), "client-request-id", clientRequestID,
			"elapsed", time.Since(start).Round(time.Millisecond))
	}
	truncated := len(data) > maxAnswer
	for _, s := range ok {
		if resp.StatusCode != s {
			continue
		}
		if err != nil {
			// Cut short: retried as a dropped connection.
			return nil, fmt.Errorf("reading Graph's answer to %s: %w", op, err)
		}
		if truncated {
			return nil, fmt.Errorf("Graph answered %s with more than 1 MiB: not Graph's answer (check %s and any proxy)", op, setting)
		}
		return data, nil
	}
	// A refusal is classified by its status; a body cut short only loses Graph's words.
	return nil, newError(op, resp.StatusCode, resp.Header, data, truncated || err != nil)
}

// endpoint is Endpoint checked: https, scheme and host (a trailing slash is dropped).
// It is checked here as well as in the profile because the request carries a token.
func (c *Client) endpoint() (string, error) {
	e := strings.TrimSuffix(c.Endpoint, "/")
	u, err := url.Parse(e)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", fmt.Errorf("the Graph endpoint %q is not a URL like https://graph.microsoft.com", termtext.Line(cut(c.Endpoint, 200)))
	}
	if u.Scheme != "https" {
		return "", fmt.Errorf("the Graph endpoint %q must use https://", termtext.Line(cut(c.Endpoint, 200)))
	}
	if u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || u.Path != "" {
		return "", fmt.Errorf("the Graph endpoint %q must be just scheme and host, like https://graph.microsoft.com", termtext.Line(cut(c.Endpoint, 200)))
	}
	return e, nil
}

func hostOf(base string) string {
	if u, err := url.Parse(base); err == nil {
		return u.Host
	}
	return base
}

// checkObjectID refuses anything but a GUID: it goes into the URL path (and the proof's
// iss), and the commonest mistake, the client id, is a GUID too but is caught by Graph.
func checkObjectID(objectID string) error {
	if !profile.ValidGUID(objectID) {
		return fmt.Errorf("applicationObjectId %q is not a GUID: it is the Object ID on the app registration's Overview page", termtext.Line(cut(objectID, 60)))
	}
	return nil
}
