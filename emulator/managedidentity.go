package emulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ManagedIdentity is one managed identity of the emulated Azure resource.
type ManagedIdentity struct {
	// ClientID is the identity's client (application) id, the appid of its tokens. A
	// system-assigned identity has one too; empty derives one from the tenant.
	ClientID string
	// System marks the system-assigned identity, used when a request names none.
	System   bool
	TenantID string // required: the tid of its tokens
	// ObjectID is its service principal's object id (the tokens' oid, and what object_id
	// selects); empty derives one from tenant and client id.
	ObjectID string
	// ResourceID is a user-assigned identity's ARM id, what mi_res_id selects (compared
	// case-insensitively, as ARM ids are). Empty: not selectable that way.
	ResourceID string
}

// miConfig is what ManagedIdentity set.
type miConfig struct {
	header     string
	identities []ManagedIdentity
}

// appServiceAPIVersion is the api-version of the App Service / Functions managed
// identity protocol MSAL Go (IDENTITY_ENDPOINT + IDENTITY_HEADER) and azidentity speak.
const appServiceAPIVersion = "2019-08-01"

// serveManagedIdentity listens on addr and sets e.IdentityEndpoint. Plain HTTP, as App
// Service's local endpoint is: the header secret, not TLS, is what guards it.
func (e *Emulator) serveManagedIdentity(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("managed identity endpoint: listen on %s: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /msi/token", e.handleManagedIdentity)
	e.miSrv = &http.Server{
		Handler:           e.logged(mux),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          serverLog(e.logf),
	}
	e.IdentityEndpoint = "http://" + ln.Addr().String() + "/msi/token"
	go e.miSrv.Serve(ln)
	return nil
}

// ManagedIdentity makes the managed identity endpoint serve identities to callers
// presenting header (IDENTITY_HEADER) and returns the endpoint (IDENTITY_ENDPOINT).
// Calling it again replaces the configuration. It panics on an identity without a
// tenant, or on two system-assigned identities: a resource has at most one.
func (e *Emulator) ManagedIdentity(header string, identities ...ManagedIdentity) (endpoint string) {
	if header == "" {
		panic("emulator: ManagedIdentity: empty identity header")
	}
	var ids []ManagedIdentity
	system := false
	for _, id := range identities {
		if id.TenantID == "" {
			panic(fmt.Sprintf("emulator: ManagedIdentity: identity %q has no tenant", id.ClientID))
		}
		if id.System {
			if system {
				panic("emulator: ManagedIdentity: more than one system-assigned identity")
			}
			system = true
		}
		id.TenantID = strings.ToLower(id.TenantID)
		if id.ClientID == "" {
			id.ClientID = nameGUID("system-assigned managed identity", id.TenantID)
		}
		if id.ObjectID == "" {
			id.ObjectID = nameGUID("managed identity service principal", id.TenantID, strings.ToLower(id.ClientID))
		}
		ids = append(ids, id)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, id := range ids {
		e.addTenantLocked(id.TenantID)
	}
	e.mi = &miConfig{header: header, identities: ids}
	return e.IdentityEndpoint
}

// ManagedIdentities returns the identities ManagedIdentity configured, with the client
// and object ids it derived filled in.
func (e *Emulator) ManagedIdentities() []ManagedIdentity {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.mi == nil {
		return nil
	}
	return append([]ManagedIdentity(nil), e.mi.identities...)
}

// nameGUID makes a GUID from a label and names, the same in every run, shaped as a
// version-4 GUID like those Entra hands out.
func nameGUID(label string, names ...string) string {
	sum := sha256.Sum256([]byte("entra-emulator " + label + "\x00" + strings.Join(names, "\x00")))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}

// miError is App Service's error document.
func miError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, map[string]any{"statusCode": status, "message": fmt.Sprintf(format, args...), "correlationId": newGUID()})
}

// handleManagedIdentity answers the App Service managed identity protocol: GET
// ?api-version=2019-08-01&resource=R[&client_id=|&mi_res_id=|&object_id=|&principal_id=]
// with X-IDENTITY-HEADER; the answer is {"access_token","expires_on" (Unix seconds as a
// string),"resource","token_type","client_id"}.
func (e *Emulator) handleManagedIdentity(w http.ResponseWriter, r *http.Request) {
	e.count(func(c *Counts) { c.ManagedIdentity++ })
	e.mu.Lock()
	cfg := e.mi
	e.mu.Unlock()
	if cfg == nil {
		miError(w, http.StatusNotFound, "No managed identity is configured for this resource (Emulator.ManagedIdentity).")
		return
	}
	if subtle.ConstantTimeCompare([]byte(r.Header.Get("X-IDENTITY-HEADER")), []byte(cfg.header)) != 1 {
		miError(w, http.StatusUnauthorized, "The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER.")
		return
	}
	q := r.URL.Query()
	for k, v := range q {
		if len(v) > 1 {
			miError(w, http.StatusBadRequest, "The query parameter '%s' was given more than once.", k)
			return
		}
	}
	if v := q.Get("api-version"); v != appServiceAPIVersion {
		miError(w, http.StatusBadRequest, "The api-version '%s' is missing or not supported; this endpoint speaks %s.", v, appServiceAPIVersion)
		return
	}
	resource := q.Get("resource")
	if resource == "" {
		miError(w, http.StatusBadRequest, "The resource query parameter is required.")
		return
	}
	if _, se := parseScope(resource + "/.default"); se != nil {
		miError(w, http.StatusBadRequest, "The resource '%s' is not a resource identifier (an app id URI or GUID, without /.default).", resource)
		return
	}
	id, ok, msg := cfg.pick(q.Get("client_id"), q.Get("mi_res_id"), q.Get("object_id"), q.Get("principal_id"))
	if msg != "" {
		miError(w, http.StatusBadRequest, "%s", msg)
		return
	}
	if !ok {
		miError(w, http.StatusBadRequest, "Unable to load the proper Managed Identity.")
		return
	}
	t := e.lookupTenant(id.TenantID)
	extra := map[string]any{}
	if id.ResourceID != "" {
		extra["xms_mirid"] = id.ResourceID
	}
	resp, err := e.mint(&app{App: App{TenantID: t.id, ClientID: id.ClientID}, oid: id.ObjectID}, t, resource, "2", extra)
	if err != nil {
		miError(w, http.StatusInternalServerError, "%v", err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{
		"access_token": resp.AccessToken,
		"expires_on":   strconv.FormatInt(e.now().Unix()+resp.ExpiresIn, 10),
		"resource":     resource,
		"token_type":   "Bearer",
		"client_id":    id.ClientID,
	})
}

// pick finds the identity a request selects: by one of client id, ARM resource id or
// object (principal) id, else the system-assigned one. msg is set when the request
// names more than one selector.
func (c *miConfig) pick(clientID, resID, objectID, principalID string) (ManagedIdentity, bool, string) {
	given := 0
	for _, v := range []string{clientID, resID, objectID, principalID} {
		if v != "" {
			given++
		}
	}
	if given > 1 {
		return ManagedIdentity{}, false, "Only one of client_id, mi_res_id, object_id and principal_id may be given."
	}
	if objectID == "" {
		objectID = principalID
	}
	for _, id := range c.identities {
		switch {
		case clientID != "" && strings.EqualFold(id.ClientID, clientID),
			resID != "" && id.ResourceID != "" && strings.EqualFold(id.ResourceID, resID),
			objectID != "" && strings.EqualFold(id.ObjectID, objectID),
			given == 0 && id.System:
			return id, true, ""
		}
	}
	return ManagedIdentity{}, false, ""
}
