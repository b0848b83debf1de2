package launch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
)

// ContractVersion numbers the Request/Response documents. A front and an engine from
// different builds that disagree on it fail with a message saying to reinstall both.
const ContractVersion = 1

// DefaultTimeout bounds a token request when the caller names no bound of its own
// (kubectl, the az shim; entratool's and git's --timeout default to it too).
const DefaultTimeout = 30 * time.Second

// DebugEnv turns on debug logging in every entratool program: DebugEnabled says how.
const DebugEnv = "ENTRATOOL_DEBUG"

// DebugEnabled is the one reading of ENTRATOOL_DEBUG: what strconv.ParseBool calls true
// (1, t, true, TRUE, True). "0", "false", "" and anything else are off, everywhere.
func DebugEnabled(getenv func(string) string) bool {
	if getenv == nil {
		return false
	}
	v := strings.TrimSpace(getenv(DebugEnv))
	if v == "" { // unset, the usual case: ParseBool would build an error to throw away
		return false
	}
	on, err := strconv.ParseBool(v)
	return err == nil && on
}

// Request is what a front asks the engine for: one access token. It carries no secret,
// so it may travel on the engine's command line.
type Request struct {
	Version int    `json:"v"`
	Program string `json:"program"` // the front the user ran; it names itself in messages
	Profile string `json:"profile,omitempty"`
	Scope   string `json:"scope,omitempty"` // "" → the profile's scope, else DefaultScope
	// Timeout bounds the whole request, retries included; 0 → DefaultTimeout.
	Timeout time.Duration `json:"timeout,omitempty"`
	Debug   bool          `json:"debug,omitempty"`
	// Interactive lets the engine prompt on the terminal (the front's own stdin and
	// stderr). Otherwise its stdin is empty and it never prompts.
	Interactive bool `json:"interactive,omitempty"`
}

// bound is the request's timeout with the default applied.
func (r Request) bound() time.Duration {
	if r.Timeout <= 0 {
		return DefaultTimeout
	}
	return r.Timeout
}

// TokenJSON is a token as `entratool get-token -o json` prints it and as the engine
// answers a Request.
type TokenJSON struct {
	AccessToken string `json:"accessToken"`
	TokenType   string `json:"tokenType"`
	ExpiresOn   string `json:"expiresOn"`
	ExpiresOnTS int64  `json:"expires_on"`
	Scope       string `json:"scope"`
	TenantID    string `json:"tenantId"`
	ClientID    string `json:"clientId"`
}

// NewTokenJSON is t in the shared JSON form.
func NewTokenJSON(t *tokencache.Token) TokenJSON {
	return TokenJSON{
		AccessToken: t.AccessToken, TokenType: t.TokenType,
		ExpiresOn: t.ExpiresOn.UTC().Format(time.RFC3339), ExpiresOnTS: t.ExpiresOn.Unix(),
		Scope: t.Scope, TenantID: t.TenantID, ClientID: t.ClientID,
	}
}

// Expiry is when the token expires.
func (j TokenJSON) Expiry() time.Time { return time.Unix(j.ExpiresOnTS, 0) }

// Result is a token and the warnings that came with it (a certificate near expiry),
// for the front to show in its host tool's style.
type Result struct {
	Token    TokenJSON
	Warnings []string
}

// Response is the engine's one JSON document on stdout: a token, or an error.
type Response struct {
	Version  int        `json:"v"`
	Token    *TokenJSON `json:"token,omitempty"`
	Warnings []string   `json:"warnings,omitempty"`
	Error    *ErrorJSON `json:"error,omitempty"`
}

// ErrorJSON is a failed request: the one-line message and the exit code (SPEC §4).
type ErrorJSON struct {
	Message string `json:"message"`
	Code    int    `json:"code"`
}

// ExitError is a failure with the exit code its process ends with: the one exit-code
// error of the fronts, the engine and the CLI. Err nil means it was already reported (a
// child wrote to the user's stderr itself); its text is then empty.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return ""
	}
	return e.Err.Error()
}

func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is err's exit code: an ExitError's (at least 1), else 1; 0 for nil.
func ExitCode(err error) int {
	var ee *ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return max(ee.Code, 1)
	default:
		return 1
	}
}

// Report writes err on w as the one line "program: message", escaped for the terminal
// (errors quote servers and certificates), unless it is an ExitError that was already
// shown; it returns err's exit code.
func Report(w io.Writer, program string, err error) int {
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Err != nil {
		fmt.Fprintf(w, "%s: %s\n", program, termtext.Line(err.Error()))
	}
	return ExitCode(err)
}

