package emulator

import (
	"bytes"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/golang-jwt/jwt/v5"
)

// The part of Microsoft Graph v1.0 an application uses to roll its own certificate
// credentials (SPEC §13): POST /v1.0/applications/{objectId}/addKey and /removeKey, and
// GET /v1.0/applications/{objectId}. It answers with Graph's JSON and error codes, and
// validates the proof of possession as strictly as the token endpoint validates client
// assertions, since a client that passes here must pass against the real service.

const (
	// GraphAppID is Microsoft Graph's application id: the audience of tokens asked for
	// with scope "00000003-…/.default", and the audience users wrongly put in proofs.
	GraphAppID = "00000003-0000-0000-c000-000000000000"
	// ProofAudience is the audience an addKey/removeKey proof must carry: the (retired)
	// Azure AD Graph's application id, whatever some renderings of the docs say.
	ProofAudience = "00000002-0000-0000-c000-000000000000"
	// GraphResource is Graph's public resource URI. Tokens for it are accepted too, so a
	// client that asks for the real scope while talking to GraphURL still works.
	GraphResource = "https://graph.microsoft.com"

	// Graph error codes the emulator answers with, as Graph names them.
	GraphCodeInvalidToken = "InvalidAuthenticationToken"        // 401: no, or a bad, access token
	GraphCodeProofRefused = "Authentication_MissingOrMalformed" // 401: the key-rolling proof was refused
	GraphCodeBadRequest   = "Request_BadRequest"                // 400 (405, 415): malformed request or body
	GraphCodeDenied       = "Authorization_RequestDenied"       // 403: the caller may not do this to the app
	GraphCodeNotFound     = "Request_ResourceNotFound"          // 404: no such application (in the caller's tenant)

	keyTypeX509 = "AsymmetricX509Cert"
	keyUsage    = "Verify"

	// maxProofLifetime bounds exp - nbf of a proof: Graph documents "exp = nbf + 10 min".
	maxProofLifetime = 10 * time.Minute
	// proofSkew is how far in the future a proof's nbf may lie: a client whose clock runs
	// a little ahead still gets through, one setting nbf in the future does not.
	proofSkew = time.Minute
	// maxDisplayName is the keyCredential displayName length Graph keeps; it shortens
	// longer names rather than refusing them.
	maxDisplayName = 90
	maxGraphBody   = 1 << 20
	graphMetadata  = "https://graph.microsoft.com/v1.0/$metadata"
)

// KeyCredential is a certificate credential of an app registration, in Graph's JSON
// shape (properties in Graph's order). Graph answers addKey with one, and lists them
// under keyCredentials.
type KeyCredential struct {
	// CustomKeyIdentifier is the certificate's SHA-1 thumbprint, base64 encoded (Graph's
	// Edm.Binary); the portal shows the same bytes as upper-case hex.
	CustomKeyIdentifier string    `json:"customKeyIdentifier"`
	DisplayName         string    `json:"displayName"`
	EndDateTime         time.Time `json:"endDateTime"` // the certificate's NotAfter, UTC
	// Key is the certificate's DER in base64: given only by GET …?$select=keyCredentials
	// (unless App.GraphKeyValuesHidden), null in addKey's answer and elsewhere.
	Key           *string   `json:"key"`
	KeyID         string    `json:"keyId"` // the portal's "Certificate ID"
	StartDateTime time.Time `json:"startDateTime"`
	Type          string    `json:"type"`  // AsymmetricX509Cert
	Usage         string    `json:"usage"` // Verify
	// Certificate is the registered certificate, for tests (never serialised).
	Certificate *x509.Certificate `json:"-"`
}

func (rc *registeredCert) keyCredential(withKey bool) KeyCredential {
	kc := KeyCredential{
		CustomKeyIdentifier: base64.StdEncoding.EncodeToString(rc.s1[:]),
		DisplayName:         rc.displayName,
		EndDateTime:         rc.cert.NotAfter.UTC(),
		KeyID:               rc.keyID,
		StartDateTime:       rc.cert.NotBefore.UTC(),
		Type:                keyTypeX509,
		Usage:               keyUsage,
		Certificate:         rc.cert,
	}
	if withKey {
		k := base64.StdEncoding.EncodeToString(rc.cert.Raw)
		kc.Key = &k
	}
	return kc
}

