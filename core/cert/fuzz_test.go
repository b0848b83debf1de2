package cert

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"math/big"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert/internal/pkcs12"
	upstream "software.sslmate.com/src/go-pkcs12"
)

// fuzzSeeds builds valid inputs from Go alone, plus openssl-made ones when openssl is
// there, so the fuzzer starts from every structure the parsers accept.
//
// The seeds use a 1024-bit key, the smallest Load accepts: the fuzzing engine minimises
// every new input by re-running it thousands of times, and RSA key validation dominates
// each run, so a smaller key means far more of the 10 s budget goes to mutation.
func fuzzSeeds(f *testing.F) (pfx [][]byte, pems [][]byte) {
	key, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		f.Fatal(err)
	}
	now := time.Now()
	ca := goCert(f, "CA", &key.PublicKey, key, nil, now, now.Add(time.Hour), true)
	leaf := goCert(f, "leaf", &key.PublicKey, key, ca, now, now.Add(time.Hour), false)
	for _, enc := range []*upstream.Encoder{upstream.Modern2023, upstream.Modern2026, upstream.LegacyDES, upstream.LegacyRC2} {
		data, err := enc.WithIterations(1).Encode(key, leaf, []*x509.Certificate{ca}, testPassword)
		if err != nil {
			f.Fatal(err)
		}
		pfx = append(pfx, data)
	}
	data, err := upstream.Passwordless.Encode(key, leaf, nil, "")
	if err != nil {
		f.Fatal(err)
	}
	pfx = append(pfx, data)

	certPEM := EncodeCER(leaf, false)
	pems = append(pems,
		append(append([]byte{}, certPEM...), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})...),
		append(append(pkcs8PEM(f, key), certPEM...), EncodeCER(ca, false)...),
	)

	if _, err := exec.LookPath("openssl"); err == nil {
		dir := f.TempDir()
		writeFile(f, filepath.Join(dir, "key.pem"), pkcs8PEM(f, key))
		writeFile(f, filepath.Join(dir, "cert.pem"), certPEM)
		openssl(f, dir, "pkcs8", "-topk8", "-v2", "aes-256-cbc", "-iter", "1", "-in", "key.pem", "-out", "enc.pem", "-passout", "pass:"+testPassword)
		pems = append(pems, append(append([]byte{}, certPEM...), readFile(f, filepath.Join(dir, "enc.pem"))...))
		openssl(f, dir, "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-out", "o.pfx", "-passout", "pass:"+testPassword, "-iter", "1")
		openssl(f, dir, "pkcs12", "-export", "-legacy", "-in", "cert.pem", "-inkey", "key.pem", "-out", "l.pfx", "-passout", "pass:"+testPassword, "-iter", "1")
		pfx = append(pfx, readFile(f, filepath.Join(dir, "o.pfx")), readFile(f, filepath.Join(dir, "l.pfx")))
	}
	return pfx, pems
}

func checkFuzzResult(t *testing.T, c *Credential, err error) {
	if err != nil {
		assertNoSecret(t, err)
		return
	}
	if c.Leaf == nil || c.Key == nil || len(c.Chain) == 0 || c.Chain[0] != c.Leaf {
		t.Fatalf("success with an incomplete credential: %+v", c)
	}
}

func FuzzParsePFX(f *testing.F) {
	pfx, _ := fuzzSeeds(f)
	for _, d := range pfx {
		f.Add(d, testPassword)
		f.Add(d, "")
	}
	// Crafted structures too, so mutation starts from every place a count sits.
	leaf := goCert(f, "seed", &ecKey(f).PublicKey, ecKey(f), nil, time.Now(), time.Now().Add(time.Hour), false).Raw
	for where := range numSpots {
		for _, n := range []int64{smallCount, overCap} {
			f.Add(craft(f, craftSpec{where: where, count: big.NewInt(n), mac: true, password: testPassword, certDER: leaf}), testPassword)
		}
	}
	f.Add(tinyPBMAC1(f, big.NewInt(1<<31-1), true), testPassword)
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		// A mutated count may stay within the cap and still take seconds: the deadline
		// is the bound then, as --timeout is for a user.
		ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
		defer cancel()
		c, b, err := decodePFX(ctx, data, password)
		checkFuzzResult(t, c, err)
		if b.Spent() > maxKDFWork {
			t.Fatalf("derived %d iterations, over the %d budget", b.Spent(), maxKDFWork)
		}
	})
}

