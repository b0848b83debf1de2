// Package emulator is a local Microsoft Entra ID token service over HTTPS on 127.0.0.1,
// strict enough that MSAL Go and entratool can be tested end to end against it: OIDC
// metadata, JWKS, and the v2.0 token endpoint for the client-credentials grant with
// certificate assertions or client secrets, answering refusals in Entra's own shape.
//
// The emulator owns a per-run CA and a token-signing key. Other fake services (git,
// Kubernetes API, container registry) run as further listeners through StartServer,
// present leaves from ServerTLSConfig, and check bearer tokens with Validate or
// RequireToken, so that everything in a test trusts one CA file and one issuer.
package emulator

import (
	"bufio"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/entratool/entratool/core/fsutil"
)

// Options configure Start. Zero values give the defaults.
type Options struct {
	Addr          string                           // default "127.0.0.1:0"
	Dir           string                           // where ca.pem is written; default a new temp dir, removed by Close
	TokenLifetime time.Duration                    // default 1h; access tokens' exp = now + this
	Now           func() time.Time                 // default time.Now (for clock-skew tests)
	Logf          func(format string, args ...any) // optional request log; never given secrets
	// SigningKey, when set, is used as the token-signing key instead of a fresh RSA-2048
	// key, so a test binary can share one key across many emulators, or a long-running
	// demo keep its JWKS stable across restarts.
	SigningKey *rsa.PrivateKey
}

// App is an app registration as the portal would hold it.
type App struct {
	TenantID     string
	ClientID     string
	Certificates []*x509.Certificate // registered public certs ("uploaded" to the app registration)
	Secrets      []string            // valid client secrets
	// ExpiredSecrets are secrets whose end date has passed: presenting one draws
	// AADSTS7000222 rather than AADSTS7000215.
	ExpiredSecrets []string
}

// Counts are request counters on the authority listener.
type Counts struct {
	Metadata    int // GET …/.well-known/openid-configuration
	Token       int // every request to the token endpoint, faulted ones included
	TokenIssued int // successful token responses
	Total       int // every request the authority listener answered
}

// Fault is one injected failure of the token endpoint, applied before any validation so
// that a faulted request consumes no jti.
type Fault struct {
	Status     int           // e.g. 503, 429, 500; with Body and no Status, 200
	RetryAfter string        // Retry-After header value
	Delay      time.Duration // sleep before answering (respecting the request's context); alone, the request then proceeds normally
	Drop       bool          // hijack and close the connection without a response
	Body       string        // raw body (e.g. truncated or non-JSON) instead of the default Entra-style error JSON
	// Redirect, when set, answers with this Location and no body, as an authority moved
	// (or a hostile proxy) would: HTTP 307 unless Status is another 3xx code. A client
	// that follows it re-posts the client secret or assertion to Location.
	Redirect string
}

// Emulator is a running authority. Its methods are safe for concurrent use.
type Emulator struct {
	URL    string // authority host, e.g. https://127.0.0.1:43121 (no trailing slash)
	CAFile string // PEM of the per-run CA, for SSL_CERT_FILE
	CAPool *x509.CertPool

	now      func() time.Time
	lifetime time.Duration
	logf     func(format string, args ...any)
	pki      *pki
	signer   *signer
	client   *http.Client
	srv      *http.Server
	tempDir  string // removed by Close when the emulator made it
	done     chan struct{}
	closeErr error
	once     sync.Once

	mu        sync.Mutex
	tenants   map[string]*tenant // by lower-cased id and domain names
	apps      map[string]*app    // by tenant id + "/" + lower-cased client id
	jtis      map[string]map[string]time.Time
	counts    Counts
	faults    []Fault
	permanent *Fault
	servers   []*Server
	// metadataRedirect, when set, is the Location every metadata GET is sent to.
	metadataRedirect string
}

type tenant struct {
	id      string
	domains []string
}

type app struct {
	App
	oid   string // the service principal's object id, stable for the app's lifetime
	certs []registeredCert
}

type registeredCert struct {
	cert *x509.Certificate
	s256 [32]byte
	s1   [20]byte
}

