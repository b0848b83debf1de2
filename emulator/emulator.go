// Package emulator is a local Microsoft Entra ID token service over HTTPS on 127.0.0.1,
// strict enough that MSAL Go and entratool can be tested end to end against it: OIDC
// metadata, JWKS, and the v2.0 token endpoint for the client-credentials grant with
// certificate assertions or client secrets, answering refusals in Entra's own shape.
// Beside it, on its own URL (GraphURL), runs the part of Microsoft Graph an application
// uses to roll its own certificates: addKey, removeKey and reading its keyCredentials.
//
// For credentials without a certificate: apps may hold federated credentials (external
// OIDC tokens as client assertions, AADSTS70021 when none matches); a local OIDC issuer
// (IssuerURL) mints such tokens directly (MintIDToken) or through GitHub Actions' and
// Azure Pipelines' ID-token endpoints; and a managed identity endpoint speaks App
// Service's protocol (IdentityEndpoint, ManagedIdentity) as MSAL Go's managedidentity
// client uses it.
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
	"encoding/hex"
	"errors"
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
	// GraphAddr is where the Graph listener listens; default Addr's host with port 0.
	GraphAddr string
	// GraphPropagationDelay is how long a key added through Graph's addKey stays unknown
	// to the token endpoint (AADSTS700027), as a new key takes seconds to reach every
	// Entra replica. Real time, not Options.Now: it models the service's own latency.
	// SetGraphPropagationDelay changes it later.
	GraphPropagationDelay time.Duration
	// IssuerSigningKey, when set, signs the local OIDC issuer's ID tokens instead of a
	// fresh RSA-2048 key made on first use (IssuerURL). It must differ from SigningKey:
	// an ID token must never pass as an access token.
	IssuerSigningKey *rsa.PrivateKey
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
	// ObjectID is the application object's id (portal Overview → Object ID), the id
	// Graph's /applications/{id} takes: a GUID that is not the client id. Empty derives
	// one from tenant and client id (ApplicationObjectID tells it), or keeps the one an
	// earlier registration of the app had.
	ObjectID string
	// GraphReadDenied makes GET /v1.0/applications/{id} answer 403, as for an app with no
	// permission to read applications; addKey and removeKey need none and still work.
	GraphReadDenied bool
	// GraphKeyValuesHidden makes GET answer every keyCredential with "key": null even
	// under $select=keyCredentials, where Graph would give the certificate, so a client
	// must match keys by customKeyIdentifier.
	GraphKeyValuesHidden bool
	// FederatedCredentials are the app's federated identity credentials (workload
	// identity federation): external OIDC tokens that the token endpoint takes as client
	// assertions when their iss, sub and aud match one record exactly.
	FederatedCredentials []FederatedCredential
}

// Counts are request counters on the authority and Graph listeners.
type Counts struct {
	Metadata    int // GET …/.well-known/openid-configuration
	Token       int // every request to the token endpoint, faulted ones included
	TokenIssued int // successful token responses
	Total       int // every request the authority listener answered

	// Graph listener. The per-route counts include faulted and refused requests, like
	// Token; GraphKeysAdded and GraphKeysRemoved count only what succeeded.
	Graph            int // every request the Graph listener answered
	GraphAddKey      int // POST …/addKey
	GraphRemoveKey   int // POST …/removeKey
	GraphGet         int // GET /v1.0/applications/{id}
	GraphKeysAdded   int // keys added by addKey
	GraphKeysRemoved int // keys removed by removeKey

	// Local OIDC issuer (IssuerURL) and managed identity endpoint.
	Issuer          int // every request the issuer listener answered
	IDToken         int // ID tokens issued by the GitHub Actions and Azure Pipelines endpoints
	ManagedIdentity int // every request to the managed identity endpoint, refused ones included
}

