package emulator

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
	ggcrregistry "github.com/google/go-containerregistry/pkg/registry"
)

// ACRResource is the audience of Entra tokens for the Azure Container Registry data
// plane (scope https://containerregistry.azure.net/.default).
const ACRResource = "https://containerregistry.azure.net"

// ACRRefreshUser is the username that accompanies a registry refresh token in Basic
// auth, as `docker login` with a token from `az acr login --expose-token` uses it.
const ACRRefreshUser = "00000000-0000-0000-0000-000000000000"

// RegistryOptions configure StartRegistry. Zero values give the defaults.
type RegistryOptions struct {
	// RefreshTokenLifetime is the life of refresh tokens from /oauth2/exchange; ACR's
	// are about 3 hours. Default 3h.
	RefreshTokenLifetime time.Duration
	// AccessTokenLifetime is the life of access tokens from /oauth2/token. Default 1h.
	AccessTokenLifetime time.Duration
	// Audience Entra tokens must carry to be exchanged. Default ACRResource.
	Audience string
	// TenantID, when set, is the registry's home tenant: Entra tokens of any other
	// tenant are refused at the exchange.
	TenantID string
}

// RegistryCounts are request counters of a Registry.
type RegistryCounts struct {
	Exchange       int // POST /oauth2/exchange, any outcome
	ExchangeIssued int // refresh tokens issued
	Token          int // requests to /oauth2/token, any outcome
	TokenIssued    int // registry access tokens issued
	Challenges     int // /v2/ requests answered 401 (no token, or one not good enough)
	API            int // /v2/ requests admitted to the registry
}

// Registry is an OCI registry (go-containerregistry's pkg/registry, in memory) behind
// Azure Container Registry's authentication, over HTTPS with a leaf from the emulator
// CA:
//
//   - /v2/… wants "Authorization: Bearer <registry access token>"; without one it
//     answers 401 with `Bearer realm="https://HOST/oauth2/token",service="HOST"`.
//   - POST /oauth2/exchange (grant_type=access_token, service, tenant, access_token)
//     turns an Entra token this emulator issued for ACRResource into a registry
//     refresh token (a JWT with exp).
//   - /oauth2/token turns a refresh token into an access token for the requested
//     scopes: POST grant_type=refresh_token&refresh_token=…&scope=…&service=…, or GET
//     ?scope=…&service=… with Basic auth ACRRefreshUser:refresh_token.
//
// The token realm is on the registry's own host:port: go-containerregistry refuses a
// loopback realm anywhere else.
type Registry struct {
	URL  string // https://127.0.0.1:PORT
	Host string // 127.0.0.1:PORT, the registry (login server) name

	e          *Emulator
	srv        *Server
	store      http.Handler
	key        []byte // HMAC key of the registry's own tokens
	refreshTTL time.Duration
	accessTTL  time.Duration
	audience   string
	tenantID   string

	mu               sync.Mutex
	counts           RegistryCounts
	aadDisabled      bool
	exchangeRedirect string
}

// StartRegistry serves a registry on a new 127.0.0.1 port. Close it, or the emulator,
// when done.
func (e *Emulator) StartRegistry(opts RegistryOptions) (*Registry, error) {
	r := &Registry{
		e:          e,
		key:        make([]byte, 32),
		refreshTTL: opts.RefreshTokenLifetime,
		accessTTL:  opts.AccessTokenLifetime,
		audience:   opts.Audience,
		tenantID:   opts.TenantID,
	}
	if r.refreshTTL <= 0 {
		r.refreshTTL = 3 * time.Hour
	}
	if r.accessTTL <= 0 {
		r.accessTTL = time.Hour
	}
	if r.audience == "" {
		r.audience = ACRResource
	}
	if _, err := rand.Read(r.key); err != nil {
		return nil, fmt.Errorf("start registry: %w", err)
	}
	logger := log.New(io.Discard, "", 0)
	if e.logf != nil {
		logger = log.New(logfWriter(e.logf), "registry: ", 0)
	}
	r.store = ggcrregistry.New(ggcrregistry.Logger(logger))
	srv, err := e.StartServer(r)
	if err != nil {
		return nil, err
	}
	r.srv, r.URL, r.Host = srv, srv.URL, srv.Host
	return r, nil
}

