package cert

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"hash"
	"math/big"
	"strings"

	"github.com/entratool/entratool/core/cert/internal/pkcs12"
)

// ParsePEM decodes PEM text holding CERTIFICATE blocks and one private key: PKCS#1
// "RSA PRIVATE KEY", PKCS#8 "PRIVATE KEY" or PBES2-encrypted PKCS#8 "ENCRYPTED PRIVATE
// KEY" (what OpenSSL 3 writes by default). Text between blocks, such as the "Bag
// Attributes" openssl prints, is ignored. Legacy "Proc-Type: 4,ENCRYPTED" keys are
// refused with the command that converts them. Key derivation stops when ctx ends.
func ParsePEM(ctx context.Context, data []byte, password string) (*Credential, error) {
	return parsePEM(newBudget(ctx), data, password, "")
}

func isCertBlock(t string) bool { return t == "CERTIFICATE" || t == "X509 CERTIFICATE" }

func isKeyBlock(t string) bool {
	return t == "RSA PRIVATE KEY" || t == "PRIVATE KEY" || t == "ENCRYPTED PRIVATE KEY"
}

func parsePEM(b *pkcs12.Budget, data []byte, password, name string) (*Credential, error) {
	if err := b.Err(); err != nil {
		return nil, limitError(err, name)
	}
	// Blocks are counted before any is parsed, so an oversized file is refused for
	// the price of its base64, and a second key before the first is decrypted.
	var (
		blocks        []*pem.Block
		nCerts, nKeys int
	)
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		switch {
		case isCertBlock(block.Type):
			nCerts++
		case isKeyBlock(block.Type):
			nKeys++
		}
		blocks = append(blocks, block)
	}
	if nCerts > maxCertificates {
		return nil, tooManyCertificates(name, "", nCerts)
	}
	if nKeys > 1 {
		return nil, newErr(ErrFormat, nil, "%smore than one private key; keep only the certificate's key in the file", prefix(name))
	}
	var (
		certs []*x509.Certificate
		key   any
	)
	for _, block := range blocks {
		switch block.Type {
		case "CERTIFICATE", "X509 CERTIFICATE":
			c, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, newErr(ErrFormat, err, "%scertificate %d is malformed: %v", prefix(name), len(certs)+1, err)
			}
			certs = append(certs, c)
		case "RSA PRIVATE KEY", "PRIVATE KEY", "ENCRYPTED PRIVATE KEY":
			k, err := parsePEMKey(b, block, password, name)
			if err != nil {
				return nil, err
			}
			key = k
		case "EC PRIVATE KEY":
			return nil, newErr(ErrUnsupportedKey, nil, "unsupported key type ECDSA%s (Entra client assertions need RSA)", inName(name))
		case "DSA PRIVATE KEY":
			return nil, newErr(ErrUnsupportedKey, nil, "unsupported key type DSA%s (Entra client assertions need RSA)", inName(name))
		case "OPENSSH PRIVATE KEY":
			return nil, newErr(ErrFormat, nil,
				"%sOpenSSH private keys are not supported; use a PEM key: ssh-keygen -p -m PKCS8 -f KEYFILE", prefix(name))
		}
		// Other blocks (PUBLIC KEY, CERTIFICATE REQUEST, EC PARAMETERS, TRUSTED
		// CERTIFICATE…) carry nothing we sign with.
	}
	switch {
	case key == nil && len(certs) == 0:
		return nil, notCertFile(name)
	case key == nil:
		return nil, newErr(ErrNoKey, nil,
			"no private key%s (it holds only certificates; append the key: cat cert.pem key.pem > both.pem)", inName(name))
	case len(certs) == 0:
		return nil, newErr(ErrNoCertificate, nil,
			"no certificate%s (it holds only a private key; append the certificate: cat cert.pem key.pem > both.pem)", inName(name))
	}
	signer, err := rsaSigner(key, name)
	if err != nil {
		return nil, err
	}
	return assemble(signer, certs, name)
}

func parsePEMKey(b *pkcs12.Budget, block *pem.Block, password, name string) (any, error) {
	if _, legacy := block.Headers["DEK-Info"]; legacy || block.Headers["Proc-Type"] == "4,ENCRYPTED" {
		return nil, newErr(ErrFormat, nil,
			"%slegacy encrypted PEM keys (Proc-Type: 4,ENCRYPTED) are not supported; convert the key: openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem",
			prefix(name))
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
		if err != nil {
			return nil, newErr(ErrFormat, err, "%smalformed RSA private key: %v", prefix(name), err)
		}
		return k, nil
	case "PRIVATE KEY":
		return parsePKCS8(block.Bytes, name)
	default: // ENCRYPTED PRIVATE KEY
		if password == "" {
			return nil, newErr(ErrBadPassword, nil,
				"invalid certificate password%s (the private key is encrypted and no password was given)", forName(name))
		}
		der, err := decryptPKCS8(b, block.Bytes, password, name)
		if err != nil {
			return nil, err
		}
		return parsePKCS8(der, name)
	}
}

func parsePKCS8(der []byte, name string) (any, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		if isUnknownKeyAlg(err) {
			return nil, newErr(ErrUnsupportedKey, err, "unsupported key type%s (Entra client assertions need RSA): %v", inName(name), err)
		}
		return nil, newErr(ErrFormat, err, "%smalformed private key: %v", prefix(name), err)
	}
	return k, nil
}