// Fault is one injected failure of the token endpoint (QueueFaults) or of any Graph
// request (QueueGraphFaults), applied before any validation so that a faulted request
// consumes no jti and changes no key. The default error body is the endpoint's own
// shape: Entra's for the token endpoint, Graph's for Graph.
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
	// GraphURL is the emulated Microsoft Graph, e.g. https://127.0.0.1:43122 (no trailing
	// slash): a client's graphEndpoint. Its tokens are asked for with scope
	// GraphURL+"/.default" (or Graph's real resource, see graphAudiences).
	GraphURL string
	// IssuerURL is the local OIDC issuer (no trailing slash): the iss of the ID tokens
	// MintIDToken and the GitHub Actions / Azure Pipelines endpoints issue, with its
	// discovery document at IssuerURL+"/.well-known/openid-configuration".
	IssuerURL string
	// IdentityEndpoint is the App Service managed identity endpoint (plain HTTP on
	// loopback, as App Service's own is): IDENTITY_ENDPOINT. ManagedIdentity configures it.
	IdentityEndpoint string

	now       func() time.Time
	lifetime  time.Duration
	logf      func(format string, args ...any)
	pki       *pki
	signer    *signer
	client    *http.Client
	srv       *http.Server
	graphSrv  *http.Server
	issuerSrv *http.Server
	miSrv     *http.Server
	issuer    issuerKey
	tempDir   string // removed by Close when the emulator made it
	done      chan struct{}
	closeErr  error
	once      sync.Once

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
	objects          map[string]string // application object id -> apps key
	graphFaults      []Fault
	graphPermanent   *Fault
	propagation      time.Duration // Options.GraphPropagationDelay, or as set since
	github           *githubConfig // GitHubActions; nil until configured
	azdo             *azdoConfig   // AzurePipelines; nil until configured
	mi               *miConfig     // ManagedIdentity; nil until configured

	// graphMu serialises key changes (addKey, removeKey, RegisterApp) from the proof
	// check to the update, so a proof is never accepted on a key removed meanwhile. It
	// is taken before mu, never after.
	graphMu sync.Mutex
}

type tenant struct {
	id      string
	domains []string
}

// app is one registration. A record is never changed once stored in Emulator.apps:
// RegisterApp and Graph's addKey/removeKey store a new one, so the token endpoint can
// read the record it looked up without holding the lock.
type app struct {
	App
	oid   string // the service principal's object id, stable for the app's lifetime
	certs []registeredCert
}

// registeredCert is one keyCredential of an app.
type registeredCert struct {
	cert        *x509.Certificate
	s256        [32]byte
	s1          [20]byte
	keyID       string
	displayName string
	// usableAt, when set, is the real time before which the token endpoint does not know
	// the key yet (Options.GraphPropagationDelay).
	usableAt time.Time
}