// Close stops the registry.
func (r *Registry) Close() error { return r.srv.Close() }

// Counts returns the request counters.
func (r *Registry) Counts() RegistryCounts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// ResetCounts zeroes the request counters.
func (r *Registry) ResetCounts() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.counts = RegistryCounts{}
}

// SetAADDisabled makes the exchange refuse every Entra token, as a registry whose
// Entra ID authentication is turned off does; refresh tokens already issued keep
// working until they expire.
func (r *Registry) SetAADDisabled(disabled bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.aadDisabled = disabled
}

// SetExchangeRedirect answers every /oauth2/exchange request with HTTP 307 to location,
// before reading the form: a client that follows it re-posts the Entra access token
// there. "" restores the exchange.
func (r *Registry) SetExchangeRedirect(location string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.exchangeRedirect = location
}

func (r *Registry) count(f func(c *RegistryCounts)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	f(&r.counts)
}

// ServeHTTP routes the authentication endpoints and guards the registry API.
func (r *Registry) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case req.URL.Path == "/oauth2/exchange":
		r.handleExchange(w, req)
	case req.URL.Path == "/oauth2/token":
		r.handleToken(w, req)
	case req.URL.Path == "/v2" || strings.HasPrefix(req.URL.Path, "/v2/"):
		r.handleAPI(w, req)
	default:
		registryError(w, http.StatusNotFound, "NOT_FOUND", "no such endpoint")
	}
}

// registryError writes the distribution spec's error document.
func registryError(w http.ResponseWriter, status int, code, msg string) {
	type entry struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	writeJSON(w, status, struct {
		Errors []entry `json:"errors"`
	}{[]entry{{code, msg}}})
}

func (r *Registry) handleExchange(w http.ResponseWriter, req *http.Request) {
	r.count(func(c *RegistryCounts) { c.Exchange++ })
	r.mu.Lock()
	loc := r.exchangeRedirect
	r.mu.Unlock()
	if loc != "" {
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	if req.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		registryError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "use POST")
		return
	}
	req.Body = http.MaxBytesReader(w, req.Body, 1<<20)
	if err := req.ParseForm(); err != nil {
		registryError(w, http.StatusBadRequest, "BAD_REQUEST", "form body could not be parsed")
		return
	}
	f := req.PostForm
	if g := f.Get("grant_type"); g != "access_token" {
		registryError(w, http.StatusBadRequest, "UNSUPPORTED", fmt.Sprintf("grant_type %q is not supported: use access_token", g))
		return
	}
	if s := f.Get("service"); !strings.EqualFold(s, r.Host) {
		registryError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("service %q is not this registry (%s)", s, r.Host))
		return
	}
	at := f.Get("access_token")
	if at == "" {
		registryError(w, http.StatusBadRequest, "BAD_REQUEST", "access_token is missing")
		return
	}
	r.mu.Lock()
	disabled := r.aadDisabled
	r.mu.Unlock()
	if disabled {
		registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", "Azure AD authentication is disabled for this registry")
		return
	}
	claims, err := r.e.Validate(at, r.audience)
	if err != nil {
		registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", err.Error())
		return
	}
	if t := f.Get("tenant"); t != "" && !strings.EqualFold(t, claims.TenantID) {
		registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", fmt.Sprintf("tenant %q does not match the access token's tenant", t))
		return
	}
	if r.tenantID != "" && !strings.EqualFold(r.tenantID, claims.TenantID) {
		registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", fmt.Sprintf("tenant %q is not the registry's tenant", claims.TenantID))
		return
	}
	now := r.e.now()
	rt, err := r.sign(jwt.MapClaims{
		"jti":        newGUID(),
		"sub":        claims.ObjectID,
		"appid":      claims.AppID,
		"tenant":     claims.TenantID,
		"iss":        "Azure Container Registry",
		"aud":        r.Host,
		"iat":        now.Unix(),
		"nbf":        now.Unix(),
		"exp":        now.Add(r.refreshTTL).Unix(),
		"grant_type": "refresh_token",
		"version":    "1.0",
	})
	if err != nil {
		registryError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
		return
	}
	r.count(func(c *RegistryCounts) { c.ExchangeIssued++ })
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct {
		RefreshToken string `json:"refresh_token"`
	}{rt})
}