// KeyCredentials lists the key credentials of the app with application object id
// objectID, in the order added (Key nil, Certificate set); nil for an unknown id. Keys
// still propagating (Options.GraphPropagationDelay) are listed: Graph has them.
func (e *Emulator) KeyCredentials(objectID string) []KeyCredential {
	a := e.lookupObject(objectID)
	if a == nil {
		return nil
	}
	out := make([]KeyCredential, 0, len(a.certs))
	for i := range a.certs {
		out = append(out, a.certs[i].keyCredential(false))
	}
	return out
}

// SetGraphPropagationDelay sets Options.GraphPropagationDelay for keys added from now on.
func (e *Emulator) SetGraphPropagationDelay(d time.Duration) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.propagation = d
}

// QueueGraphFaults appends faults, each consumed by one Graph request, in order. Graph
// faults and token-endpoint faults (QueueFaults) are separate queues.
func (e *Emulator) QueueGraphFaults(f ...Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.graphFaults = append(e.graphFaults, f...)
}

// SetPermanentGraphFault makes every Graph request fail with f once the Graph queue is
// empty; nil clears it.
func (e *Emulator) SetPermanentGraphFault(f *Fault) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if f == nil {
		e.graphPermanent = nil
		return
	}
	c := *f
	e.graphPermanent = &c
}

func (e *Emulator) nextGraphFault() (Fault, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	return popFault(&e.graphFaults, e.graphPermanent)
}

func (e *Emulator) lookupObject(objectID string) *app {
	e.mu.Lock()
	defer e.mu.Unlock()
	key, ok := e.objects[strings.ToLower(objectID)]
	if !ok {
		return nil
	}
	return e.apps[key]
}

// graphError is one refusal in Graph's terms.
type graphError struct {
	status int
	code   string
	msg    string
}

func graphErr(status int, code, format string, args ...any) *graphError {
	return &graphError{status: status, code: code, msg: fmt.Sprintf(format, args...)}
}

func badRequest(format string, args ...any) *graphError {
	return graphErr(http.StatusBadRequest, GraphCodeBadRequest, format, args...)
}

// proofRefused keeps Graph's own wording first, so a client matching it still matches,
// and says what was wrong with the proof after it.
func proofRefused(format string, args ...any) *graphError {
	return graphErr(http.StatusUnauthorized, GraphCodeProofRefused,
		"Access Token missing or malformed. The key-rolling proof was refused: "+format+".", args...)
}

func denied() *graphError {
	return graphErr(http.StatusForbidden, GraphCodeDenied, "Insufficient privileges to complete the operation.")
}

func graphFaultError(status int) *graphError {
	switch {
	case status == http.StatusTooManyRequests:
		return graphErr(status, "TooManyRequests", "Too many requests. Please retry again later, after the interval in the Retry-After header.")
	case status == http.StatusServiceUnavailable:
		return graphErr(status, "serviceNotAvailable", "The service is temporarily unavailable. Please retry later.")
	case status >= 500:
		return graphErr(status, "generalException", "An unexpected error occurred on the server.")
	default:
		return badRequest("Invalid request.")
	}
}

// graphIDs are the ids Graph puts on every answer: its own request-id, and the caller's
// client-request-id (the request-id when the caller sent none).
type graphIDs struct {
	request string
	client  string
}

func newGraphIDs(r *http.Request) graphIDs {
	ids := graphIDs{request: newGUID(), client: r.Header.Get("client-request-id")}
	if !isGUID(ids.client) {
		ids.client = ids.request
	}
	return ids
}

func (ids graphIDs) setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("request-id", ids.request)
	h.Set("client-request-id", ids.client)
	h.Set("Cache-Control", "no-cache")
}

type graphErrorBody struct {
	Error graphErrorDetail `json:"error"`
}

