// Copyright 2015, 2018, 2019 Opsmate, Inc. All rights reserved.
// Copyright 2015 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package pkcs12

// Changed from go-pkcs12: decryption only. An algorithm's parameters are parsed and
// checked into a cipherScheme first (parseCipherScheme), which the decoder accounts
// for on its Budget; decrypt then uses nothing but that scheme, so what was checked
// is what runs. PBKDF2 salts must be OCTET STRINGs in the universal class (upstream
// compared the tag number only), and PBES2 IVs are parsed as OCTET STRINGs.

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"

	"github.com/entratool/entratool/core/cert/internal/pkcs12/internal/rc2"
)

var (
	oidPBEWithSHAAnd3KeyTripleDESCBC = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 12, 1, 3})
	oidPBEWithSHAAnd128BitRC2CBC     = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 12, 1, 5})
	oidPBEWithSHAAnd40BitRC2CBC      = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 12, 1, 6})
	oidPBES2                         = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 5, 13})
	oidPBKDF2                        = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 5, 12})
	oidHmacWithSHA1                  = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 2, 7})
	oidHmacWithSHA256                = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 2, 9})
	oidHmacWithSHA512                = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 2, 11})
	oidAES128CBC                     = asn1.ObjectIdentifier([]int{2, 16, 840, 1, 101, 3, 4, 1, 2})
	oidAES192CBC                     = asn1.ObjectIdentifier([]int{2, 16, 840, 1, 101, 3, 4, 1, 22})
	oidAES256CBC                     = asn1.ObjectIdentifier([]int{2, 16, 840, 1, 101, 3, 4, 1, 42})
)

// pbes1Cipher is one of PKCS#12's own PBE ciphers (RFC 7292 appendix C), keyed
// through the appendix B KDF with SHA-1.
type pbes1Cipher struct {
	create func(key []byte) (cipher.Block, error)
	keyLen int
}

func newRC2(key []byte) (cipher.Block, error) { return rc2.New(key, len(key)*8) }

// The PBES1 IV is always 8 bytes: DES and RC2 blocks.
const pbes1IVLen = 8

// cipherScheme is a parsed and checked encryption algorithm: PBES1 when pbes1 is set,
// else PBES2 with PBKDF2 and AES-CBC.
type cipherScheme struct {
	pbes1      *pbes1Cipher
	salt       []byte
	iterations int
	blockSize  int

	prf    func() hash.Hash // PBES2
	keyLen int              // PBES2
	iv     []byte           // PBES2
}

// work is what decrypt will derive: for PBES1 a key and an IV, for PBES2 a key.
func (s *cipherScheme) work() int64 {
	if s.pbes1 != nil {
		return pkcs12KDFWork(sha1.Size, s.iterations, s.pbes1.keyLen) + pkcs12KDFWork(sha1.Size, s.iterations, pbes1IVLen)
	}
	return PBKDF2Work(s.prf, s.iterations, s.keyLen)
}

type pbeParams struct {
	Salt       []byte
	Iterations *big.Int
}

func parseCipherScheme(b *Budget, algorithm pkix.AlgorithmIdentifier) (*cipherScheme, error) {
	var c *pbes1Cipher
	switch {
	case algorithm.Algorithm.Equal(oidPBEWithSHAAnd3KeyTripleDESCBC):
		c = &pbes1Cipher{create: des.NewTripleDESCipher, keyLen: 24}
	case algorithm.Algorithm.Equal(oidPBEWithSHAAnd128BitRC2CBC):
		c = &pbes1Cipher{create: newRC2, keyLen: 16}
	case algorithm.Algorithm.Equal(oidPBEWithSHAAnd40BitRC2CBC):
		c = &pbes1Cipher{create: newRC2, keyLen: 5}
	case algorithm.Algorithm.Equal(oidPBES2):
		return parsePBES2(b, algorithm)
	default:
		return nil, NotImplementedError("pbe algorithm " + algorithm.Algorithm.String() + " is not supported")
	}
	var params pbeParams
	if err := unmarshal(algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("pkcs12: error decoding PBE parameters: %w", err)
	}
	n, err := b.CheckCount(params.Iterations)
	if err != nil {
		return nil, err
	}
	return &cipherScheme{pbes1: c, salt: params.Salt, iterations: n, blockSize: pbes1IVLen}, nil
}

//	PBES2-params ::= SEQUENCE {
//		keyDerivationFunc AlgorithmIdentifier {{PBES2-KDFs}},
//		encryptionScheme AlgorithmIdentifier {{PBES2-Encs}}
//	}
type pbes2Params struct {
	Kdf              pkix.AlgorithmIdentifier
	EncryptionScheme pkix.AlgorithmIdentifier
}

//	PBKDF2-params ::= SEQUENCE {
//	    salt CHOICE {
//	      specified OCTET STRING,
//	      otherSource AlgorithmIdentifier {{PBKDF2-SaltSources}}
//	    },
//	    iterationCount INTEGER (1..MAX),
//	    keyLength INTEGER (1..MAX) OPTIONAL,
//	    prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT
//	    algid-hmacWithSHA1
//	}
type pbkdf2Params struct {
	Salt       asn1.RawValue
	Iterations *big.Int
	KeyLength  int                      `asn1:"optional"`
	Prf        pkix.AlgorithmIdentifier `asn1:"optional"`
}

// pbkdf2Spec is a PBKDF2 parameter set, parsed and checked.
type pbkdf2Spec struct {
	salt       []byte
	iterations int
	keyLength  int // 0 when absent
	prf        func() hash.Hash
}

