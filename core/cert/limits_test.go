package cert

import (
	"context"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert/internal/pkcs12"
)

// SPEC §12, "PKCS#12 work bound": every iteration count the decoder uses is at most
// 2,000,000, checked on what the decoder reads, refused before any derivation when it
// is visible; decoding stays inside the caller's context.

const overCap = 50_000_000

// decodePFX runs the PFX path on a fresh budget and returns it, so tests can see how
// much derivation work was done (Spent) rather than time it.
func decodePFX(ctx context.Context, data []byte, password string) (*Credential, *pkcs12.Budget, error) {
	b := newBudget(ctx)
	c, err := parsePFX(b, data, password, "")
	return c, b, err
}

func iterationsMsg(n string) string {
	return "key derivation asks for " + n + " iterations, more than the 2000000 accepted; re-export the file with the defaults"
}

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
		md := macData{Salt: []byte("saltsalt"), Iterations: overCap}
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
		_, b, err := decodePFX(t.Context(), pfx, testPassword)
		assertErr(t, err, ErrFormat, iterationsMsg("50000000"))
		if b.Spent() != 0 {
			t.Errorf("derived %d iterations before refusing", b.Spent())
		}
	})

	t.Run("encrypted PKCS#8", func(t *testing.T) {
		for _, tc := range []struct {
			count *big.Int
			want  string
		}{
			{big.NewInt(3_000_000), iterationsMsg("3000000")},
			{new(big.Int).Lsh(big.NewInt(1), 80), iterationsMsg("1208925819614629174706176")},
			{big.NewInt(0), "malformed encrypted private key (iteration count 0)"},
		} {
			kdfParams, _ := asn1.Marshal(struct {
				Salt       []byte
				Iterations *big.Int
			}{[]byte("saltsalt"), tc.count})
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
			b := newBudget(t.Context())
			_, err := parsePEM(b, key, testPassword, "")
			assertErr(t, err, ErrFormat, tc.want)
			if b.Spent() != 0 {
				t.Errorf("derived %d iterations before refusing", b.Spent())
			}
		}
	})
}

