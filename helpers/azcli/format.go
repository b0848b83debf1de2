// Package azcli speaks the Azure CLI's token commands, as the Azure SDKs, Terraform and
// scripts call them.
package azcli

import (
	"strconv"
	"strings"
	"time"

	"github.com/entratool/entratool/core/jsonstr"
)

// AccessToken is `az account get-access-token -o json` output, fields in the Azure CLI's order.
type AccessToken struct {
	AccessToken  string `json:"accessToken"`
	ExpiresOn    string `json:"expiresOn"`  // local time, "2006-01-02 15:04:05.000000"
	ExpiresOnUTC int64  `json:"expires_on"` // epoch seconds, a JSON number (the SDKs parse it as one)
	Subscription string `json:"subscription"`
	Tenant       string `json:"tenant"`
	TokenType    string `json:"tokenType"`
}

// appendJSON appends what encodeJSON writes for t (two-space indent, no HTML escaping,
// a final newline), without encoding/json's reflection: the get-access-token answer is
// on every cache hit of the shim.
func (t AccessToken) appendJSON(b []byte) []byte {
	field := func(b []byte, key string) []byte { return append(append(append(b, "  \""...), key...), "\": "...) }
	b = append(b, "{\n"...)
	b = jsonstr.Append(field(b, "accessToken"), t.AccessToken, false)
	b = jsonstr.Append(field(append(b, ",\n"...), "expiresOn"), t.ExpiresOn, false)
	b = strconv.AppendInt(field(append(b, ",\n"...), "expires_on"), t.ExpiresOnUTC, 10)
	b = jsonstr.Append(field(append(b, ",\n"...), "subscription"), t.Subscription, false)
	b = jsonstr.Append(field(append(b, ",\n"...), "tenant"), t.Tenant, false)
	b = jsonstr.Append(field(append(b, ",\n"...), "tokenType"), t.TokenType, false)
	return append(b, "\n}\n"...)
}

// ExpiresOnLayout is the Azure CLI's local-time format; .NET wants exactly six fraction digits.
const ExpiresOnLayout = "2006-01-02 15:04:05.000000"

// NewAccessToken builds the az shape; loc is the local time zone at expires, as the C
// library computes it (localtime.FromTZ(TZ, time.Local).Location(expires): time.Local
// alone reads a POSIX TZ string such as "EST+5" as UTC).
func NewAccessToken(token string, expires time.Time, tenant, subscription string, loc *time.Location) AccessToken {
	return AccessToken{
		AccessToken:  token,
		ExpiresOn:    expires.In(loc).Format(ExpiresOnLayout),
		ExpiresOnUTC: expires.Unix(),
		Subscription: subscription,
		Tenant:       tenant,
		TokenType:    "Bearer",
	}
}

// AzdToken is `azd auth token -o json` output.
type AzdToken struct {
	Token     string `json:"token"`
	ExpiresOn string `json:"expiresOn"` // UTC, "2006-01-02T15:04:05Z": the Go SDK parses exactly this
}

// AzdExpiresOnLayout is azd's expiresOn format; azidentity refuses fractions and offsets.
const AzdExpiresOnLayout = "2006-01-02T15:04:05Z"

// NewAzdToken builds the azd shape.
func NewAzdToken(token string, expires time.Time) AzdToken {
	return AzdToken{Token: token, ExpiresOn: expires.UTC().Format(AzdExpiresOnLayout)}
}

// TenantLevelName is the name az gives an account without a subscription.
const TenantLevelName = "N/A(tenant level account)"

// Subscription is `az account show` for a service principal signed in with a profile.
type Subscription struct {
	EnvironmentName  string          `json:"environmentName"`
	HomeTenantID     string          `json:"homeTenantId"`
	ID               string          `json:"id"`
	IsDefault        bool            `json:"isDefault"`
	ManagedByTenants []ManagedTenant `json:"managedByTenants"`
	Name             string          `json:"name"`
	State            string          `json:"state"`
	TenantID         string          `json:"tenantId"`
	User             User            `json:"user"`
}

// ManagedTenant is an entry of managedByTenants (always empty here).
type ManagedTenant struct {
	TenantID string `json:"tenantId"`
}

// User is the signed-in identity of an account.
type User struct {
	Name string `json:"name"` // the client id
	Type string `json:"type"` // "servicePrincipal"
}

// NewSubscription describes the profile as az describes a service principal's
// subscription; with no subscriptionId it is a tenant-level account (id = tenant id).
func NewSubscription(a Account) Subscription {
	s := Subscription{
		EnvironmentName:  CloudFor(a.Authority).Name,
		HomeTenantID:     a.TenantID,
		ID:               a.SubscriptionID,
		IsDefault:        true,
		ManagedByTenants: []ManagedTenant{},
		Name:             a.Profile,
		State:            "Enabled",
		TenantID:         a.TenantID,
		User:             User{Name: a.ClientID, Type: "servicePrincipal"},
	}
	if s.ID == "" {
		s.ID, s.Name = a.TenantID, TenantLevelName
	}
	return s
}

// matches says whether a --subscription value (an id or a name) selects s.
func (s Subscription) matches(v string) bool {
	return strings.EqualFold(v, s.ID) || v == s.Name
}

// listedSubscription is an `az account list` entry: az renames environmentName to
// cloudName there.
type listedSubscription struct {
	CloudName        string          `json:"cloudName"`
	HomeTenantID     string          `json:"homeTenantId"`
	ID               string          `json:"id"`
	IsDefault        bool            `json:"isDefault"`
	ManagedByTenants []ManagedTenant `json:"managedByTenants"`
	Name             string          `json:"name"`
	State            string          `json:"state"`
	TenantID         string          `json:"tenantId"`
	User             User            `json:"user"`
}

func (s Subscription) listed() listedSubscription {
	return listedSubscription{s.EnvironmentName, s.HomeTenantID, s.ID, s.IsDefault, s.ManagedByTenants, s.Name, s.State, s.TenantID, s.User}
}

// versionInfo is `az version`.
type versionInfo struct {
	AzureCLI          string            `json:"azure-cli"`
	AzureCLICore      string            `json:"azure-cli-core"`
	AzureCLITelemetry string            `json:"azure-cli-telemetry"`
	Extensions        map[string]string `json:"extensions"`
}
