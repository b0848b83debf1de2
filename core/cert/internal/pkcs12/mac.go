// Copyright 2015, 2018, 2019 Opsmate, Inc. All rights reserved.
// Copyright 2015 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package pkcs12

// Changed from go-pkcs12: verification only, split like crypto.go into parsing the
// MAC's parameters (parseMac, checked and accounted before any derivation) and
// running them (macScheme.verify).

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
)

type macData struct {
	Mac        digestInfo
	MacSalt    []byte
	Iterations *big.Int `asn1:"optional"` // DEFAULT 1
}

// from PKCS#7:
type digestInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Digest    []byte
}

// PBMAC1 parameters structure from RFC 8018
// When using PBMAC1, the MAC parameters are derived from the algorithm's Parameters field
// and the macData.MacSalt and macData.Iterations fields are ignored.
type pbmac1Params struct {
	Kdf    pkix.AlgorithmIdentifier
	MacAlg pkix.AlgorithmIdentifier
}

var (
	oidSHA1   = asn1.ObjectIdentifier([]int{1, 3, 14, 3, 2, 26})
	oidSHA256 = asn1.ObjectIdentifier([]int{2, 16, 840, 1, 101, 3, 4, 2, 1})
	oidSHA512 = asn1.ObjectIdentifier([]int{2, 16, 840, 1, 101, 3, 4, 2, 3})
	oidPBMAC1 = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 5, 14})
)

// macScheme is a parsed and checked MAC: the PKCS#12 appendix B KDF with an HMAC, or
// PBMAC1 (PBKDF2 and an HMAC).
type macScheme struct {
	hmacHash func() hash.Hash
	digest   []byte

	// PKCS#12 KDF (pbkdf2 == nil)
	u, v       int
	salt       []byte
	iterations int

	pbkdf2 *pbkdf2Spec // PBMAC1
}

func (m *macScheme) work() int64 {
	if m.pbkdf2 != nil {
		return PBKDF2Work(m.pbkdf2.prf, m.pbkdf2.iterations, m.pbkdf2.keyLength)
	}
	return pkcs12KDFWork(m.u, m.iterations, m.u)
}

func parseMac(b *Budget, md *macData) (*macScheme, error) {
	alg := md.Mac.Algorithm
	if alg.Algorithm.Equal(oidPBMAC1) {
		return parsePBMAC1(b, alg, md.Mac.Digest)
	}
	m := &macScheme{digest: md.Mac.Digest, v: 64, salt: md.MacSalt}
	switch {
	case alg.Algorithm.Equal(oidSHA1):
		m.hmacHash, m.u = sha1.New, sha1.Size
	case alg.Algorithm.Equal(oidSHA256):
		m.hmacHash, m.u = sha256.New, sha256.Size
	case alg.Algorithm.Equal(oidSHA512):
		m.hmacHash, m.u, m.v = sha512.New, sha512.Size, 128
	default:
		return nil, NotImplementedError("MAC digest algorithm not supported: " + alg.Algorithm.String())
	}
	count := md.Iterations
	if count == nil {
		count = big.NewInt(1)
	}
	n, err := b.CheckCount(count)
	if err != nil {
		return nil, err
	}
	m.iterations = n
	return m, nil
}

func parsePBMAC1(b *Budget, algorithm pkix.AlgorithmIdentifier, digest []byte) (*macScheme, error) {
	var params pbmac1Params
	if err := unmarshal(algorithm.Parameters.FullBytes, &params); err != nil {
		return nil, fmt.Errorf("error decoding PBMAC1 parameters: %w", err)
	}
	kdf, err := parsePBKDF2(b, params.Kdf, "PBMAC1")
	if err != nil {
		return nil, err
	}
	m := &macScheme{digest: digest, pbkdf2: kdf}
	switch {
	case params.MacAlg.Algorithm.Equal(oidHmacWithSHA1):
		m.hmacHash = sha1.New
	case params.MacAlg.Algorithm.Equal(oidHmacWithSHA256):
		m.hmacHash = sha256.New
	case params.MacAlg.Algorithm.Equal(oidHmacWithSHA512):
		m.hmacHash = sha512.New
	default:
		return nil, NotImplementedError("PBMAC1 MAC algorithm " + params.MacAlg.Algorithm.String() + " is not supported")
	}
	// KeyLength is mandatory in RFC 9579
	if kdf.keyLength <= 0 {
		return nil, errors.New("pkcs12: PBMAC1 requires explicit KeyLength parameter in PBKDF2 parameters")
	}
	// RFC 9579 RECOMMENDS rejecting key lengths less than 20; this is necessary to prevent possible authentication bypass (e.g. OpenSSL's CVE-2026-34181)
	if kdf.keyLength < 20 {
		return nil, fmt.Errorf("pkcs12: PBMAC1 key length %d is too short to be secure (minimum 20 octets)", kdf.keyLength)
	}
	// RFC 9879 RECOMMENDS that the key length match the HMAC output size, which
	// is at most 64 octets (SHA-512).  Reject anything larger so that a huge
	// KeyLength can't cause a huge PBKDF2 allocation (matching OpenSSL's EVP_MAX_MD_SIZE cap)
	const maxKeyLength = 64
	if kdf.keyLength > maxKeyLength {
		return nil, fmt.Errorf("pkcs12: PBMAC1 key length %d is too large (maximum %d octets)", kdf.keyLength, maxKeyLength)
	}
	return m, nil
}

// verify recomputes the MAC over message with password (the BMPString form) and
// compares it with the file's.
func (m *macScheme) verify(b *Budget, message, password []byte) error {
	var key []byte
	if m.pbkdf2 != nil {
		// PBMAC1 expects UTF-8 passwords (for compatibility; see Erratum 7974), but
		// PKCS#12 passwords are BMP strings, so we convert the BMP string back to UTF-8
		originalPassword, err := decodeBMPString(password)
		if err != nil {
			return err
		}
		key, err = b.PBKDF2(m.pbkdf2.prf, []byte(originalPassword), m.pbkdf2.salt, m.pbkdf2.iterations, m.pbkdf2.keyLength)
		if err != nil {
			return err
		}
	} else {
		var err error
		key, err = b.pbkdf(m.hmacHash, m.u, m.v, m.salt, password, m.iterations, 3, m.u)
		if err != nil {
			return err
		}
	}
	mac := hmac.New(m.hmacHash, key)
	mac.Write(message)
	if !hmac.Equal(m.digest, mac.Sum(nil)) {
		return ErrIncorrectPassword
	}
	return nil
}