type graphErrorDetail struct {
	Code       string          `json:"code"`
	Message    string          `json:"message"`
	InnerError graphInnerError `json:"innerError"`
}

type graphInnerError struct {
	Date            string `json:"date"`
	RequestID       string `json:"request-id"`
	ClientRequestID string `json:"client-request-id"`
}

func (e *Emulator) writeGraphError(w http.ResponseWriter, ids graphIDs, ge *graphError) {
	if ge.status == http.StatusUnauthorized && ge.code == GraphCodeInvalidToken {
		w.Header().Set("WWW-Authenticate", fmt.Sprintf(`Bearer realm="", authorization_uri="%s/common/oauth2/authorize", client_id="%s"`, e.URL, GraphAppID))
	}
	ids.setHeaders(w)
	writeJSON(w, ge.status, graphErrorBody{Error: graphErrorDetail{
		Code:    ge.code,
		Message: ge.msg,
		InnerError: graphInnerError{
			Date:            e.now().UTC().Format("2006-01-02T15:04:05"),
			RequestID:       ids.request,
			ClientRequestID: ids.client,
		},
	}})
}

// graphRoute names what a Graph request asks for.
type graphRoute int

const (
	routeGet graphRoute = iota + 1
	routeAddKey
	routeRemoveKey
)

func (rt graphRoute) String() string {
	switch rt {
	case routeGet:
		return "GET"
	case routeAddKey:
		return "addKey"
	case routeRemoveKey:
		return "removeKey"
	}
	return "?"
}

// parseGraphPath reads /v1.0/applications/{id}[/addKey|/removeKey] and the method.
func parseGraphPath(r *http.Request) (graphRoute, string, *graphError) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/v1.0/applications/")
	if !ok {
		// Name the first segment Graph would not know, as Graph does.
		seg, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if after, ok := strings.CutPrefix(r.URL.Path, "/v1.0/"); ok {
			seg, _, _ = strings.Cut(after, "/")
		}
		return 0, "", badRequest("Resource not found for the segment '%s'.", clean(seg))
	}
	parts := strings.Split(rest, "/")
	want, route := http.MethodGet, routeGet
	switch {
	case len(parts) == 1:
	case len(parts) == 2 && parts[1] == "addKey":
		want, route = http.MethodPost, routeAddKey
	case len(parts) == 2 && parts[1] == "removeKey":
		want, route = http.MethodPost, routeRemoveKey
	default:
		return 0, "", badRequest("Resource not found for the segment '%s'.", clean(parts[1]))
	}
	if r.Method != want {
		return 0, "", graphErr(http.StatusMethodNotAllowed, GraphCodeBadRequest, "Specified HTTP method is not allowed for the request uri.")
	}
	return route, parts[0], nil
}

// clean makes text taken from a request safe to quote in a one-line message.
func clean(s string) string {
	if len(s) > 100 {
		s = s[:100]
	}
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) {
			return '?'
		}
		return r
	}, s)
}

// graphHandler serves the Graph listener. The checks follow Graph's order: the access
// token, then the object, then the caller's right to it, then the body and the proof.
func (e *Emulator) graphHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		e.count(func(c *Counts) { c.Graph++ })
		ids := newGraphIDs(r)
		ids.setHeaders(w)
		route, objectID, ge := parseGraphPath(r)
		e.count(func(c *Counts) {
			switch route {
			case routeGet:
				c.GraphGet++
			case routeAddKey:
				c.GraphAddKey++
			case routeRemoveKey:
				c.GraphRemoveKey++
			}
		})
		if f, ok := e.nextGraphFault(); ok && e.applyFault(w, r, f, ids.setHeaders, func(status int) {
			e.writeGraphError(w, ids, graphFaultError(status))
		}) {
			return
		}
		if ge == nil {
			ge = e.answerGraph(w, r, route, objectID)
		}
		if ge != nil {
			if e.logf != nil {
				e.logf("entra-emulator: graph %s refused: %s: %s", route, ge.code, ge.msg)
			}
			e.writeGraphError(w, ids, ge)
		}
	})
}