// parsePBKDF2 reads PBKDF2-params as PBES2 and PBMAC1 both carry them; what names
// the caller in errors is what.
func parsePBKDF2(b *Budget, kdf pkix.AlgorithmIdentifier, what string) (*pbkdf2Spec, error) {
	if !kdf.Algorithm.Equal(oidPBKDF2) {
		return nil, NotImplementedError(what + " kdf algorithm " + kdf.Algorithm.String() + " is not supported")
	}
	var params pbkdf2Params
	if err := unmarshal(kdf.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("pkcs12: error decoding %s PBKDF2 parameters: %w", what, err)
	}
	// The count first: when a file asks for too much work, that is what to report.
	n, err := b.CheckCount(params.Iterations)
	if err != nil {
		return nil, err
	}
	// The tag number alone would let a context-specific [4] through as a salt.
	if params.Salt.Class != asn1.ClassUniversal || params.Salt.Tag != asn1.TagOctetString || params.Salt.IsCompound {
		return nil, NotImplementedError("only octet string salts are supported for " + what + "/pbkdf2")
	}
	var prf func() hash.Hash
	switch {
	case params.Prf.Algorithm.Equal(oidHmacWithSHA256):
		prf = sha256.New
	case params.Prf.Algorithm.Equal(oidHmacWithSHA512):
		prf = sha512.New
	case params.Prf.Algorithm.Equal(oidHmacWithSHA1):
		prf = sha1.New
	case params.Prf.Algorithm == nil:
		// Algorithm not specified; defaults to SHA1 according to ASN1 definition
		prf = sha1.New
	default:
		return nil, NotImplementedError(what + " prf " + params.Prf.Algorithm.String() + " is not supported")
	}
	return &pbkdf2Spec{salt: params.Salt.Bytes, iterations: n, keyLength: params.KeyLength, prf: prf}, nil
}

func parsePBES2(b *Budget, algorithm pkix.AlgorithmIdentifier) (*cipherScheme, error) {
	var params pbes2Params
	if err := unmarshal(algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("pkcs12: error decoding PBES2 parameters: %w", err)
	}
	kdf, err := parsePBKDF2(b, params.Kdf, "pbes2")
	if err != nil {
		return nil, err
	}
	var keyLen int
	switch {
	case params.EncryptionScheme.Algorithm.Equal(oidAES256CBC):
		keyLen = 32
	case params.EncryptionScheme.Algorithm.Equal(oidAES192CBC):
		keyLen = 24
	case params.EncryptionScheme.Algorithm.Equal(oidAES128CBC):
		keyLen = 16
	default:
		return nil, NotImplementedError("pbes2 algorithm " + params.EncryptionScheme.Algorithm.String() + " is not supported")
	}
	var iv []byte
	if err := unmarshal(params.EncryptionScheme.Parameters.FullBytes, &iv); err != nil {
		return nil, fmt.Errorf("pkcs12: error decoding the PBES2 IV: %w", err)
	}
	if len(iv) != aes.BlockSize {
		return nil, fmt.Errorf("pkcs12: invalid IV length in PBES2 encryption scheme (IV length %d does not match block size %d)", len(iv), aes.BlockSize)
	}
	// Like upstream, the cipher decides the key length; a keyLength field is not used.
	return &cipherScheme{
		salt: kdf.salt, iterations: kdf.iterations, blockSize: aes.BlockSize,
		prf: kdf.prf, keyLen: keyLen, iv: iv,
	}, nil
}

// decrypt derives the key (on reserved work) and removes the CBC padding. password is
// the BMPString form; PBES2 takes it back to UTF-8 as Windows and OpenSSL do.
func (s *cipherScheme) decrypt(b *Budget, encrypted, password []byte) ([]byte, error) {
	// The ciphertext's shape needs no key to check: refuse before deriving one.
	if len(encrypted) == 0 {
		return nil, errors.New("pkcs12: empty encrypted data")
	}
	if len(encrypted)%s.blockSize != 0 {
		return nil, errors.New("pkcs12: input is not a multiple of the block size")
	}
	var (
		block cipher.Block
		iv    []byte
	)
	if s.pbes1 != nil {
		key, err := b.pbkdf(sha1.New, sha1.Size, 64, s.salt, password, s.iterations, 1, s.pbes1.keyLen)
		if err != nil {
			return nil, err
		}
		if iv, err = b.pbkdf(sha1.New, sha1.Size, 64, s.salt, password, s.iterations, 2, pbes1IVLen); err != nil {
			return nil, err
		}
		if block, err = s.pbes1.create(key); err != nil {
			return nil, err
		}
	} else {
		// rfc7292#appendix-B.1 (the original PKCS#12 PBE) requires passwords formatted as BMPStrings.
		// However, rfc8018#section-3 recommends that the password for PBES2 follow ASCII or UTF-8.
		// This is also what Windows expects.
		// Therefore, we convert the password to UTF-8.
		originalPassword, err := decodeBMPString(password)
		if err != nil {
			return nil, err
		}
		key, err := b.PBKDF2(s.prf, []byte(originalPassword), s.salt, s.iterations, s.keyLen)
		if err != nil {
			return nil, err
		}
		if block, err = aes.NewCipher(key); err != nil {
			return nil, err
		}
		iv = s.iv
	}
	decrypted := make([]byte, len(encrypted))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(decrypted, encrypted)

	psLen := int(decrypted[len(decrypted)-1])
	if psLen == 0 || psLen > s.blockSize {
		return nil, ErrDecryption
	}
	for _, p := range decrypted[len(decrypted)-psLen:] {
		if int(p) != psLen {
			return nil, ErrDecryption
		}
	}
	return decrypted[:len(decrypted)-psLen], nil
}
