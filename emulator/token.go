package emulator

import (
	"bytes"
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

const (
	clientAssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	// assertionSkew is how far in the future an assertion's nbf may lie: Entra tolerates
	// five minutes of clock difference between client and service.
	assertionSkew = 5 * time.Minute
	// maxAssertionLifetime bounds exp - nbf; Entra refuses longer-lived assertions.
	maxAssertionLifetime = 24 * time.Hour
	maxFormBytes         = 1 << 20
)

// tokenResponse is Entra's success document, field order included.
type tokenResponse struct {
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
	ExtExpiresIn int64  `json:"ext_expires_in"`
	AccessToken  string `json:"access_token"`
}

func (e *Emulator) handleToken(w http.ResponseWriter, r *http.Request) {
	e.count(func(c *Counts) { c.Token++ })
	ids := newReqIDs(r)
	if f, ok := e.nextFault(); ok && e.applyFault(w, r, f, ids.setHeaders, func(status int) { e.writeError(w, ids, faultError(status)) }) {
		return
	}
	resp, clientID, se := e.issue(w, r)
	if se != nil {
		if e.logf != nil {
			e.logf("entra-emulator: token refused for client %q: AADSTS%d", clientID, se.code)
		}
		e.writeError(w, ids, se)
		return
	}
	e.count(func(c *Counts) { c.TokenIssued++ })
	ids.setHeaders(w)
	writeJSON(w, http.StatusOK, resp)
}

// applyFault plays f and reports whether the request has been answered (or abandoned).
// A fault with only a Delay lets the request go on to normal processing. setHeaders
// adds the endpoint's id headers; writeError answers a status in the endpoint's shape.
func (e *Emulator) applyFault(w http.ResponseWriter, r *http.Request, f Fault, setHeaders func(http.ResponseWriter), writeError func(status int)) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return true
		case <-e.done:
			return true
		}
	}
	if f.Drop {
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(http.ErrAbortHandler) // closes the stream without a response
		}
		conn.Close()
		return true
	}
	if f.Redirect != "" {
		status := f.Status
		if status < 300 || status > 399 {
			status = http.StatusTemporaryRedirect
		}
		setHeaders(w)
		w.Header().Set("Location", f.Redirect)
		w.WriteHeader(status)
		return true
	}
	if f.Status == 0 && f.Body == "" {
		return false
	}
	status := f.Status
	if status == 0 {
		status = http.StatusOK
	}
	if f.RetryAfter != "" {
		w.Header().Set("Retry-After", f.RetryAfter)
	}
	if f.Body != "" {
		setHeaders(w)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		io.WriteString(w, f.Body)
		return true
	}
	writeError(status)
	return true
}

func faultError(status int) *stsError {
	switch {
	case status == http.StatusTooManyRequests:
		return newSTSError(status, "temporarily_unavailable", CodeThrottled,
			"TenantThrottlingError - There are too many incoming requests. Retry after the interval in the Retry-After header.")
	case status == http.StatusServiceUnavailable:
		return newSTSError(status, "temporarily_unavailable", CodeServiceError,
			"There was an error issuing a token or an issue with our sign-in service.")
	case status >= 500:
		return newSTSError(status, "server_error", CodeServiceError,
			"There was an error issuing a token or an issue with our sign-in service.")
	default:
		return newSTSError(status, "invalid_request", CodeMalformedRequest, "Invalid request. Request is malformed or invalid.")
	}
}

// issue validates a client-credentials request in the order Entra does (request shape,
// tenant, app, scope, credential) and mints the access token.
func (e *Emulator) issue(w http.ResponseWriter, r *http.Request) (*tokenResponse, string, *stsError) {
	req, se := readTokenRequest(w, r)
	if se != nil {
		return nil, req.clientID, se
	}
	if se := checkGrantType(req.form.Get("grant_type")); se != nil {
		return nil, req.clientID, se
	}
	t, a, se := e.findClient(r.PathValue("tenant"), req.clientID)
	if se != nil {
		return nil, req.clientID, se
	}
	resource, se := parseScope(req.form.Get("scope"))
	if se != nil {
		return nil, req.clientID, se
	}
	acr, se := e.authenticate(a, t, req)
	if se != nil {
		return nil, req.clientID, se
	}
	resp, err := e.mint(a, t, resource, acr, nil)
	if err != nil {
		return nil, req.clientID, newSTSError(http.StatusInternalServerError, "server_error", CodeServiceError,
			"There was an error issuing a token or an issue with our sign-in service.")
	}
	return resp, req.clientID, nil
}

