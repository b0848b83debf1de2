package token

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/internal/testkit"
)

// msalWrapped wraps a transport error the way net/http and MSAL Go v1.10 do on the
// way to AcquireTokenByCredential's caller.
func msalWrapped(host string, err error) error {
	ue := &url.Error{Op: "Get", URL: "https://" + host + "/t/v2.0/.well-known/openid-configuration?", Err: err}
	return fmt.Errorf("unable to resolve an endpoint: %w", fmt.Errorf("server response error:\n %w", ue))
}

func dialErr(err error) error {
	return &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 9}, Err: err}
}

func TestRetryClassifiesTransportErrorsByValue(t *testing.T) {
	leaf := &x509.Certificate{DNSNames: []string{"login.example.invalid"}}
	for _, c := range []struct {
		name    string
		err     error
		retried bool
	}{
		{"refused", dialErr(os.NewSyscallError("connect", syscall.ECONNREFUSED)), false},
		{"no such host", dialErr(&net.DNSError{Err: "no such host", Name: "login.example.invalid", IsNotFound: true}), false},
		{"DNS server misbehaving", dialErr(&net.DNSError{Err: "server misbehaving", Name: "login.example.invalid"}), false},
		{"DNS timeout", dialErr(&net.DNSError{Err: "i/o timeout", Name: "login.example.invalid", IsTimeout: true}), true},
		{"DNS temporary", dialErr(&net.DNSError{Err: "try again", Name: "login.example.invalid", IsTemporary: true}), true},
		{"unknown CA", &tls.CertificateVerificationError{Err: x509.UnknownAuthorityError{}}, false},
		{"wrong host", &tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: leaf, Host: "localhost"}}, false},
		{"expired", &tls.CertificateVerificationError{Err: x509.CertificateInvalidError{Cert: leaf, Reason: x509.Expired}}, false},
		{"not TLS", tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake"}, false},
		{"dial timeout", dialErr(os.ErrDeadlineExceeded), true},
		{"reset", &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{"EOF", io.EOF, true},
		{"unexpected EOF", io.ErrUnexpectedEOF, true},
	} {
		_, got := retryAfter(msalWrapped("login.example.invalid:443", c.err))
		if got != c.retried {
			t.Errorf("%s: retried = %v, want %v", c.name, got, c.retried)
		}
	}
	// By value, not by text: words alone are not a refused connection.
	if _, ok := retryAfter(errors.New("dial tcp 127.0.0.1:9: connect: connection refused")); ok {
		t.Error("an error merely saying 'connection refused' was retried")
	}
}

// secretProfileProvider wires the real pipeline (cache, single flight, retries, MSAL)
// for a client-secret profile whose authority is authority.
func secretProfileProvider(t *testing.T, authority string, o Options) *Provider {
	t.Helper()
	p := &profile.Profile{Name: "p", ClientID: testkit.ClientID, TenantID: testkit.TenantID,
		AuthorityHost: authority, Scope: "https://graph.microsoft.com/.default"}
	env := map[string]string{"ENTRATOOL_SECRET_STORE": "env", "ENTRATOOL_CLIENT_SECRET": "Not-Sent-Anywhere-5x"}
	o.Home = t.TempDir()
	o.Getenv = func(k string) string { return env[k] }
	return NewProvider(p, o)
}

// get-token's pipeline against a refused port: MSAL's wrapping keeps the
// *net.OpError reachable, so the refusal is not retried for the whole timeout.
func TestTokenAgainstRefusedPortFailsFast(t *testing.T) {
	addr := testkit.ClosedAddr(t)
	pr := secretProfileProvider(t, "https://"+addr, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := pr.Token(ctx, pr.Scope(""), false)
	took := time.Since(start)
	t.Logf("refused port: %v after %v", err, took.Round(time.Millisecond))
	if err == nil {
		t.Fatal("got a token from a closed port")
	}
	if took > 2*time.Second {
		t.Fatalf("took %v to report a refused connection", took)
	}
	var oe *net.OpError
	if !errors.As(err, &oe) || !errors.Is(err, syscall.ECONNREFUSED) {
		t.Fatalf("the transport error is lost: %#v", err)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, addr) || !strings.Contains(msg, "connection refused") {
		t.Fatalf("message %q: want one line naming %s and the refusal", msg, addr)
	}
}

// tenantServer is an httptest TLS authority for one tenant: OIDC metadata whose
// endpoints are its own, and a token endpoint answered by token. It counts requests.
type tenantServer struct {
	*httptest.Server
	hits atomic.Int32
}

const testTenant = testkit.TenantID

func newTenantServer(t *testing.T, metadata, token http.HandlerFunc) *tenantServer {
	t.Helper()
	ts := &tenantServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		if metadata != nil {
			metadata(w, r)
			return
		}
		base := ts.URL + "/" + testTenant
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token_endpoint":%q,"authorization_endpoint":%q,"issuer":%q,"jwks_uri":%q}`,
			base+"/oauth2/v2.0/token", base+"/oauth2/v2.0/authorize", base+"/v2.0", base+"/discovery/v2.0/keys")
	})
	if token == nil {
		token = func(w http.ResponseWriter, r *http.Request) { http.Error(w, "{}", http.StatusBadRequest) }
	}
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", token)
	ts.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ts.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	// Refused handshakes are what some tests are about: keep them out of the log.
	ts.Config.ErrorLog = log.New(io.Discard, "", 0)
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return ts
}

