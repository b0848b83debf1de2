package emulator

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// AADSTS codes the emulator answers with. The numbers and the wording of the messages
// follow what Entra ID returns, so that code which maps codes to advice (SPEC §4) can be
// tested against the emulator.
const (
	CodeTenantNotFound         = 90002   // invalid_request: tenant not found
	CodeMissingParameter       = 900144  // invalid_request: a required form field is absent
	CodeMalformedRequest       = 9002313 // invalid_request: request is malformed or invalid
	CodeUnsupportedGrantType   = 70003   // unsupported_grant_type
	CodeInvalidScope           = 70011   // invalid_scope
	CodeAppNotFound            = 700016  // unauthorized_client: app not in tenant
	CodeAssertionAppIDMismatch = 700021  // invalid_client: iss/sub differ from client_id
	CodeAssertionAudience      = 700023  // invalid_client: aud is not this token endpoint
	CodeAssertionTimeRange     = 700024  // invalid_client: exp/nbf/lifetime out of range
	CodeInvalidSignature       = 700027  // invalid_client: key not found, expired or signature bad
	CodeMalformedJWT           = 50027   // invalid_request: JWT malformed or missing a required claim
	CodeInvalidSecret          = 7000215 // invalid_client: wrong client secret
	CodeExpiredSecret          = 7000222 // invalid_client: client secret expired
	CodeMissingCredential      = 7000218 // invalid_client: neither secret nor assertion

	// Workload identity federation: an external OIDC token as the client assertion.
	CodeNoMatchingFederatedRecord = 70021 // invalid_request: no federated credential matches iss+sub+aud
	CodeFederatedSignature        = 50013 // invalid_client: external token's signature not verified by its issuer's keys
	CodeExternalOIDCFailed        = 50166 // invalid_client: the issuer's discovery document or keys could not be fetched

	// CodeAssertionReplayed answers a client assertion whose jti this client already used.
	// Entra rejects replayed assertions, but no public source names the code it uses;
	// 700026 sits in the client-assertion range (700021..700027) and is emulator-specific.
	CodeAssertionReplayed = 700026

	CodeServiceError = 50000 // server_error / temporarily_unavailable (fault injection)
	CodeThrottled    = 90055 // temporarily_unavailable with HTTP 429 (fault injection)
)

const certDocs = "Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials ."

// stsError is one refusal, before the per-request ids are attached.
type stsError struct {
	status int
	kind   string // OAuth "error" value
	code   int
	msg    string
}

func (e *stsError) Error() string { return fmt.Sprintf("AADSTS%d: %s", e.code, e.msg) }

func newSTSError(status int, kind string, code int, format string, args ...any) *stsError {
	return &stsError{status: status, kind: kind, code: code, msg: fmt.Sprintf(format, args...)}
}

// invalidClient builds the 401 answers Entra gives when client authentication fails.
func invalidClient(code int, format string, args ...any) *stsError {
	return newSTSError(http.StatusUnauthorized, "invalid_client", code, format, args...)
}

func invalidRequest(code int, format string, args ...any) *stsError {
	return newSTSError(http.StatusBadRequest, "invalid_request", code, format, args...)
}

func missingParameter(name string) *stsError {
	return invalidRequest(CodeMissingParameter, "The request body must contain the following parameter: '%s'.", name)
}

func tenantNotFound(kind, tenant string) *stsError {
	return newSTSError(http.StatusBadRequest, kind, CodeTenantNotFound,
		"Tenant '%s' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. "+
			"Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant.", tenant)
}

// errorBody is Entra's error document, field order included.
type errorBody struct {
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	ErrorCodes       []int  `json:"error_codes"`
	Timestamp        string `json:"timestamp"`
	TraceID          string `json:"trace_id"`
	CorrelationID    string `json:"correlation_id"`
	ErrorURI         string `json:"error_uri"`
}

// reqIDs are the identifiers Entra attaches to every answer: a trace id of its own
// (also sent as x-ms-request-id) and the caller's client-request-id as correlation id.
type reqIDs struct {
	trace       string
	correlation string
}

func newReqIDs(r *http.Request) reqIDs {
	ids := reqIDs{trace: newGUID(), correlation: r.Header.Get("client-request-id")}
	if !isGUID(ids.correlation) {
		ids.correlation = newGUID()
	}
	return ids
}

func (ids reqIDs) setHeaders(w http.ResponseWriter) {
	h := w.Header()
	h.Set("x-ms-request-id", ids.trace)
	h.Set("client-request-id", ids.correlation)
	h.Set("Cache-Control", "no-store, no-cache")
	h.Set("Pragma", "no-cache")
}

func (e *Emulator) writeError(w http.ResponseWriter, ids reqIDs, se *stsError) {
	now := e.now().UTC()
	ts := now.Format("2006-01-02 15:04:05Z")
	body := errorBody{
		Error: se.kind,
		ErrorDescription: fmt.Sprintf("AADSTS%d: %s\r\nTrace ID: %s\r\nCorrelation ID: %s\r\nTimestamp: %s",
			se.code, se.msg, ids.trace, ids.correlation, ts),
		ErrorCodes:    []int{se.code},
		Timestamp:     ts,
		TraceID:       ids.trace,
		CorrelationID: ids.correlation,
		ErrorURI:      fmt.Sprintf("%s/error?code=%d", e.URL, se.code),
	}
	ids.setHeaders(w)
	writeJSON(w, se.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	w.Write(data)
}

// assertionTime formats instants the way Entra's AADSTS700024 message does.
func assertionTime(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.0000000Z")
}
