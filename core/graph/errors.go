package graph

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/entratool/entratool/core/termtext"
)

// The operations an Error names.
const (
	OpAddKey         = "addKey"
	OpRemoveKey      = "removeKey"
	OpKeyCredentials = "keyCredentials" // GET application?$select=keyCredentials
)

// Error is Graph's answer refusing or failing a request, reduced to one line a user
// can act on:
//
//	Graph refused addKey: Authentication_MissingOrMalformed (HTTP 401): <message> — <hint> (request-id …)
//
// Code, Message and RequestID are Graph's words, escaped for the terminal and cut to a
// bounded length where they were read.
type Error struct {
	Op         string // OpAddKey, OpRemoveKey or OpKeyCredentials
	Status     int
	Code       string // Graph's error.code, e.g. Authorization_RequestDenied; "" if the body had none
	Message    string // Graph's error.message, one line
	RequestID  string // the request-id header, else error.innerError's; what Microsoft support asks for
	RetryAfter string // the Retry-After header
	// Hint says what to check for this code; a caller may replace it with wording of its own.
	Hint string
}

// HTTPStatus implements token.HTTPStatusError: token.Retry retries 429 and 5xx.
func (e *Error) HTTPStatus() int { return e.Status }

// RetryAfterValue implements token.HTTPStatusError.
func (e *Error) RetryAfterValue() string { return e.RetryAfter }

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("Graph ")
	if e.Status == http.StatusTooManyRequests || e.Status >= 500 {
		b.WriteString("failed on ")
	} else {
		b.WriteString("refused ")
	}
	op := e.Op
	if op == OpKeyCredentials {
		op = "reading the app's keyCredentials"
	}
	b.WriteString(op)
	b.WriteString(": ")
	what := e.Code
	if what == "" {
		what = http.StatusText(e.Status)
	}
	if what == "" {
		what = "an error"
	}
	fmt.Fprintf(&b, "%s (HTTP %d)", what, e.Status)
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Hint != "" {
		b.WriteString(" — ")
		b.WriteString(e.Hint)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " (request-id %s)", e.RequestID)
	}
	return b.String()
}

// The hints, by Graph's error code. Graph uses the same codes for several causes; each
// hint names the cause that key rolling meets.
const (
	hintObjectID = "applicationObjectId is the Object ID on the app's Overview page, not the client id"
	hintProof    = "the proof was refused: check applicationObjectId is the Object ID on the app's Overview page (not the client id), and that the current certificate is still registered"
	hintDenied   = "the app cannot change itself here: Graph refuses addKey and removeKey when the app has no valid certificate left (upload one by hand once in the portal: App registrations → the app → Certificates & secrets)"
	hintRead     = "the app may not read its own registration here: give the old key's id with --old-key-id (the Certificate ID column under the app's Certificates & secrets)"
	hintToken    = "the Graph token was refused: it must be for this Graph endpoint (scope <endpoint>/.default) of the app's own tenant and cloud"
	hintAddBad   = "check that the new certificate is valid now, is not already registered on the app, and that the proof is signed with a certificate the app still has"
	hintRemBad   = "check that keyId is one of the app's keys (the Certificate ID column under Certificates & secrets) and that the proof is signed with a certificate the app still has"
	hintBusy     = "Graph is throttling or failing: try again later"
)

func hintFor(op string, status int, code string) string {
	switch code {
	case "Authorization_RequestDenied":
		if op == OpKeyCredentials {
			return hintRead
		}
		return hintDenied
	case "Authentication_MissingOrMalformed":
		return hintProof
	case "Request_BadRequest":
		if op == OpRemoveKey {
			return hintRemBad
		}
		return hintAddBad
	case "Request_ResourceNotFound":
		return hintObjectID
	case "InvalidAuthenticationToken":
		return hintToken
	}
	switch {
	case status == http.StatusNotFound:
		return hintObjectID
	case status == http.StatusTooManyRequests || status >= 500:
		return hintBusy
	}
	return ""
}

// graphErrorBody is Graph's error document. Fields are matched case-insensitively, so
// both innerError and innererror (Graph writes either) are read.
type graphErrorBody struct {
	Error struct {
		Code       string `json:"code"`
		Message    string `json:"message"`
		InnerError struct {
			RequestID string `json:"request-id"`
		} `json:"innerError"`
	} `json:"error"`
}

// newError reads a refusal: status, headers and the body as read (truncated: cut at the
// read bound, so not parsed). A body that is not Graph's error document (a proxy's
// page) gives an Error with the status alone.
func newError(op string, status int, h http.Header, body []byte, truncated bool) *Error {
	e := &Error{Op: op, Status: status, RetryAfter: termtext.Line(cut(h.Get("Retry-After"), 40))}
	var doc graphErrorBody
	if !truncated && json.Unmarshal(body, &doc) == nil {
		e.Code = termtext.Line(cut(doc.Error.Code, 100))
		e.Message = termtext.Line(cut(doc.Error.Message, 400))
	}
	rid := h.Get("request-id")
	if rid == "" {
		rid = doc.Error.InnerError.RequestID
	}
	e.RequestID = termtext.Line(cut(rid, 100))
	e.Hint = hintFor(op, status, e.Code)
	return e
}
