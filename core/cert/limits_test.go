package cert

import (
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"strings"
	"testing"
)

// Files asking for absurd key-derivation work are refused before any of it is done.
// They are built with encoding/asn1 because making them for real takes openssl minutes.
func TestIterationBound(t *testing.T) {
	oid := func(s ...int) asn1.ObjectIdentifier { return asn1.ObjectIdentifier(s) }

	t.Run("PKCS#12 MAC", func(t *testing.T) {
		safe, _ := asn1.Marshal([]asn1.RawValue{})
		content, _ := asn1.Marshal(safe)
		type macData struct {
			Mac struct {
				Algorithm pkix.AlgorithmIdentifier
				Digest    []byte
			}
			Salt       []byte
			Iterations int
		}
		md := macData{Salt: []byte("saltsalt"), Iterations: 50_000_000}
		md.Mac.Algorithm.Algorithm = oid(1, 3, 14, 3, 2, 26)
		md.Mac.Digest = make([]byte, 20)
		pfx, err := asn1.Marshal(struct {
			Version  int
			AuthSafe struct {
				ContentType asn1.ObjectIdentifier
				Content     asn1.RawValue `asn1:"tag:0,explicit"`
			}
			MacData macData
		}{Version: 3, AuthSafe: struct {
			ContentType asn1.ObjectIdentifier
			Content     asn1.RawValue `asn1:"tag:0,explicit"`
		}{oid(1, 2, 840, 113549, 1, 7, 1), asn1.RawValue{FullBytes: content}}, MacData: md})
		if err != nil {
			t.Fatal(err)
		}
		if n := maxIterationCount(pfx); n != 50_000_000 {
			t.Fatalf("maxIterationCount = %d", n)
		}
		_, err = ParsePFX(pfx, testPassword)
		assertErr(t, err, ErrFormat, "key derivation asks for 50000000 iterations, more than the 2000000 accepted; re-export the file with the defaults")
	})

	t.Run("encrypted PKCS#8", func(t *testing.T) {
		kdfParams, _ := asn1.Marshal(struct {
			Salt       []byte
			Iterations int
		}{[]byte("saltsalt"), 3_000_000})
		iv, _ := asn1.Marshal(make([]byte, 16))
		params, _ := asn1.Marshal(pbes2Params{
			KDF:    pkix.AlgorithmIdentifier{Algorithm: oidPBKDF2, Parameters: asn1.RawValue{FullBytes: kdfParams}},
			Scheme: pkix.AlgorithmIdentifier{Algorithm: oid(2, 16, 840, 1, 101, 3, 4, 1, 42), Parameters: asn1.RawValue{FullBytes: iv}},
		})
		der, _ := asn1.Marshal(encryptedPrivateKeyInfo{
			Algorithm: pkix.AlgorithmIdentifier{Algorithm: oidPBES2, Parameters: asn1.RawValue{FullBytes: params}},
			Data:      make([]byte, 32),
		})
		key := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: der})
		_, err := ParsePEM(key, testPassword)
		assertErr(t, err, ErrFormat, "key derivation asks for 3000000 iterations, more than the 2000000 accepted; re-export the file with the defaults")
	})
}

func TestMaxIterationCountOnRealFiles(t *testing.T) {
	v := newVectors(t)
	// -certpbe NONE leaves the count only in the key bag, two OCTET STRINGs deep.
	for _, extra := range [][]string{nil, {"-legacy"}, {"-iter", "10000"}, {"-certpbe", "NONE", "-iter", "10000"}} {
		args := append([]string{"pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-out", "f.pfx", "-passout", "pass:x"}, extra...)
		v.run(t, args...)
		want := int64(2048)
		if strings.Contains(strings.Join(extra, " "), "-iter") {
			want = 10000
		}
		if n := maxIterationCount(readFile(t, v.path("f.pfx"))); n != want {
			t.Errorf("%s: maxIterationCount = %d, want %d", strings.Join(extra, " "), n, want)
		}
	}
}