// tokenRequest is a token request's form, with the client id and secret taken from the
// form or the Authorization header.
type tokenRequest struct {
	form        url.Values
	clientID    string
	secret      string
	secretGiven bool
}

// readTokenRequest parses the form and reads the client's id and secret. Repeated
// parameters are refused: form.Get would silently take the first.
func readTokenRequest(w http.ResponseWriter, r *http.Request) (tokenRequest, *stsError) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		return tokenRequest{}, invalidRequest(CodeMalformedRequest, "Invalid request. Request is malformed or invalid.")
	}
	form := r.PostForm
	for _, k := range []string{"grant_type", "client_id", "scope", "client_secret", "client_assertion", "client_assertion_type"} {
		if len(form[k]) > 1 {
			return tokenRequest{}, invalidRequest(CodeMalformedRequest, "Invalid request. Request is malformed or invalid. Parameter '%s' was given more than once.", k)
		}
	}
	req := tokenRequest{
		form:        form,
		clientID:    form.Get("client_id"),
		secret:      form.Get("client_secret"),
		secretGiven: form.Has("client_secret"),
	}
	if se := req.readBasicAuth(r); se != nil {
		return req, se
	}
	return req, nil
}

// readBasicAuth takes the client id and secret from client_secret_basic, which the
// metadata advertises: RFC 6749 §2.3.1 form-encodes both halves before base64.
func (req *tokenRequest) readBasicAuth(r *http.Request) *stsError {
	user, pass, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	u, err1 := url.QueryUnescape(user)
	p, err2 := url.QueryUnescape(pass)
	if err1 != nil || err2 != nil || req.secretGiven || (req.clientID != "" && !strings.EqualFold(req.clientID, u)) {
		return invalidRequest(CodeMalformedRequest, "Invalid request. Request is malformed or invalid.")
	}
	req.clientID, req.secret, req.secretGiven = u, p, true
	return nil
}

func checkGrantType(grant string) *stsError {
	if grant == "" {
		return missingParameter("grant_type")
	}
	if grant != "client_credentials" {
		return newSTSError(http.StatusBadRequest, "unsupported_grant_type", CodeUnsupportedGrantType,
			"The app requested an unsupported grant type '%s'.", grant)
	}
	return nil
}

// findClient looks up the tenant named in the path, then the app registered in it. The
// tenant comes first: Entra reports an unknown tenant before a missing client_id.
func (e *Emulator) findClient(name, clientID string) (*tenant, *app, *stsError) {
	t := e.lookupTenant(name)
	if t == nil {
		return nil, nil, tenantNotFound("invalid_request", name)
	}
	if clientID == "" {
		return nil, nil, missingParameter("client_id")
	}
	a := e.lookupApp(t.id, clientID)
	if a == nil {
		return nil, nil, newSTSError(http.StatusBadRequest, "unauthorized_client", CodeAppNotFound,
			"Application with identifier '%s' was not found in the directory '%s'. This can happen if the application has not been "+
				"installed by the administrator of the tenant or consented to by any user in the tenant. "+
				"You may have sent your authentication request to the wrong tenant.", clientID, name)
	}
	return t, a, nil
}

// authenticate checks the client's one credential and returns the token's appidacr:
// "1" for a client secret, "2" for a certificate, as Entra sets it.
func (e *Emulator) authenticate(a *app, t *tenant, req tokenRequest) (string, *stsError) {
	assertionGiven := req.form.Has("client_assertion")
	switch {
	case req.secretGiven && assertionGiven:
		return "", invalidRequest(CodeMalformedRequest,
			"Invalid request. Request is malformed or invalid. Only one of 'client_assertion' and 'client_secret' may be presented.")
	case req.secretGiven:
		if se := a.checkSecret(req.secret); se != nil {
			return "", se
		}
		return "1", nil
	case assertionGiven:
		if se := checkAssertionType(req.form.Get("client_assertion_type")); se != nil {
			return "", se
		}
		raw := req.form.Get("client_assertion")
		if a.isFederatedAssertion(raw) {
			// Entra marks a federated credential as it does a certificate: "2".
			if se := e.checkFederatedAssertion(a, raw); se != nil {
				return "", se
			}
			return "2", nil
		}
		if se := e.checkAssertion(a, t, raw); se != nil {
			return "", se
		}
		return "2", nil
	default:
		return "", invalidClient(CodeMissingCredential,
			"The request body must contain the following parameter: 'client_assertion' or 'client_secret'.")
	}
}

