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
			return nil, newErr(ErrBadPassword, ErrPasswordRequired,
				"certificate password required%s: the private key is encrypted and no password was given", forName(name))
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
	k, err := parsePBES2Key(b, der, name)
	if err != nil {
		return nil, err
	}
	block, err := k.deriveCipher(b, password, name)
	if err != nil {
		return nil, err
	}
	return k.decrypt(block, name)
}

// pbes2Key is what an "ENCRYPTED PRIVATE KEY" says about its own encryption, every
// part of it checked before a key is derived.
type pbes2Key struct {
	salt       []byte
	prf        func() hash.Hash
	iterations int
	newBlock   func([]byte) (cipher.Block, error)
	keyLen     int
	iv         []byte
	ciphertext []byte
}

func parsePBES2Key(b *pkcs12.Budget, der []byte, name string) (*pbes2Key, error) {
	var info encryptedPrivateKeyInfo
	if rest, err := asn1.Unmarshal(der, &info); err != nil || len(rest) != 0 {
		return nil, malformedEncryptedKey(name, "structure")
	}
	if !info.Algorithm.Algorithm.Equal(oidPBES2) {
		return nil, unsupportedKeyEncryption(name, info.Algorithm.Algorithm.String())
	}
	var params pbes2Params
	if rest, err := asn1.Unmarshal(info.Algorithm.Parameters.FullBytes, &params); err != nil || len(rest) != 0 {
		return nil, malformedEncryptedKey(name, "PBES2 parameters")
	}
	k := &pbes2Key{ciphertext: info.Data}
	declaredKeyLen, err := k.parseKDF(b, params.KDF, name)
	if err != nil {
		return nil, err
	}
	if err := k.parseScheme(params.Scheme, declaredKeyLen, name); err != nil {
		return nil, err
	}
	return k, nil
}

// parseKDF reads the PBKDF2 parameters, and returns the key length they declare (0 when
// absent) for parseScheme to check against the cipher's.
func (k *pbes2Key) parseKDF(b *pkcs12.Budget, alg pkix.AlgorithmIdentifier, name string) (int, error) {
	if !alg.Algorithm.Equal(oidPBKDF2) {
		return 0, unsupportedKeyEncryption(name, "with key derivation "+alg.Algorithm.String())
	}
	var kdf pbkdf2Params
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &kdf); err != nil || len(rest) != 0 {
		return 0, malformedEncryptedKey(name, "PBKDF2 parameters")
	}
	prf, ok := prfFor(kdf.PRF.Algorithm)
	if !ok {
		return 0, unsupportedKeyEncryption(name, "with PRF "+kdf.PRF.Algorithm.String())
	}
	if kdf.Iterations == nil || kdf.Iterations.Sign() <= 0 {
		return 0, malformedEncryptedKey(name, fmt.Sprintf("iteration count %v", kdf.Iterations))
	}
	iterations, err := b.CheckCount(kdf.Iterations)
	if err != nil {
		return 0, budgetRefusal(err, name, "iteration count")
	}
	k.salt, k.prf, k.iterations = kdf.Salt, prf, iterations
	return kdf.KeyLength, nil
}

// parseScheme reads the cipher and its IV, and checks the IV and ciphertext lengths:
// they need no key to check, so a malformed file costs no key derivation.
func (k *pbes2Key) parseScheme(alg pkix.AlgorithmIdentifier, declaredKeyLen int, name string) error {
	newBlock, keyLen, ok := cipherFor(alg.Algorithm)
	if !ok {
		return unsupportedKeyEncryption(name, "with cipher "+alg.Algorithm.String())
	}
	if declaredKeyLen != 0 && declaredKeyLen != keyLen {
		return malformedEncryptedKey(name, "key length")
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 {
		return malformedEncryptedKey(name, "IV")
	}
	probe, err := newBlock(make([]byte, keyLen))
	if err != nil {
		return malformedEncryptedKey(name, "cipher")
	}
	bs := probe.BlockSize()
	if len(iv) != bs {
		return malformedEncryptedKey(name, "IV length")
	}
	if len(k.ciphertext) == 0 || len(k.ciphertext)%bs != 0 {
		return malformedEncryptedKey(name, "ciphertext length")
	}
	k.newBlock, k.keyLen, k.iv = newBlock, keyLen, iv
	return nil
}

// deriveCipher derives the key from the password, within the budget, and returns the
// cipher keyed with it.
func (k *pbes2Key) deriveCipher(b *pkcs12.Budget, password, name string) (cipher.Block, error) {
	if err := b.Reserve(pkcs12.PBKDF2Work(k.prf, k.iterations, k.keyLen)); err != nil {
		return nil, budgetRefusal(err, name, "key derivation")
	}
	key, err := b.PBKDF2(k.prf, []byte(password), k.salt, k.iterations, k.keyLen)
	if err != nil {
		return nil, budgetRefusal(err, name, "key derivation")
	}
	block, err := k.newBlock(key)
	if err != nil {
		return nil, malformedEncryptedKey(name, "cipher")
	}
	return block, nil
}

// decrypt returns the PKCS#8 key inside the ciphertext. A wrong password shows as bad
// padding, or (1 time in ~256) as good padding around garbage that then fails to parse.
func (k *pbes2Key) decrypt(block cipher.Block, name string) ([]byte, error) {
	plain := make([]byte, len(k.ciphertext))
	cipher.NewCBCDecrypter(block, k.iv).CryptBlocks(plain, k.ciphertext)
	plain, ok := unpad(plain, block.BlockSize())
	if !ok {
		return nil, badKeyPassword(name)
	}
	if _, err := x509.ParsePKCS8PrivateKey(plain); err != nil && !isUnknownKeyAlg(err) {
		return nil, badKeyPassword(name)
	}
	return plain, nil
}

// unpad strips PKCS#7 padding, reporting whether it was well formed.
func unpad(plain []byte, blockSize int) ([]byte, bool) {
	pad := int(plain[len(plain)-1])
	if pad == 0 || pad > blockSize {
		return nil, false
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, false
		}
	}
	return plain[:len(plain)-pad], true
}

// budgetRefusal words an error from the budget: a limit reached or a context ended is
// explained as such; anything else means the parameters themselves were unusable.
func budgetRefusal(err error, name, what string) error {
	if lerr := limitError(err, name); lerr != nil {
		return lerr
	}
	return malformedEncryptedKey(name, what)
}

func malformedEncryptedKey(name, what string) error {
	return newErr(ErrFormat, nil, "%smalformed encrypted private key (%s)", prefix(name), what)
}

func unsupportedKeyEncryption(name, what string) error {
	return newErr(ErrFormat, nil,
		"%sprivate key encryption %s is not supported; re-encrypt the key: openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem",
		prefix(name), what)
}

func badKeyPassword(name string) error {
	return newErr(ErrBadPassword, nil, "invalid certificate password%s", forName(name))
}
