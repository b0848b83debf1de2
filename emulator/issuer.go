package emulator

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// DefaultFederatedAudience is the audience Entra expects of external tokens unless a
	// federated credential names another (and the one Azure Pipelines always uses).
	DefaultFederatedAudience = "api://AzureADTokenExchange"
	// ciIDTokenLifetime is the lifetime of the ID tokens the GitHub Actions and Azure
	// Pipelines endpoints issue: short, as theirs are, so a client that caches the
	// external token past its use is caught.
	ciIDTokenLifetime = 10 * time.Minute
)

// issuerKey is the local OIDC issuer's signing key, made on first use: most tests never
// touch the issuer, and RSA key generation dominates start-up on slow machines.
type issuerKey struct {
	given  *rsa.PrivateKey // Options.IssuerSigningKey
	once   sync.Once
	signer *signer
	err    error
}

// issuerSigner returns the issuer's signing key, making it on first use.
func (e *Emulator) issuerSigner() (*signer, error) {
	k := &e.issuer
	k.once.Do(func() {
		k.signer, k.err = newSigner(k.given)
		if k.err != nil {
			k.err = fmt.Errorf("OIDC issuer: %w", k.err)
		}
	})
	return k.signer, k.err
}

// githubConfig is what GitHubActions set: the job's request token and its subject.
type githubConfig struct {
	requestToken string
	subject      string
}

// azdoConfig is what AzurePipelines set: the job's System.AccessToken and its service
// connections (id -> subject).
type azdoConfig struct {
	accessToken string
	connections map[string]string
}

// serveIssuer listens on addr, sets e.IssuerURL and serves the OIDC issuer.
func (e *Emulator) serveIssuer(addr string) error {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", e.handleIssuerMetadata)
	mux.HandleFunc("GET /.well-known/jwks", e.handleIssuerKeys)
	mux.HandleFunc("GET /github/token", e.handleGitHubToken)
	mux.HandleFunc("POST /azdo/oidctoken", e.handleAzDOToken)
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.count(func(c *Counts) { c.Issuer++ })
		mux.ServeHTTP(w, r)
	})
	srv, url, err := e.listen(addr, counted)
	if err != nil {
		return fmt.Errorf("OIDC issuer: %w", err)
	}
	e.issuerSrv, e.IssuerURL = srv, url
	return nil
}

func (e *Emulator) handleIssuerMetadata(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                e.IssuerURL,
		"jwks_uri":                              e.IssuerURL + "/.well-known/jwks",
		"response_types_supported":              []string{"id_token"},
		"subject_types_supported":               []string{"public", "pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"claims_supported":                      []string{"sub", "aud", "exp", "iat", "iss", "jti", "nbf", "repository", "ref"},
	})
}

func (e *Emulator) handleIssuerKeys(w http.ResponseWriter, r *http.Request) {
	s, err := e.issuerSigner()
	if err != nil {
		http.Error(w, "signing key unavailable", http.StatusInternalServerError)
		return
	}
	pub := &s.key.PublicKey
	writeJSON(w, http.StatusOK, map[string]any{"keys": []map[string]any{{
		"kty": "RSA",
		"use": "sig",
		"alg": "RS256",
		"kid": s.kid,
		"x5t": s.kid,
		"n":   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		"e":   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		"x5c": []string{base64.StdEncoding.EncodeToString(s.cert.Raw)},
	}}})
}

// MintIDToken signs an ID token of the local issuer for subject and audience, valid from
// now (Options.Now) for lifetime: what AKS workload identity projects into a pod's token
// file. Tests write it to the file AZURE_FEDERATED_TOKEN_FILE names.
func (e *Emulator) MintIDToken(subject, audience string, lifetime time.Duration) (string, error) {
	switch {
	case subject == "":
		return "", errors.New("mint ID token: empty subject")
	case audience == "":
		return "", errors.New("mint ID token: empty audience")
	case lifetime < time.Second:
		return "", fmt.Errorf("mint ID token: lifetime %s is shorter than a second", lifetime)
	}
	return e.mintIDToken(subject, audience, lifetime, nil)
}

