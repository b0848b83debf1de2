package cert

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"math"
	"strings"
	"time"
)

// ThumbprintSHA1 is the certificate's SHA-1 fingerprint in upper-case hex without
// separators, as the Azure portal and Windows show it.
func ThumbprintSHA1(c *x509.Certificate) string {
	sum := sha1.Sum(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// ThumbprintSHA256 is the certificate's SHA-256 fingerprint in upper-case hex.
func ThumbprintSHA256(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// displayName is how errors name a certificate: its CN when it has one (short, and what
// the app registration shows), else the whole subject.
func displayName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return "CN=" + c.Subject.CommonName
	}
	if s := c.Subject.String(); s != "" {
		return s
	}
	return "with empty subject"
}

// CheckValidity fails when now is outside [NotBefore, NotAfter]; the error names the
// certificate, the date and the thumbprint so the user can find it in the portal.
func CheckValidity(c *x509.Certificate, now time.Time) error {
	if now.After(c.NotAfter) {
		return newErr(ErrExpired, nil, "certificate %s expired on %s (thumbprint %s)",
			displayName(c), c.NotAfter.UTC().Format(time.DateOnly), ThumbprintSHA1(c))
	}
	if now.Before(c.NotBefore) {
		// The time matters here: a certificate made minutes ago on a machine whose clock
		// is ahead is the usual cause.
		return newErr(ErrNotYetValid, nil, "certificate %s is not valid until %s (thumbprint %s); check this machine's clock",
			displayName(c), c.NotBefore.UTC().Format("2006-01-02 15:04:05 UTC"), ThumbprintSHA1(c))
	}
	return nil
}

// ExpiryWarning returns "" or a one-line warning when the certificate expires within
// `within` of now. A certificate already outside its validity gets "": CheckValidity
// reports that as an error.
func ExpiryWarning(c *x509.Certificate, now time.Time, within time.Duration) string {
	left := c.NotAfter.Sub(now)
	if left < 0 || left > within || now.Before(c.NotBefore) {
		return ""
	}
	var in string
	switch days := int(left / (24 * time.Hour)); days {
	case 0:
		in = "in less than a day"
	case 1:
		in = "in 1 day"
	default:
		in = fmt.Sprintf("in %d days", days)
	}
	return fmt.Sprintf("warning: certificate %s expires %s, on %s (thumbprint %s); renew it and upload the new certificate to the app registration",
		displayName(c), in, c.NotAfter.UTC().Format(time.DateOnly), ThumbprintSHA1(c))
}

// Info is what `entratool cert inspect` shows.
type Info struct {
	Subject          string    `json:"subject"`
	Issuer           string    `json:"issuer"`
	SerialNumber     string    `json:"serialNumber"`
	NotBefore        time.Time `json:"notBefore"`
	NotAfter         time.Time `json:"notAfter"`
	DaysLeft         int       `json:"daysLeft"`
	ThumbprintSHA1   string    `json:"thumbprintSha1"`
	ThumbprintSHA256 string    `json:"thumbprintSha256"`
	KeyType          string    `json:"keyType"`
	KeySize          int       `json:"keySize"`
}

// Inspect summarises c. DaysLeft is whole days until NotAfter, rounded down, and
// negative once expired. SerialNumber is upper-case hex, as openssl and Windows show it.
func Inspect(c *x509.Certificate, now time.Time) Info {
	info := Info{
		Subject:          c.Subject.String(),
		Issuer:           c.Issuer.String(),
		NotBefore:        c.NotBefore.UTC(),
		NotAfter:         c.NotAfter.UTC(),
		DaysLeft:         int(math.Floor(c.NotAfter.Sub(now).Hours() / 24)),
		ThumbprintSHA1:   ThumbprintSHA1(c),
		ThumbprintSHA256: ThumbprintSHA256(c),
	}
	if c.SerialNumber != nil {
		// Even length, as openssl and Windows print it.
		if hexSerial := strings.ToUpper(c.SerialNumber.Text(16)); len(hexSerial)%2 == 1 && c.SerialNumber.Sign() >= 0 {
			info.SerialNumber = "0" + hexSerial
		} else {
			info.SerialNumber = hexSerial
		}
	}
	switch k := c.PublicKey.(type) {
	case *rsa.PublicKey:
		info.KeyType, info.KeySize = "RSA", k.N.BitLen()
	case *ecdsa.PublicKey:
		info.KeyType, info.KeySize = "ECDSA", k.Curve.Params().BitSize
	case ed25519.PublicKey:
		info.KeyType, info.KeySize = "Ed25519", 256
	default:
		info.KeyType = c.PublicKeyAlgorithm.String()
	}
	return info
}