func redirectTo(target string, status int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target, status)
	}
}

// checkRedirectError asserts err is the one-line refusal naming both hosts.
func checkRedirectError(t *testing.T, what string, err error, from, to *httptest.Server, status int) {
	t.Helper()
	var re *RedirectError
	if !errors.As(err, &re) {
		t.Fatalf("%s: %v, want a *RedirectError", what, err)
	}
	msg := err.Error()
	fromHost, toHost := strings.TrimPrefix(from.URL, "https://"), strings.TrimPrefix(to.URL, "https://")
	if re.Host != fromHost || re.Status != status || strings.Contains(msg, "\n") || !strings.Contains(msg, fromHost) ||
		!strings.Contains(msg, toHost) || !strings.Contains(msg, fmt.Sprintf("HTTP %d", status)) {
		t.Fatalf("%s: %+v: %q", what, re, msg)
	}
}

func TestNewHTTPClientNeverFollowsRedirects(t *testing.T) {
	target := newTenantServer(t, nil, nil)
	for _, status := range []int{301, 302, 303, 307, 308} {
		from := httptest.NewTLSServer(redirectTo(target.URL+"/stolen?x=1", status))
		defer from.Close()
		// httptest servers share one certificate: from's client trusts target too, so
		// a followed redirect would arrive.
		c := NewHTTPClient(HTTPOptions{Base: from.Client().Transport})
		resp, err := c.Post(from.URL+"/t/oauth2/v2.0/token", "application/x-www-form-urlencoded", strings.NewReader("client_secret=Never-Forwarded"))
		if err == nil {
			resp.Body.Close()
		}
		checkRedirectError(t, fmt.Sprint(status), err, from, target.Server, status)
		if _, kind := permanentCause(err); kind != failRedirect {
			t.Fatalf("%d: a redirect classified as %d", status, kind)
		}
	}
	if n := target.hits.Load(); n != 0 {
		t.Fatalf("the redirect target received %d requests", n)
	}
}

// MSAL gets the refusal whatever client it is handed: the token endpoint's and the
// metadata's redirects are not followed, and not retried.
func TestEntraSourceRefusesRedirects(t *testing.T) {
	target := newTenantServer(t, nil, nil)
	cred, err := confidential.NewCredFromSecret("Never-Forwarded")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		what            string
		metadata, token http.HandlerFunc
	}{
		{"token endpoint", nil, redirectTo(target.URL+"/"+testTenant+"/oauth2/v2.0/token", 307)},
		{"metadata", redirectTo(target.URL+"/"+testTenant+"/v2.0/.well-known/openid-configuration", 307), nil},
	} {
		from := newTenantServer(t, c.metadata, c.token)
		// A caller's client that would follow redirects, as http.Client does by default.
		follower := &http.Client{Transport: from.Client().Transport}
		src := Retrying{Base: time.Millisecond, Source: &EntraSource{Authority: from.URL, TenantID: testTenant, ClientID: testkit.ClientID,
			Credential: cred, HTTPClient: follower}}
		_, err := src.Token(context.Background(), "https://graph.microsoft.com/.default")
		checkRedirectError(t, c.what, err, from.Server, target.Server, 307)
		want := int32(2) // metadata, then the token request
		if c.token == nil {
			want = 1
		}
		if n := from.hits.Load(); n != want {
			t.Fatalf("%s: %d requests to the authority, want %d (no retries)", c.what, n, want)
		}
	}
	if n := target.hits.Load(); n != 0 {
		t.Fatalf("the redirect target received %d requests", n)
	}
}

