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
	base, maxWait := r.Base, r.Max
	if base <= 0 {
		base = 500 * time.Millisecond
	}
	if maxWait <= 0 {
		maxWait = 8 * time.Second
	}
	backoff := base
	for attempt := 1; ; attempt++ {
		t, err := r.Source.Token(ctx, scope)
		if err == nil {
			return t, nil
		}
		wait, ok := retryAfter(err)
		if !ok {
			return nil, err
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
					var ee *EntraError
					if errors.As(err, &ee) {
						status = fmt.Sprintf(" answered HTTP %d and", ee.Status)
					}
					return nil, fmt.Errorf("gave up after %d attempt(s): the server%s asked to retry after %v (Retry-After), more than the %v left of the timeout: %w",
						attempt, status, wait, left.Round(100*time.Millisecond), err)
				}
				return nil, fmt.Errorf("gave up after %d attempt(s) within the timeout: %w", attempt, err)
			}
		}
		if r.Log != nil {
			r.Log(attempt, wait, err)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("gave up after %d attempt(s): %w", attempt, err)
		case <-timer.C:
		}
	}
}

// retryAfter reports whether err is transient and, if the server said so, how long to
// wait (0 = use backoff). Errors are classified by value, never by their text: a
// message quoting someone else's "EOF" or "connection refused" (a key-store plugin's
// stderr) is not a network failure.
func retryAfter(err error) (time.Duration, bool) {
	var ee *EntraError
	if errors.As(err, &ee) {
		if ee.Status == http.StatusTooManyRequests || ee.Status >= 500 {
			return parseRetryAfter(ee.RetryAfter, time.Now()), true
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
	kind   int
	Err    error
}

func (e *UnreachableError) Error() string {
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

// transportFailure reduces a permanent transport failure to one line a user can act on:
// the redirect itself, or an UnreachableError naming the host. It returns nil for
// anything else (answers, timeouts, dropped connections), which is left as it was.
func transportFailure(err error) error {
	reason, kind := permanentCause(err)
	switch kind {
	case failNone:
		return nil
	case failRedirect:
		var re *RedirectError
		errors.As(err, &re)
		return re
	}
	return &UnreachableError{Host: failedHost(err), Reason: reason, kind: kind, Err: err}
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
}

func (e *RedirectError) Error() string {
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