// Start listens on opts.Addr and serves the authority until Close.
func Start(opts Options) (*Emulator, error) {
	e := newEmulator(opts)
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	if err := checkLoopback(addr); err != nil {
		return nil, err
	}
	if err := e.makeKeys(opts.SigningKey); err != nil {
		return nil, err
	}
	if err := e.writeCA(opts.Dir); err != nil {
		return nil, err
	}
	if err := e.serve(addr); err != nil {
		e.removeTemp()
		return nil, err
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // loopback only; never hand a test's requests to a proxy
	tr.TLSClientConfig = &tls.Config{RootCAs: e.CAPool, MinVersion: tls.VersionTLS12}
	e.client = &http.Client{Transport: tr}
	return e, nil
}

// newEmulator returns an emulator with opts' settings, defaults filled in, and nothing
// started.
func newEmulator(opts Options) *Emulator {
	e := &Emulator{
		now:      opts.Now,
		lifetime: opts.TokenLifetime,
		logf:     opts.Logf,
		done:     make(chan struct{}),
		tenants:  map[string]*tenant{},
		apps:     map[string]*app{},
		jtis:     map[string]map[string]time.Time{},
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.lifetime <= 0 {
		e.lifetime = time.Hour
	}
	return e
}

// checkLoopback refuses any address but loopback: the emulator is a test fixture, and
// its TLS leaves name nothing else.
func checkLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("emulator address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return fmt.Errorf("emulator address %q: only loopback addresses (127.0.0.1, ::1, localhost) are allowed", addr)
	}
	return nil
}

// makeKeys creates the per-run CA and the token-signing key (signingKey when given).
func (e *Emulator) makeKeys(signingKey *rsa.PrivateKey) error {
	var err error
	if e.pki, err = newPKI(); err != nil {
		return err
	}
	if e.signer, err = newSigner(signingKey); err != nil {
		return err
	}
	e.CAPool = x509.NewCertPool()
	e.CAPool.AddCert(e.pki.caCert)
	return nil
}

// writeCA writes ca.pem into dir, or into a new temporary directory that Close removes
// when dir is "".
func (e *Emulator) writeCA(dir string) error {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "entra-emulator-"); err != nil {
			return fmt.Errorf("create emulator directory: %w", err)
		}
		e.tempDir = dir
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		// Not fsutil.EnsurePrivateDir: that would tighten an existing shared directory
		// (say --dir /tmp) to 0700, and ca.pem is public anyway.
		return fmt.Errorf("emulator directory: %w", err)
	}
	e.CAFile = filepath.Join(dir, "ca.pem")
	if err := fsutil.WriteFileAtomic(e.CAFile, e.pki.caPEM, 0o644); err != nil {
		e.removeTemp()
		return fmt.Errorf("write emulator CA: %w", err)
	}
	return nil
}

// serve listens on addr, sets e.URL and serves the authority over TLS in the background.
func (e *Emulator) serve(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("emulator listen on %s: %w", addr, err)
	}
	e.URL = "https://" + ln.Addr().String()

	tlsConf := e.ServerTLSConfig()
	if tlsConf == nil {
		ln.Close()
		return fmt.Errorf("emulator TLS certificate could not be issued")
	}
	// HTTP/1.1 only: Fault.Drop hijacks the connection, which HTTP/2 streams cannot do.
	tlsConf.NextProtos = []string{"http/1.1"}
	e.srv = &http.Server{
		Handler:           e.logged(e.counted(e.routes())),
		ReadHeaderTimeout: 10 * time.Second,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:          serverLog(e.logf),
	}
	go e.srv.Serve(tls.NewListener(ln, tlsConf))
	return nil
}

// Close stops the authority and every server started with StartServer, and removes the
// directory Start created. Safe to call more than once.
func (e *Emulator) Close() error {
	e.once.Do(func() {
		e.mu.Lock()
		close(e.done)
		servers := e.servers
		e.servers = nil
		e.mu.Unlock()
		for _, s := range servers {
			s.Close()
		}
		e.closeErr = e.srv.Close()
		e.client.CloseIdleConnections()
		e.removeTemp()
	})
	return e.closeErr
}

func (e *Emulator) removeTemp() {
	if e.tempDir != "" {
		os.RemoveAll(e.tempDir)
	}
}

// AddTenant makes a tenant known by its id (a GUID) and any domain names
// (contoso.onmicrosoft.com). Adding a known tenant again adds the new domains.
func (e *Emulator) AddTenant(id string, domains ...string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.addTenantLocked(id, domains...)
}

func (e *Emulator) addTenantLocked(id string, domains ...string) *tenant {
	t := e.tenants[strings.ToLower(id)]
	if t == nil {
		t = &tenant{id: strings.ToLower(id)}
		e.tenants[t.id] = t
	}
	for _, d := range domains {
		d = strings.ToLower(strings.TrimSpace(d))
		if d == "" || e.tenants[d] != nil {
			continue
		}
		t.domains = append(t.domains, d)
		e.tenants[d] = t
	}
	return t
}

// RegisterApp adds (or replaces) an app registration, and its tenant if new. A
// re-registered app keeps its service principal object id, as a portal edit would.
func (e *Emulator) RegisterApp(a App) {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.addTenantLocked(a.TenantID)
	a.TenantID = t.id
	key := appKey(t.id, a.ClientID)
	rec := &app{App: a, oid: newGUID()}
	if old := e.apps[key]; old != nil {
		rec.oid = old.oid
	}
	rec.Certificates = append([]*x509.Certificate(nil), a.Certificates...)
	rec.Secrets = append([]string(nil), a.Secrets...)
	rec.ExpiredSecrets = append([]string(nil), a.ExpiredSecrets...)
	for _, c := range rec.Certificates {
		if c == nil {
			continue
		}
		rec.certs = append(rec.certs, registeredCert{cert: c, s256: sha256.Sum256(c.Raw), s1: sha1.Sum(c.Raw)})
	}
	e.apps[key] = rec
}

