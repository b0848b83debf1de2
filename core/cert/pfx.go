package cert

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/entratool/entratool/core/cert/internal/pkcs12"
	"github.com/entratool/entratool/core/fsutil"
	upstream "software.sslmate.com/src/go-pkcs12"
)

// ParsePFX decodes binary PKCS#12 (Load also accepts it base64-encoded). The leaf is the
// certificate matching the private key wherever it sits in the file: openssl writes it
// first, but chain exports from other tools need not. Key derivation stops when ctx
// ends.
func ParsePFX(ctx context.Context, data []byte, password string) (*Credential, error) {
	return parsePFX(newBudget(ctx), data, password, "")
}

func parsePFX(b *pkcs12.Budget, data []byte, password, name string) (*Credential, error) {
	key, certs, err := pkcs12.DecodeChain(b, data, password, maxCertificates)
	if err != nil && password != "" && errors.Is(err, pkcs12.ErrNoMAC) {
		// A file without a MAC normally has no password at all (-keypbe NONE -certpbe
		// NONE -nomac); a password a profile still remembers should not make it unreadable.
		key, certs, err = pkcs12.DecodeChain(b, data, "", maxCertificates)
		if err != nil {
			if lerr := limitError(err, name); lerr != nil {
				return nil, lerr
			}
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
	return assemble(signer, certs, name)
}

// pfxError turns the decoder's errors into the package's sentinels. None of them
// carries the password.
func pfxError(err error, password, name string) error {
	if lerr := limitError(err, name); lerr != nil {
		return lerr
	}
	msg := err.Error()
	var notImpl pkcs12.NotImplementedError
	switch {
	case errors.Is(err, pkcs12.ErrIncorrectPassword), errors.Is(err, pkcs12.ErrDecryption):
		if password == "" {
			return newErr(ErrBadPassword, ErrPasswordRequired, "certificate password required%s: the file is password-protected and no password was given", forName(name))
		}
		return newErr(ErrBadPassword, nil, "invalid certificate password%s", forName(name))
	case errors.Is(err, pkcs12.ErrPasswordEncoding):
		return newErr(ErrBadPassword, nil, "invalid certificate password%s (it contains characters outside the Basic Multilingual Plane, which PKCS#12 cannot encode)", forName(name))
	case errors.Is(err, pkcs12.ErrKeyMissing):
		return newErr(ErrNoKey, nil, "no private key%s (it holds only certificates; export the PFX with its private key)", inName(name))
	case errors.Is(err, pkcs12.ErrCertMissing):
		return newErr(ErrNoCertificate, nil, "no certificate%s (it holds only a private key)", inName(name))
	case errors.Is(err, pkcs12.ErrNotPKCS12):
		return notCertFile(name)
	case errors.As(err, &notImpl):
		return newErr(ErrFormat, err,
			"%sunsupported PKCS#12 encoding (%s); re-export it with OpenSSL's defaults: openssl pkcs12 -in OLD.pfx -nodes | openssl pkcs12 -export -out NEW.pfx",
			prefix(name), strings.TrimPrefix(notImpl.Error(), "pkcs12: "))
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
// Certificates are indexed by their bytes and subjects, so the work is linear in their
// number: each one is looked at a bounded number of times.
func assemble(signer crypto.Signer, certs []*x509.Certificate, name string) (*Credential, error) {
	pub, ok := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok {
		return nil, newErr(ErrUnsupportedKey, nil, "unsupported key type %T%s", signer, inName(name))
	}
	seen := make(map[string]bool, len(certs))
	uniq := make([]*x509.Certificate, 0, len(certs))
	for _, c := range certs {
		if !seen[string(c.Raw)] {
			seen[string(c.Raw)] = true
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
	// Candidates for each subject in file order; used ones are dropped from the front
	// as they are met, so no index is passed over twice.
	bySubject := make(map[string][]int, len(uniq))
	for i, c := range uniq {
		bySubject[string(c.RawSubject)] = append(bySubject[string(c.RawSubject)], i)
	}
	used := make([]bool, len(uniq))
	used[leaf] = true
	chain := make([]*x509.Certificate, 0, len(uniq))
	chain = append(chain, uniq[leaf])
	for cur := uniq[leaf]; !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
		cands := bySubject[string(cur.RawIssuer)]
		for len(cands) > 0 && used[cands[0]] {
			cands = cands[1:]
		}
		bySubject[string(cur.RawIssuer)] = cands
		if len(cands) == 0 {
			break
		}
		next := cands[0]
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
	// Encoding is upstream go-pkcs12's: the fork is of its decoder only. Modern2023
	// rather than Modern, which go-pkcs12 may move to PBMAC1: unreadable by OpenSSL
	// before 3.4 and by Windows.
	data, err := upstream.Modern2023.Encode(c.Key, c.Leaf, cas, password)
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