func checkAssertionType(typ string) *stsError {
	if typ == "" {
		return missingParameter("client_assertion_type")
	}
	if typ != clientAssertionType {
		return invalidRequest(CodeMalformedRequest,
			"Invalid request. Request is malformed or invalid. Unsupported client_assertion_type '%s'.", typ)
	}
	return nil
}

// parseScope accepts exactly one resource scope ending in /.default, next to the OIDC
// scopes MSAL always adds, and returns the resource (the token's audience).
func parseScope(scope string) (string, *stsError) {
	fields := strings.Fields(scope)
	var resources []string
	for _, s := range fields {
		switch strings.ToLower(s) {
		case "openid", "offline_access", "profile":
			continue
		}
		resources = append(resources, s)
	}
	if len(fields) == 0 || len(resources) == 0 {
		return "", newSTSError(http.StatusBadRequest, "invalid_scope", CodeInvalidScope,
			"The provided request must include a 'scope' input parameter.")
	}
	bad := func() (string, *stsError) {
		return "", newSTSError(http.StatusBadRequest, "invalid_scope", CodeInvalidScope,
			"The provided value for the input parameter 'scope' is not valid. The scope '%s' is not valid. Client credential flows "+
				"must have a scope value with /.default suffixed to the resource identifier (application ID URI).", strings.Join(resources, " "))
	}
	if len(resources) != 1 {
		return bad()
	}
	res, ok := strings.CutSuffix(resources[0], "/.default")
	// A resource is an app id URI or GUID: printable UTF-8, or it could not round-trip
	// through the token's JSON as the same audience.
	if !ok || res == "" || strings.HasSuffix(res, "/.default") || !utf8.ValidString(res) || strings.ContainsFunc(res, unicode.IsControl) {
		return bad()
	}
	return res, nil
}

func (a *app) checkSecret(secret string) *stsError {
	for _, s := range a.Secrets {
		if subtle.ConstantTimeCompare([]byte(s), []byte(secret)) == 1 {
			return nil
		}
	}
	for _, s := range a.ExpiredSecrets {
		if subtle.ConstantTimeCompare([]byte(s), []byte(secret)) == 1 {
			return invalidClient(CodeExpiredSecret,
				"The provided client secret keys for app '%s' are expired. Visit the Azure portal to create new keys for your app: "+
					"https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds.", a.ClientID)
		}
	}
	return invalidClient(CodeInvalidSecret,
		"Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, "+
			"not the client secret ID, for a secret added to app '%s'.", a.ClientID)
}

// checkAssertion validates a client assertion: first that a registered, unexpired
// certificate signed it (nothing in it is trusted before that), then its claims, then
// that its jti is fresh.
func (e *Emulator) checkAssertion(a *app, t *tenant, raw string) *stsError {
	now := e.now()
	var claims jwt.RegisteredClaims
	header, alg, se := parseAssertion(raw, &claims)
	if se != nil {
		return se
	}
	rc, thumb, se := a.assertionCert(header, now)
	if se != nil {
		return se
	}
	if se := verifyAssertionSignature(raw, alg, rc, thumb); se != nil {
		return se
	}
	if se := e.checkAssertionParties(a, t, &claims); se != nil {
		return se
	}
	exp, se := checkAssertionTimes(&claims, now, maxAssertionLifetime)
	if se != nil {
		return se
	}
	if claims.ID == "" {
		return malformedJWT("The 'jti' claim is required.")
	}
	if !e.useJTI(appKey(t.id, a.ClientID), claims.ID, exp.Add(assertionSkew), now) {
		return invalidClient(CodeAssertionReplayed,
			"Client assertion with jti '%s' has already been used. Every client assertion must carry a new, unique 'jti'. %s", claims.ID, certDocs)
	}
	return nil
}