func appKey(tenantID, clientID string) string {
	return strings.ToLower(tenantID) + "/" + strings.ToLower(clientID)
}

func (e *Emulator) lookupTenant(name string) *tenant {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.tenants[strings.ToLower(name)]
}

func (e *Emulator) lookupApp(tenantID, clientID string) *app {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.apps[appKey(tenantID, clientID)]
}

// HTTPClient returns a client that trusts the emulator's CA (and nothing else).
func (e *Emulator) HTTPClient() *http.Client { return e.client }

// ServerTLSConfig returns a tls.Config with a leaf for 127.0.0.1/::1/localhost plus
// names, signed by the emulator CA, for the other fake servers. It returns nil only if
// the leaf could not be made (key generation failed).
func (e *Emulator) ServerTLSConfig(names ...string) *tls.Config {
	cert, err := e.pki.leaf(names...)
	if err != nil {
		return nil
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
}

// Authority is the authority URL MSAL takes for tenant (an id or a domain name).
func (e *Emulator) Authority(tenant string) string { return e.URL + "/" + tenant }

// TokenEndpoint is the v2.0 token endpoint for tenant, as the OIDC metadata names it.
func (e *Emulator) TokenEndpoint(tenant string) string {
	return e.URL + "/" + tenant + "/oauth2/v2.0/token"
}

// TokenIssuer is the iss claim of access tokens issued in tenantID (v1.0 tokens, as
// Entra issues for Graph, ARM, AKS, ACR and Azure DevOps).
func TokenIssuer(tenantID string) string {
	return "https://sts.windows.net/" + strings.ToLower(tenantID) + "/"
}

// Counts returns the request counters.
func (e *Emulator) Counts() Counts {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.counts
}

// ResetCounts zeroes the request counters.
func (e *Emulator) ResetCounts() {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.counts = Counts{}
}

// QueueFaults appends faults, each consumed by one token-endpoint request, in order.
func (e *Emulator) QueueFaults(f ...Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.faults = append(e.faults, f...)
}

// SetPermanentFault makes every token-endpoint request fail with f once the queue is
// empty; nil clears it.
func (e *Emulator) SetPermanentFault(f *Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f == nil {
		e.permanent = nil
		return
	}
	c := *f
	e.permanent = &c
}

// SetMetadataRedirect answers every OIDC metadata request with HTTP 307 to location
// (the token-endpoint faults never touch metadata); "" restores the document.
func (e *Emulator) SetMetadataRedirect(location string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.metadataRedirect = location
}

func (e *Emulator) nextFault() (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if len(e.faults) > 0 {
		f := e.faults[0]
		e.faults = e.faults[1:]
		return f, true
	}
	if e.permanent != nil {
		return *e.permanent, true
	}
	return Fault{}, false
}

func (e *Emulator) count(f func(c *Counts)) {
	e.mu.Lock()
	defer e.mu.Unlock()
	f(&e.counts)
}

func (e *Emulator) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{tenant}/v2.0/.well-known/openid-configuration", e.handleMetadata)
	mux.HandleFunc("GET /{tenant}/discovery/v2.0/keys", e.handleKeys)
	mux.HandleFunc("POST /{tenant}/oauth2/v2.0/token", e.handleToken)
	return mux
}

func (e *Emulator) counted(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.count(func(c *Counts) { c.Total++ })
		next.ServeHTTP(w, r)
	})
}

// logged reports method, path, status and duration: never form bodies, which hold
// assertions and secrets.
func (e *Emulator) logged(next http.Handler) http.Handler {
	if e.logf == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		status := sw.status
		if sw.hijacked {
			status = 0
		} else if status == 0 {
			status = http.StatusOK
		}
		e.logf("entra-emulator: %s %s -> %d (%s)", r.Method, r.URL.Path, status, time.Since(start).Round(time.Millisecond))
	})
}

type statusWriter struct {
	http.ResponseWriter
	status   int
	hijacked bool
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Hijack serves Fault.Drop through http.ResponseController.
func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(w.ResponseWriter).Hijack()
	if err == nil {
		w.hijacked = true
	}
	return conn, rw, err
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// serverLog sends net/http's own complaints (TLS handshake failures and the like) to
// Logf, or nowhere: a test that drops connections on purpose should not spam stderr.
func serverLog(logf func(string, ...any)) *log.Logger {
	if logf == nil {
		return log.New(io.Discard, "", 0)
	}
	return log.New(logfWriter(logf), "entra-emulator: ", 0)
}

type logfWriter func(string, ...any)

func (f logfWriter) Write(p []byte) (int, error) {
	f("%s", strings.TrimRight(string(p), "\n"))
	return len(p), nil
}
