package pkcs12

import (
	"bytes"
	"context"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"hash"
	"math/big"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// roomy is a budget that never refuses, for tests of what is derived rather than
// of the bound.
func roomy(ctx context.Context) *Budget { return NewBudget(ctx, 1<<40, 1<<50) }

func TestPBKDF2MatchesStdlib(t *testing.T) {
	for _, prf := range []func() hash.Hash{sha1.New, sha256.New, sha512.New} {
		for _, iter := range []int{1, 2, ctxCheckInterval - 1, ctxCheckInterval, 3*ctxCheckInterval + 5} {
			for _, keyLen := range []int{1, 20, 32, 33, 64, 100} {
				want, err := pbkdf2.Key(prf, "pässword", []byte("salt"), iter, keyLen)
				if err != nil {
					t.Fatal(err)
				}
				b := roomy(t.Context())
				work := PBKDF2Work(prf, iter, keyLen)
				if err := b.Reserve(work); err != nil {
					t.Fatal(err)
				}
				got, err := b.PBKDF2(prf, []byte("pässword"), []byte("salt"), iter, keyLen)
				if err != nil || !bytes.Equal(got, want) {
					t.Fatalf("iter %d keyLen %d: %x, %v; want %x", iter, keyLen, got, err, want)
				}
				if b.Spent() != work || b.reserved != 0 {
					t.Errorf("iter %d keyLen %d: spent %d reserved %d, want %d and 0", iter, keyLen, b.Spent(), b.reserved, work)
				}
			}
		}
	}
}

// Upstream's vectors for the PKCS#12 KDF.
func TestPKCS12KDF(t *testing.T) {
	derive := func(salt, password []byte, r int, id byte, size int) []byte {
		t.Helper()
		b := roomy(t.Context())
		work := pkcs12KDFWork(20, r, size)
		if err := b.Reserve(work); err != nil {
			t.Fatal(err)
		}
		key, err := b.pbkdf(sha1.New, 20, 64, salt, password, r, id, size)
		if err != nil {
			t.Fatal(err)
		}
		if b.Spent() != work {
			t.Errorf("spent %d, want %d", b.Spent(), work)
		}
		return key
	}
	password, _ := bmpStringZeroTerminated("sesame")
	key := derive([]byte("\xff\xff\xff\xff\xff\xff\xff\xff"), password, 2048, 1, 24)
	if want := []byte("\x7c\xd9\xfd\x3e\x2b\x3b\xe7\x69\x1a\x44\xe3\xbe\xf0\xf9\xea\x0f\xb9\xb8\x97\xd4\xe3\x25\xd9\xd1"); !bytes.Equal(key, want) {
		t.Errorf("long key: %x, want %x", key, want)
	}
	// I_j ends up with a leading zero byte in step 6C.
	key = derive([]byte("\xf3\x7e\x05\xb5\x18\x32\x4b\x4b"), []byte("\x00\x00"), 2048, 1, 24)
	if want := []byte("\x00\xf7\x59\xff\x47\xd1\x4d\xd0\x36\x65\xd5\x94\x3c\xb3\xc4\xa3\x9a\x25\x55\xc0\x2a\xed\x66\xe1"); !bytes.Equal(key, want) {
		t.Errorf("leading zeros: %x, want %x", key, want)
	}
}

func TestBudget(t *testing.T) {
	b := NewBudget(t.Context(), 1000, 5000)
	for _, tc := range []struct {
		n    *big.Int
		ok   bool
		over bool
	}{
		{big.NewInt(1), true, false},
		{big.NewInt(1000), true, false},
		{big.NewInt(1001), false, true},
		{new(big.Int).Lsh(big.NewInt(1), 64), false, true},
		{big.NewInt(0), false, false},
		{big.NewInt(-5), false, false},
		{nil, false, false},
	} {
		n, err := b.CheckCount(tc.n)
		var ie *IterationsError
		switch {
		case tc.ok && (err != nil || int64(n) != tc.n.Int64()):
			t.Errorf("CheckCount(%v) = %d, %v", tc.n, n, err)
		case !tc.ok && err == nil:
			t.Errorf("CheckCount(%v) accepted", tc.n)
		case !tc.ok && errors.As(err, &ie) != tc.over:
			t.Errorf("CheckCount(%v): %v", tc.n, err)
		}
	}

	if err := b.Reserve(3000); err != nil {
		t.Fatal(err)
	}
	var we *WorkError
	if err := b.Reserve(2001); !errors.As(err, &we) || we.Work != 5001 {
		t.Fatalf("Reserve past the total: %v", err)
	}
	// A derivation must have been accounted for; one that was not is refused undone.
	b.release()
	if _, err := b.PBKDF2(sha256.New, nil, nil, 10, 32); !errors.Is(err, errNotReserved) || b.Spent() != 0 {
		t.Fatalf("unreserved PBKDF2: %v, spent %d", err, b.Spent())
	}
	if _, err := b.pbkdf(sha1.New, 20, 64, nil, nil, 10, 1, 20); !errors.Is(err, errNotReserved) || b.Spent() != 0 {
		t.Fatalf("unreserved KDF: %v, spent %d", err, b.Spent())
	}
}

// Derivations stop when their context does, having done about what the time allowed.
func TestDerivationStopsAtDeadline(t *testing.T) {
	const iterations = 1 << 30 // minutes of work
	for name, run := range map[string]func(b *Budget) error{
		"PBKDF2": func(b *Budget) error {
			if err := b.Reserve(PBKDF2Work(sha256.New, iterations, 32)); err != nil {
				return err
			}
			_, err := b.PBKDF2(sha256.New, []byte("pw"), []byte("salt"), iterations, 32)
			return err
		},
		"PKCS#12 KDF": func(b *Budget) error {
			if err := b.Reserve(pkcs12KDFWork(20, iterations, 20)); err != nil {
				return err
			}
			_, err := b.pbkdf(sha1.New, 20, 64, []byte("salt"), []byte("pw"), iterations, 3, 20)
			return err
		},
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			b := roomy(ctx)
			start := time.Now()
			err := run(b)
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("got %v", err)
			}
			if took := time.Since(start); took > 2*time.Second {
				t.Errorf("returned after %v", took)
			}
			if b.Spent() == 0 || b.Spent() >= iterations {
				t.Errorf("spent %d", b.Spent())
			}
		})
	}
}

