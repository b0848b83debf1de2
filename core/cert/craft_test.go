package cert

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"hash"
	"math/big"
	"testing"
)

// This file builds PKCS#12 files with encoding/asn1, so that an iteration count can be
// put anywhere a decoder reads one, with any value: making such files with openssl
// takes as long as decoding them. It uses nothing from the package under test.

var (
	craftOIDData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	craftOIDEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	craftOIDPBES2         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	craftOIDPBKDF2        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	craftOIDPBMAC1        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 14}
	craftOIDPBE3DES       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1, 3}
	craftOIDHMACSHA1      = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	craftOIDHMACSHA256    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 9}
	craftOIDHMACSHA512    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 11}
	craftOIDAES256CBC     = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	craftOIDSHA1          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	craftOIDShroudedKey   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	craftOIDCertBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 3}
	craftOIDSecretBag     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 5}
	craftOIDX509Cert      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 22, 1}
)

func der(t testing.TB, v any) []byte {
	t.Helper()
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatalf("asn1.Marshal(%T): %v", v, err)
	}
	return b
}

func rawDER(b []byte) asn1.RawValue { return asn1.RawValue{FullBytes: b} }

// salt is an OCTET STRING, or the same bytes under a context-specific [4] tag: the
// tag number of OCTET STRING in the wrong class, which go-pkcs12 took for one.
func salt(b []byte, contextTag bool) asn1.RawValue {
	if contextTag {
		return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: asn1.TagOctetString, Bytes: b}
	}
	return asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagOctetString, Bytes: b}
}

type pbkdf2Spec struct {
	salt       []byte
	contextTag bool
	count      *big.Int
	keyLen     int // 0: absent
	prf        asn1.ObjectIdentifier
}

func (s pbkdf2Spec) algorithm(t testing.TB) pkix.AlgorithmIdentifier {
	params := der(t, struct {
		Salt       asn1.RawValue
		Iterations *big.Int
		KeyLength  int                      `asn1:"optional"`
		Prf        pkix.AlgorithmIdentifier `asn1:"optional"`
	}{salt(s.salt, s.contextTag), s.count, s.keyLen, pkix.AlgorithmIdentifier{Algorithm: s.prf, Parameters: asn1.NullRawValue}})
	return pkix.AlgorithmIdentifier{Algorithm: craftOIDPBKDF2, Parameters: rawDER(params)}
}

func (s pbkdf2Spec) hash() func() hash.Hash {
	switch {
	case s.prf.Equal(craftOIDHMACSHA256):
		return sha256.New
	case s.prf.Equal(craftOIDHMACSHA512):
		return sha512.New
	}
	return sha1.New
}

// pbes2 is PBES2 with AES-256-CBC.
func pbes2(t testing.TB, kdf pbkdf2Spec, iv []byte) pkix.AlgorithmIdentifier {
	params := der(t, struct {
		Kdf, Enc pkix.AlgorithmIdentifier
	}{kdf.algorithm(t), pkix.AlgorithmIdentifier{Algorithm: craftOIDAES256CBC, Parameters: rawDER(der(t, iv))}})
	return pkix.AlgorithmIdentifier{Algorithm: craftOIDPBES2, Parameters: rawDER(params)}
}

// pbes1 is pbeWithSHAAnd3-KeyTripleDES-CBC.
func pbes1(t testing.TB, s []byte, contextTag bool, count *big.Int) pkix.AlgorithmIdentifier {
	params := der(t, struct {
		Salt       asn1.RawValue
		Iterations *big.Int
	}{salt(s, contextTag), count})
	return pkix.AlgorithmIdentifier{Algorithm: craftOIDPBE3DES, Parameters: rawDER(params)}
}

// encryptPBES2 encrypts for real (small counts only: the test pays for the derivation).
func encryptPBES2(t testing.TB, kdf pbkdf2Spec, password string, iv, plain []byte) []byte {
	key, err := pbkdf2.Key(kdf.hash(), password, kdf.salt, int(kdf.count.Int64()), 32)
	if err != nil {
		t.Fatal(err)
	}
	return encryptAES(t, key, iv, plain)
}

