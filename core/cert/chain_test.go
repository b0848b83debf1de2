package cert

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	mrand "math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	upstream "software.sslmate.com/src/go-pkcs12"
)

// SPEC §12: a PEM or PFX holds at most 100 certificates, and chain assembly is linear.

// serialVariants returns n distinct certificates' DER (no two deduplicate), made by
// rewriting the serial number of one self-signed certificate: the signatures no longer
// verify, which nothing here checks, and it takes no signing per certificate.
func serialVariants(t testing.TB, n int) [][]byte {
	t.Helper()
	k := ecKey(t)
	const marker = 0x0102030405060708
	tmpl := &x509.Certificate{
		SerialNumber: new(big.Int).SetUint64(marker),
		Subject:      pkix.Name{CommonName: "x"},
		NotBefore:    time.Now(), NotAfter: time.Now().Add(time.Hour),
	}
	base, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	var pattern [10]byte
	pattern[0], pattern[1] = 0x02, 0x08 // INTEGER, 8 bytes
	binary.BigEndian.PutUint64(pattern[2:], marker)
	at := bytes.Index(base, pattern[:])
	if at < 0 || bytes.Count(base, pattern[:]) != 1 {
		t.Fatal("serial number not found exactly once in the certificate")
	}
	out := make([][]byte, n)
	for i := range out {
		d := bytes.Clone(base)
		binary.BigEndian.PutUint64(d[at+2:], 1<<56|uint64(i)) // positive, minimally encoded
		out[i] = d
	}
	return out
}

func pemCerts(ders [][]byte) []byte {
	var buf bytes.Buffer
	for _, d := range ders {
		pem.Encode(&buf, &pem.Block{Type: "CERTIFICATE", Bytes: d})
	}
	return buf.Bytes()
}