// TestCraftedPFXRefusedBeforeDerivation covers finding 3: counts the old pre-scan did
// not see (context-tagged salt, no MAC, past 20,000 ASN.1 elements) and counts that
// are each allowed but together too much. Each is refused with no derivation done.
func TestCraftedPFXRefusedBeforeDerivation(t *testing.T) {
	leaf := goCert(t, "crafted", &ecKey(t).PublicKey, ecKey(t), nil, time.Now(), time.Now().Add(time.Hour), false).Raw
	over := big.NewInt(overCap)
	spot := func(where int, password string, mac bool, padding int) []byte {
		return craft(t, craftSpec{where: where, count: over, mac: mac, password: password, padding: padding, certDER: leaf})
	}
	contextTagged := func(where int) []byte {
		return craft(t, craftSpec{where: where, count: over, contextTag: true, password: testPassword, certDER: leaf})
	}
	// Each derivation at the cap, 18,000,000 in all: a PBMAC1 of four SHA-1 blocks, a
	// PBES2 encryptedData of two and a PBES1 key bag of three.
	atCap := big.NewInt(maxIterations)
	sha1KDF := func(keyLen int) pbkdf2Spec {
		return pbkdf2Spec{salt: []byte("s"), count: atCap, keyLen: keyLen, prf: craftOIDHMACSHA1}
	}
	tooMuch := pfxFile(t, macSpec{kind: macPBMAC1, kdf: sha1KDF(64), digest: make([]byte, 32)},
		encryptedSafe(t, pbes2(t, sha1KDF(0), make([]byte, 16)), make([]byte, 32)),
		dataSafe(t, shroudedKeyBag(t, pbes1(t, []byte("s"), false, atCap), make([]byte, 32))))

	for _, tc := range []struct {
		name, password string
		data           []byte
		want           string
	}{
		{"PBMAC1 2^31-1 iterations, context-tagged salt", testPassword, tinyPBMAC1(t, big.NewInt(1<<31-1), true), iterationsMsg("2147483647")},
		{"PBMAC1 2^31-1 iterations", testPassword, tinyPBMAC1(t, big.NewInt(1<<31-1), false), iterationsMsg("2147483647")},
		{"PBMAC1 2^200 iterations", testPassword, tinyPBMAC1(t, new(big.Int).Lsh(big.NewInt(1), 200), false), iterationsMsg("over 2^200")},
		{"no MAC, PBES2 encryptedData", testPassword, spot(atPBES2Safe, testPassword, false, 0), iterationsMsg("50000000")},
		{"no MAC, PBES1 encryptedData", testPassword, spot(atPBES1Safe, testPassword, false, 0), iterationsMsg("50000000")},
		{"no MAC, PBES2 shrouded key bag", testPassword, spot(atKeyBagPBES2, testPassword, false, 0), iterationsMsg("50000000")},
		{"no MAC, PBES1 shrouded key bag, empty password", "", spot(atKeyBagPBES1, "", false, 0), iterationsMsg("50000000")},
		{"no MAC, PBES2 encryptedData, context-tagged salt", testPassword, contextTagged(atPBES2Safe), iterationsMsg("50000000")},
		{"no MAC, PBES2 shrouded key bag, context-tagged salt", testPassword, contextTagged(atKeyBagPBES2), iterationsMsg("50000000")},
		{"MAC past 25,000 ASN.1 elements", testPassword, spot(atMAC, testPassword, false, 25_000), iterationsMsg("50000000")},
		{"key bag past 25,000 ASN.1 elements", testPassword, spot(atKeyBagPBES2, testPassword, true, 25_000), iterationsMsg("50000000")},
		{"each count allowed, too much together", testPassword, tooMuch,
			"key derivation would take 18000000 iterations in all, more than the 16000000 accepted; re-export the file with the defaults"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			_, b, err := decodePFX(t.Context(), tc.data, tc.password)
			took := time.Since(start)
			assertErr(t, err, ErrFormat, tc.want)
			if b.Spent() != 0 {
				t.Errorf("derived %d iterations before refusing", b.Spent())
			}
			t.Logf("%d bytes refused in %v", len(tc.data), took)
		})
	}
	t.Run("context-tagged salt with a small count is unsupported", func(t *testing.T) {
		_, b, err := decodePFX(t.Context(), tinyPBMAC1(t, big.NewInt(2048), true), testPassword)
		assertErr(t, err, ErrFormat, "unsupported PKCS#12 encoding (only octet string salts are supported for PBMAC1/pbkdf2); re-export it with OpenSSL's defaults: openssl pkcs12 -in OLD.pfx -nodes | openssl pkcs12 -export -out NEW.pfx")
		if b.Spent() != 0 {
			t.Errorf("derived %d iterations before refusing", b.Spent())
		}
	})
}

// A count hidden inside encrypted content is met only once the content is decrypted
// (with the right password, or with none when the file has no MAC): the decoder does
// the MAC and that decryption (small counts), and refuses the key bag before deriving
// its key.
func TestNestedKeyBagRefusedAfterOuterDerivationOnly(t *testing.T) {
	leaf := goCert(t, "nested", &ecKey(t).PublicKey, ecKey(t), nil, time.Now(), time.Now().Add(time.Hour), false).Raw
	for _, tc := range []struct {
		name     string
		mac      bool
		password string
	}{
		{"MAC and password", true, testPassword},
		{"no MAC, no password", false, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := craftSpec{where: atNested, count: big.NewInt(overCap), mac: tc.mac, password: tc.password, certDER: leaf}
			start := time.Now()
			_, b, err := decodePFX(t.Context(), craft(t, spec), tc.password)
			took := time.Since(start)
			assertErr(t, err, ErrFormat, iterationsMsg("50000000"))
			if want := spec.legitWork(); b.Spent() != want {
				t.Errorf("derived %d iterations, want exactly %d (the MAC and the outer encryptedData)", b.Spent(), want)
			}
			t.Logf("refused in %v after %d iterations", took, b.Spent())

			// The same file with a count within the cap gets as far as the (junk) key.
			spec.count = big.NewInt(smallCount)
			_, b, err = decodePFX(t.Context(), craft(t, spec), tc.password)
			if err == nil || errors.Is(err, ErrFormat) && strings.Contains(err.Error(), "iterations") {
				t.Fatalf("got %v, want a failure past the key derivation", err)
			}
			if want := spec.legitWork() + smallCount; b.Spent() != want {
				t.Errorf("derived %d iterations, want %d", b.Spent(), want)
			}
		})
	}
}

