package profile

import "strings"

// NormThumbprint is a certificate thumbprint (SHA-1 or SHA-256 hex) in the one form
// entratool compares and keys it by: surrounding space trimmed, the separators people
// paste with it dropped, upper case. "ab:cd-ef 01" and "ABCDEF01" are one thumbprint.
// It does not check the result is hex.
//
// A thumbprint already in that form — the one profiles.json holds — comes back as it
// is, without allocating: a cache hit normalizes one (a strings.Replacer was built on
// first use, 6 KB of a hit's heap).
func NormThumbprint(t string) string {
	return strings.ToUpper(strings.Map(dropThumbprintSeparator, strings.TrimSpace(t)))
}

// dropThumbprintSeparator drops what tools print between a thumbprint's bytes: colons
// (openssl), spaces (the Windows certificate dialog), dashes.
func dropThumbprintSeparator(r rune) rune {
	if r == ':' || r == ' ' || r == '-' {
		return -1
	}
	return r
}
