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
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Retrying wraps a Source so that throttling (429), server errors (5xx) and dropped
// connections are retried with exponential backoff, honouring Retry-After, until the
// context ends. Each attempt goes through the Source again, so every retried request
// carries a fresh client assertion (a new jti).
type Retrying struct {
	Source Source
	// Base and Max bound the backoff; zero means 500 ms and 8 s.
	Base, Max time.Duration
	// Log is told about every retry (optional).
	Log func(attempt int, wait time.Duration, err error)
}

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
		if wait <= 0 {
			wait = backoff
			backoff = min(backoff*2, maxWait)
		}
		if dl, has := ctx.Deadline(); has && time.Until(dl) < wait {
			return nil, fmt.Errorf("gave up after %d attempt(s) within the timeout: %w", attempt, err)
		}
		if r.Log != nil {
			r.Log(attempt, wait, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("gave up after %d attempt(s): %w", attempt, err)
		case <-time.After(wait):
		}
	}
}

// retryAfter reports whether err is transient and, if the server said so, how long to
// wait (0 = use backoff).
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
	// TLS and certificate problems do not heal by retrying.
	var ua x509.UnknownAuthorityError
	var hn x509.HostnameError
	var ci x509.CertificateInvalidError
	var rec tls.RecordHeaderError
	var tlsErr *tls.CertificateVerificationError
	if errors.As(err, &ua) || errors.As(err, &hn) || errors.As(err, &ci) || errors.As(err, &rec) || errors.As(err, &tlsErr) {
		return 0, false
	}
	var ne net.Error
	var oe *net.OpError
	if errors.As(err, &oe) || errors.As(err, &ne) {
		return 0, true
	}
	// A dropped connection; matched by value, not by text, so that an error quoting
	// someone else's "EOF" (a key-store plugin's stderr) is not retried.
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) {
		return 0, true
	}
	return 0, false
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}
