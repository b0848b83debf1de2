package token

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	msalerrors "github.com/AzureAD/microsoft-authentication-library-for-go/apps/errors"
)

func TestRetryingRetriesTransientThenSucceeds(t *testing.T) {
	errs := []error{&EntraError{Status: 503}, &EntraError{Status: 502}}
	calls := 0
	src := Retrying{Base: time.Millisecond, Source: SourceFunc(func(ctx context.Context, scope string) (*Token, error) {
		calls++
		if len(errs) > 0 {
			e := errs[0]
			errs = errs[1:]
			return nil, e
		}
		return &Token{AccessToken: "ok"}, nil
	})}
	tok, err := src.Token(context.Background(), "s")
	if err != nil || tok.AccessToken != "ok" || calls != 3 {
		t.Fatalf("got %v %v after %d calls", tok, err, calls)
	}
}

func TestRetryingHonoursRetryAfter(t *testing.T) {
	first := true
	src := Retrying{Base: time.Millisecond, Source: SourceFunc(func(ctx context.Context, scope string) (*Token, error) {
		if first {
			first = false
			return nil, &EntraError{Status: 429, RetryAfter: "1"}
		}
		return &Token{AccessToken: "ok"}, nil
	})}
	start := time.Now()
	if _, err := src.Token(context.Background(), "s"); err != nil {
		t.Fatal(err)
	}
	if waited := time.Since(start); waited < time.Second {
		t.Fatalf("retried after %v, before Retry-After: 1", waited)
	}
}