// answerGraph answers one routed request, or returns the refusal to answer with.
func (e *Emulator) answerGraph(w http.ResponseWriter, r *http.Request, route graphRoute, objectID string) *graphError {
	caller, ge := e.graphCaller(r)
	if ge != nil {
		return ge
	}
	if !isGUID(objectID) {
		return badRequest("Invalid object identifier '%s'.", clean(objectID))
	}
	if route == routeGet {
		a, ge := e.graphTarget(caller, objectID)
		if ge != nil {
			return ge
		}
		return e.graphGet(w, r, a)
	}
	body, ge := readGraphBody(w, r)
	if ge != nil {
		return ge
	}
	// From the app's lookup to its update, under graphMu: the proof is checked against
	// the keys the update starts from.
	e.graphMu.Lock()
	defer e.graphMu.Unlock()
	a, ge := e.graphTarget(caller, objectID)
	if ge != nil {
		return ge
	}
	// An app rolls its own keys with no Graph permission only by proving a valid key;
	// with none left, Graph treats the call as needing Application.ReadWrite.* (which the
	// emulator grants no one), so the key must be uploaded by hand once.
	if !a.hasValidCert(e.now()) {
		return graphErr(http.StatusForbidden, GraphCodeDenied,
			"Insufficient privileges to complete the operation. The application has no valid certificate left to prove possession with, "+
				"so it cannot roll its own keys: upload a new certificate in the portal (App registrations → Certificates & secrets).")
	}
	if route == routeAddKey {
		return e.addKey(w, a, body)
	}
	return e.removeKey(w, a, body)
}

// graphAudiences are the access-token audiences Graph takes: the emulator's own URL
// (scope GraphURL/.default), Graph's resource URI and its application id.
func (e *Emulator) graphAudiences() []string {
	return []string{e.GraphURL, GraphResource, GraphAppID}
}

// graphCaller checks the bearer token: issued by this emulator, for Graph, app-only.
func (e *Emulator) graphCaller(r *http.Request) (*Claims, *graphError) {
	scheme, token, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		return nil, graphErr(http.StatusUnauthorized, GraphCodeInvalidToken, "Access token is empty.")
	}
	var first error
	for _, aud := range e.graphAudiences() {
		c, err := e.Validate(token, aud)
		if err == nil {
			if azp, ok := c.Raw["azp"].(string); ok && !strings.EqualFold(azp, c.AppID) {
				return nil, graphErr(http.StatusUnauthorized, GraphCodeInvalidToken, "Access token validation failure. The 'azp' claim is not the 'appid' claim.")
			}
			return c, nil
		}
		if first == nil {
			first = err
		}
	}
	if errors.Is(first, jwt.ErrTokenInvalidAudience) {
		return nil, graphErr(http.StatusUnauthorized, GraphCodeInvalidToken,
			"Access token validation failure. Invalid audience: Graph takes tokens for %s, %s or %s.", e.GraphURL, GraphResource, GraphAppID)
	}
	return nil, graphErr(http.StatusUnauthorized, GraphCodeInvalidToken, "Access token validation failure (%s).", clean(first.Error()))
}

// graphTarget finds the application objectID names in the caller's tenant and checks
// the caller is that application: the emulator grants no Application.* permission, so
// an app may touch only itself.
func (e *Emulator) graphTarget(caller *Claims, objectID string) (*app, *graphError) {
	a := e.lookupObject(objectID)
	if a == nil || !strings.EqualFold(a.TenantID, caller.TenantID) {
		return nil, graphErr(http.StatusNotFound, GraphCodeNotFound,
			"Resource '%s' does not exist or one of its queried reference-property objects are not present.", objectID)
	}
	if !strings.EqualFold(caller.AppID, a.ClientID) {
		return nil, denied()
	}
	return a, nil
}