func (e *Emulator) mintIDToken(subject, audience string, lifetime time.Duration, extra map[string]any) (string, error) {
	s, err := e.issuerSigner()
	if err != nil {
		return "", err
	}
	now := e.now()
	var jti [16]byte
	rand.Read(jti[:])
	claims := jwt.MapClaims{
		"iss": e.IssuerURL,
		"sub": subject,
		"aud": audience,
		"iat": now.Unix(),
		"nbf": now.Unix(),
		"exp": now.Add(lifetime).Unix(),
		"jti": base64.RawURLEncoding.EncodeToString(jti[:]),
	}
	for k, v := range extra {
		claims[k] = v
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	// GitHub's tokens carry both; a client must not mistake x5t for an app certificate's.
	tok.Header["kid"] = s.kid
	tok.Header["x5t"] = s.kid
	signed, err := tok.SignedString(s.key)
	if err != nil {
		return "", fmt.Errorf("sign ID token: %w", err)
	}
	return signed, nil
}

// GitHubActions makes the issuer serve a GitHub Actions job's ID-token endpoint to
// callers presenting requestToken (ACTIONS_ID_TOKEN_REQUEST_TOKEN), issuing tokens for
// subject (e.g. "repo:contoso/app:ref:refs/heads/main"). It returns
// ACTIONS_ID_TOKEN_REQUEST_URL, to which the client appends "&audience=…". Calling it
// again replaces the configuration.
func (e *Emulator) GitHubActions(requestToken, subject string) (requestURL string) {
	if requestToken == "" || subject == "" {
		panic("emulator: GitHubActions: empty request token or subject")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.github = &githubConfig{requestToken: requestToken, subject: subject}
	return e.IssuerURL + "/github/token?api-version=2.0"
}

// AzurePipelines makes the issuer serve an Azure Pipelines job's OIDC endpoint to callers
// presenting accessToken (SYSTEM_ACCESSTOKEN), issuing for each service connection id
// its subject (e.g. "sc://contoso/project/connection"). It returns SYSTEM_OIDCREQUESTURI,
// to which the client appends "?api-version=7.1&serviceConnectionId=ID". Calling it
// again replaces the configuration.
func (e *Emulator) AzurePipelines(accessToken string, connections map[string]string) (requestURI string) {
	if accessToken == "" {
		panic("emulator: AzurePipelines: empty access token")
	}
	conns := map[string]string{}
	for id, sub := range connections {
		if id == "" || sub == "" {
			panic("emulator: AzurePipelines: empty service connection id or subject")
		}
		conns[strings.ToLower(id)] = sub // ids are GUIDs, compared as such
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.azdo = &azdoConfig{accessToken: accessToken, connections: conns}
	return e.IssuerURL + "/azdo/oidctoken"
}

// bearerMatches reports whether r carries "Authorization: Bearer <want>", the scheme in
// any case (the Actions toolkit sends "bearer").
func bearerMatches(r *http.Request, want string) bool {
	auth := r.Header.Get("Authorization")
	if len(auth) < 7 || !strings.EqualFold(auth[:7], "Bearer ") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(auth[7:])), []byte(want)) == 1
}

// handleGitHubToken answers as the Actions runtime's token service does:
// {"value":"<jwt>"} for the requested audience, else for the owner's GitHub URL.
func (e *Emulator) handleGitHubToken(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	cfg := e.github
	e.mu.Unlock()
	if cfg == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "GitHub Actions ID-token endpoint not configured (Emulator.GitHubActions)"})
		return
	}
	if !bearerMatches(r, cfg.requestToken) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "Bad credentials: the request token is missing or not this job's ACTIONS_ID_TOKEN_REQUEST_TOKEN"})
		return
	}
	repo, ref := parseGitHubSubject(cfg.subject)
	audience := r.URL.Query().Get("audience")
	if audience == "" {
		owner, _, _ := strings.Cut(repo, "/")
		if owner == "" {
			writeJSON(w, http.StatusBadRequest, map[string]string{"message": "audience is required: the subject names no repository owner to default it to"})
			return
		}
		audience = "https://github.com/" + owner
	}
	extra := map[string]any{"runner_environment": "github-hosted"}
	if repo != "" {
		owner, _, _ := strings.Cut(repo, "/")
		extra["repository"], extra["repository_owner"] = repo, owner
	}
	if ref != "" {
		extra["ref"] = ref
	}
	tok, err := e.mintIDToken(cfg.subject, audience, ciIDTokenLifetime, extra)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	e.count(func(c *Counts) { c.IDToken++ })
	writeJSON(w, http.StatusOK, map[string]string{"value": tok})
}

// parseGitHubSubject reads repository and ref out of a subject like
// "repo:contoso/app:ref:refs/heads/main"; either is "" when the subject has none.
func parseGitHubSubject(sub string) (repo, ref string) {
	rest, ok := strings.CutPrefix(sub, "repo:")
	if !ok {
		return "", ""
	}
	repo, rest, _ = strings.Cut(rest, ":")
	if r, ok := strings.CutPrefix(rest, "ref:"); ok {
		ref = r
	}
	return repo, ref
}

// azdoAPIVersion reports whether Azure DevOps' oidctoken route takes api-version v (the
// azidentity and AzureCLI task spellings).
func azdoAPIVersion(v string) bool {
	switch v {
	case "7.1", "7.1-preview.1", "7.2-preview.1":
		return true
	}
	return false
}

// handleAzDOToken answers as Azure DevOps' distributedtask oidctoken route does:
// {"oidcToken":"<jwt>"} for the service connection, audience api://AzureADTokenExchange.
func (e *Emulator) handleAzDOToken(w http.ResponseWriter, r *http.Request) {
	e.mu.Lock()
	cfg := e.azdo
	e.mu.Unlock()
	if cfg == nil {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": "Azure Pipelines OIDC endpoint not configured (Emulator.AzurePipelines)"})
		return
	}
	if !bearerMatches(r, cfg.accessToken) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"message": "TF400813: The user is not authorized to access this resource (SYSTEM_ACCESSTOKEN missing or wrong)."})
		return
	}
	q := r.URL.Query()
	v := q.Get("api-version")
	if !azdoAPIVersion(v) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": fmt.Sprintf("VS800075: api-version %q is missing or not supported by the oidctoken route; use 7.1", v)})
		return
	}
	id := q.Get("serviceConnectionId")
	if id == "" {
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": "The serviceConnectionId query parameter is required."})
		return
	}
	sub, ok := cfg.connections[strings.ToLower(id)]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]string{"message": fmt.Sprintf("Service connection %q was not found or this pipeline is not authorized to use it.", id)})
		return
	}
	tok, err := e.mintIDToken(sub, DefaultFederatedAudience, ciIDTokenLifetime, nil)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"message": err.Error()})
		return
	}
	e.count(func(c *Counts) { c.IDToken++ })
	writeJSON(w, http.StatusOK, map[string]string{"oidcToken": tok})
}
