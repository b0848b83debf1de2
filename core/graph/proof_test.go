package graph

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

// The proof is exactly the JWT Graph documents (and the emulator checks): RS256 over
// header and claims in this order, base64url without padding, valid for 10 minutes.
func TestNewProofExactHeaderAndClaims(t *testing.T) {
	p := pairs(t)[0]
	now := time.Date(2026, 12, 3, 10, 0, 0, 500_000_000, time.UTC)
	proof, err := NewProof(p.key, p.cert, testObjectID, now)
	if err != nil {
		t.Fatal(err)
	}
	if strings.ContainsAny(proof, "=+/ \n") {
		t.Fatalf("not base64url without padding: %q", proof)
	}
	parts := strings.Split(proof, ".")
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	dec := func(s string) []byte {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			t.Fatalf("%q: %v", s, err)
		}
		return b
	}
	sum := sha1.Sum(p.cert.Raw)
	wantHeader := `{"alg":"RS256","typ":"JWT","x5t":"` + base64.RawURLEncoding.EncodeToString(sum[:]) + `"}`
	if got := string(dec(parts[0])); got != wantHeader {
		t.Fatalf("header %s\nwant   %s", got, wantHeader)
	}
	nbf := now.Unix()
	wantClaims := fmt.Sprintf(`{"aud":"00000002-0000-0000-c000-000000000000","iss":%q,"nbf":%d,"exp":%d}`, testObjectID, nbf, nbf+600)
	if got := string(dec(parts[1])); got != wantClaims {
		t.Fatalf("claims %s\nwant   %s", got, wantClaims)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(p.cert.PublicKey.(*rsa.PublicKey), crypto.SHA256, digest[:], dec(parts[2])); err != nil {
		t.Fatalf("signature does not verify with the certificate's key: %v", err)
	}
	if ProofAudience != "00000002-0000-0000-c000-000000000000" || ProofLifetime != 10*time.Minute {
		t.Fatal("constants changed")
	}
}

// opaqueSigner is a key-store plugin's signer: not an *rsa.PrivateKey. sign replaces
// what it does.
type opaqueSigner struct {
	pub  crypto.PublicKey
	sign func(digest []byte, opts crypto.SignerOpts) ([]byte, error)
}

func (s opaqueSigner) Public() crypto.PublicKey { return s.pub }
func (s opaqueSigner) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	return s.sign(digest, opts)
}

func TestNewProofWithAnyRSASigner(t *testing.T) {
	p := pairs(t)[0]
	var gotOpts crypto.SignerOpts
	s := opaqueSigner{pub: p.key.Public(), sign: func(digest []byte, opts crypto.SignerOpts) ([]byte, error) {
		gotOpts = opts
		return p.key.Sign(rand.Reader, digest, opts)
	}}
	if _, err := NewProof(s, p.cert, testObjectID, time.Now()); err != nil {
		t.Fatal(err)
	}
	// PKCS#1 v1.5 is asked for with a bare hash, not *rsa.PSSOptions.
	if gotOpts != crypto.SHA256 {
		t.Fatalf("signer asked for %#v, want crypto.SHA256 (PKCS#1 v1.5)", gotOpts)
	}
}

func TestNewProofRefuses(t *testing.T) {
	pp := pairs(t)
	p, other := pp[0], pp[1]
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pss := opaqueSigner{pub: p.key.Public(), sign: func(digest []byte, opts crypto.SignerOpts) ([]byte, error) {
		return rsa.SignPSS(rand.Reader, p.key, crypto.SHA256, digest, nil)
	}}
	failing := opaqueSigner{pub: p.key.Public(), sign: func([]byte, crypto.SignerOpts) ([]byte, error) {
		return nil, fmt.Errorf("plugin exited")
	}}
	for _, c := range []struct {
		name     string
		key      crypto.Signer
		cert     any
		objectID string
		want     string
	}{
		{"another certificate's key", other.key, p.cert, testObjectID, "does not belong to the certificate"},
		{"not RSA", ec, p.cert, testObjectID, "RSA"},
		{"no key", nil, p.cert, testObjectID, "no key"},
		{"no certificate", p.key, nil, testObjectID, "no certificate"},
		{"client id shape but not a GUID", p.key, p.cert, "app-123", "not a GUID"},
		{"path in object id", p.key, p.cert, testObjectID + "/../x", "not a GUID"},
		{"PSS signer", pss, p.cert, testObjectID, "does not verify"},
		{"failing signer", failing, p.cert, testObjectID, "plugin exited"},
	} {
		cert := p.cert
		if c.cert == nil {
			cert = nil
		}
		_, err := NewProof(c.key, cert, c.objectID, time.Now())
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error saying %q", c.name, err, c.want)
		}
	}
}
