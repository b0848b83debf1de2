package cert

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"software.sslmate.com/src/go-pkcs12"
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
	for _, enc := range []*pkcs12.Encoder{pkcs12.Modern2023, pkcs12.Modern2026, pkcs12.LegacyDES, pkcs12.LegacyRC2} {
		data, err := enc.WithIterations(1).Encode(key, leaf, []*x509.Certificate{ca}, testPassword)
		if err != nil {
			f.Fatal(err)
		}
		pfx = append(pfx, data)
	}
	data, err := pkcs12.Passwordless.Encode(key, leaf, nil, "")
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
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		c, err := ParsePFX(data, password)
		checkFuzzResult(t, c, err)
	})
}

func FuzzParsePEM(f *testing.F) {
	_, pems := fuzzSeeds(f)
	for _, d := range pems {
		f.Add(d, testPassword)
	}
	f.Fuzz(func(t *testing.T, data []byte, password string) {
		c, err := ParsePEM(data, password)
		checkFuzzResult(t, c, err)
	})
}