// parseAssertion decodes the assertion into claims without verifying it, and returns
// its header and signing algorithm, refusing algorithms Entra does not take.
func parseAssertion(raw string, claims *jwt.RegisteredClaims) (map[string]any, string, *stsError) {
	unverified, _, err := jwt.NewParser().ParseUnverified(raw, claims)
	if err != nil {
		return nil, "", malformedJWT("")
	}
	alg, _ := unverified.Header["alg"].(string)
	if alg != jwt.SigningMethodRS256.Alg() && alg != jwt.SigningMethodPS256.Alg() {
		return nil, "", invalidClient(CodeInvalidSignature,
			"Client assertion contains an invalid signature. [Reason - The signing algorithm '%s' is not supported; sign with PS256 or RS256.]", alg)
	}
	return unverified.Header, alg, nil
}

// assertionCert returns the registered certificate the header names, with the
// thumbprint as Entra quotes it, provided any x5c leaf is that same certificate and it
// is valid now.
func (a *app) assertionCert(header map[string]any, now time.Time) (*registeredCert, string, *stsError) {
	rc, thumb := a.findKey(header)
	if rc != nil && time.Now().Before(rc.usableAt) {
		rc = nil // added through Graph and not yet propagated: Entra does not know it yet
	}
	if rc == nil {
		return nil, thumb, invalidClient(CodeInvalidSignature,
			"The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., "+
				"Thumbprint of key used by client: '%s', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '%s'.]",
			thumb, a.ClientID)
	}
	if x5c, present := header["x5c"]; present {
		leaf, ok := x5cLeaf(x5c)
		if !ok {
			return nil, thumb, malformedJWT("The 'x5c' header is not an array of base64 certificates.")
		}
		if !bytes.Equal(leaf, rc.cert.Raw) {
			return nil, thumb, invalidClient(CodeInvalidSignature,
				"Client assertion contains an invalid signature. [Reason - The first certificate in the x5c header is not the certificate "+
					"the thumbprint names., Thumbprint of key used by client: '%s']", thumb)
		}
	}
	if now.After(rc.cert.NotAfter) || now.Before(rc.cert.NotBefore) {
		return nil, thumb, invalidClient(CodeInvalidSignature,
			"Client assertion contains an invalid signature. [Reason - The key used is expired., Thumbprint of key used by client: '%s', %s]", thumb, foundKey(rc))
	}
	return rc, thumb, nil
}

// foundKey describes a registered certificate's validity as Entra's AADSTS700027
// messages do.
func foundKey(rc *registeredCert) string {
	return fmt.Sprintf("Found key 'Start=%s, End=%s'", rc.cert.NotBefore.UTC().Format("01/02/2006 15:04:05"), rc.cert.NotAfter.UTC().Format("01/02/2006 15:04:05"))
}

func verifyAssertionSignature(raw, alg string, rc *registeredCert, thumb string) *stsError {
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{alg}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(raw, &jwt.RegisteredClaims{}, func(*jwt.Token) (any, error) { return rc.cert.PublicKey, nil })
	if err == nil {
		return nil
	}
	reason := "The provided signature value did not match the expected signature value."
	if errors.Is(err, jwt.ErrInvalidKeyType) {
		reason = "Key was found, but use of the key to verify the signature failed."
	}
	return invalidClient(CodeInvalidSignature,
		"Client assertion contains an invalid signature. [Reason - %s, Thumbprint of key used by client: '%s', %s]", reason, thumb, foundKey(rc))
}

// checkAssertionParties checks that the app issued the assertion about itself, for this
// tenant's token endpoint.
func (e *Emulator) checkAssertionParties(a *app, t *tenant, claims *jwt.RegisteredClaims) *stsError {
	if !strings.EqualFold(claims.Issuer, a.ClientID) || !strings.EqualFold(claims.Subject, a.ClientID) {
		return invalidClient(CodeAssertionAppIDMismatch,
			"Client assertion application identifier doesn't match 'client_id' parameter. %s", certDocs)
	}
	if len(claims.Audience) != 1 || !e.isTokenEndpoint(t, claims.Audience[0]) {
		return invalidClient(CodeAssertionAudience, "Client assertion audience claim does not match Realm issuer. %s", certDocs)
	}
	return nil
}

