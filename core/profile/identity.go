package profile

import (
	"strings"

	"github.com/entratool/entratool/core/weburl"
)

// IdentityChanged reports whether cur signs in somewhere other than old: another
// authority (authorityHost or cloud, compared as the effective authority), tenant or
// client. A secret stored for old must then not be used by cur (SPEC §12: the secret
// never follows a profile to another authority). A nil profile has no identity to
// keep, so nothing changes.
func IdentityChanged(old, cur *Profile) bool {
	if old == nil || cur == nil {
		return false
	}
	return authorityKey(old) != authorityKey(cur) ||
		!strings.EqualFold(strings.TrimSpace(old.TenantID), strings.TrimSpace(cur.TenantID)) ||
		!strings.EqualFold(strings.TrimSpace(old.ClientID), strings.TrimSpace(cur.ClientID))
}

// authorityKey is the effective authority as an origin: the cloud shorthand resolved,
// scheme and host lower-cased, the default https port and trailing slashes dropped.
// Spellings of one authority compare equal; anything else, however close, does not.
func authorityKey(p *Profile) string {
	a := strings.TrimSpace(p.Authority())
	u, err := weburl.Parse(a)
	if err != nil || u.Host == "" {
		return strings.ToLower(strings.TrimRight(a, "/"))
	}
	scheme, host := strings.ToLower(u.Scheme), strings.ToLower(u.Host)
	if scheme == "https" {
		host = strings.TrimSuffix(host, ":443")
	}
	return scheme + "://" + host + strings.TrimRight(u.EscapedPath(), "/")
}