func (r *Registry) handleToken(w http.ResponseWriter, req *http.Request) {
	r.count(func(c *RegistryCounts) { c.Token++ })
	var rt, service string
	var scopes []string
	switch req.Method {
	case http.MethodGet:
		q := req.URL.Query()
		service, scopes = q.Get("service"), q["scope"]
		user, pass, ok := req.BasicAuth()
		if !ok {
			registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", "authentication required: Basic "+ACRRefreshUser+" and a refresh token")
			return
		}
		if user != ACRRefreshUser {
			registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", fmt.Sprintf("username %q is not accepted: use %s with a refresh token", user, ACRRefreshUser))
			return
		}
		rt = pass
	case http.MethodPost:
		req.Body = http.MaxBytesReader(w, req.Body, 1<<20)
		if err := req.ParseForm(); err != nil {
			registryError(w, http.StatusBadRequest, "BAD_REQUEST", "form body could not be parsed")
			return
		}
		f := req.PostForm
		if g := f.Get("grant_type"); g != "refresh_token" {
			registryError(w, http.StatusBadRequest, "UNSUPPORTED", fmt.Sprintf("grant_type %q is not supported: use refresh_token", g))
			return
		}
		service, rt = f.Get("service"), f.Get("refresh_token")
		for _, s := range f["scope"] {
			scopes = append(scopes, strings.Fields(s)...)
		}
	default:
		w.Header().Set("Allow", "GET, POST")
		registryError(w, http.StatusMethodNotAllowed, "UNSUPPORTED", "use GET or POST")
		return
	}
	if !strings.EqualFold(service, r.Host) {
		registryError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("service %q is not this registry (%s)", service, r.Host))
		return
	}
	claims, err := r.parse(rt, "refresh_token")
	if err != nil {
		registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", "refresh token rejected: "+err.Error())
		return
	}
	var access []map[string]any
	for _, s := range scopes {
		typ, name, actions, ok := parseRegistryScope(s)
		if !ok {
			registryError(w, http.StatusBadRequest, "BAD_REQUEST", fmt.Sprintf("scope %q is not type:name:actions", s))
			return
		}
		access = append(access, map[string]any{"type": typ, "name": name, "actions": actions})
	}
	now := r.e.now()
	at, err := r.sign(jwt.MapClaims{
		"jti":        newGUID(),
		"sub":        claims["sub"],
		"tenant":     claims["tenant"],
		"iss":        "Azure Container Registry",
		"aud":        r.Host,
		"iat":        now.Unix(),
		"nbf":        now.Unix(),
		"exp":        now.Add(r.accessTTL).Unix(),
		"grant_type": "access_token",
		"access":     access,
		"version":    "1.0",
	})
	if err != nil {
		registryError(w, http.StatusInternalServerError, "INTERNAL", err.Error())
		return
	}
	r.count(func(c *RegistryCounts) { c.TokenIssued++ })
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, struct {
		AccessToken string `json:"access_token"`
	}{at})
}

// handleAPI admits requests whose access token grants the scope the request needs.
func (r *Registry) handleAPI(w http.ResponseWriter, req *http.Request) {
	need := requiredScope(req)
	auth := req.Header.Get("Authorization")
	if len(auth) <= 7 || !strings.EqualFold(auth[:7], "Bearer ") {
		r.challengeAPI(w, need, "", "authentication required")
		return
	}
	claims, err := r.parse(strings.TrimSpace(auth[7:]), "access_token")
	if err != nil {
		r.challengeAPI(w, need, "invalid_token", "access token rejected: "+err.Error())
		return
	}
	if need != "" && !grants(claims, need) {
		r.challengeAPI(w, need, "insufficient_scope", "the access token does not grant "+need)
		return
	}
	r.count(func(c *RegistryCounts) { c.API++ })
	r.store.ServeHTTP(w, req)
}

