package token

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
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