// An unknown host fails at once through MSAL, named with its port. The lookup is
// answered by a dialer injected through HTTPOptions.Base: nothing leaves the machine.
func TestTokenForUnknownHostFailsFast(t *testing.T) {
	const host = "login.entratool-test.invalid"
	dials := 0
	base := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials++
		name, _, _ := net.SplitHostPort(addr)
		return nil, &net.OpError{Op: "dial", Net: network, Err: &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}}
	}}
	pr := secretProfileProvider(t, "https://"+host, Options{HTTPClient: NewHTTPClient(HTTPOptions{Base: base})})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := pr.Token(ctx, pr.Scope(""), false)
	took := time.Since(start)
	t.Logf("unknown host: %v after %v", err, took.Round(time.Millisecond))
	var dns *net.DNSError
	if !errors.As(err, &dns) || !dns.IsNotFound || took > 2*time.Second || dials != 1 {
		t.Fatalf("err %v after %v and %d dials", err, took, dials)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, host+":443") || !strings.Contains(msg, "no such host") {
		t.Fatalf("message %q", msg)
	}
}

// A certificate from a CA nobody trusts fails at once, naming the host and the x509
// reason.
func TestTokenFromUntrustedServerFailsFast(t *testing.T) {
	srv := newTenantServer(t, nil, nil)
	base := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}
	pr := secretProfileProvider(t, srv.URL, Options{HTTPClient: NewHTTPClient(HTTPOptions{Base: base})})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, err := pr.Token(ctx, pr.Scope(""), false)
	took := time.Since(start)
	var ua x509.UnknownAuthorityError
	if !errors.As(err, &ua) || took > 2*time.Second {
		t.Fatalf("err %v after %v", err, took)
	}
	msg := err.Error()
	if strings.Contains(msg, "\n") || !strings.Contains(msg, strings.TrimPrefix(srv.URL, "https://")) || !strings.Contains(msg, "unknown authority") {
		t.Fatalf("message %q", msg)
	}
	if n := srv.hits.Load(); n != 0 {
		t.Fatalf("%d requests got through an untrusted handshake", n)
	}
}

func TestRetryAfterBeyondTheDeadlineSaysSo(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	calls := 0
	src := Retrying{Source: SourceFunc(func(ctx context.Context, scope string) (*Token, error) {
		calls++
		return nil, &EntraError{Status: 429, RetryAfter: "120"}
	})}
	start := time.Now()
	_, err := src.Token(ctx, "s")
	var ee *EntraError
	if !errors.As(err, &ee) || calls != 1 || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("err %v after %d calls and %v", err, calls, time.Since(start))
	}
	if msg := err.Error(); !strings.Contains(msg, "Retry-After") || !strings.Contains(msg, "2m0s") {
		t.Fatalf("message %q does not say the server asked for more than the time left", msg)
	}
}

// Each permanent failure becomes one line naming host:port and the cause, with what a
// server put into it (a certificate's names) escaped; errors.As still reaches the cause.
func TestTransportFailureIsOneLineNamingTheHost(t *testing.T) {
	hostile := &x509.Certificate{DNSNames: []string{"evil\x1b[2J.example"}}
	for _, c := range []struct {
		err  error
		want string
	}{
		{dialErr(os.NewSyscallError("connect", syscall.ECONNREFUSED)), "cannot reach login.example.invalid:443: connection refused"},
		{dialErr(os.NewSyscallError("connect", syscall.EHOSTUNREACH)), "cannot reach login.example.invalid:443: no route to host"},
		{dialErr(&net.DNSError{Err: "no such host", Name: "login.example.invalid", IsNotFound: true}), "cannot reach login.example.invalid:443: no such host"},
		{&tls.CertificateVerificationError{Err: x509.HostnameError{Certificate: hostile, Host: "login.example.invalid"}}, "cannot reach login.example.invalid:443 over TLS: x509: certificate is valid for evil"},
	} {
		tf := transportFailure(msalWrapped("login.example.invalid:443", c.err))
		if tf == nil {
			t.Fatalf("%v: not a permanent failure", c.err)
		}
		msg := tf.Error()
		if !strings.HasPrefix(msg, c.want) || strings.ContainsAny(msg, "\n\x1b") {
			t.Errorf("%q, want it to start with %q, on one line, escaped", msg, c.want)
		}
		if !errors.Is(tf, c.err) {
			t.Errorf("%q: the cause is not reachable with errors.Is", msg)
		}
	}
	// Timeouts, dropped connections and answers are not this kind of failure.
	for _, err := range []error{dialErr(os.ErrDeadlineExceeded), io.EOF, &EntraError{Status: 503}} {
		if tf := transportFailure(msalWrapped("login.example.invalid:443", err)); tf != nil {
			t.Errorf("%v: reported as %q", err, tf)
		}
	}
}