// isUnknownKeyAlg recognises crypto/x509's text for key algorithms it cannot parse
// (Ed448, X448, RSA-PSS-only keys…): the file is fine, the key type is not.
func isUnknownKeyAlg(err error) bool {
	s := err.Error()
	return strings.Contains(s, "unknown algorithm") || strings.Contains(s, "unknown private key type")
}

// PBES2 (RFC 8018) structures, as OpenSSL writes them for "ENCRYPTED PRIVATE KEY".
type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Data      []byte
}

type pbes2Params struct {
	KDF    pkix.AlgorithmIdentifier
	Scheme pkix.AlgorithmIdentifier
}

type pbkdf2Params struct {
	Salt       []byte
	Iterations *big.Int                 // not int: a count too large for one is refused as such
	KeyLength  int                      `asn1:"optional"`
	PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
}

var (
	oidPBES2  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
)

func prfFor(oid asn1.ObjectIdentifier) (func() hash.Hash, bool) {
	switch {
	case len(oid) == 0 || oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}): // absent = hmacWithSHA1
		return sha1.New, true
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 8}):
		return sha256.New224, true
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}):
		return sha256.New, true
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 10}):
		return sha512.New384, true
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}):
		return sha512.New, true
	}
	return nil, false
}

func cipherFor(oid asn1.ObjectIdentifier) (newBlock func([]byte) (cipher.Block, error), keyLen int, ok bool) {
	switch {
	case oid.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}):
		return aes.NewCipher, 16, true
	case oid.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}):
		return aes.NewCipher, 24, true
	case oid.Equal(asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}):
		return aes.NewCipher, 32, true
	case oid.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}):
		return des.NewTripleDESCipher, 24, true
	}
	return nil, 0, false
}

// decryptPKCS8 implements PBES2 with PBKDF2 and AES-CBC or DES-EDE3-CBC, the derivation
// on the same budget as PKCS#12's (bounded, interruptible). github.com/youmark/pkcs8, the
// usual package for it, panics on malformed input (wrong IV length, ragged ciphertext),
// skips the padding check and has no bound on iterations — and this parser reads
// whatever file a user points it at.
func decryptPKCS8(b *pkcs12.Budget, der []byte, password, name string) ([]byte, error) {
	malformed := func(what string) error {
		return newErr(ErrFormat, nil, "%smalformed encrypted private key (%s)", prefix(name), what)
	}
	unsupported := func(what string) error {
		return newErr(ErrFormat, nil,
			"%sprivate key encryption %s is not supported; re-encrypt the key: openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem",
			prefix(name), what)
	}
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, malformed("structure")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, unsupported(info.Algorithm.Algorithm.String())
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, malformed("PBES2 parameters")
	}
	if !params.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, unsupported("with key derivation " + params.KDF.Algorithm.String())
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(params.KDF.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return nil, malformed("PBKDF2 parameters")
	}
	prf, ok := prfFor(kdf.PRF.Algorithm)
	if !ok {
		return nil, unsupported("with PRF " + kdf.PRF.Algorithm.String())
	}
	if kdf.Iterations == nil || kdf.Iterations.Sign() <= 0 {
		return nil, malformed(fmt.Sprintf("iteration count %v", kdf.Iterations))
	}
	iterations, err := b.CheckCount(kdf.Iterations)
	if err != nil {
		if lerr := limitError(err, name); lerr != nil {
			return nil, lerr
		}
		return nil, malformed("iteration count")
	}
	newBlock, keyLen, ok := cipherFor(params.Scheme.Algorithm)
	if !ok {
		return nil, unsupported("with cipher " + params.Scheme.Algorithm.String())
	}
	if kdf.KeyLength != 0 && kdf.KeyLength != keyLen {
		return nil, malformed("key length")
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params.Scheme.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return nil, malformed("IV")
	}
	// The shapes need no key to check: refuse them before deriving one.
	probe, err := newBlock(make([]byte, keyLen))
	if err != nil {
		return nil, malformed("cipher")
	}
	bs := probe.BlockSize()
	if len(iv) != bs {
		return nil, malformed("IV length")
	}
	if len(info.Data) == 0 || len(info.Data)%bs != 0 {
		return nil, malformed("ciphertext length")
	}
	if err := b.Reserve(pkcs12.PBKDF2Work(prf, iterations, keyLen)); err != nil {
		if lerr := limitError(err, name); lerr != nil {
			return nil, lerr
		}
		return nil, malformed("key derivation")
	}
	key, err := b.PBKDF2(prf, []byte(password), kdf.Salt, iterations, keyLen)
	if err != nil {
		if lerr := limitError(err, name); lerr != nil {
			return nil, lerr
		}
		return nil, malformed("key derivation")
	}
	block, err := newBlock(key)
	if err != nil {
		return nil, malformed("cipher")
	}
	plain := make([]byte, len(info.Data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, info.Data)
	// A wrong password shows as bad padding, or (1 time in ~256) as good padding
	// around garbage that then fails to parse.
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > bs {
		return nil, badKeyPassword(name)
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, badKeyPassword(name)
		}
	}
	plain = plain[:len(plain)-pad]
	if _, err := x509.ParsePKCS8PrivateKey(plain); err != nil && !isUnknownKeyAlg(err) {
		return nil, badKeyPassword(name)
	}
	return plain, nil
}

func badKeyPassword(name string) error {
	return newErr(ErrBadPassword, nil, "invalid certificate password%s", forName(name))
}
