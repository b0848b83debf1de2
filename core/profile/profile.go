// Package profile reads and writes $ENTRATOOL_HOME/profiles.json: the service principals
// entratool can sign in as, which profile a command uses, and their validation.
//
// The file is shared with hand editors and with newer or older versions of the tool, so
// keys this version does not know are carried through a rewrite with their value bytes
// untouched, and a file that does not parse is reported with its line and column and
// never overwritten.
package profile

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/entratool/entratool/core/weburl"
)

// Profile is one entry of profiles.json. The json tags are the file's keys; the field
// order is the order in which they are written.
type Profile struct {
	Name                     string            `json:"name"`
	ClientID                 string            `json:"clientId"`
	TenantID                 string            `json:"tenantId"`
	UseCertificate           bool              `json:"useCertificate"`
	CertificatePath          string            `json:"certificatePath,omitempty"`
	CertificateThumbprint    string            `json:"certificateThumbprint,omitempty"`
	CertificateStoreLocation string            `json:"certificateStoreLocation,omitempty"`
	CertificateStore         string            `json:"certificateStore,omitempty"`
	CertificateStoreOptions  map[string]string `json:"certificateStoreOptions,omitempty"`
	Scope                    string            `json:"scope,omitempty"`
	AuthorityHost            string            `json:"authorityHost,omitempty"`
	Cloud                    string            `json:"cloud,omitempty"`
	SendX5C                  bool              `json:"sendX5C,omitempty"`
	SecretStore              string            `json:"secretStore,omitempty"`
	GitHosts                 []string          `json:"gitHosts,omitempty"`
	GitScope                 string            `json:"gitScope,omitempty"`
	Registries               []string          `json:"registries,omitempty"`
	ACRScope                 string            `json:"acrScope,omitempty"`
	SubscriptionID           string            `json:"subscriptionId,omitempty"`

	// How the profile signs in (SPEC §14): certificate (what useCertificate: true means),
	// secret, federated or managedIdentity; empty means what useCertificate says. Use
	// Method, never the raw field.
	AuthMethod string `json:"authMethod,omitempty"`
	// federated: the external OIDC token, from a file (re-read at every fetch) or a CI
	// system's ID-token endpoint, for the audience (default api://AzureADTokenExchange).
	FederatedTokenFile   string `json:"federatedTokenFile,omitempty"`
	FederatedTokenSource string `json:"federatedTokenSource,omitempty"` // github-actions | azure-pipelines
	FederatedAudience    string `json:"federatedAudience,omitempty"`
	ServiceConnectionID  string `json:"serviceConnectionId,omitempty"` // azure-pipelines
	// managedIdentity: user-assigned by this client id; empty means system-assigned.
	ManagedIdentityClientID string `json:"managedIdentityClientId,omitempty"`

	// Certificate renewal through Microsoft Graph (SPEC §13).
	ApplicationObjectID     string `json:"applicationObjectId,omitempty"`     // the app registration's Object ID
	KeyCredentialID         string `json:"keyCredentialId,omitempty"`         // keyId of the certificate in use, as addKey returned it
	PreviousCertificatePath string `json:"previousCertificatePath,omitempty"` // the certificate before the last renewal
	GraphEndpoint           string `json:"graphEndpoint,omitempty"`           // Graph for a custom authority

	// FromEnvironment marks the env profile (FromEnv): its secrets are the environment's
	// AZURE_* variables, and it is never written to profiles.json.
	FromEnvironment bool `json:"-"`

	// extra holds keys this version does not know, with their raw value bytes, so that a
	// rewrite by this version does not destroy what a newer one (or a person) put there.
	extra map[string]json.RawMessage
}

// Authority hosts of the national clouds the `cloud` shorthand names.
const (
	AuthorityPublic = "https://login.microsoftonline.com"
	AuthorityUSGov  = "https://login.microsoftonline.us"
	AuthorityChina  = "https://login.chinacloudapi.cn"
)

// cloudAuthority is the authority host of a `cloud` shorthand. A switch, not a map
// literal: a package-level map is built by package init on every start of every front.
func cloudAuthority(cloud string) (string, bool) {
	switch cloud {
	case "public":
		return AuthorityPublic, true
	case "usgov":
		return AuthorityUSGov, true
	case "china":
		return AuthorityChina, true
	}
	return "", false
}

