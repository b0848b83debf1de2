package token

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// certFileServer is a TLS server that echoes the request body, with PEM files for its
// own certificate and for an unrelated CA. conns counts the connections it accepted.
func certFileServer(t *testing.T) (srv *httptest.Server, own, other string, conns *atomic.Int32) {
	t.Helper()
	srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.Write(b)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused first handshakes
	conns = new(atomic.Int32)
	// Set before the server starts: its goroutines read it.
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	dir := t.TempDir()
	own = filepath.Join(dir, "own.pem")
	os.WriteFile(own, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "unrelated CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	other = filepath.Join(dir, "other.pem")
	os.WriteFile(other, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	return srv, own, other, conns
}

// refusing is a transport that trusts nothing: a request that reaches it fails.
func refusing() *http.Transport {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = &tls.Config{RootCAs: x509.NewCertPool()}
	t.Proxy = nil
	return t
}

func post(t *testing.T, rt http.RoundTripper, url, body string) (string, error) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	resp, err := rt.RoundTrip(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b), nil
}

func TestCertFileFirstTrustsTheFileAlone(t *testing.T) {
	srv, own, _, _ := certFileServer(t)
	rt := &certFileTransport{system: refusing(), file: own}
	got, err := post(t, rt, srv.URL, "assertion=x")
	if err != nil || got != "assertion=x" {
		t.Fatalf("got %q, %v", got, err)
	}
}

// The errors are crypto/tls's own, word for word.
func TestCertFileFirstErrorsAreCryptoTLSs(t *testing.T) {
	srv, own, other, _ := certFileServer(t)
	plain := http.DefaultTransport.(*http.Transport).Clone()
	plain.Proxy = nil
	for name, c := range map[string]struct{ url, file string }{
		"unknown authority": {srv.URL, other},
		"wrong name":        {strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), own},
	} {
		_, want := post(t, plain, c.url, "x")
		_, got := post(t, &certFileTransport{system: refusing(), file: c.file}, c.url, "x")
		var cve *tls.CertificateVerificationError
		if want == nil || got == nil || got.Error() != want.Error() || !errors.As(got, &cve) {
			t.Errorf("%s: got %v, want %v", name, got, want)
		}
	}
	var ua x509.UnknownAuthorityError
	if err := verifyChain([]*x509.Certificate{srv.Certificate()}, "127.0.0.1", x509.NewCertPool()); !errors.As(err, &ua) {
		t.Errorf("verifyChain: %v", err)
	}
}

// A chain SSL_CERT_FILE does not vouch for is verified against the system pool, in the
// same handshake. The system pool is read once per process, so this runs in a child
// whose SSL_CERT_DIR holds the server's certificate.
func TestCertFileFirstFallsBackToTheSystemPool(t *testing.T) {
	if url := os.Getenv("CERTFILE_TEST_URL"); url != "" {
		rt := &certFileTransport{system: refusing(), file: os.Getenv("SSL_CERT_FILE")}
		if got, err := post(t, rt, url, "client_assertion=abc"); err != nil || got != "client_assertion=abc" {
			t.Fatalf("got %q, %v", got, err)
		}
		return
	}
	srv, own, other, conns := certFileServer(t)
	cmd := exec.Command(os.Args[0], "-test.run=^TestCertFileFirstFallsBackToTheSystemPool$", "-test.count=1")
	cmd.Env = append(os.Environ(), "CERTFILE_TEST_URL="+srv.URL, "SSL_CERT_FILE="+other, "SSL_CERT_DIR="+filepath.Dir(own))
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections, want 1", n)
	}
}

func TestCertFileFirstWhenItDoesNotApply(t *testing.T) {
	srv, _, _, _ := certFileServer(t)
	// No usable file: the system transport answers.
	empty := filepath.Join(t.TempDir(), "empty.pem")
	os.WriteFile(empty, []byte("no certificates here\n"), 0o600)
	for _, file := range []string{empty, filepath.Join(t.TempDir(), "missing.pem")} {
		rt := &certFileTransport{system: refusing(), file: file}
		if _, err := post(t, rt, srv.URL, "x"); err == nil || !strings.Contains(err.Error(), "unknown authority") {
			t.Fatalf("%s: %v, want the system transport's refusal", file, err)
		}
	}
	t.Setenv("SSL_CERT_FILE", "")
	base := http.DefaultTransport.(*http.Transport).Clone()
	if certFileFirst(base) != http.RoundTripper(base) {
		t.Fatal("without SSL_CERT_FILE the transport is used as is")
	}
}