func pkcs8DER(t testing.TB, key any) []byte {
	t.Helper()
	d, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func certsMsg(path string, n int) string {
	return fmt.Sprintf("%sthe file holds %d certificates, more than the 100 accepted; keep only the certificate and the CAs that issued it", prefix(path), n)
}

func TestCertificateLimit(t *testing.T) {
	key := sharedKey(t)
	leaf := goCert(t, "leaf", &key.PublicKey, key, nil, time.Now(), time.Now().Add(time.Hour), false)

	t.Run("32,000-certificate PEM", func(t *testing.T) {
		data := append(append(pemCerts(serialVariants(t, 32_000)), EncodeCER(leaf, false)...), pkcs8PEM(t, key)...)
		path := writeFile(t, tempPath(t, "many.pem"), data)
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		start := time.Now()
		_, err := Load(t.Context(), path, "")
		took := time.Since(start)
		runtime.ReadMemStats(&after)
		assertErr(t, err, ErrFormat, certsMsg(path, 32_001))
		if took > 10*time.Second { // the quadratic assembly took 39 s; this is generous
			t.Errorf("took %v to refuse", took)
		}
		t.Logf("%d bytes refused in %v, %d MB allocated", len(data), took, (after.TotalAlloc-before.TotalAlloc)>>20)
	})
	t.Run("101 certificates in PEM", func(t *testing.T) {
		data := append(append(pemCerts(serialVariants(t, 100)), EncodeCER(leaf, false)...), pkcs8PEM(t, key)...)
		_, err := ParsePEM(t.Context(), data, "")
		assertErr(t, err, ErrFormat, certsMsg("", 101))
	})
	cas := make([]*x509.Certificate, 100)
	for i, d := range serialVariants(t, 100) {
		c, err := x509.ParseCertificate(d)
		if err != nil {
			t.Fatal(err)
		}
		cas[i] = c
	}
	t.Run("101 certificates in PFX, in clear", func(t *testing.T) {
		data, err := upstream.Passwordless.Encode(key, leaf, cas, "")
		if err != nil {
			t.Fatal(err)
		}
		_, b, err := decodePFX(t.Context(), data, "")
		assertErr(t, err, ErrFormat, certsMsg("", 101))
		if b.Spent() != 0 {
			t.Errorf("derived %d iterations before refusing", b.Spent())
		}
	})
	t.Run("101 certificates in PFX, encrypted", func(t *testing.T) {
		data, err := upstream.Modern2023.WithIterations(1).Encode(key, leaf, cas, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		_, b, err := decodePFX(t.Context(), data, testPassword)
		assertErr(t, err, ErrFormat, certsMsg("", 101))
		// The MAC and the certificates' encryptedData, not the key.
		if b.Spent() != 2 {
			t.Errorf("spent %d", b.Spent())
		}
	})
}

// chainOf100 is a leaf for key and 99 CAs, the leaf issued by CA 00, each CA by the
// next, CA 98 self-signed.
func chainOf100(t testing.TB, key crypto.Signer) []*x509.Certificate {
	caKey := ecKey(t)
	now := time.Now()
	cas := make([]*x509.Certificate, 99)
	for i := len(cas) - 1; i >= 0; i-- {
		var parent *x509.Certificate
		if i < len(cas)-1 {
			parent = cas[i+1]
		}
		cas[i] = goCert(t, fmt.Sprintf("CA %02d", i), &caKey.PublicKey, caKey, parent, now, now.Add(time.Hour), true)
	}
	leaf := goCert(t, "leaf", key.Public(), caKey, cas[0], now, now.Add(time.Hour), false)
	return append([]*x509.Certificate{leaf}, cas...)
}

func TestHundredCertificateChainAssembles(t *testing.T) {
	key := sharedKey(t)
	chain := chainOf100(t, key)
	shuffled := slices.Clone(chain)
	rng := mrand.New(mrand.NewPCG(1, 2))
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	if shuffled[0] == chain[0] {
		shuffled[0], shuffled[50] = shuffled[50], shuffled[0]
	}
	check := func(t *testing.T, c *Credential, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Chain) != len(chain) {
			t.Fatalf("chain of %d, want %d", len(c.Chain), len(chain))
		}
		for i := range chain {
			if !c.Chain[i].Equal(chain[i]) {
				t.Fatalf("chain[%d] is %s, want %s", i, c.Chain[i].Subject.CommonName, chain[i].Subject.CommonName)
			}
		}
	}
	t.Run("PEM", func(t *testing.T) {
		var data []byte
		for _, c := range shuffled {
			data = append(data, EncodeCER(c, false)...)
		}
		data = append(data, pkcs8PEM(t, key)...)
		c, err := ParsePEM(t.Context(), data, "")
		check(t, c, err)
	})
	t.Run("PFX", func(t *testing.T) {
		data, err := upstream.Modern2023.WithIterations(1).Encode(key, shuffled[0], shuffled[1:], testPassword)
		if err != nil {
			t.Fatal(err)
		}
		c, err := ParsePFX(t.Context(), data, testPassword)
		check(t, c, err)
	})
}

// assembleQuadratic is assemble as it was before it was made linear: the reference
// the new one must agree with.
func assembleQuadratic(signer crypto.Signer, certs []*x509.Certificate) []*x509.Certificate {
	pub := signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	var uniq []*x509.Certificate
	for _, c := range certs {
		dup := false
		for _, u := range uniq {
			if bytes.Equal(u.Raw, c.Raw) {
				dup = true
				break
			}
		}
		if !dup {
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
		return nil
	}
	used := make([]bool, len(uniq))
	used[leaf] = true
	chain := []*x509.Certificate{uniq[leaf]}
	for cur := uniq[leaf]; !bytes.Equal(cur.RawIssuer, cur.RawSubject); {
		next := -1
		for i, c := range uniq {
			if !used[i] && bytes.Equal(c.RawSubject, cur.RawIssuer) {
				next = i
				break
			}
		}
		if next < 0 {
			break
		}
		used[next] = true
		chain = append(chain, uniq[next])
		cur = uniq[next]
	}
	for i, c := range uniq {
		if !used[i] {
			chain = append(chain, c)
		}
	}
	return chain
}

// stubCert is what assemble looks at, without DER behind it.
func stubCert(raw, subject, issuer string, pub crypto.PublicKey) *x509.Certificate {
	return &x509.Certificate{Raw: []byte(raw), RawSubject: []byte(subject), RawIssuer: []byte(issuer), PublicKey: pub}
}

// Random small sets with clashing subjects, cycles, duplicates and several
// certificates for the key: the linear assemble orders them as the quadratic one did.
func TestAssembleMatchesReference(t *testing.T) {
	key := sharedKey(t)
	rng := mrand.New(mrand.NewPCG(3, 4))
	names := []string{"A", "B", "C", "D", "E"}
	for round := range 5000 {
		n := 1 + rng.IntN(12)
		certs := make([]*x509.Certificate, n)
		for i := range certs {
			var pub crypto.PublicKey
			if rng.IntN(4) == 0 {
				pub = key.Public()
			}
			certs[i] = stubCert(fmt.Sprint("raw", rng.IntN(n+3)), names[rng.IntN(len(names))], names[rng.IntN(len(names))], pub)
		}
		want := assembleQuadratic(key, certs)
		c, err := assemble(key, certs, "")
		if want == nil {
			if !errors.Is(err, ErrKeyMismatch) {
				t.Fatalf("round %d: got %v, want a key mismatch", round, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if !slices.Equal(c.Chain, want) {
			t.Fatalf("round %d: chains differ", round)
		}
	}
}

// stubChain is n certificates forming one chain, shuffled: the order the quadratic
// assembly was slowest on.
func stubChain(key crypto.Signer, n int) []*x509.Certificate {
	certs := make([]*x509.Certificate, n)
	for i := range certs {
		issuer := fmt.Sprint("subject ", i+1)
		if i == n-1 {
			issuer = fmt.Sprint("subject ", i)
		}
		var pub crypto.PublicKey
		if i == 0 {
			pub = key.Public()
		}
		certs[i] = stubCert(fmt.Sprint("raw ", i), fmt.Sprint("subject ", i), issuer, pub)
	}
	rng := mrand.New(mrand.NewPCG(5, 6))
	rng.Shuffle(n, func(i, j int) { certs[i], certs[j] = certs[j], certs[i] })
	return certs
}

// BenchmarkAssemble shows the time per certificate staying flat as the chain grows
// (the quadratic version took 39 s for 32,000).
func BenchmarkAssemble(b *testing.B) {
	key := sharedKey(b)
	for _, n := range []int{100, 1000, 10_000, 32_000} {
		certs := stubChain(key, n)
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := assemble(key, certs, ""); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/cert")
		})
	}
}