// checkAssertionTimes checks that the assertion is valid now and, when maxLifetime is
// not 0, not longer-lived than that, and returns its expiry. Its start is nbf, else iat; with neither, the
// time-range check takes the epoch (never too early) and the lifetime check takes now.
func checkAssertionTimes(claims *jwt.RegisteredClaims, now time.Time, maxLifetime time.Duration) (time.Time, *stsError) {
	if claims.ExpiresAt == nil {
		return time.Time{}, malformedJWT("The 'exp' claim is required.")
	}
	exp := claims.ExpiresAt.Time
	start := time.Unix(0, 0)
	if claims.NotBefore != nil {
		start = claims.NotBefore.Time
	} else if claims.IssuedAt != nil {
		start = claims.IssuedAt.Time
	}
	if !now.Before(exp) || start.After(now.Add(assertionSkew)) {
		return time.Time{}, invalidClient(CodeAssertionTimeRange,
			"Client assertion is not within its valid time range. Current time: %s, assertion valid from %s, expiry time of assertion %s. %s",
			assertionTime(now), assertionTime(start), assertionTime(exp), certDocs)
	}
	if claims.NotBefore == nil && claims.IssuedAt == nil {
		start = now
	}
	if maxLifetime > 0 && exp.Sub(start) > maxLifetime {
		return time.Time{}, invalidClient(CodeAssertionTimeRange,
			"Client assertion is not within its valid time range: its lifetime from %s to %s exceeds the maximum of 1 day. %s",
			assertionTime(start), assertionTime(exp), certDocs)
	}
	return exp, nil
}

func malformedJWT(detail string) *stsError {
	msg := "JWT token is invalid or malformed."
	if detail != "" {
		msg += " " + detail
	}
	return invalidRequest(CodeMalformedJWT, "%s", msg)
}

// findKey picks the registered certificate the assertion header names. x5t#S256 wins
// over x5t when both are present. The thumbprint is returned as upper-case hex, as
// Entra quotes it in AADSTS700027.
func (a *app) findKey(header map[string]any) (*registeredCert, string) {
	if v, ok := header["x5t#S256"]; ok {
		sum, thumb := decodeThumbprint(v, 32)
		for i := range a.certs {
			if sum != nil && bytes.Equal(a.certs[i].s256[:], sum) {
				return &a.certs[i], thumb
			}
		}
		return nil, thumb
	}
	if v, ok := header["x5t"]; ok {
		sum, thumb := decodeThumbprint(v, 20)
		for i := range a.certs {
			if sum != nil && bytes.Equal(a.certs[i].s1[:], sum) {
				return &a.certs[i], thumb
			}
		}
		return nil, thumb
	}
	return nil, ""
}

// decodeThumbprint reads a JOSE thumbprint header. RFC 7515 says base64url, which
// MSAL.NET and most libraries send; MSAL Go v1.10.1 sends standard base64 with padding
// (accesstokens.Credential.JWT: base64.StdEncoding). Entra takes both, so does this.
func decodeThumbprint(v any, size int) ([]byte, string) {
	s, ok := v.(string)
	if !ok {
		return nil, ""
	}
	trimmed := strings.TrimRight(s, "=")
	for _, enc := range []*base64.Encoding{base64.RawURLEncoding, base64.RawStdEncoding} {
		if b, err := enc.DecodeString(trimmed); err == nil {
			if len(b) == size {
				return b, strings.ToUpper(hex.EncodeToString(b))
			}
			return nil, strings.ToUpper(hex.EncodeToString(b))
		}
	}
	return nil, s
}