// FuzzPKCS12WorkBound puts a fuzzed iteration count in each place a PKCS#12 file holds
// one (MAC, PBMAC1, PBES1 or PBES2 encryptedData, shrouded key bag in clear or inside
// an encryptedData), with the salt tagged either way, with or without a MAC and
// padding. A count over the cap, or below 1, must be refused having derived nothing
// beyond the genuine parts in front of it (counted on the budget, not timed).
func FuzzPKCS12WorkBound(f *testing.F) {
	k := ecKey(f)
	leaf := goCert(f, "fuzz", &k.PublicKey, k, nil, time.Now(), time.Now().Add(time.Hour), false).Raw
	for where := range uint8(numSpots) {
		f.Add(uint64(overCap), uint8(0), where, false, true, false, uint16(0))
		f.Add(uint64(1<<31-1), uint8(0), where, true, false, true, uint16(0))
		f.Add(uint64(maxIterations+1), uint8(0), where, false, false, false, uint16(25_000))
		f.Add(uint64(maxIterations), uint8(0), where, false, true, false, uint16(0))
		f.Add(uint64(7), uint8(1), where, true, true, true, uint16(0))
		f.Add(uint64(7), uint8(2), where, false, true, false, uint16(0))
		f.Add(uint64(0), uint8(3), where, false, true, false, uint16(0))
	}
	f.Fuzz(func(t *testing.T, n uint64, form, where uint8, contextTag, mac, emptyPassword bool, padding uint16) {
		count := new(big.Int).SetUint64(n)
		switch form % 4 {
		case 1:
			count.Neg(count)
		case 2:
			count.Lsh(count, 64) // past int64
		case 3:
			count.SetUint64(n % 4) // 0 and the smallest
		}
		refuse := count.Sign() <= 0 || count.Cmp(big.NewInt(maxIterations)) > 0
		if !refuse {
			// Within the cap: a fuzz input cannot afford 2,000,000 iterations, and what
			// is checked of these is only the accounting.
			count.SetUint64(1 + n%64)
		}
		password := testPassword
		if emptyPassword {
			password = ""
		}
		spec := craftSpec{
			where: int(where % numSpots), count: count, contextTag: contextTag, mac: mac,
			password: password, padding: int(padding % 30_000), certDER: leaf,
		}
		data := craft(t, spec)

		start := time.Now()
		c, b, err := decodePFX(t.Context(), data, password)
		took := time.Since(start)
		checkFuzzResult(t, c, err)
		// The budget's count is the real check; wall time on a shared machine also
		// measures the neighbours, so a slow run is retried and the fastest one kept.
		for retry := 0; retry < 3 && took > 100*time.Millisecond; retry++ {
			start = time.Now()
			decodePFX(t.Context(), data, password)
			took = min(took, time.Since(start))
		}
		if refuse {
			if err == nil {
				t.Fatalf("count %v in the %s was accepted", pkcs12.FormatCount(count), spotNames[spec.where])
			}
			if b.Spent() > spec.legitWork() {
				t.Fatalf("count %v in the %s: derived %d iterations before refusing, more than the %d of the genuine parts (%v)",
					pkcs12.FormatCount(count), spotNames[spec.where], b.Spent(), spec.legitWork(), err)
			}
		} else if limit := spec.legitWork() + 4*count.Int64(); b.Spent() > limit {
			t.Fatalf("count %v in the %s: derived %d iterations, more than %d", count, spotNames[spec.where], b.Spent(), limit)
		}
		if took > 100*time.Millisecond {
			t.Fatalf("count %v in the %s: took %v", pkcs12.FormatCount(count), spotNames[spec.where], took)
		}
	})
}

func FuzzParsePEM(f *testing.F) {
	_, pems := fuzzSeeds(f)
	for _, d := range pems {
		f.Add(d, testPassword)
	}
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		c, err := ParsePEM(t.Context(), data, password)
		checkFuzzResult(t, c, err)
	})
}
