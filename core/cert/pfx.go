package cert

import (
	"bytes"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/entratool/entratool/core/fsutil"
	"software.sslmate.com/src/go-pkcs12"
)

// ParsePFX decodes binary PKCS#12 (Load also accepts it base64-encoded). The leaf is the
// certificate matching the private key wherever it sits in the file: openssl writes it
// first, but chain exports from other tools need not, and go-pkcs12's DecodeChain just
// takes the first one.
func ParsePFX(data []byte, password string) (*Credential, error) {
	return parsePFX(data, password, "")
}

func parsePFX(data []byte, password, name string) (*Credential, error) {
	if n := maxIterationCount(data); n > maxIterations {
		return nil, tooManyIterations(name, n)
	}
	key, first, rest, err := pkcs12.DecodeChain(data, password)
	if err != nil && password != "" && isNoMAC(err) {
		// A file without a MAC normally has no password at all (-keypbe NONE -certpbe
		// NONE -nomac); a password a profile still remembers should not make it unreadable.
		key, first, rest, err = pkcs12.DecodeChain(data, "")
		if err != nil {
			return nil, newErr(ErrFormat, nil,
				"%sPKCS#12 files with a password but no integrity MAC are not supported; re-export with a MAC (omit -nomac)",
				prefix(name))
		}
	}
	if err != nil {
		return nil, pfxError(err, password, name)
	}
	signer, err := rsaSigner(key, name)
	if err != nil {
		return nil, err
	}
	return assemble(signer, append([]*x509.Certificate{first}, rest...), name)
}

func isNoMAC(err error) bool { return err.Error() == "pkcs12: no MAC in data" }

// pfxError turns go-pkcs12's errors, most of which are unexported strings, into the
// package's sentinels. None of them carries the password.
func pfxError(err error, password, name string) error {
	msg := err.Error()
	var notImpl pkcs12.NotImplementedError
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		hint := ""
		if password == "" {
			hint = " (the file is password-protected and no password was given)"
		}
		return newErr(ErrBadPassword, nil, "invalid certificate password%s%s", forName(name), hint)
	case strings.Contains(msg, "cannot be encoded in UCS-2"):
		return newErr(ErrBadPassword, nil, "invalid certificate password%s (it contains characters outside the Basic Multilingual Plane, which PKCS#12 cannot encode)", forName(name))
	case msg == "pkcs12: private key missing":
		return newErr(ErrNoKey, nil, "no private key%s (it holds only certificates; export the PFX with its private key)", inName(name))
	case msg == "pkcs12: certificate missing":
		return newErr(ErrNoCertificate, nil, "no certificate%s (it holds only a private key)", inName(name))
	case strings.HasPrefix(msg, "pkcs12: error reading P12 data"):
		return notCertFile(name)
	case errors.As(err, &notImpl):
		return newErr(ErrFormat, err,
			"%sunsupported PKCS#12 encoding (%s); re-export it with OpenSSL's defaults: openssl pkcs12 -in OLD.pfx -nodes | openssl pkcs12 -export -out NEW.pfx",
			prefix(name), strings.TrimPrefix(msg, "pkcs12: "))
	case isUnknownKeyAlg(err):
		return newErr(ErrUnsupportedKey, err, "unsupported key type%s (Entra client assertions need RSA): %s", inName(name), msg)
	default:
		return newErr(ErrFormat, err, "%smalformed PKCS#12 file: %s", prefix(name), msg)
	}
}

// rsaSigner accepts only RSA keys Go will sign with.
func rsaSigner(key any, name string) (crypto.Signer, error) {
	var kind string
	switch k := key.(type) {
	case *rsa.PrivateKey:
		// Go refuses to sign with keys under 1024 bits; say so now, not at token time.
		if bits := k.N.BitLen(); bits < 1024 {
			return nil, newErr(ErrUnsupportedKey, nil,
				"unsupported key type RSA-%d%s (Entra client assertions need RSA of 2048 bits or more)", bits, inName(name))
		}
		return k, nil
	case *ecdsa.PrivateKey:
		kind = "ECDSA"
	case ed25519.PrivateKey:
		kind = "Ed25519"
	case *ecdh.PrivateKey:
		kind = "ECDH"
	default:
		kind = fmt.Sprintf("%T", key)
	}
	return nil, newErr(ErrUnsupportedKey, nil, "unsupported key type %s%s (Entra client assertions need RSA)", kind, inName(name))
}