func (r *Registry) challengeAPI(w http.ResponseWriter, scope, errCode, msg string) {
	r.count(func(c *RegistryCounts) { c.Challenges++ })
	v := fmt.Sprintf(`Bearer realm="https://%s/oauth2/token",service="%s"`, r.Host, r.Host)
	if scope != "" {
		v += fmt.Sprintf(`,scope="%s"`, scope)
	}
	if errCode != "" {
		v += fmt.Sprintf(`,error="%s"`, errCode)
	}
	w.Header().Set("WWW-Authenticate", v)
	w.Header().Set("Docker-Distribution-API-Version", "registry/2.0")
	registryError(w, http.StatusUnauthorized, "UNAUTHORIZED", msg)
}

// requiredScope is the token scope a /v2/ request needs: "" for the base endpoint
// (any valid token), registry:catalog:* for the catalog, else repository:NAME:ACTION.
func requiredScope(req *http.Request) string {
	p := strings.TrimPrefix(strings.TrimPrefix(req.URL.Path, "/v2"), "/")
	if p == "" {
		return ""
	}
	if p == "_catalog" {
		return "registry:catalog:*"
	}
	segs := strings.Split(p, "/")
	for i := 1; i < len(segs); i++ {
		switch segs[i] {
		case "blobs", "manifests", "tags", "referrers":
			action := "pull"
			switch req.Method {
			case http.MethodGet, http.MethodHead:
			case http.MethodDelete:
				action = "delete"
			default:
				action = "push"
			}
			return "repository:" + strings.Join(segs[:i], "/") + ":" + action
		}
	}
	// An unknown route: the registry itself answers 404, but only to a caller with a
	// token for something.
	return "repository:" + p + ":pull"
}

// grants reports whether the access token's access claim covers need.
func grants(claims jwt.MapClaims, need string) bool {
	typ, name, actions, ok := parseRegistryScope(need)
	if !ok {
		return false
	}
	list, _ := claims["access"].([]any)
	for _, a := range list {
		m, _ := a.(map[string]any)
		if m["type"] != typ || m["name"] != name {
			continue
		}
		have, _ := m["actions"].([]any)
		for _, want := range actions {
			found := false
			for _, h := range have {
				if h == want || h == "*" {
					found = true
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	return false
}

// parseRegistryScope splits "repository:team/app:pull,push" (the name may itself hold
// a ':' only for registry-wide types, so the last ':' separates the actions).
func parseRegistryScope(s string) (typ, name string, actions []string, ok bool) {
	first := strings.IndexByte(s, ':')
	last := strings.LastIndexByte(s, ':')
	if first <= 0 || last <= first+1 || last == len(s)-1 {
		return "", "", nil, false
	}
	typ, name = s[:first], s[first+1:last]
	for _, a := range strings.Split(s[last+1:], ",") {
		if a == "" {
			return "", "", nil, false
		}
		actions = append(actions, a)
	}
	return typ, name, actions, true
}

func (r *Registry) sign(claims jwt.MapClaims) (string, error) {
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, claims).SignedString(r.key)
	if err != nil {
		return "", fmt.Errorf("sign registry token: %w", err)
	}
	return s, nil
}

// parse checks a token this registry issued, of the given grant_type.
func (r *Registry) parse(tok, grant string) (jwt.MapClaims, error) {
	if tok == "" {
		return nil, errors.New("no token")
	}
	claims := jwt.MapClaims{}
	_, err := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithTimeFunc(r.e.now),
		jwt.WithExpirationRequired(),
		jwt.WithAudience(r.Host),
	).ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return r.key, nil })
	if err != nil {
		return nil, err
	}
	if claims["grant_type"] != grant {
		return nil, fmt.Errorf("not a %s", strings.ReplaceAll(grant, "_", " "))
	}
	return claims, nil
}