func TestRetryingStopsOnPermanentAndDeadline(t *testing.T) {
	calls := 0
	perm := Retrying{Source: SourceFunc(func(ctx context.Context, scope string) (*Token, error) {
		calls++
		return nil, &EntraError{Status: 401, Code: 700027}
	})}
	if _, err := perm.Token(context.Background(), "s"); err == nil || calls != 1 {
		t.Fatalf("401 retried: calls=%d err=%v", calls, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	always := Retrying{Base: 50 * time.Millisecond, Source: SourceFunc(func(ctx context.Context, scope string) (*Token, error) {
		return nil, &EntraError{Status: 500}
	})}
	_, err := always.Token(ctx, "s")
	var ee *EntraError
	if !errors.As(err, &ee) || ee.Status != 500 || !strings.Contains(err.Error(), "gave up") {
		t.Fatalf("err = %v", err)
	}
	// A Retry-After longer than the time left fails at once instead of sleeping past the deadline.
	ctx2, cancel2 := context.WithTimeout(context.Background(), time.Second)
	defer cancel2()
	start := time.Now()
	long := Retrying{Source: SourceFunc(func(ctx context.Context, scope string) (*Token, error) {
		return nil, &EntraError{Status: 429, RetryAfter: "120"}
	})}
	if _, err := long.Token(ctx2, "s"); err == nil || time.Since(start) > 900*time.Millisecond {
		t.Fatalf("err=%v after %v", err, time.Since(start))
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for in, want := range map[string]time.Duration{
		"": 0, "3": 3 * time.Second, " 0 ": 0, "-1": 0, "junk": 0, "+5": 0,
		now.Add(10 * time.Second).Format(http.TimeFormat): 10 * time.Second,
		// Huge values are capped, not overflowed into "no wait" (then hammered by backoff).
		"86400": 24 * time.Hour, "9999999999": 24 * time.Hour, "99999999999999999999999": 24 * time.Hour,
		now.AddDate(5, 0, 0).Format(http.TimeFormat): 24 * time.Hour,
	} {
		if got := parseRetryAfter(in, now); got != want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestMapErrorEntraShape(t *testing.T) {
	body := `{"error":"invalid_client","error_description":"AADSTS700027: Client assertion contains an invalid signature. [Reason - The key was not found.]\r\nTrace ID: abc\r\nCorrelation ID: def\r\nTimestamp: 2026-01-01 00:00:00Z","error_codes":[700027],"trace_id":"abc","correlation_id":"def"}`
	err := mapEntraAnswer(401, body)
	var ee *EntraError
	if !errors.As(err, &ee) {
		t.Fatalf("not an EntraError: %v", err)
	}
	if ee.Code != 700027 || ee.TraceID != "abc" || ee.CorrelationID != "def" || ee.RequestID != "rid" {
		t.Fatalf("%+v", ee)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || strings.Contains(msg, "Trace ID") || !strings.Contains(msg, "AADSTS700027") || !strings.Contains(msg, "thumbprint") {
		t.Fatalf("message %q", msg)
	}
	// Non-JSON body (a proxy's HTML page) still gives one line with the status.
	err = mapEntraAnswer(502, "<html>bad gateway</html>")
	if !errors.As(err, &ee) || ee.Status != 502 || !strings.Contains(err.Error(), "HTTP 502") {
		t.Fatalf("err = %v", err)
	}
}

func TestRetryAfterClassifiesByValueNotText(t *testing.T) {
	if _, ok := retryAfter(io.ErrUnexpectedEOF); !ok {
		t.Fatal("unexpected EOF not retried")
	}
	if _, ok := retryAfter(&url.Error{Op: "Post", URL: "https://x", Err: io.EOF}); !ok {
		t.Fatal("dropped connection not retried")
	}
	if _, ok := retryAfter(errors.New(`plugin exited during Sign (it said: "unexpected EOF")`)); ok {
		t.Fatal("an error merely mentioning EOF was retried")
	}
}

// mapEntraAnswer is mapError of a token endpoint's answer with status and body, and
// request id "rid", for tenant "t" and client "c".
func mapEntraAnswer(status int, body string) error {
	u, _ := url.Parse("https://login.example/t/oauth2/v2.0/token")
	resp := &http.Response{StatusCode: status, Header: http.Header{"X-Ms-Request-Id": {"rid"}}, Body: io.NopCloser(bytes.NewReader([]byte(body)))}
	return mapError(msalerrors.CallErr{Req: &http.Request{URL: u}, Resp: resp, Err: errors.New("x")}, "t", "c")
}

// statusErr is an answer from some service other than Entra: Retry knows it only
// through HTTPStatusError.
type statusErr struct {
	status     int
	retryAfter string
}

func (e statusErr) Error() string           { return fmt.Sprintf("service answered HTTP %d", e.status) }
func (e statusErr) HTTPStatus() int         { return e.status }
func (e statusErr) RetryAfterValue() string { return e.retryAfter }

// Retry is the loop Retrying runs, for any call: transient answers of any service
// that exposes its status are retried, refusals end it at once, and every retry is
// logged with its attempt number.
func TestRetryAnyCall(t *testing.T) {
	var logged []int
	policy := RetryPolicy{Base: time.Millisecond, Log: func(attempt int, wait time.Duration, err error) {
		logged = append(logged, attempt)
	}}
	errs := []error{statusErr{status: 503}, fmt.Errorf("graph: %w", statusErr{status: 429}), io.ErrUnexpectedEOF, nil}
	calls := 0
	err := Retry(context.Background(), policy, func(ctx context.Context) error {
		calls++
		e := errs[0]
		errs = errs[1:]
		return e
	})
	if err != nil || calls != 4 || fmt.Sprint(logged) != "[1 2 3]" {
		t.Fatalf("err %v after %d calls, logged %v", err, calls, logged)
	}
	for _, status := range []int{400, 401, 403, 404, 409} {
		calls = 0
		err := Retry(context.Background(), policy, func(ctx context.Context) error {
			calls++
			return statusErr{status: status}
		})
		var se statusErr
		if !errors.As(err, &se) || se.status != status || calls != 1 {
			t.Fatalf("%d: err %v after %d calls", status, err, calls)
		}
	}
}

func TestRetryHonoursAnyServicesRetryAfter(t *testing.T) {
	if wait, ok := retryAfter(fmt.Errorf("addKey: %w", statusErr{status: 429, retryAfter: "7"})); !ok || wait != 7*time.Second {
		t.Fatalf("429 Retry-After: 7 read as %v, %v", wait, ok)
	}
	if _, ok := retryAfter(statusErr{status: 404, retryAfter: "7"}); ok {
		t.Fatal("404 retried")
	}
	// Past the deadline: given up at once, saying what the server asked and its status.
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	calls := 0
	start := time.Now()
	err := Retry(ctx, RetryPolicy{}, func(ctx context.Context) error {
		calls++
		return statusErr{status: 503, retryAfter: "120"}
	})
	if calls != 1 || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("%d calls in %v", calls, time.Since(start))
	}
	if msg := err.Error(); !strings.Contains(msg, "answered HTTP 503 and asked to retry after 2m0s (Retry-After)") {
		t.Fatalf("message %q", msg)
	}
}

// EntraError is one of those errors: Retrying's classification of it is Retry's.
func TestEntraErrorExposesStatusAndRetryAfter(t *testing.T) {
	var hs HTTPStatusError = &EntraError{Status: 429, RetryAfter: "3"}
	if hs.HTTPStatus() != 429 || hs.RetryAfterValue() != "3" {
		t.Fatalf("%d %q", hs.HTTPStatus(), hs.RetryAfterValue())
	}
}

// Another service's request names its own setting in the hint, not authorityHost; the
// token path's messages are unchanged.
func TestTransportFailureNamesTheSetting(t *testing.T) {
	const setting = "the Graph endpoint (graphEndpoint)"
	refused := msalWrapped("graph.example.invalid:443", dialErr(os.NewSyscallError("connect", syscall.ECONNREFUSED)))
	for _, c := range []struct {
		err  error
		want string
	}{
		{refused, "cannot reach graph.example.invalid:443: connection refused — check " + setting + ", any proxy (HTTPS_PROXY) and that the service is up"},
		{msalWrapped("graph.example.invalid:443", dialErr(&net.DNSError{Err: "no such host", Name: "graph.example.invalid", IsNotFound: true})),
			"cannot reach graph.example.invalid:443: no such host — check " + setting + " and this machine's DNS"},
		{msalWrapped("graph.example.invalid:443", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}),
			"cannot reach graph.example.invalid:443 over TLS: x509: certificate signed by unknown authority — check " + setting + ", the trusted CAs"},
		{&url.Error{Op: "Post", URL: "https://graph.example.invalid/v1.0/x", Err: &RedirectError{Host: "graph.example.invalid:443", Status: 307, Location: "https://elsewhere.example/x"}},
			"graph.example.invalid:443 answered HTTP 307 redirecting to https://elsewhere.example/x; entratool never follows redirects on credential requests: check " + setting},
	} {
		tf := TransportFailure(c.err, setting)
		if tf == nil || !strings.HasPrefix(tf.Error(), c.want) || strings.Contains(tf.Error(), "authorityHost") {
			t.Errorf("got %v, want it to start with %q", tf, c.want)
		}
	}
	if got, want := TransportFailure(refused, "").Error(), transportFailure(refused).Error(); got != want || !strings.Contains(got, "check authorityHost") {
		t.Errorf("no setting: %q, want the token path's %q", got, want)
	}
	if TransportFailure(io.EOF, setting) != nil {
		t.Error("a dropped connection reported as permanent")
	}
}

// headerTimeout is net/http's error for Transport.ResponseHeaderTimeout: a timeout that
// says it Is context.DeadlineExceeded.
type headerTimeout struct{}

func (headerTimeout) Error() string        { return "net/http: timeout awaiting response headers" }
func (headerTimeout) Timeout() bool        { return true }
func (headerTimeout) Is(target error) bool { return target == context.DeadlineExceeded }

// An attempt's own timeout is retried while the context runs; the context's end is not.
func TestRetryAttemptTimeoutButNotTheContexts(t *testing.T) {
	timeout := &url.Error{Op: "Post", URL: "https://graph.example.invalid/v1.0/x", Err: headerTimeout{}}
	calls := 0
	err := Retry(context.Background(), RetryPolicy{Base: time.Millisecond}, func(ctx context.Context) error {
		calls++
		if calls == 1 {
			return timeout
		}
		return nil
	})
	if err != nil || calls != 2 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	calls = 0
	err = Retry(ctx, RetryPolicy{Base: time.Millisecond}, func(ctx context.Context) error {
		calls++
		return &url.Error{Op: "Post", URL: "https://x", Err: context.DeadlineExceeded}
	})
	if !errors.Is(err, context.DeadlineExceeded) || calls != 1 {
		t.Fatalf("err %v after %d calls", err, calls)
	}
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	calls = 0
	_ = Retry(expired, RetryPolicy{Base: time.Millisecond}, func(ctx context.Context) error {
		calls++
		return timeout
	})
	if calls != 1 {
		t.Fatalf("%d calls after the context's end", calls)
	}
}