// assemble picks the certificate matching the key as leaf and orders the others
// leaf → issuer → … so the chain can go into an x5c header as is; certificates that
// chain to nothing keep their file order at the end, and duplicates are dropped.
func assemble(signer crypto.Signer, certs []*x509.Certificate, name string) (*Credential, error) {
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil, newErr(ErrUnsupportedKey, nil, "unsupported key type %T%s", signer, inName(name))
	}
	var uniq []*x509.Certificate
	for _, c := range certs {
		dup := false
		for _, u := range uniq {
			if bytes.Equal(u.Raw, c.Raw) {
				dup = true
				break
			}
		}
		if !dup {
			uniq = append(uniq, c)
		}
	}
	leaf := -1
	for i, c := range uniq {
		if pub.Equal(c.PublicKey) {
			leaf = i
			break
		}
	}
	if leaf < 0 {
		return nil, newErr(ErrKeyMismatch, nil, "the private key%s matches none of its %d certificate(s)", inName(name), len(uniq))
	}
	used := make([]bool, len(uniq))
	used[leaf] = true
	chain := []*x509.Certificate{uniq[leaf]}
	for cur := uniq[leaf]; !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
		next := -1
		for i, c := range uniq {
			if !used[i] && bytes.Equal(c.RawSubject, cur.RawIssuer) {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		used[next] = true
		chain = append(chain, uniq[next])
		cur = uniq[next]
	}
	for i, c := range uniq {
		if !used[i] {
			chain = append(chain, c)
		}
	}
	return &Credential{Leaf: chain[0], Chain: chain, Key: signer}, nil
}

// EncodePFX writes c as PKCS#12 with AES-256-CBC and a SHA-256 MAC (what OpenSSL 3 writes
// by default), including the chain.
func EncodePFX(c *Credential, password string) ([]byte, error) {
	if c == nil || c.Leaf == nil || c.Key == nil {
		return nil, errors.New("encode PFX: credential needs a certificate and a private key")
	}
	switch c.Key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
	default:
		return nil, fmt.Errorf("encode PFX: the private key (%T) cannot be exported", c.Key)
	}
	var cas []*x509.Certificate
	for _, cc := range c.Chain {
		if !bytes.Equal(cc.Raw, c.Leaf.Raw) {
			cas = append(cas, cc)
		}
	}
	// Modern2023 rather than pkcs12.Modern, which go-pkcs12 may move to PBMAC1:
	// unreadable by OpenSSL before 3.4 and by Windows.
	data, err := pkcs12.Modern2023.Encode(c.Key, c.Leaf, cas, password)
	if err != nil {
		return nil, fmt.Errorf("encode PFX: %w", err)
	}
	return data, nil
}

// WritePFX encodes c and replaces path atomically with a 0600 file.
func WritePFX(path string, c *Credential, password string) error {
	data, err := EncodePFX(c, password)
	if err != nil {
		return err
	}
	return fsutil.WriteFileAtomic(path, data, 0o600)
}

// maxIterationCount finds the largest iteration count in a PKCS#12 file before
// go-pkcs12, which has no bound, runs its key derivations. Rather than mirror every
// structure (MacData, PBEParameter, PBKDF2-params, PBMAC1), it relies on the shape they
// share: an OCTET STRING salt directly followed by an INTEGER count inside a SEQUENCE.
// It descends into OCTET STRINGs that hold DER, as the authenticated safe and safe
// contents do; encrypted content is opaque and checked by the same rule once go-pkcs12
// has verified the MAC and decrypted it, which needs the password anyway.
func maxIterationCount(der []byte) int64 {
	budget := 20000 // elements visited; real files have a few hundred
	var max int64
	var walk func(b []byte, depth int)
	walk = func(b []byte, depth int) {
		prevOctet := false
		for len(b) > 0 && budget > 0 {
			budget--
			var v asn1.RawValue
			rest, err := asn1.Unmarshal(b, &v)
			if err != nil {
				return
			}
			b = rest
			universal := v.Class == asn1.ClassUniversal
			switch {
			case universal && v.Tag == asn1.TagInteger && prevOctet && !v.IsCompound:
				if n := new(big.Int).SetBytes(v.Bytes); len(v.Bytes) > 0 && v.Bytes[0]&0x80 == 0 {
					if !n.IsInt64() {
						max = math.MaxInt64
					} else if n.Int64() > max {
						max = n.Int64()
					}
				}
			case v.IsCompound && depth < 24:
				walk(v.Bytes, depth+1)
			case universal && v.Tag == asn1.TagOctetString && depth < 24 && len(v.Bytes) > 0 && v.Bytes[0]&0x20 != 0:
				walk(v.Bytes, depth+1) // content that starts like a constructed element
			}
			prevOctet = universal && v.Tag == asn1.TagOctetString && !v.IsCompound
		}
	}
	walk(der, 0)
	return max
}