// graphGet answers GET /v1.0/applications/{id} with id, appId and keyCredentials, or
// the $select'ed ones. As in Graph, keyCredentials carry the key only when selected on
// this single object.
func (e *Emulator) graphGet(w http.ResponseWriter, r *http.Request, a *app) *graphError {
	if a.GraphReadDenied {
		return denied()
	}
	all := []string{"id", "appId", "keyCredentials"}
	var props []string
	for _, v := range r.URL.Query()["$select"] {
		for _, p := range strings.Split(v, ",") {
			p = strings.TrimSpace(p)
			if p == "" {
				continue
			}
			i := slicesIndexFold(all, p)
			if i < 0 {
				return badRequest("Parsing OData Select and Expand failed: Could not find a property named '%s' on type 'microsoft.graph.application'.", clean(p))
			}
			props = append(props, all[i])
		}
	}
	doc := map[string]any{"@odata.context": graphMetadata + "#applications/$entity"}
	withKey := false
	if props != nil {
		doc["@odata.context"] = graphMetadata + "#applications(" + strings.Join(props, ",") + ")/$entity"
		withKey = slicesIndexFold(props, "keyCredentials") >= 0 && !a.GraphKeyValuesHidden
	} else {
		props = all
	}
	for _, p := range props {
		switch p {
		case "id":
			doc["id"] = a.ObjectID
		case "appId":
			doc["appId"] = a.ClientID
		case "keyCredentials":
			kcs := make([]KeyCredential, 0, len(a.certs))
			for i := range a.certs {
				kcs = append(kcs, a.certs[i].keyCredential(withKey))
			}
			doc["keyCredentials"] = kcs
		}
	}
	writeJSON(w, http.StatusOK, doc)
	return nil
}

func slicesIndexFold(list []string, s string) int {
	for i, v := range list {
		if strings.EqualFold(v, s) {
			return i
		}
	}
	return -1
}

// readGraphBody reads a POST body: JSON, at most maxGraphBody bytes.
func readGraphBody(w http.ResponseWriter, r *http.Request) ([]byte, *graphError) {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return nil, graphErr(http.StatusUnsupportedMediaType, GraphCodeBadRequest, "Content-Type '%s' is not supported: send application/json.", clean(ct))
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxGraphBody))
	if err != nil {
		return nil, badRequest("Invalid JSON in the request body: %s.", clean(err.Error()))
	}
	return body, nil
}

// decodeStrict reads exactly one JSON value into v, refusing unknown properties (Graph
// refuses parameters an action does not declare) and trailing data.
func decodeStrict(body []byte, v any) *graphError {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("Invalid JSON in the request body: %s.", clean(err.Error()))
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("Invalid JSON in the request body: data after the JSON object.")
	}
	return nil
}

type addKeyRequest struct {
	KeyCredential      *keyCredentialInput `json:"keyCredential"`
	PasswordCredential json.RawMessage     `json:"passwordCredential"`
	Proof              *string             `json:"proof"`
}

type keyCredentialInput struct {
	Type        *string `json:"type"`
	Usage       *string `json:"usage"`
	Key         *string `json:"key"`
	DisplayName *string `json:"displayName"`
}

// newKey is a validated addKey request.
type newKey struct {
	cert        *x509.Certificate
	displayName string
	proof       string
}

