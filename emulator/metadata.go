package emulator

import (
	"crypto/sha1"
	"encoding/base64"
	"math/big"
	"net/http"
)

// handleMetadata answers the OIDC discovery document. Like Entra, every endpoint names
// the tenant by its GUID even when it was asked for by domain, and the issuer shares
// scheme and host with the authority (MSAL's ValidateIssuerMatchesAuthority).
func (e *Emulator) handleMetadata(w http.ResponseWriter, r *http.Request) {
	e.count(func(c *Counts) { c.Metadata++ })
	ids := newReqIDs(r)
	e.mu.Lock()
	loc := e.metadataRedirect
	e.mu.Unlock()
	if loc != "" {
		ids.setHeaders(w)
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusTemporaryRedirect)
		return
	}
	name := r.PathValue("tenant")
	t := e.lookupTenant(name)
	if t == nil {
		e.writeError(w, ids, tenantNotFound("invalid_tenant", name))
		return
	}
	base := e.URL + "/" + t.id
	doc := map[string]any{
		"token_endpoint":                        base + "/oauth2/v2.0/token",
		"token_endpoint_auth_methods_supported": []string{"client_secret_post", "private_key_jwt", "client_secret_basic"},
		"jwks_uri":                              base + "/discovery/v2.0/keys",
		"response_modes_supported":              []string{"query", "fragment", "form_post"},
		"subject_types_supported":               []string{"pairwise"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"response_types_supported":              []string{"code", "id_token", "code id_token", "id_token token"},
		"scopes_supported":                      []string{"openid", "profile", "email", "offline_access"},
		"issuer":                                base + "/v2.0",
		"request_uri_parameter_supported":       false,
		// Entra points at Graph; the emulator points at itself so nothing that follows
		// the document ever leaves the machine.
		"userinfo_endpoint":             e.URL + "/oidc/userinfo",
		"authorization_endpoint":        base + "/oauth2/v2.0/authorize",
		"device_authorization_endpoint": base + "/oauth2/v2.0/devicecode",
		"http_logout_supported":         true,
		"frontchannel_logout_supported": true,
		"end_session_endpoint":          base + "/oauth2/v2.0/logout",
		"claims_supported": []string{"sub", "iss", "cloud_instance_name", "cloud_instance_host_name",
			"cloud_graph_host_name", "msgraph_host", "aud", "exp", "iat", "auth_time", "acr", "nonce",
			"preferred_username", "name", "tid", "ver", "at_hash", "c_hash", "email"},
		"kerberos_endpoint":     base + "/kerberos",
		"tenant_region_scope":   "NA",
		"cloud_instance_name":   "microsoftonline.com",
		"cloud_graph_host_name": "graph.windows.net",
		"msgraph_host":          "graph.microsoft.com",
		"rbac_url":              "https://pas.windows.net",
	}
	ids.setHeaders(w)
	w.Header().Set("Cache-Control", "max-age=86400, private")
	w.Header().Set("Access-Control-Allow-Origin", "*")
	writeJSON(w, http.StatusOK, doc)
}

// JWK is one key of the emulator's JWKS, in Entra's field set.
type JWK struct {
	Kty    string   `json:"kty"`
	Use    string   `json:"use"`
	Kid    string   `json:"kid"`
	X5t    string   `json:"x5t"`
	N      string   `json:"n"`
	E      string   `json:"e"`
	X5c    []string `json:"x5c"`
	Issuer string   `json:"issuer,omitempty"`
}

func (e *Emulator) jwk() JWK {
	pub := &e.signer.key.PublicKey
	sum := sha1.Sum(e.signer.cert.Raw)
	return JWK{
		Kty: "RSA",
		Use: "sig",
		Kid: e.signer.kid,
		X5t: base64.RawURLEncoding.EncodeToString(sum[:]),
		N:   base64.RawURLEncoding.EncodeToString(pub.N.Bytes()),
		E:   base64.RawURLEncoding.EncodeToString(big.NewInt(int64(pub.E)).Bytes()),
		X5c: []string{base64.StdEncoding.EncodeToString(e.signer.cert.Raw)},
	}
}

func (e *Emulator) handleKeys(w http.ResponseWriter, r *http.Request) {
	ids := newReqIDs(r)
	name := r.PathValue("tenant")
	t := e.lookupTenant(name)
	if t == nil {
		e.writeError(w, ids, tenantNotFound("invalid_tenant", name))
		return
	}
	k := e.jwk()
	k.Issuer = e.URL + "/" + t.id + "/v2.0"
	ids.setHeaders(w)
	w.Header().Set("Cache-Control", "max-age=86400, private")
	writeJSON(w, http.StatusOK, map[string]any{"keys": []JWK{k}})
}