func encryptAES(t testing.TB, key, iv, plain []byte) []byte {
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	data := append(append([]byte{}, plain...), bytes.Repeat([]byte{byte(pad)}, pad)...)
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(data, data)
	return data
}

// contentInfo mirrors go-pkcs12's, whose explicit [0] the encoder fills the same way.
type craftContentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

func explicit0(b []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: b}
}

// dataSafe is an authenticated-safe item holding bags in clear.
func dataSafe(t testing.TB, bags ...[]byte) []byte {
	return der(t, craftContentInfo{craftOIDData, explicit0(der(t, safeContents(t, bags...)))})
}

// encryptedSafe is an encryptedData item.
func encryptedSafe(t testing.TB, alg pkix.AlgorithmIdentifier, ciphertext []byte) []byte {
	ed := der(t, struct {
		Version int
		Info    struct {
			ContentType asn1.ObjectIdentifier
			Algorithm   pkix.AlgorithmIdentifier
			Content     []byte `asn1:"tag:0,optional"`
		}
	}{0, struct {
		ContentType asn1.ObjectIdentifier
		Algorithm   pkix.AlgorithmIdentifier
		Content     []byte `asn1:"tag:0,optional"`
	}{craftOIDData, alg, ciphertext}})
	return der(t, craftContentInfo{craftOIDEncryptedData, explicit0(ed)})
}

func safeContents(t testing.TB, bags ...[]byte) []byte {
	raw := make([]asn1.RawValue, len(bags))
	for i, b := range bags {
		raw[i] = rawDER(b)
	}
	return der(t, raw)
}

func safeBag(t testing.TB, id asn1.ObjectIdentifier, value []byte) []byte {
	return der(t, struct {
		Id    asn1.ObjectIdentifier
		Value asn1.RawValue `asn1:"tag:0,explicit"`
	}{id, explicit0(value)})
}

func certBagOf(t testing.TB, certDER []byte) []byte {
	return safeBag(t, craftOIDCertBag, der(t, struct {
		Id   asn1.ObjectIdentifier
		Data []byte `asn1:"tag:0,explicit"`
	}{craftOIDX509Cert, certDER}))
}

func shroudedKeyBag(t testing.TB, alg pkix.AlgorithmIdentifier, encrypted []byte) []byte {
	return safeBag(t, craftOIDShroudedKey, der(t, struct {
		Algorithm pkix.AlgorithmIdentifier
		Data      []byte
	}{alg, encrypted}))
}

// paddingBag is a secret bag (which decoders skip) holding a SEQUENCE of n NULLs:
// n ASN.1 elements for a pre-scan to wade through.
func paddingBag(t testing.TB, n int) []byte {
	seq := der(t, asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSequence, IsCompound: true, Bytes: bytes.Repeat([]byte{5, 0}, n)})
	return safeBag(t, craftOIDSecretBag, seq)
}

// macSpec is the PFX's MacData: none, the PKCS#12 KDF with SHA-1, or PBMAC1. A nil
// digest is computed with password (only for small counts); otherwise it is used as is.
type macSpec struct {
	kind     int // macNone, macClassic, macPBMAC1
	kdf      pbkdf2Spec
	count    *big.Int // macClassic
	digest   []byte
	password string
	key      []byte // PBMAC1: the derived key, when the caller has it already
}

const (
	macNone = iota
	macClassic
	macPBMAC1
)

