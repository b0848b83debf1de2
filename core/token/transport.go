package token

import (
	"bytes"
	"crypto/fips140"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/entratool/entratool/core/fsutil"
)

// MetadataTTL is how long OIDC metadata fetched from an authority is reused from disk.
const MetadataTTL = 24 * time.Hour

// HTTPOptions configures NewHTTPClient.
type HTTPOptions struct {
	// CacheDir, when set, keeps OIDC metadata documents on disk for MetadataTTL so that a
	// cold token costs one request instead of two.
	CacheDir string
	Logger   *slog.Logger
	Now      func() time.Time
	// Base is the transport to wrap; nil means a clone of http.DefaultTransport, which
	// honours HTTPS_PROXY/NO_PROXY and (on Linux) SSL_CERT_FILE/SSL_CERT_DIR, trying
	// SSL_CERT_FILE's certificates alone first (certFileFirst).
	Base http.RoundTripper
}

// NewHTTPClient returns the client every entratool request to an authority or registry
// goes through. It never follows a redirect (SPEC §12): every such request carries a
// secret, an assertion or a token, and a 307 would re-post it to another host.
func NewHTTPClient(o HTTPOptions) *http.Client {
	base := o.Base
	if base == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.DialContext = (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext
		t.TLSHandshakeTimeout = 10 * time.Second
		t.ResponseHeaderTimeout = 60 * time.Second
		base = certFileFirst(t)
	}
	rt := base
	if o.Logger != nil {
		rt = &loggingTransport{next: rt, log: o.Logger}
	}
	if o.CacheDir != "" {
		rt = &metadataTransport{next: rt, dir: filepath.Join(o.CacheDir, "metadata"), now: o.Now}
	}
	return &http.Client{Transport: rt, CheckRedirect: refuseRedirect}
}

// certFileFirst spares a process the system root pool when SSL_CERT_FILE is set (on
// Linux). crypto/x509 builds that pool, on the first handshake, from SSL_CERT_FILE *and*
// every file of the certificate directories (/etc/ssl/certs: some 300 files on Debian,
// all parsed and kept): about 3 MB of a cold token's peak RSS, to verify one chain.
//
// The returned transport verifies a server's chain the way crypto/tls does (same
// options, same error), first against SSL_CERT_FILE's certificates alone, a subset of
// the system pool, so whatever that accepts the system pool accepts too; only a chain
// that fails there (say, a public root that is only in the directory) is verified
// again against the whole system pool, in the same handshake. What is trusted, and
// every error, stay as they were. Requests through a proxy, to a host that is not
// plain ASCII, or in FIPS 140 mode go to t as before.
func certFileFirst(t *http.Transport) http.RoundTripper {
	file := os.Getenv("SSL_CERT_FILE")
	if runtime.GOOS != "linux" || file == "" || fips140.Enabled() {
		return t
	}
	return &certFileTransport{system: t, file: file}
}

type certFileTransport struct {
	system *http.Transport // crypto/tls's own verification against the system pool
	file   string

	once  sync.Once
	roots *x509.CertPool // file's certificates; nil if it has none

	mu     sync.Mutex
	byHost map[string]*http.Transport // a clone of system verifying with verifyChain
}

func (c *certFileTransport) fileRoots() *x509.CertPool {
	c.once.Do(func() {
		if data, err := os.ReadFile(c.file); err == nil {
			if pool := x509.NewCertPool(); pool.AppendCertsFromPEM(data) {
				c.roots = pool
			}
		}
	})
	return c.roots
}

func (c *certFileTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	host := req.URL.Hostname()
	if req.URL.Scheme != "https" || !plainASCII(host) || c.fileRoots() == nil {
		return c.system.RoundTrip(req)
	}
	if c.system.Proxy != nil {
		if p, err := c.system.Proxy(req); err != nil || p != nil {
			return c.system.RoundTrip(req)
		}
	}
	return c.transportFor(host).RoundTrip(req)
}

// transportFor returns the transport for one host: its connections verify the chain
// themselves (verifyChain), with host as the name, which crypto/tls would take from
// the ServerName net/http sets; InsecureSkipVerify only hands that check over.
func (c *certFileTransport) transportFor(host string) *http.Transport {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t := c.byHost[host]; t != nil {
		return t
	}
	t := c.system.Clone()
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.InsecureSkipVerify = true
	t.TLSClientConfig.VerifyConnection = func(cs tls.ConnectionState) error {
		return verifyChain(cs.PeerCertificates, host, c.roots)
	}
	if c.byHost == nil {
		c.byHost = map[string]*http.Transport{}
	}
	c.byHost[host] = t
	return t
}