// parseAddKey validates an addKey body, all but the proof, against the app's keys.
func (e *Emulator) parseAddKey(a *app, body []byte) (newKey, *graphError) {
	var req addKeyRequest
	if ge := decodeStrict(body, &req); ge != nil {
		return newKey{}, ge
	}
	if len(req.PasswordCredential) > 0 && string(req.PasswordCredential) != "null" {
		return newKey{}, badRequest(`The emulator's addKey adds certificates only: send a keyCredential and "passwordCredential": null.`)
	}
	kc := req.KeyCredential
	if kc == nil {
		return newKey{}, badRequest("The request body must contain 'keyCredential'.")
	}
	if req.Proof == nil || *req.Proof == "" {
		return newKey{}, badRequest("The request body must contain 'proof', a JWT signed with a current key of the application.")
	}
	if kc.Type == nil || *kc.Type != keyTypeX509 {
		return newKey{}, badRequest("Key credential type '%s' is not supported: addKey takes '%s'.", clean(deref(kc.Type)), keyTypeX509)
	}
	if kc.Usage == nil || *kc.Usage != keyUsage {
		return newKey{}, badRequest("Key credential usage '%s' is not supported: addKey takes '%s'.", clean(deref(kc.Usage)), keyUsage)
	}
	if kc.Key == nil || *kc.Key == "" {
		return newKey{}, badRequest("The keyCredential must contain 'key', the certificate's DER in base64.")
	}
	der, err := base64.StdEncoding.Strict().DecodeString(*kc.Key)
	if err != nil {
		return newKey{}, badRequest("Invalid certificate: the key value is not base64.")
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return newKey{}, badRequest("Invalid certificate: the key value is not a certificate (%s).", clean(err.Error()))
	}
	if now := e.now(); now.After(cert.NotAfter) {
		return newKey{}, badRequest("Invalid certificate: the certificate expired on %s.", cert.NotAfter.UTC().Format(time.RFC3339))
	}
	for i := range a.certs {
		if a.certs[i].cert.Equal(cert) {
			return newKey{}, badRequest("Upload of duplicate certificate: the certificate with thumbprint %s is already on the application (keyId %s).",
				thumbprint(a.certs[i].s1[:]), a.certs[i].keyID)
		}
	}
	name := deref(kc.DisplayName)
	if utf8.RuneCountInString(name) > maxDisplayName {
		name = string([]rune(name)[:maxDisplayName])
	}
	return newKey{cert: cert, displayName: name, proof: *req.Proof}, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func thumbprint(sum []byte) string { return strings.ToUpper(hex.EncodeToString(sum)) }

// addKey adds a validated certificate proved by a current key. The caller holds graphMu.
func (e *Emulator) addKey(w http.ResponseWriter, a *app, body []byte) *graphError {
	nk, ge := e.parseAddKey(a, body)
	if ge != nil {
		return ge
	}
	if ge := e.checkProof(a, nk.proof); ge != nil {
		return ge
	}
	rc := newRegisteredCert(nk.cert, newGUID(), nk.displayName)
	e.mu.Lock()
	if e.propagation > 0 {
		rc.usableAt = time.Now().Add(e.propagation)
	}
	e.replaceCertsLocked(a, append(append([]registeredCert(nil), a.certs...), rc))
	e.counts.GraphKeysAdded++
	e.mu.Unlock()
	writeJSON(w, http.StatusOK, struct {
		Context string `json:"@odata.context"`
		KeyCredential
	}{graphMetadata + "#microsoft.graph.keyCredential", rc.keyCredential(false)})
	return nil
}

type removeKeyRequest struct {
	KeyID *string `json:"keyId"`
	Proof *string `json:"proof"`
}

// removeKey removes a key, proved by a current key (which may be the one removed). The
// caller holds graphMu.
func (e *Emulator) removeKey(w http.ResponseWriter, a *app, body []byte) *graphError {
	var req removeKeyRequest
	if ge := decodeStrict(body, &req); ge != nil {
		return ge
	}
	if req.KeyID == nil || *req.KeyID == "" {
		return badRequest("The request body must contain 'keyId', the GUID of the key credential to remove.")
	}
	if !isGUID(*req.KeyID) {
		return badRequest("Invalid keyId '%s': not a GUID.", clean(*req.KeyID))
	}
	if req.Proof == nil || *req.Proof == "" {
		return badRequest("The request body must contain 'proof', a JWT signed with a current key of the application.")
	}
	if ge := e.checkProof(a, *req.Proof); ge != nil {
		return ge
	}
	kept := make([]registeredCert, 0, len(a.certs))
	for _, rc := range a.certs {
		if !strings.EqualFold(rc.keyID, *req.KeyID) {
			kept = append(kept, rc)
		}
	}
	if len(kept) == len(a.certs) {
		return badRequest("No key credential with keyId '%s' was found on the application.", *req.KeyID)
	}
	e.mu.Lock()
	e.replaceCertsLocked(a, kept)
	e.counts.GraphKeysRemoved++
	e.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// replaceCertsLocked stores a copy of a with certs as its keys: records in e.apps are
// never changed in place (see app). The caller holds e.mu and graphMu.
func (e *Emulator) replaceCertsLocked(a *app, certs []registeredCert) {
	rec := *a
	rec.certs = certs
	rec.Certificates = make([]*x509.Certificate, 0, len(certs))
	for _, rc := range certs {
		rec.Certificates = append(rec.Certificates, rc.cert)
	}
	e.apps[appKey(a.TenantID, a.ClientID)] = &rec
}

var proofSegments = [3]string{"header", "claims", "signature"}

// checkProof validates a key-rolling proof for app a: base64url segments without
// padding; header alg RS256, typ JWT and x5t naming a certificate registered on the app
// and valid now; a signature by that certificate's key; then (only once signed) aud,
// iss, nbf and exp.
func (e *Emulator) checkProof(a *app, raw string) *graphError {
	now := e.now()
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return proofRefused("it is not a JWT: %d segments instead of header.claims.signature", len(parts))
	}
	var seg [3][]byte
	for i, p := range parts {
		if strings.Contains(p, "=") {
			return proofRefused("its %s segment has '=' padding; JWT segments are base64url without padding", proofSegments[i])
		}
		b, err := base64.RawURLEncoding.Strict().DecodeString(p)
		if err != nil {
			return proofRefused("its %s segment is not base64url", proofSegments[i])
		}
		seg[i] = b
	}
	rc, ge := a.proofCert(seg[0], now)
	if ge != nil {
		return ge
	}
	if len(seg[2]) == 0 {
		return proofRefused("it is not signed")
	}
	pub, ok := rc.cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return proofRefused("the certificate its x5t names (thumbprint %s) has no RSA key to verify RS256 with", thumbprint(rc.s1[:]))
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], seg[2]); err != nil {
		return proofRefused("its signature does not verify with the certificate its x5t names (thumbprint %s)", thumbprint(rc.s1[:]))
	}
	return a.checkProofClaims(seg[1], now)
}