// TestDecodeStopsAtDeadline: a file within every bound can still take seconds; the
// decode gives up when its context does, with an error that says so.
func TestDecodeStopsAtDeadline(t *testing.T) {
	key := sharedKey(t)
	leaf := goCert(t, "slow", &key.PublicKey, key, nil, time.Now(), time.Now().Add(time.Hour), false)
	keyDER := pkcs8DER(t, key)

	// The builder itself, checked on a cheap count: the file decodes.
	c, err := ParsePFX(t.Context(), slowPFX(t, 1000, testPassword, leaf.Raw, keyDER), testPassword)
	if err != nil || !sameKey(c, key) || !c.Leaf.Equal(leaf) {
		t.Fatalf("slowPFX does not build a genuine file: %v", err)
	}

	// A quarter of the cap: building the file costs the same derivations, and a second
	// of work is already five times the deadline.
	const count = maxIterations / 4
	data := slowPFX(t, count, testPassword, leaf.Raw, keyDER)
	const planned = 4 * count // four derivations of one block each, about 1 s of work
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, b, err := decodePFX(ctx, data, testPassword)
	took := time.Since(start)
	assertErr(t, err, context.DeadlineExceeded, "the certificate could not be decoded within the timeout; raise --timeout, or re-export the file with the defaults")
	if took > 2*time.Second {
		t.Errorf("returned after %v; the deadline was 200ms", took)
	}
	if b.Spent() >= planned/2 {
		t.Errorf("derived %d of %d iterations: the deadline should have stopped it early", b.Spent(), planned)
	}
	t.Logf("stopped after %v, %d of %d iterations", took, b.Spent(), planned)

	// Load names the file.
	path := writeFile(t, tempPath(t, "slow.pfx"), data)
	ctx, cancel = context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	_, err = Load(ctx, path, testPassword)
	assertErr(t, err, context.DeadlineExceeded, "certificate "+path+" could not be decoded within the timeout; raise --timeout, or re-export the file with the defaults")

	// A context already over is reported as such, whatever the file.
	done, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = Load(done, path, testPassword)
	assertErr(t, err, context.Canceled, "decoding certificate "+path+" was cancelled")
}

// The work a real file is charged is what it asks for: OpenSSL's files are accounted
// exactly, and one at the cap itself is read.
func TestWorkAccountingOnRealFiles(t *testing.T) {
	v := newVectors(t)
	for _, tc := range []struct {
		extra []string
		work  int64
	}{
		// MAC (SHA-256), certificates and key (PBES2, PBKDF2-HMAC-SHA-256, AES-256): one block each.
		{nil, 3 * 2048},
		{[]string{"-iter", "10000"}, 3 * 10000},
		// MAC (SHA-1, 1 block), RC2-40 (key 1, IV 1), 3DES (key 2, IV 1).
		{[]string{"-legacy"}, 6 * 2048},
		// -certpbe NONE leaves the count only in the key bag.
		{[]string{"-certpbe", "NONE", "-iter", "10000"}, 2 * 10000},
	} {
		args := append([]string{"pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-out", "f.pfx", "-passout", "pass:x"}, tc.extra...)
		v.run(t, args...)
		c, b, err := decodePFX(t.Context(), readFile(t, v.path("f.pfx")), "x")
		if err != nil || !sameKey(c, sharedKey(t)) {
			t.Fatalf("%v: %v", tc.extra, err)
		}
		if b.Spent() != tc.work {
			t.Errorf("%v: spent %d, want %d", tc.extra, b.Spent(), tc.work)
		}
	}
	if testing.Short() {
		return
	}
	// Exactly at the cap: allowed (about a second for openssl and for us).
	v.run(t, "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-out", "cap.pfx", "-passout", "pass:x", "-iter", "2000000")
	start := time.Now()
	c, b, err := decodePFX(t.Context(), readFile(t, v.path("cap.pfx")), "x")
	if err != nil || !sameKey(c, sharedKey(t)) {
		t.Fatalf("-iter 2000000: %v", err)
	}
	if b.Spent() != 3*maxIterations {
		t.Errorf("-iter 2000000: spent %d", b.Spent())
	}
	t.Logf("-iter 2000000 decoded in %v", time.Since(start))
}