func pfxFile(t testing.TB, mac macSpec, safes ...[]byte) []byte {
	authSafe := safeContents(t, safes...) // a SEQUENCE of ContentInfo, built the same way
	var macData asn1.RawValue
	switch mac.kind {
	case macClassic:
		digest := mac.digest
		if digest == nil {
			digest = make([]byte, sha1.Size)
		}
		macData = rawDER(der(t, struct {
			Mac struct {
				Algorithm pkix.AlgorithmIdentifier
				Digest    []byte
			}
			Salt       []byte
			Iterations *big.Int
		}{struct {
			Algorithm pkix.AlgorithmIdentifier
			Digest    []byte
		}{pkix.AlgorithmIdentifier{Algorithm: craftOIDSHA1, Parameters: asn1.NullRawValue}, digest}, []byte("saltsalt"), mac.count}))
	case macPBMAC1:
		params := der(t, struct {
			Kdf, Mac pkix.AlgorithmIdentifier
		}{mac.kdf.algorithm(t), pkix.AlgorithmIdentifier{Algorithm: craftOIDHMACSHA256, Parameters: asn1.NullRawValue}})
		digest := mac.digest
		if digest == nil {
			key := mac.key
			if key == nil {
				var err error
				key, err = pbkdf2.Key(mac.kdf.hash(), mac.password, mac.kdf.salt, int(mac.kdf.count.Int64()), mac.kdf.keyLen)
				if err != nil {
					t.Fatal(err)
				}
			}
			h := hmac.New(sha256.New, key)
			h.Write(authSafe)
			digest = h.Sum(nil)
		}
		macData = rawDER(der(t, struct {
			Mac struct {
				Algorithm pkix.AlgorithmIdentifier
				Digest    []byte
			}
			Salt       []byte
			Iterations int
		}{struct {
			Algorithm pkix.AlgorithmIdentifier
			Digest    []byte
		}{pkix.AlgorithmIdentifier{Algorithm: craftOIDPBMAC1, Parameters: rawDER(params)}, digest}, []byte("NOT USED"), 1}))
	}
	return der(t, struct {
		Version  int
		AuthSafe craftContentInfo
		MacData  asn1.RawValue `asn1:"optional"`
	}{3, craftContentInfo{craftOIDData, explicit0(der(t, authSafe))}, macData})
}

// Where craft puts the count under test.
const (
	atMAC         = iota // the PKCS#12-KDF MAC
	atPBMAC1             // a PBMAC1 MAC
	atPBES1Safe          // an encryptedData, PBES1
	atPBES2Safe          // an encryptedData, PBES2
	atKeyBagPBES2        // a shrouded key bag in clear, PBES2
	atKeyBagPBES1        // a shrouded key bag in clear, PBES1
	atNested             // a shrouded key bag inside a genuine encryptedData
	numSpots
)

var spotNames = [numSpots]string{"MAC", "PBMAC1", "PBES1 encryptedData", "PBES2 encryptedData",
	"PBES2 shrouded key bag", "PBES1 shrouded key bag", "shrouded key bag inside encryptedData"}

// smallCount is the iteration count of every genuine part of a crafted file.
const smallCount = 3

type craftSpec struct {
	where      int
	count      *big.Int // the count under test
	contextTag bool     // its salt under a context-specific tag
	mac        bool     // a genuine PBMAC1 MAC (ignored when where is a MAC spot)
	password   string   // what the genuine parts are made with
	padding    int      // ASN.1 elements before the key safe
	certDER    []byte
}

// legitWork is what decoding the genuine parts of the file derives before it can
// meet the count under test: the MAC, and the encryptedData around a nested bag.
// Each is one block (SHA-256, 32-byte keys).
func (s craftSpec) legitWork() int64 {
	var w int64
	if s.mac && s.where != atMAC && s.where != atPBMAC1 {
		w += smallCount
	}
	if s.where == atNested {
		w += smallCount
	}
	return w
}