func loadTestData(t *testing.T, filename string) []byte {
	base64data, err := os.ReadFile(filepath.Join("testdata", filename))
	if err != nil {
		t.Fatalf("failed to load test data: %v", err)
	}
	rawData, err := base64.StdEncoding.DecodeString(string(base64data))
	if err != nil {
		t.Fatalf("failed to decode test data %q: %v", filename, err)
	}
	return rawData
}

// RFC 9579 appendix A, as upstream tests it, through DecodeChain.
func TestRFC9579(t *testing.T) {
	for _, f := range []string{"rfc9579-a1.txt", "rfc9579-a2.txt", "rfc9579-a3.txt"} {
		b := roomy(t.Context())
		key, certs, err := DecodeChain(b, loadTestData(t, f), "1234", 100)
		if err != nil || key == nil || len(certs) != 1 {
			t.Errorf("%s: key %T, %d certs, %v", f, key, len(certs), err)
		}
		if b.Spent() == 0 {
			t.Errorf("%s: no derivation accounted", f)
		}
	}
	for f, want := range map[string]string{
		"rfc9579-a4.txt":              ErrIncorrectPassword.Error(), // bad iteration count
		"rfc9579-a5.txt":              ErrIncorrectPassword.Error(), // incorrect salt
		"rfc9579-a6.txt":              "pkcs12: PBMAC1 requires explicit KeyLength parameter in PBKDF2 parameters",
		"pbmac1-short-key-bypass.txt": "pkcs12: PBMAC1 key length 1 is too short to be secure (minimum 20 octets)",
	} {
		_, _, err := DecodeChain(roomy(t.Context()), loadTestData(t, f), "1234", 100)
		if err == nil || err.Error() != want {
			t.Errorf("%s: got %v, want %s", f, err, want)
		}
	}
}