func newRegisteredCert(c *x509.Certificate, keyID, displayName string) registeredCert {
	if displayName == "" {
		displayName = c.Subject.String() // what the portal shows for an uploaded certificate
	}
	return registeredCert{cert: c, s256: sha256.Sum256(c.Raw), s1: sha1.Sum(c.Raw), keyID: keyID, displayName: displayName}
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
	host, _, _ := net.SplitHostPort(addr) // checked by checkLoopback
	// The issuer and the managed identity endpoint take free ports on the authority's host.
	sideAddr := net.JoinHostPort(host, "0")
	graphAddr := opts.GraphAddr
	if graphAddr == "" {
		graphAddr = sideAddr
	}
	if err := checkLoopback(graphAddr); err != nil {
		e.srv.Close()
		e.removeTemp()
		return nil, err
	}
	if err := e.serveGraph(graphAddr); err != nil {
		e.srv.Close()
		e.removeTemp()
		return nil, err
	}
	if err := e.serveIssuer(sideAddr); err != nil {
		e.srv.Close()
		e.graphSrv.Close()
		e.removeTemp()
		return nil, err
	}
	if err := e.serveManagedIdentity(sideAddr); err != nil {
		e.srv.Close()
		e.graphSrv.Close()
		e.issuerSrv.Close()
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
		objects:  map[string]string{},

		propagation: opts.GraphPropagationDelay,
		issuer:      issuerKey{given: opts.IssuerSigningKey},
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
	srv, url, err := e.listen(addr, e.counted(e.routes()))
	if err != nil {
		return err
	}
	e.srv, e.URL = srv, url
	return nil
}

// serveGraph listens on addr, sets e.GraphURL and serves Graph in the background.
func (e *Emulator) serveGraph(addr string) error {
	srv, url, err := e.listen(addr, e.graphHandler())
	if err != nil {
		return fmt.Errorf("graph: %w", err)
	}
	e.graphSrv, e.GraphURL = srv, url
	return nil
}

// listen serves h over TLS on addr in the background and returns the server and its URL.
func (e *Emulator) listen(addr string, h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, "", fmt.Errorf("emulator listen on %s: %w", addr, err)
	}
	tlsConf := e.ServerTLSConfig()
	if tlsConf == nil {
		ln.Close()
		return nil, "", fmt.Errorf("emulator TLS certificate could not be issued")
	}
	// HTTP/1.1 only: Fault.Drop hijacks the connection, which HTTP/2 streams cannot do.
	tlsConf.NextProtos = []string{"http/1.1"}
	srv := &http.Server{
		Handler:           e.logged(h),
		ReadHeaderTimeout: 10 * time.Second,
		TLSNextProto:      map[string]func(*http.Server, *tls.Conn, http.Handler){},
		ErrorLog:          serverLog(e.logf),
	}
	go srv.Serve(tls.NewListener(ln, tlsConf))
	return srv, "https://" + ln.Addr().String(), nil
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
		e.closeErr = errors.Join(e.srv.Close(), e.graphSrv.Close(), e.issuerSrv.Close(), e.miSrv.Close())
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
// re-registered app keeps its service principal object id, its application object id
// (unless a.ObjectID names another) and the keyIds of certificates it still has, as a
// portal edit would; keys added through Graph and not in a.Certificates are dropped.
//
// It panics when a.ObjectID is not a GUID, equals the client id, or belongs to another
// app: a test set up so would pass against the wrong app.
func (e *Emulator) RegisterApp(a App) {
	e.graphMu.Lock()
	defer e.graphMu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	objectID := strings.ToLower(a.ObjectID)
	if objectID != "" && !isGUID(objectID) {
		panic(fmt.Sprintf("emulator: RegisterApp: ObjectID %q is not a GUID", a.ObjectID))
	}
	if objectID != "" && strings.EqualFold(objectID, a.ClientID) {
		panic(fmt.Sprintf("emulator: RegisterApp: ObjectID %q is the client id; an application's object id differs from it", a.ObjectID))
	}
	t := e.addTenantLocked(a.TenantID)
	a.TenantID = t.id
	key := appKey(t.id, a.ClientID)
	old := e.apps[key]
	if objectID == "" && old != nil {
		objectID = old.ObjectID
	}
	if objectID == "" {
		objectID = deriveObjectID(t.id, a.ClientID)
	}
	if other, taken := e.objects[objectID]; taken && other != key {
		panic(fmt.Sprintf("emulator: RegisterApp: ObjectID %s is already the object id of app %s", objectID, other))
	}
	a.ObjectID = objectID
	rec := &app{App: a, oid: newGUID()}
	kept := map[[20]byte]registeredCert{} // the old keys, whose keyId and name a kept certificate keeps
	if old != nil {
		rec.oid = old.oid
		for _, rc := range old.certs {
			kept[rc.s1] = rc
		}
		if old.ObjectID != objectID {
			delete(e.objects, old.ObjectID)
		}
	}
	rec.Certificates = append([]*x509.Certificate(nil), a.Certificates...)
	rec.Secrets = append([]string(nil), a.Secrets...)
	rec.ExpiredSecrets = append([]string(nil), a.ExpiredSecrets...)
	rec.FederatedCredentials = copyFederatedCredentials(a.FederatedCredentials)
	for _, c := range rec.Certificates {
		if c == nil {
			continue
		}
		rc := newRegisteredCert(c, newGUID(), "")
		if k, ok := kept[rc.s1]; ok {
			rc.keyID, rc.displayName = k.keyID, k.displayName
		}
		rec.certs = append(rec.certs, rc)
	}
	e.apps[key] = rec
	e.objects[objectID] = key
}

// deriveObjectID makes the application object id of an app registered without one:
// name-based, so the same app has the same id in every run (the command prints it, and
// a demo's profiles keep working across restarts), and shaped as a version-4 GUID.
func deriveObjectID(tenantID, clientID string) string {
	sum := sha256.Sum256([]byte("entra-emulator application object\x00" + strings.ToLower(tenantID) + "/" + strings.ToLower(clientID)))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// ApplicationObjectID is the object id of the app registered as tenantID/clientID (the
// tenant by id or domain), or "" when there is none.
func (e *Emulator) ApplicationObjectID(tenantID, clientID string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	t := e.tenants[strings.ToLower(tenantID)]
	if t == nil {
		return ""
	}
	if a := e.apps[appKey(t.id, clientID)]; a != nil {
		return a.ObjectID
	}
	return ""
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
	return popFault(&e.faults, e.permanent)
}

// popFault takes the next fault from queue, else permanent; the caller holds e.mu.
func popFault(queue *[]Fault, permanent *Fault) (Fault, bool) {
	if len(*queue) > 0 {
		f := (*queue)[0]
		*queue = (*queue)[1:]
		return f, true
	}
	if permanent != nil {
		return *permanent, true
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
