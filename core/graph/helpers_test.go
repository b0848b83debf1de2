package graph

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entratool/entratool/core/token"
)

const (
	testObjectID = "5c5f2a1e-7d1b-4f0e-9a53-2b8e0c6d4f11"
	testKeyID    = "f0b1c2d3-e4f5-4a6b-8c7d-9e0f1a2b3c4d"
	testToken    = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJncmFwaCJ9.c2ln"
)

type keyPair struct {
	key  *rsa.PrivateKey
	cert *x509.Certificate
}

// Two certificates for the whole test binary: RSA key generation is the slow part.
var testPairs = sync.OnceValues(func() ([2]keyPair, error) {
	var out [2]keyPair
	for i, cn := range []string{"entratool-graph-test", "entratool-graph-other"} {
		key, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return out, err
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 1)),
			Subject:      pkix.Name{CommonName: cn},
			NotBefore:    time.Now().Add(-time.Hour),
			NotAfter:     time.Now().Add(24 * time.Hour),
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
		if err != nil {
			return out, err
		}
		c, err := x509.ParseCertificate(der)
		if err != nil {
			return out, err
		}
		out[i] = keyPair{key, c}
	}
	return out, nil
})

func pairs(t testing.TB) [2]keyPair {
	t.Helper()
	p, err := testPairs()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// graphServer is an httptest TLS Graph: handler answers, every request is counted and
// its body kept.
type graphServer struct {
	*httptest.Server
	hits atomic.Int32
	mu   sync.Mutex
	reqs []recorded
}

type recorded struct {
	method, path, rawQuery string
	header                 http.Header
	body                   string
}

func newGraphServer(t *testing.T, handler http.HandlerFunc) *graphServer {
	t.Helper()
	gs := &graphServer{}
	gs.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gs.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		gs.mu.Lock()
		gs.reqs = append(gs.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), string(body)})
		gs.mu.Unlock()
		handler(w, r)
	}))
	gs.Config.ErrorLog = log.New(io.Discard, "", 0)
	gs.StartTLS()
	t.Cleanup(gs.Close)
	return gs
}

func (gs *graphServer) requests() []recorded {
	gs.mu.Lock()
	defer gs.mu.Unlock()
	return append([]recorded(nil), gs.reqs...)
}

// client is a Client of gs as cert renew wires one: token.NewHTTPClient over a
// transport that trusts gs, a fixed token, fast backoff.
func (gs *graphServer) client() *Client {
	return &Client{
		Endpoint: gs.URL,
		HTTP:     token.NewHTTPClient(token.HTTPOptions{Base: gs.Client().Transport}),
		Token:    func(ctx context.Context) (string, error) { return testToken, nil },
		retry:    token.RetryPolicy{Base: 10 * time.Millisecond, Max: 50 * time.Millisecond},
	}
}

// answers replies with each answer in turn, repeating the last.
func answers(list ...func(w http.ResponseWriter, r *http.Request)) http.HandlerFunc {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		if i >= len(list) {
			i = len(list) - 1
		}
		list[i](w, r)
	}
}

func reply(status int, body string, header ...string) func(w http.ResponseWriter, r *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/json")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// graphError is Graph's error document.
func graphError(code, message, requestID string) string {
	return `{"error":{"code":"` + code + `","message":"` + message + `","innerError":{"date":"2026-12-03T10:00:00","request-id":"` + requestID + `","client-request-id":"x"}}}`
}

// drop closes the connection without an answer.
func drop(w http.ResponseWriter, r *http.Request) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

func oneLine(t *testing.T, msg string) {
	t.Helper()
	if strings.ContainsAny(msg, "\r\n\x1b\x07") || strings.ContainsRune(msg, '\u202e') {
		t.Fatalf("message not one escaped line: %q", msg)
	}
}