func x5cLeaf(v any) ([]byte, bool) {
	list, ok := v.([]any)
	if !ok || len(list) == 0 {
		return nil, false
	}
	s, ok := list[0].(string)
	if !ok {
		return nil, false
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	if _, err := x509.ParseCertificate(der); err != nil {
		return nil, false
	}
	return der, true
}

// isTokenEndpoint reports whether aud names this tenant's v2.0 token endpoint, with the
// tenant given by id or by any of its domain names. The v1 endpoint, other hosts and
// other tenants are refused.
func (e *Emulator) isTokenEndpoint(t *tenant, aud string) bool {
	e.mu.Lock()
	names := append([]string{t.id}, t.domains...)
	e.mu.Unlock()
	for _, n := range names {
		if strings.EqualFold(aud, e.TokenEndpoint(n)) {
			return true
		}
	}
	return false
}

// useJTI records jti for the client and reports whether it was new. Entries are kept
// until the assertion could no longer pass the time checks anyway.
func (e *Emulator) useJTI(client, jti string, until, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	seen := e.jtis[client]
	if seen == nil {
		seen = map[string]time.Time{}
		e.jtis[client] = seen
	}
	if _, dup := seen[jti]; dup {
		return false
	}
	if len(seen) >= 1024 {
		for k, t := range seen {
			if t.Before(now) {
				delete(seen, k)
			}
		}
	}
	seen[jti] = until
	return true
}

// mint signs a v1.0 app-only access token, with extra claims added, the kind Entra issues for the resources
// entratool serves (Graph, ARM, AKS, ACR, Azure DevOps).
func (e *Emulator) mint(a *app, t *tenant, resource, acr string, extra map[string]any) (*tokenResponse, error) {
	now := e.now()
	lifetime := int64(e.lifetime / time.Second)
	if lifetime < 1 {
		lifetime = 1
	}
	var uti [16]byte
	rand.Read(uti[:])
	iss := TokenIssuer(t.id)
	claims := jwt.MapClaims{
		"aud":      resource,
		"iss":      iss,
		"iat":      now.Unix(),
		"nbf":      now.Unix(),
		"exp":      now.Unix() + lifetime,
		"appid":    a.ClientID,
		"appidacr": acr,
		"azp":      a.ClientID,
		"azpacr":   acr,
		"idp":      iss,
		"idtyp":    "app",
		"oid":      a.oid,
		"sub":      a.oid,
		"tid":      t.id,
		"uti":      base64.RawURLEncoding.EncodeToString(uti[:]),
		"ver":      "1.0",
	}
	for k, v := range extra {
		claims[k] = v
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodRS256, claims)
	tok.Header["kid"] = e.signer.kid
	tok.Header["x5t"] = e.signer.kid
	signed, err := tok.SignedString(e.signer.key)
	if err != nil {
		return nil, fmt.Errorf("sign access token: %w", err)
	}
	return &tokenResponse{TokenType: "Bearer", ExpiresIn: lifetime, ExtExpiresIn: lifetime, AccessToken: signed}, nil
}

// Claims are the checked claims of an access token the emulator issued.
type Claims struct {
	Audience  string
	AppID     string
	TenantID  string
	ObjectID  string
	Issuer    string
	ExpiresAt time.Time
	IssuedAt  time.Time
	Raw       map[string]any
}

// Validate checks an access token this emulator issued: signature with the emulator's
// key (kid included), exp/nbf/iat against Options.Now, iss for a known tenant, and
// aud == audience. Errors never quote the token.
func (e *Emulator) Validate(token, audience string) (*Claims, error) {
	if audience == "" {
		return nil, errors.New("validate access token: no audience given to check against")
	}
	raw := jwt.MapClaims{}
	_, err := jwt.NewParser(
		jwt.WithValidMethods([]string{jwt.SigningMethodRS256.Alg()}),
		jwt.WithTimeFunc(e.now),
		jwt.WithExpirationRequired(),
		jwt.WithIssuedAt(),
		jwt.WithAudience(audience),
	).ParseWithClaims(token, raw, func(t *jwt.Token) (any, error) {
		if kid, _ := t.Header["kid"].(string); kid != e.signer.kid {
			return nil, errors.New("token was not signed by this emulator's key")
		}
		return &e.signer.key.PublicKey, nil
	})
	if err != nil {
		return nil, fmt.Errorf("access token rejected: %w", err)
	}
	str := func(k string) string { s, _ := raw[k].(string); return s }
	c := &Claims{
		Audience: str("aud"),
		AppID:    str("appid"),
		TenantID: str("tid"),
		ObjectID: str("oid"),
		Issuer:   str("iss"),
		Raw:      raw,
	}
	if c.TenantID == "" || e.lookupTenant(c.TenantID) == nil {
		return nil, fmt.Errorf("access token rejected: tenant %q is not known to the emulator", c.TenantID)
	}
	if c.Issuer != TokenIssuer(c.TenantID) {
		return nil, fmt.Errorf("access token rejected: issuer %q is not %q", c.Issuer, TokenIssuer(c.TenantID))
	}
	if c.AppID == "" {
		return nil, errors.New("access token rejected: no appid claim")
	}
	if exp, err := raw.GetExpirationTime(); err == nil && exp != nil {
		c.ExpiresAt = exp.Time
	}
	if iat, err := raw.GetIssuedAt(); err == nil && iat != nil {
		c.IssuedAt = iat.Time
	}
	return c, nil
}