func craft(t testing.TB, s craftSpec) []byte {
	iv := bytes.Repeat([]byte{7}, 16)
	small := pbkdf2Spec{salt: []byte("genuine-salt"), count: big.NewInt(smallCount), keyLen: 32, prf: craftOIDHMACSHA256}
	bad := pbkdf2Spec{salt: []byte("crafted-salt"), contextTag: s.contextTag, count: s.count, prf: craftOIDHMACSHA256}
	junk := make([]byte, 48)

	certs := certBagOf(t, s.certDER)
	// A genuine key bag whose content does not decrypt: the file is refused either way,
	// and decoding it costs smallCount.
	keyBag := shroudedKeyBag(t, pbes2(t, small, iv), junk)
	var first, second []byte
	switch s.where {
	case atPBES1Safe:
		first = encryptedSafe(t, pbes1(t, []byte("crafted"), s.contextTag, s.count), junk)
	case atPBES2Safe:
		first = encryptedSafe(t, pbes2(t, bad, iv), junk)
	case atNested:
		inner := safeContents(t, certs, shroudedKeyBag(t, pbes2(t, bad, iv), junk))
		first = encryptedSafe(t, pbes2(t, small, iv), encryptPBES2(t, small, s.password, iv, inner))
	default:
		first = dataSafe(t, certs)
	}
	var pad [][]byte
	if s.padding > 0 {
		pad = append(pad, paddingBag(t, s.padding))
	}
	switch s.where {
	case atKeyBagPBES2:
		keyBag = shroudedKeyBag(t, pbes2(t, bad, iv), junk)
	case atKeyBagPBES1:
		keyBag = shroudedKeyBag(t, pbes1(t, []byte("crafted"), s.contextTag, s.count), junk)
	}
	if s.where == atNested {
		second = dataSafe(t, pad...)
	} else {
		second = dataSafe(t, append(pad, keyBag)...)
	}

	mac := macSpec{kind: macNone}
	switch {
	case s.where == atMAC:
		mac = macSpec{kind: macClassic, count: s.count}
	case s.where == atPBMAC1:
		bad.keyLen = 32
		mac = macSpec{kind: macPBMAC1, kdf: bad, digest: make([]byte, 32)}
	case s.mac:
		mac = macSpec{kind: macPBMAC1, kdf: small, password: s.password}
	}
	return pfxFile(t, mac, first, second)
}

// tinyPBMAC1 is the smallest file whose PBMAC1 asks for count iterations: one empty
// safe and the MAC (about 150 bytes).
func tinyPBMAC1(t testing.TB, count *big.Int, contextTag bool) []byte {
	kdf := pbkdf2Spec{salt: []byte("12345678"), contextTag: contextTag, count: count, keyLen: 32, prf: craftOIDHMACSHA256}
	return pfxFile(t, macSpec{kind: macPBMAC1, kdf: kdf, digest: make([]byte, 32)}, dataSafe(t))
}

// slowPFX is a genuine file (it decodes, given time) whose four derivations — the
// PBMAC1 MAC, two encryptedData and the key bag inside the second — each run count
// iterations of PBKDF2-HMAC-SHA-512, one block each. They share their parameters, so
// building it derives once; decoding it derives four times.
func slowPFX(t testing.TB, count int, password string, leafDER, keyPKCS8 []byte) []byte {
	kdf := pbkdf2Spec{salt: []byte("slow-but-legal"), count: big.NewInt(int64(count)), keyLen: 64, prf: craftOIDHMACSHA512}
	key, err := pbkdf2.Key(sha512.New, password, kdf.salt, count, 64)
	if err != nil {
		t.Fatal(err)
	}
	iv := bytes.Repeat([]byte{9}, 16)
	enc := kdf
	enc.keyLen = 0 // PBES2: the cipher says 32 bytes, the first half of the MAC's key
	alg := pbes2(t, enc, iv)
	certs := encryptedSafe(t, alg, encryptAES(t, key[:32], iv, safeContents(t, certBagOf(t, leafDER))))
	keyBag := shroudedKeyBag(t, alg, encryptAES(t, key[:32], iv, keyPKCS8))
	keys := encryptedSafe(t, alg, encryptAES(t, key[:32], iv, safeContents(t, keyBag)))
	return pfxFile(t, macSpec{kind: macPBMAC1, kdf: kdf, key: key}, certs, keys)
}