// proofCert reads the proof's header and returns the registered certificate it names,
// which must be valid now: an app left with expired keys cannot roll them.
func (a *app) proofCert(rawHeader []byte, now time.Time) (*registeredCert, *graphError) {
	var h map[string]any
	if err := json.Unmarshal(rawHeader, &h); err != nil || h == nil {
		return nil, proofRefused("its header is not a JSON object")
	}
	if alg, _ := h["alg"].(string); alg != "RS256" {
		return nil, proofRefused("its 'alg' is %q; proofs are signed RS256", clean(fmt.Sprint(h["alg"])))
	}
	if typ, _ := h["typ"].(string); typ != "JWT" {
		return nil, proofRefused("its 'typ' header is %q; it must be \"JWT\"", clean(fmt.Sprint(h["typ"])))
	}
	x5t, ok := h["x5t"].(string)
	if !ok {
		return nil, proofRefused("it has no 'x5t' header (the base64url SHA-1 thumbprint of the signing certificate)")
	}
	sum, err := base64.RawURLEncoding.Strict().DecodeString(x5t)
	if err != nil || len(sum) != 20 {
		return nil, proofRefused("its 'x5t' header %q is not a SHA-1 thumbprint in base64url without padding", clean(x5t))
	}
	var rc *registeredCert
	for i := range a.certs {
		if bytes.Equal(a.certs[i].s1[:], sum) {
			rc = &a.certs[i]
			break
		}
	}
	switch {
	case rc == nil:
		return nil, proofRefused("the certificate its x5t names (thumbprint %s) is not registered on application %s; sign with a key the application has now",
			thumbprint(sum), a.ObjectID)
	case now.After(rc.cert.NotAfter):
		return nil, proofRefused("the certificate that signed it (thumbprint %s) expired on %s; sign with a certificate that is valid now",
			thumbprint(sum), rc.cert.NotAfter.UTC().Format(time.RFC3339))
	case now.Before(rc.cert.NotBefore):
		return nil, proofRefused("the certificate that signed it (thumbprint %s) is not valid until %s; sign with a certificate that is valid now",
			thumbprint(sum), rc.cert.NotBefore.UTC().Format(time.RFC3339))
	}
	return rc, nil
}