// verifyChain is crypto/tls's verification of a server's chain (verifyServerCertificate)
// with roots tried before the system pool.
func verifyChain(certs []*x509.Certificate, host string, roots *x509.CertPool) error {
	if len(certs) == 0 {
		return errors.New("tls: server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, DNSName: host, Intermediates: x509.NewCertPool()}
	for _, cert := range certs[1:] {
		opts.Intermediates.AddCert(cert)
	}
	if _, err := certs[0].Verify(opts); err == nil {
		return nil
	}
	opts.Roots = nil // the system pool
	if _, err := certs[0].Verify(opts); err != nil {
		return &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return nil
}

func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return s != ""
}

// CloseIdleConnections lets http.Client.CloseIdleConnections reach every transport.
func (c *certFileTransport) CloseIdleConnections() {
	c.mu.Lock()
	for _, t := range c.byHost {
		t.CloseIdleConnections()
	}
	c.mu.Unlock()
	c.system.CloseIdleConnections()
}

// loggingTransport writes one debug line per request: method, URL without query,
// status, and the ids Microsoft support asks for. Never bodies or headers that carry
// credentials.
type loggingTransport struct {
	next http.RoundTripper
	log  *slog.Logger
}

func (t *loggingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := t.next.RoundTrip(req)
	u := req.URL.Scheme + "://" + req.URL.Host + req.URL.Path
	if err != nil {
		t.log.Debug("http", "method", req.Method, "url", u, "error", err.Error(), "elapsed", time.Since(start).Round(time.Millisecond))
		return nil, err
	}
	t.log.Debug("http", "method", req.Method, "url", u, "status", resp.StatusCode,
		"x-ms-request-id", resp.Header.Get("x-ms-request-id"),
		"client-request-id", firstNonEmpty(resp.Header.Get("client-request-id"), req.Header.Get("client-request-id")),
		"elapsed", time.Since(start).Round(time.Millisecond))
	return resp, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// metadataTransport serves GETs of OIDC discovery documents from disk while fresh.
type metadataTransport struct {
	next http.RoundTripper
	dir  string
	now  func() time.Time
}

// read returns a cached document if the cache passes the trust rules: a document
// planted by another user could name their server as the token endpoint, which would
// then receive the client secret or a signed assertion.
func (t *metadataTransport) read(path string) ([]byte, os.FileInfo, error) {
	if err := fsutil.CheckDirs(filepath.Dir(t.dir), t.dir); err != nil {
		return nil, nil, err
	}
	f, fi, err := fsutil.OpenPrivate(path, fsutil.NoFollow)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 1<<20))
	return data, fi, err
}

// sameHostEndpoint reports whether a cached discovery document sends tokens to the
// authority it was fetched from. Entra's always does; a document that names another
// host was not written by us and is ignored.
func sameHostEndpoint(doc []byte, authority *url.URL) bool {
	var m struct {
		TokenEndpoint string `json:"token_endpoint"`
	}
	if json.Unmarshal(doc, &m) != nil {
		return false
	}
	u, err := url.Parse(m.TokenEndpoint)
	return err == nil && u.Scheme == authority.Scheme && strings.EqualFold(u.Host, authority.Host)
}

func (t *metadataTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet || !strings.HasSuffix(req.URL.Path, "/.well-known/openid-configuration") {
		return t.next.RoundTrip(req)
	}
	sum := sha256.Sum256([]byte(req.URL.String()))
	path := filepath.Join(t.dir, hex.EncodeToString(sum[:16])+".json")
	now := time.Now
	if t.now != nil {
		now = t.now
	}
	if data, fi, err := t.read(path); err == nil && now().Sub(fi.ModTime()) < MetadataTTL {
		if len(data) > 0 && sameHostEndpoint(data, req.URL) {
			return &http.Response{
				Status: "200 OK", StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
				Header:        http.Header{"Content-Type": {"application/json"}},
				Body:          io.NopCloser(bytes.NewReader(data)),
				ContentLength: int64(len(data)),
				Request:       req,
			}, nil
		}
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		return resp, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(data))
	// A failure to cache only costs a request next time.
	if fsutil.EnsurePrivateDirs(filepath.Dir(t.dir), t.dir) == nil {
		_ = fsutil.WriteFileAtomic(path, data, 0o600)
	}
	return resp, nil
}
