package profile

import "strings"

// thumbprintSeparators are what tools print between a thumbprint's bytes: colons
// (openssl), spaces (the Windows certificate dialog), dashes.
var thumbprintSeparators = strings.NewReplacer(":", "", " ", "", "-", "")

// NormThumbprint is a certificate thumbprint (SHA-1 or SHA-256 hex) in the one form
// entratool compares and keys it by: surrounding space trimmed, the separators people
// paste with it dropped, upper case. "ab:cd-ef 01" and "ABCDEF01" are one thumbprint.
// It does not check the result is hex.
func NormThumbprint(t string) string {
	return strings.ToUpper(thumbprintSeparators.Replace(strings.TrimSpace(t)))
}