// maxResponse bounds what a front reads from the engine: a token is at most 16 KiB.
const maxResponse = 1 << 20

// EncodeRequest is r as the engine's argument.
func EncodeRequest(r Request) string {
	r.Version = ContractVersion
	b, _ := json.Marshal(r) // plain fields: cannot fail
	return string(b)
}

// DecodeRequest reads the engine's argument. Unknown fields are refused: a front newer
// than the engine must not be half understood.
func DecodeRequest(s string) (Request, error) {
	var r Request
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return Request{}, fmt.Errorf("unreadable token request: %w", err)
	}
	if r.Version != ContractVersion {
		return Request{}, fmt.Errorf("%s speaks contract %d but was sent %d: install every entratool binary together (make install)", EngineName, ContractVersion, r.Version)
	}
	if r.Program == "" {
		return Request{}, errors.New("token request names no program")
	}
	if r.Timeout < 0 {
		return Request{}, errors.New("token request has a negative timeout")
	}
	return r, nil
}

// DecodeResponse is the one reader of the engine's answer. A token must pass the
// hand-off checks (characters, length, an expiry at most 48 h away) and have an expiry;
// an error must carry a message.
func DecodeResponse(b []byte, now time.Time) (Result, error) {
	var r Response
	if err := json.Unmarshal(b, &r); err != nil {
		return Result{}, fmt.Errorf("%s answered with something other than its JSON response: %w", EngineName, err)
	}
	if r.Version != ContractVersion {
		return Result{}, fmt.Errorf("%s speaks contract %d, this program %d: install every entratool binary together (make install)", EngineName, r.Version, ContractVersion)
	}
	switch {
	case r.Error != nil && r.Token == nil:
		if r.Error.Message == "" {
			return Result{}, &ExitError{Code: max(r.Error.Code, 1), Err: errors.New(EngineName + " failed without saying why")}
		}
		return Result{}, &ExitError{Code: max(r.Error.Code, 1), Err: errors.New(r.Error.Message)}
	case r.Token != nil && r.Error == nil:
		if r.Token.ExpiresOnTS <= 0 {
			return Result{}, fmt.Errorf("%s answered a token without an expiry", EngineName)
		}
		if err := tokencache.CheckHandOff(r.Token.AccessToken, r.Token.Expiry(), EngineName, now); err != nil {
			return Result{}, err
		}
		return Result{Token: *r.Token, Warnings: r.Warnings}, nil
	default:
		return Result{}, fmt.Errorf("%s answered neither a token nor an error", EngineName)
	}
}

// EncodeResponse writes r (version set) for DecodeResponse.
func EncodeResponse(w io.Writer, r Response) error {
	r.Version = ContractVersion
	return json.NewEncoder(w).Encode(r)
}

// graceAfterTimeout is how long past the request's own bound a front waits for the
// engine before it stops it: the engine reports its own timeout first.
const graceAfterTimeout = 5 * time.Second

// Token asks the engine for a token: the one way a front turns a cache miss into a
// token. The engine's stderr (its debug log; prompts when interactive) goes to stderr;
// its answer comes back typed. A failure is an *ExitError with the engine's message and
// exit code, or an error naming what went wrong with the engine itself.
func Token(ctx context.Context, r Request, stderr io.Writer) (Result, error) {
	ctx, cancel := context.WithTimeout(ctx, r.bound()+graceAfterTimeout)
	defer cancel()
	stdin := []byte{}
	if r.Interactive {
		stdin = nil // the user's terminal, handed over by kubectl
	}
	cmd, err := engineCommand(ctx, EntryToken, []string{EncodeRequest(r)}, stdin)
	if err != nil {
		return Result{}, err
	}
	cmd.WaitDelay = time.Second // a grandchild holding the pipes must not hold the front
	var out bytes.Buffer
	cmd.Stdout = &limitedWriter{w: &out, n: maxResponse}
	cmd.Stderr = stderr
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return Result{}, fmt.Errorf("%s did not answer in time (the request's bound is %s): %w", EngineName, r.bound(), ctx.Err())
	}
	if out.Len() == 0 {
		if runErr != nil {
			return Result{}, fmt.Errorf("run %s: %w", EngineName, runErr)
		}
		return Result{}, fmt.Errorf("%s answered nothing", EngineName)
	}
	return DecodeResponse(out.Bytes(), time.Now())
}

// limitedWriter keeps the first n bytes and fails past them.
type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if len(p) > l.n {
		return 0, fmt.Errorf("%s answered more than %d bytes", EngineName, maxResponse)
	}
	l.n -= len(p)
	return l.w.Write(p)
}