// Authority is the authority host tokens are requested from: authorityHost without a
// trailing slash, else the host of the named cloud, else the public cloud.
func (p *Profile) Authority() string {
	if p.AuthorityHost != "" {
		return strings.TrimRight(p.AuthorityHost, "/")
	}
	if a, ok := cloudAuthority(p.Cloud); ok {
		return a
	}
	return AuthorityPublic
}

// DefaultScope is the scope a token is for when neither the command nor the profile
// names one: Microsoft Graph.
const DefaultScope = "https://graph.microsoft.com/.default"

// TokenScope is the scope a token request is for: override, else the profile's scope,
// else DefaultScope. Every front and the engine resolve it here.
func (p *Profile) TokenScope(override string) string {
	switch {
	case override != "":
		return override
	case p.Scope != "":
		return p.Scope
	default:
		return DefaultScope
	}
}

// Extra returns the raw value of a key this version does not know, if the file had one.
func (p *Profile) Extra(key string) (json.RawMessage, bool) {
	v, ok := p.extra[key]
	return v, ok
}

// Clone returns a deep copy, unknown keys included, e.g. to keep a backup before a change.
func (p *Profile) Clone() *Profile {
	if p == nil {
		return nil
	}
	c := *p
	if p.CertificateStoreOptions != nil {
		c.CertificateStoreOptions = make(map[string]string, len(p.CertificateStoreOptions))
		for k, v := range p.CertificateStoreOptions {
			c.CertificateStoreOptions[k] = v
		}
	}
	c.GitHosts = append([]string(nil), p.GitHosts...)
	c.Registries = append([]string(nil), p.Registries...)
	if p.extra != nil {
		c.extra = make(map[string]json.RawMessage, len(p.extra))
		for k, v := range p.extra {
			c.extra[k] = append(json.RawMessage(nil), v...)
		}
	}
	return &c
}

// FieldError is a validation failure of one field; Error() is a single line that names
// the field and what would be accepted.
type FieldError struct {
	Field string // the JSON key, e.g. "clientId" or "gitHosts[1]"
	Msg   string // the whole message, starting with the field
}

func (e *FieldError) Error() string { return e.Msg }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks what every command relies on. Nothing in a profile is secret, so the
// messages quote the offending values.
func (p *Profile) Validate() error {
	if err := validName(p.Name); err != nil {
		return err
	}
	if err := p.validMethod(); err != nil {
		return err
	}
	// A managed identity needs neither: the identity endpoint knows whose it is.
	mi := p.Method() == MethodManagedIdentity
	switch {
	case mi && p.ClientID == "":
	case p.ClientID == "":
		return fieldErr("clientId", "clientId is missing: give the application (client) ID of the app registration, a GUID")
	case !ValidGUID(p.ClientID):
		return fieldErr("clientId", "clientId %q is not a GUID like 12345678-1234-1234-1234-123456789abc", p.ClientID)
	}
	switch {
	case mi && p.TenantID == "":
	case p.TenantID == "":
		return fieldErr("tenantId", "tenantId is missing: give the directory (tenant) ID, a GUID, or a domain like contoso.onmicrosoft.com")
	case !ValidTenant(p.TenantID):
		return fieldErr("tenantId", "tenantId %q is neither a GUID nor a domain like contoso.onmicrosoft.com", p.TenantID)
	}
	if p.UseCertificate && p.CertificatePath == "" && p.CertificateThumbprint == "" && p.CertificateStore == "" {
		return fieldErr("certificatePath", "useCertificate is true but neither certificatePath nor certificateThumbprint/certificateStore is set")
	}
	if t := p.CertificateThumbprint; t != "" && !validThumbprint(t) {
		return fieldErr("certificateThumbprint", "certificateThumbprint %q is not 40 (SHA-1) or 64 (SHA-256) hex digits", t)
	}
	if p.Cloud != "" {
		if _, ok := cloudAuthority(p.Cloud); !ok {
			return fieldErr("cloud", "cloud %q must be public, usgov or china", p.Cloud)
		}
	}
	if p.AuthorityHost != "" {
		if err := validAuthority(p.AuthorityHost); err != nil {
			return err
		}
	}
	switch p.SecretStore {
	case "", "keyring", "file", "env":
	default:
		return fieldErr("secretStore", "secretStore %q must be keyring, file or env", p.SecretStore)
	}
	if err := validHosts("gitHosts", p.GitHosts); err != nil {
		return err
	}
	if err := validHosts("registries", p.Registries); err != nil {
		return err
	}
	if p.SubscriptionID != "" && !ValidGUID(p.SubscriptionID) {
		return fieldErr("subscriptionId", "subscriptionId %q is not a GUID like 12345678-1234-1234-1234-123456789abc", p.SubscriptionID)
	}
	if p.ApplicationObjectID != "" && !ValidGUID(p.ApplicationObjectID) {
		return fieldErr("applicationObjectId", "applicationObjectId %q is not a GUID: it is the Object ID on the app registration's Overview page", p.ApplicationObjectID)
	}
	if p.KeyCredentialID != "" && !ValidGUID(p.KeyCredentialID) {
		return fieldErr("keyCredentialId", "keyCredentialId %q is not a GUID (the certificate's ID in the app registration)", p.KeyCredentialID)
	}
	if p.GraphEndpoint != "" {
		if err := validEndpoint("graphEndpoint", p.GraphEndpoint, "https://graph.microsoft.com"); err != nil {
			return err
		}
	}
	return nil
}

