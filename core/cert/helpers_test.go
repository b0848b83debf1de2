package cert

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The password of every generated vector and a wrong one. Both are distinctive so a
// leak into an error message cannot go unnoticed.
const (
	testPassword  = "Tr0ub4dor&3-horse"
	wrongPassword = "nOt-The-Pa55word"
)

// testKey is the one RSA key the tests share: key generation is the slow part on a
// 2-core machine, and nothing here depends on keys being distinct.
var testKey = sync.OnceValues(func() (*rsa.PrivateKey, error) {
	return rsa.GenerateKey(rand.Reader, 2048)
})

func sharedKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := testKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// needOpenSSL skips when there is no OpenSSL 3 to make vectors with (LibreSSL and 1.x
// lack -legacy, -macalg defaults and the PBES2 defaults the vectors are about).
func needOpenSSL(t testing.TB) {
	t.Helper()
	path, err := exec.LookPath("openssl")
	if err != nil {
		t.Skip("openssl binary not found; the interop vectors need it")
	}
	out, err := exec.Command(path, "version").Output()
	if err != nil || !strings.HasPrefix(string(out), "OpenSSL 3.") {
		t.Skipf("need OpenSSL 3.x to generate the vectors, found %q", strings.TrimSpace(string(out)))
	}
}

// openssl runs the openssl binary in dir and fails the test with its output on error.
func openssl(t testing.TB, dir string, args ...string) []byte {
	t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "OPENSSL_CONF=/dev/null") // no site config changing defaults
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// opensslFingerprint returns openssl's view of a certificate's fingerprint in the form
// ThumbprintSHA1/256 use.
func opensslFingerprint(t testing.TB, dir, certFile, alg string, der bool) string {
	t.Helper()
	args := []string{"x509", "-in", certFile, "-noout", "-fingerprint", "-" + alg}
	if der {
		args = append(args, "-inform", "DER")
	}
	out := strings.TrimSpace(string(openssl(t, dir, args...)))
	_, fp, ok := strings.Cut(out, "=")
	if !ok {
		t.Fatalf("unexpected fingerprint output %q", out)
	}
	return strings.ReplaceAll(fp, ":", "")
}

func writeFile(t testing.TB, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func pkcs8PEM(t testing.TB, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

// goCert signs a certificate for pub with Go's x509 (openssl 3.0 cannot set arbitrary
// past dates). A nil parent makes it self-signed.
func goCert(t testing.TB, cn string, pub crypto.PublicKey, signer crypto.Signer, parent *x509.Certificate, notBefore, notAfter time.Time, isCA bool) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  isCA,
	}
	if isCA {
		tmpl.KeyUsage |= x509.KeyUsageCertSign
	}
	if parent == nil {
		parent = tmpl
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func ecKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// assertErr checks sentinel and exact text, and that no password leaked into the text.
func assertErr(t testing.TB, err, sentinel error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %q", want)
	}
	if !errors.Is(err, sentinel) {
		t.Errorf("error %q does not wrap %v", err, sentinel)
	}
	if want != "" && err.Error() != want {
		t.Errorf("error text\n got: %s\nwant: %s", err, want)
	}
	assertNoSecret(t, err)
}

func assertNoSecret(t testing.TB, err error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, pw := range []string{testPassword, wrongPassword} {
		if strings.Contains(err.Error(), pw) {
			t.Errorf("error text contains a password: %q", err)
		}
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error text is not one line: %q", err)
	}
}

// sameKey reports whether the credential's key is the given RSA key.
func sameKey(c *Credential, k *rsa.PrivateKey) bool {
	rk, ok := c.Key.(*rsa.PrivateKey)
	return ok && rk.Equal(k)
}

func tempPath(t testing.TB, name string) string {
	return filepath.Join(t.TempDir(), name)
}