// hasValidCert reports whether any of the app's certificates is valid now.
func (a *app) hasValidCert(now time.Time) bool {
	for _, rc := range a.certs {
		if !now.Before(rc.cert.NotBefore) && !now.After(rc.cert.NotAfter) {
			return true
		}
	}
	return false
}

// checkProofClaims checks the signed claims: aud, iss, and nbf/exp against now.
func (a *app) checkProofClaims(raw []byte, now time.Time) *graphError {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var c map[string]any
	if err := dec.Decode(&c); err != nil || c == nil {
		return proofRefused("its claims are not a JSON object")
	}
	if ge := checkProofAudience(c); ge != nil {
		return ge
	}
	iss, _ := c["iss"].(string)
	switch {
	case iss == "":
		return proofRefused("it has no 'iss' claim; it must be the application's object id %s", a.ObjectID)
	case strings.EqualFold(iss, a.ClientID):
		return proofRefused("its issuer %q is the client id; 'iss' must be the application's object id %s", clean(iss), a.ObjectID)
	case !strings.EqualFold(iss, a.ObjectID):
		return proofRefused("its 'iss' %q is not the application's object id %s", clean(iss), a.ObjectID)
	}
	nbf, ge := proofTime(c, "nbf")
	if ge != nil {
		return ge
	}
	exp, ge := proofTime(c, "exp")
	if ge != nil {
		return ge
	}
	switch {
	case nbf.After(now.Add(proofSkew)):
		return proofRefused("it is not yet valid: nbf %s is after the current time %s", assertionTime(nbf), assertionTime(now))
	case !now.Before(exp):
		return proofRefused("it expired at %s (current time %s)", assertionTime(exp), assertionTime(now))
	case !exp.After(nbf):
		return proofRefused("its exp %s is not after its nbf %s", assertionTime(exp), assertionTime(nbf))
	case exp.Sub(nbf) > maxProofLifetime:
		return proofRefused("its lifetime from nbf %s to exp %s exceeds 10 minutes", assertionTime(nbf), assertionTime(exp))
	}
	return nil
}

// checkProofAudience wants exactly ProofAudience, as a string or a one-element array
// (golang-jwt writes a single audience as an array). The message names the common
// mistake, Graph's own app id.
func checkProofAudience(c map[string]any) *graphError {
	v, present := c["aud"]
	if !present {
		return proofRefused("it has no 'aud' claim; it must be %q", ProofAudience)
	}
	var auds []string
	switch v := v.(type) {
	case string:
		auds = []string{v}
	case []any:
		for _, x := range v {
			s, _ := x.(string)
			auds = append(auds, s)
		}
	}
	if len(auds) == 1 && strings.EqualFold(auds[0], ProofAudience) {
		return nil
	}
	for _, s := range auds {
		if strings.EqualFold(s, GraphAppID) {
			return proofRefused("its audience is %q, Microsoft Graph's app id; a key-rolling proof's 'aud' must be %q", GraphAppID, ProofAudience)
		}
	}
	return proofRefused("its audience %s is wrong; 'aud' must be exactly %q", clean(fmt.Sprintf("%q", auds)), ProofAudience)
}

// proofTime reads a NumericDate claim (seconds since the epoch, a JSON number).
func proofTime(c map[string]any, name string) (time.Time, *graphError) {
	v, present := c[name]
	if !present {
		return time.Time{}, proofRefused("it has no '%s' claim", name)
	}
	n, ok := v.(json.Number)
	if !ok {
		return time.Time{}, proofRefused("its '%s' claim is not a number of seconds since the epoch", name)
	}
	f, err := n.Float64()
	if err != nil || f < 0 || f > 1e11 { // 1e11 s is the year 5138: beyond it, garbage
		return time.Time{}, proofRefused("its '%s' claim is not a number of seconds since the epoch", name)
	}
	sec := math.Floor(f)
	return time.Unix(int64(sec), int64((f-sec)*1e9)), nil
}
