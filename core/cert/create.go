package cert

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// CreateOptions describes a self-signed certificate. Zero values take defaults.
type CreateOptions struct {
	Subject string // "CN=MyApp", "CN=MyApp,O=Org" or openssl's "/CN=MyApp/O=Org"; a bare "MyApp" is the CN
	// Name, when set, is the subject as a parsed name and Subject is ignored: a renewal
	// keeps the old certificate's subject exactly, whatever characters it holds.
	Name    *pkix.Name
	Days    int       // validity in days; 0 means 365
	KeySize int       // RSA bits: 2048, 3072 or 4096; 0 means 2048
	Now     time.Time // zero means time.Now()
}

// backdate keeps a fresh certificate usable when this machine's clock runs ahead of
// Entra's; New-SelfSignedCertificate does the same.
const backdate = 5 * time.Minute

// Create makes a self-signed RSA certificate for client authentication: KeyUsage
// digitalSignature, ExtKeyUsage clientAuth, a random 128-bit serial.
func Create(opts CreateOptions) (*Credential, error) {
	var name pkix.Name
	if opts.Name != nil {
		name = *opts.Name
	} else {
		var err error
		if name, err = ParseSubject(opts.Subject); err != nil {
			return nil, err
		}
	}
	days := opts.Days
	switch {
	case days == 0:
		days = 365
	case days < 0 || days > 36500:
		return nil, fmt.Errorf("certificate validity must be between 1 and 36500 days, not %d", days)
	}
	bits := opts.KeySize
	switch bits {
	case 0:
		bits = 2048
	case 2048, 3072, 4096:
	default:
		return nil, fmt.Errorf("unsupported RSA key size %d: use 2048, 3072 or 4096", bits)
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}

	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate RSA key: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, err
	}
	pubDER := x509.MarshalPKCS1PublicKey(&key.PublicKey)
	skid := sha1.Sum(pubDER) // RFC 5280 §4.2.1.2 method 1
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		NotBefore:             now.Add(-backdate).UTC().Truncate(time.Second),
		NotAfter:              now.AddDate(0, 0, days).UTC().Truncate(time.Second),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
		BasicConstraintsValid: true,
		SubjectKeyId:          skid[:],
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	return &Credential{Leaf: leaf, Chain: []*x509.Certificate{leaf}, Key: key}, nil
}

func randomSerial() (*big.Int, error) {
	limit := new(big.Int).Lsh(big.NewInt(1), 128)
	for {
		n, err := rand.Int(rand.Reader, limit)
		if err != nil {
			return nil, fmt.Errorf("generate serial number: %w", err)
		}
		if n.Sign() > 0 {
			return n, nil
		}
	}
}

// ParseSubject reads a distinguished name as users type it: "CN=MyApp,O=Org" (RFC 4514
// style, with \, escapes or "quoted, values"), "/CN=MyApp/O=Org" (openssl -subj style) or
// a bare "MyApp" taken as the CN. Attributes: CN, O, OU, L, ST (or S), C.
func ParseSubject(s string) (pkix.Name, error) {
	var name pkix.Name
	s = strings.TrimSpace(s)
	if s == "" {
		return name, errors.New("certificate subject is empty: give it as CN=MyApp")
	}
	sep := ','
	if strings.HasPrefix(s, "/") {
		sep = '/'
		s = s[1:]
	}
	parts, err := splitDN(s, sep)
	if err != nil {
		return name, err
	}
	if len(parts) == 1 && !strings.Contains(parts[0].raw, "=") {
		name.CommonName = parts[0].value
		return name, nil
	}
	for _, p := range parts {
		if p.key == "" {
			return name, fmt.Errorf("certificate subject %q: %q is not ATTRIBUTE=value", s, p.raw)
		}
		if p.value == "" {
			return name, fmt.Errorf("certificate subject %q: %s has no value", s, p.key)
		}
		switch strings.ToUpper(p.key) {
		case "CN":
			if name.CommonName != "" {
				return name, fmt.Errorf("certificate subject %q: more than one CN", s)
			}
			name.CommonName = p.value
		case "O":
			name.Organization = append(name.Organization, p.value)
		case "OU":
			name.OrganizationalUnit = append(name.OrganizationalUnit, p.value)
		case "L":
			name.Locality = append(name.Locality, p.value)
		case "ST", "S":
			name.Province = append(name.Province, p.value)
		case "C":
			if len(p.value) != 2 {
				return name, fmt.Errorf("certificate subject %q: C must be a two-letter country code, not %q", s, p.value)
			}
			name.Country = append(name.Country, strings.ToUpper(p.value))
		default:
			return name, fmt.Errorf("certificate subject %q: unsupported attribute %s (use CN, O, OU, L, ST, C)", s, p.key)
		}
	}
	if name.CommonName == "" {
		return name, fmt.Errorf("certificate subject %q has no CN: give it as CN=MyApp", s)
	}
	return name, nil
}

type dnPart struct{ raw, key, value string }

// splitDN splits on unescaped, unquoted sep and unescapes each value.
func splitDN(s string, sep rune) ([]dnPart, error) {
	var (
		parts  []dnPart
		raw    strings.Builder
		val    strings.Builder
		key    string
		hasKey bool
		quoted bool
		escape bool
	)
	flush := func() {
		p := dnPart{raw: strings.TrimSpace(raw.String())}
		if hasKey {
			p.key = strings.TrimSpace(key)
		}
		p.value = strings.TrimSpace(val.String())
		parts = append(parts, p)
		raw.Reset()
		val.Reset()
		key, hasKey = "", false
	}
	for _, r := range s {
		if r == sep && !escape && !quoted {
			flush()
			continue
		}
		raw.WriteRune(r)
		switch {
		case escape:
			val.WriteRune(r)
			escape = false
		case r == '\\':
			escape = true
		case r == '"':
			quoted = !quoted
		case quoted:
			val.WriteRune(r)
		case r == '=' && !hasKey:
			key, hasKey = val.String(), true
			val.Reset()
		default:
			val.WriteRune(r)
		}
	}
	if escape || quoted {
		return nil, fmt.Errorf("certificate subject %q: unterminated escape or quote", s)
	}
	flush()
	return parts, nil
}

// EncodeCER returns the certificate alone, as PEM "CERTIFICATE" or raw DER — the file
// the Azure portal's "Upload certificate" takes.
func EncodeCER(c *x509.Certificate, der bool) []byte {
	if der {
		return append([]byte(nil), c.Raw...)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
}
