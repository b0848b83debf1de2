package token

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/entratool/entratool/core/termtext"
)

// Retrying wraps a Source so that throttling (429), server errors (5xx), timeouts and
// dropped connections are retried with exponential backoff, honouring Retry-After,
// until the context ends. Failures that no retry can mend (a refused connection, an
// unknown host, a certificate that does not verify, a redirect) end it at once. Each
// attempt goes through the Source again, so every retried request carries a fresh
// client assertion (a new jti).
type Retrying struct {
	Source Source
	// Base and Max bound the backoff; zero means 500 ms and 8 s.
	Base, Max time.Duration
	// Log is told about every retry (optional).
	Log func(attempt int, wait time.Duration, err error)
}

// maxRetryAfter bounds what a server may ask for, so that a huge Retry-After neither
// overflows a Duration nor reads as "no wait".
const maxRetryAfter = 24 * time.Hour

// Token implements Source.
func (r Retrying) Token(ctx context.Context, scope string) (*Token, error) {
	var t *Token
	err := Retry(ctx, RetryPolicy{Base: r.Base, Max: r.Max, Log: r.Log}, func(ctx context.Context) error {
		var err error
		t, err = r.Source.Token(ctx, scope)
		return err
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// HTTPStatusError is an error that carries an HTTP answer's status and Retry-After
// header. Retry classifies any such error in a chain by its status, whichever service
// answered (Entra's EntraError, Graph's graph.Error): 429 and 5xx are retried, after
// Retry-After when given, and every other status ends the loop.
type HTTPStatusError interface {
	error
	HTTPStatus() int
	RetryAfterValue() string
}

// RetryPolicy bounds Retry's backoff.
type RetryPolicy struct {
	// Base and Max bound the backoff; zero means 500 ms and 8 s.
	Base, Max time.Duration
	// Log is told about every retry (optional).
	Log func(attempt int, wait time.Duration, err error)
}

// Retry calls attempt until it returns nil, fails in a way no retry mends, or ctx ends,
// as SPEC §5 and §12 say of every request entratool makes: throttling (an
// HTTPStatusError with 429), server errors (5xx), timeouts and dropped connections are
// retried with exponential backoff, or after the server's Retry-After when it gave
// one; a Retry-After beyond ctx's deadline ends it at once, saying so. Anything else —
// a refusal, a refused connection, an unknown host, a TLS failure, a redirect, an
// error Retry does not know — is returned as it is, at once. attempt builds its
// request afresh each time (a new client assertion, a new body reader).
func Retry(ctx context.Context, p RetryPolicy, attempt func(ctx context.Context) error) error {
	base, maxWait := p.Base, p.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if maxWait <= 0 {
		maxWait = 8 * time.Second
	}
	backoff := base
	for n := 1; ; n++ {
		err := attempt(ctx)
		if err == nil {
			return nil
		}
		if isPermanent(err) {
			return err
		}
		wait, ok := retryAfter(err)
		if !ok && attemptTimedOut(ctx, err) {
			wait, ok = 0, true
		}
		if !ok {
			return err
		}
		asked := wait > 0
		if !asked {
			wait = backoff
			backoff = min(backoff*2, maxWait)
		}
		// Sleeping past the deadline only to fail there would leave the user waiting
		// for nothing: give up now with what the server said.
		if dl, has := ctx.Deadline(); has {
			if left := time.Until(dl); left < wait {
				if asked {
					status := ""
					var hs HTTPStatusError
					if errors.As(err, &hs) {
						status = fmt.Sprintf(" answered HTTP %d and", hs.HTTPStatus())
					}
					return fmt.Errorf("gave up after %d attempt(s): the server%s asked to retry after %v (Retry-After), more than the %v left of the timeout: %w",
						n, status, wait, left.Round(100*time.Millisecond), err)
				}
				return fmt.Errorf("gave up after %d attempt(s) within the timeout: %w", n, err)
			}
		}
		if p.Log != nil {
			p.Log(n, wait, err)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return fmt.Errorf("gave up after %d attempt(s): %w", n, err)
		case <-timer.C:
		}
	}
}

// Permanent marks err as final for every Retry it passes through: a failure an inner
// loop has already retried as far as it should (the external token a federated
// credential fetches inside MSAL's request), which an outer loop would otherwise retry
// again for the whole timeout. The message and the chain are err's.
func Permanent(err error) error {
	if err == nil || isPermanent(err) {
		return err
	}
	return &permanentError{err}
}

type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

func isPermanent(err error) bool {
	var pe *permanentError
	return errors.As(err, &pe)
}

// attemptTimedOut reports whether err is a timeout of the attempt itself while ctx still
// runs. net/http's "timeout awaiting response headers" (Transport.ResponseHeaderTimeout)
// says it Is context.DeadlineExceeded, which retryAfter takes for the end of ctx; it is
// a timeout like any other, retried as SPEC §12 says.
// Only an HTTP request's timeout counts (a *url.Error): a key-store plugin that hangs
// past its own per-call bound says DeadlineExceeded too, and is not retried — the same
// hang would only repeat until the command's whole timeout is gone.
func attemptTimedOut(ctx context.Context, err error) bool {
	var ue *url.Error
	return ctx.Err() == nil && errors.As(err, &ue) && errors.Is(err, context.DeadlineExceeded) && timedOut(err)
}

// retryAfter reports whether err is transient and, if the server said so, how long to
// wait (0 = use backoff). Errors are classified by value, never by their text: a
// message quoting someone else's "EOF" or "connection refused" (a key-store plugin's
// stderr) is not a network failure.
func retryAfter(err error) (time.Duration, bool) {
	var hs HTTPStatusError
	if errors.As(err, &hs) {
		if st := hs.HTTPStatus(); st == http.StatusTooManyRequests || st >= 500 {
			return parseRetryAfter(hs.RetryAfterValue(), time.Now()), true
		}
		return 0, false
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return 0, false
	}
	if _, kind := permanentCause(err); kind != failNone {
		return 0, false
	}
	var dns *net.DNSError
	if errors.As(err, &dns) {
		return 0, dns.IsTimeout || dns.IsTemporary
	}
	if timedOut(err) {
		return 0, true
	}
	// A dropped connection.
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errnoClass(err) == errnoDropped {
		return 0, true
	}
	// Any other socket failure (say, no free local port) may pass.
	var oe *net.OpError
	return 0, errors.As(err, &oe)
}

// timedOut reports whether any error in err's chain says it is a timeout. errors.As
// would stop at the first net.Error (a *url.Error), whose Timeout looks only one level
// down.
func timedOut(err error) bool {
	for err != nil {
		if t, ok := err.(interface{ Timeout() bool }); ok && t.Timeout() {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if timedOut(e) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

const (
	errnoOther = iota
	errnoRefused
	errnoUnreachable
	errnoDropped
)

// Winsock's numbers: on Windows syscall's ECONNREFUSED and friends are invented
// values that the errors from connectex and WSARecv never match.
const (
	wsaENETUNREACH  syscall.Errno = 10051
	wsaECONNABORTED syscall.Errno = 10053
	wsaECONNRESET   syscall.Errno = 10054
	wsaECONNREFUSED syscall.Errno = 10061
	wsaEHOSTUNREACH syscall.Errno = 10065
)

// errnoClass sorts the socket error in err's chain, if any.
func errnoClass(err error) int {
	var en syscall.Errno
	if !errors.As(err, &en) {
		return errnoOther
	}
	switch en {
	case syscall.ECONNREFUSED, wsaECONNREFUSED:
		return errnoRefused
	case syscall.ENETUNREACH, syscall.EHOSTUNREACH, wsaENETUNREACH, wsaEHOSTUNREACH:
		return errnoUnreachable
	case syscall.ECONNRESET, syscall.ECONNABORTED, syscall.EPIPE, wsaECONNRESET, wsaECONNABORTED:
		return errnoDropped
	}
	return errnoOther
}

// Kinds of permanent failure, for the hint that goes with each.
const (
	failNone = iota
	failRedirect
	failNetwork
	failDNS
	failTLS
)

// permanentCause reports whether err is a failure that retrying cannot mend, and says
// what it is in a few words for the user.
func permanentCause(err error) (reason string, kind int) {
	var re *RedirectError
	if errors.As(err, &re) {
		return "redirect", failRedirect
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && !dns.IsTimeout && !dns.IsTemporary {
		if dns.IsNotFound {
			return "no such host", failDNS
		}
		return "DNS lookup failed: " + termtext.Escape(dns.Err), failDNS
	}
	switch errnoClass(err) {
	case errnoRefused:
		return "connection refused", failNetwork
	case errnoUnreachable:
		var en syscall.Errno
		errors.As(err, &en)
		return termtext.Escape(en.Error()), failNetwork
	}
	// TLS and certificate problems do not heal by retrying. The x509 error is the most
	// precise (and names the certificate's hosts for a mismatch).
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var sr x509.SystemRootsError
	var cve *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	var alert tls.AlertError
	switch {
	case errors.As(err, &ua):
		return termtext.Escape(ua.Error()), failTLS
	case errors.As(err, &hn):
		return termtext.Escape(hn.Error()), failTLS
	case errors.As(err, &ci):
		return termtext.Escape(ci.Error()), failTLS
	case errors.As(err, &sr):
		return termtext.Escape(sr.Error()), failTLS
	case errors.As(err, &cve):
		return termtext.Escape(cve.Error()), failTLS
	case errors.As(err, &rec):
		return "the server does not speak TLS (" + termtext.Escape(rec.Msg) + ")", failTLS
	case errors.As(err, &alert):
		return "the server refused the TLS handshake (" + termtext.Escape(alert.Error()) + ")", failTLS
	}
	return "", failNone
}

// UnreachableError is a request that failed before any answer, in a way no retry can
// mend: a refused connection, an unknown host, an unreachable network, or a TLS
// certificate that does not verify. Its message is one line naming the host; Unwrap
// keeps the transport's error for errors.As.
type UnreachableError struct {
	Host   string // host:port the request was for
	Reason string // e.g. "connection refused", "no such host", the x509 error
	// Setting names what the user configured the host with, for the hint, e.g. "the
	// Graph endpoint (graphEndpoint)". Empty: the profile's authorityHost (the token
	// path's wording).
	Setting string
	kind    int
	Err     error
}

func (e *UnreachableError) Error() string {
	if e.Setting != "" {
		switch e.kind {
		case failTLS:
			return fmt.Sprintf("cannot reach %s over TLS: %s — check %s, the trusted CAs (SSL_CERT_FILE, SSL_CERT_DIR) and any TLS-inspecting proxy", e.Host, e.Reason, e.Setting)
		case failDNS:
			return fmt.Sprintf("cannot reach %s: %s — check %s and this machine's DNS", e.Host, e.Reason, e.Setting)
		default:
			return fmt.Sprintf("cannot reach %s: %s — check %s, any proxy (HTTPS_PROXY) and that the service is up", e.Host, e.Reason, e.Setting)
		}
	}
	switch e.kind {
	case failTLS:
		return fmt.Sprintf("cannot reach %s over TLS: %s — check authorityHost, the trusted CAs (SSL_CERT_FILE, SSL_CERT_DIR) and any TLS-inspecting proxy", e.Host, e.Reason)
	case failDNS:
		return fmt.Sprintf("cannot reach %s: %s — check authorityHost (or cloud) and this machine's DNS", e.Host, e.Reason)
	default:
		return fmt.Sprintf("cannot reach %s: %s — check authorityHost, any proxy (HTTPS_PROXY) and that the service is up", e.Host, e.Reason)
	}
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// transportFailure is TransportFailure on the token path: the hints name authorityHost.
func transportFailure(err error) error { return TransportFailure(err, "") }

// TransportFailure reduces a permanent transport failure to one line a user can act
// on: the *RedirectError itself, or an *UnreachableError naming the host. setting names
// what the user configured the host with, for the hint ("" for a token request: the
// profile's authorityHost). It returns nil for anything else (answers, timeouts,
// dropped connections), which is left as it was.
func TransportFailure(err error, setting string) error {
	reason, kind := permanentCause(err)
	switch kind {
	case failNone:
		return nil
	case failRedirect:
		var re *RedirectError
		errors.As(err, &re)
		re.Setting = setting
		return re
	}
	return &UnreachableError{Host: failedHost(err), Reason: reason, Setting: setting, kind: kind, Err: err}
}

// failedHost names the host:port a failed request was for: the URL's (what the user
// configured), else the dialled address or looked-up name.
func failedHost(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil && u.Host != "" {
			return hostPort(u)
		}
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Addr != nil {
		return oe.Addr.String()
	}
	var dns *net.DNSError
	if errors.As(err, &dns) && dns.Name != "" {
		return termtext.Escape(dns.Name)
	}
	return "the authority"
}

// hostPort is u's host with the scheme's default port made explicit.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	port := "443"
	if u.Scheme == "http" {
		port = "80"
	}
	return net.JoinHostPort(u.Hostname(), port)
}

// RedirectError is a redirect answered to a credential request. It is never followed:
// a 307 or 308 would re-post the client secret, the signed client assertion or an
// access token to wherever the Location points.
type RedirectError struct {
	Host     string // who answered, host:port
	Status   int
	Location string // scheme://host/path the answer pointed to (no query)
	// Setting names what the user configured the host with, for the hint; empty: the
	// profile's authorityHost.
	Setting string
}

func (e *RedirectError) Error() string {
	if e.Setting != "" {
		return fmt.Sprintf("%s answered HTTP %d redirecting to %s; entratool never follows redirects on credential requests: check %s and any proxy in between: it must name the service itself, not an address that forwards to it",
			e.Host, e.Status, e.Location, e.Setting)
	}
	return fmt.Sprintf("%s answered HTTP %d redirecting to %s; entratool never follows redirects on credential requests: check authorityHost (the authority itself, not an address that forwards to it) and any proxy in between",
		e.Host, e.Status, e.Location)
}

// refuseRedirect is the CheckRedirect of every client that carries credentials. It runs
// before the redirected request is sent, so nothing reaches the Location.
func refuseRedirect(req *http.Request, via []*http.Request) error {
	re := &RedirectError{Location: req.URL.Scheme + "://" + req.URL.Host + req.URL.EscapedPath()}
	if len(via) > 0 {
		re.Host = hostPort(via[len(via)-1].URL)
	}
	if req.Response != nil {
		re.Status = req.Response.StatusCode
	}
	return re
}

// NoRedirects returns a copy of c that refuses every redirect, whatever c's own
// CheckRedirect says (nil c: a new client). The copy shares c's transport and its pool.
func NoRedirects(c *http.Client) *http.Client {
	var cp http.Client
	if c != nil {
		cp = *c
	}
	cp.CheckRedirect = refuseRedirect
	return &cp
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseUint(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		if err != nil || secs > uint64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return min(d, maxRetryAfter)
		}
	}
	return 0
}