// validName keeps names usable as keyring keys ("<name>/<kind>"), file names and
// command-line arguments.
func validName(n string) error {
	switch {
	case n == "":
		return fieldErr("name", "name is missing")
	case n == "." || n == "..":
		return fieldErr("name", "name %q is reserved", n)
	case strings.HasPrefix(n, "-"):
		return fieldErr("name", "name %q must not start with '-' (it would read as a flag)", n)
	case strings.ContainsAny(n, `/\`):
		return fieldErr("name", "name %q must not contain '/' or '\\'", n)
	}
	for _, r := range n {
		if unicode.IsSpace(r) {
			return fieldErr("name", "name %q must not contain spaces", n)
		}
		if unicode.IsControl(r) || r == unicode.ReplacementChar {
			return fieldErr("name", "name %q must not contain control characters", n)
		}
	}
	return nil
}

func validAuthority(s string) error {
	return validEndpoint("authorityHost", s, AuthorityPublic+" (the tenant is added from tenantId)")
}

// validEndpoint checks a service's base URL: https (MSAL and Graph refuse anything
// else), scheme and host only.
func validEndpoint(field, s, example string) error {
	u, err := weburl.Parse(s)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return fieldErr(field, "%s %q is not a URL like %s", field, s, example)
	}
	if u.Scheme != "https" {
		return fieldErr(field, "%s %q must use https://", field, s)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" || (u.Path != "" && u.Path != "/") {
		return fieldErr(field, "%s %q must be just scheme and host, like %s", field, s, example)
	}
	return nil
}

func validHosts(field string, hosts []string) error {
	for i, h := range hosts {
		f := fmt.Sprintf("%s[%d]", field, i)
		if h == "" {
			return fieldErr(f, "%s is empty", f)
		}
		if strings.Contains(h, "://") || strings.Contains(h, "/") {
			return fieldErr(f, "%s %q must be a host name (host or host:port), not a URL", f, h)
		}
		if strings.IndexFunc(h, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return fieldErr(f, "%s %q must not contain spaces", f, h)
		}
	}
	return nil
}

func validThumbprint(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// ValidGUID reports whether s is a GUID in the 8-4-4-4-12 hex form Entra shows, in
// either case.
func ValidGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// ValidTenant reports whether s can name a tenant: a GUID or a verified domain such as
// contoso.onmicrosoft.com (at least two DNS labels, a non-numeric top label, so that an
// IP address is not taken for a domain).
func ValidTenant(s string) bool {
	if ValidGUID(s) {
		return true
	}
	if len(s) > 253 {
		return false
	}
	labels := strings.Split(s, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	top := labels[len(labels)-1]
	return strings.IndexFunc(top, func(r rune) bool { return r < '0' || r > '9' }) >= 0
}
