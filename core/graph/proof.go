package graph

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/entratool/entratool/core/termtext"
)

// ProofAudience is the proof JWT's aud: Azure AD Graph's app id, which Graph's
// addKey/removeKey require. Some renderings of Graph's documentation say Microsoft
// Graph's 00000003-…; proofs made that way are refused with 401
// Authentication_MissingOrMalformed (NOTES, "Microsoft Graph key rolling").
const ProofAudience = "00000002-0000-0000-c000-000000000000"

// ProofLifetime is exp − nbf of a proof: Graph refuses proofs that live longer.
const ProofLifetime = 10 * time.Minute

// The header and claims are structs, not maps, so that they are written in the order
// the documentation shows them (and the emulator's tests compare): a map would be
// sorted by key. Graph needs no iat: its documentation lists aud, iss, nbf and exp.
type proofHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	X5t string `json:"x5t"`
}

type proofClaims struct {
	Aud string `json:"aud"`
	Iss string `json:"iss"`
	Nbf int64  `json:"nbf"`
	Exp int64  `json:"exp"`
}

// NewProof builds the proof of possession addKey and removeKey ask for: a JWT signed
// RS256 (PKCS#1 v1.5, SHA-256) by key, the private key of cert, a certificate the app
// has registered; header {"alg":"RS256","typ":"JWT","x5t":<base64url SHA-1 of cert>},
// claims {"aud":ProofAudience,"iss":objectID,"nbf":now,"exp":now+10min}, every part
// base64url without padding. key is an *rsa.PrivateKey or any RSA crypto.Signer (a
// key-store plugin's); the signature is checked against cert, because Graph's answer
// to a proof signed by another key is an opaque 401.
func NewProof(key crypto.Signer, cert *x509.Certificate, objectID string, now time.Time) (string, error) {
	if key == nil {
		return "", errors.New("proof of possession: no key to sign with")
	}
	if cert == nil {
		return "", errors.New("proof of possession: no certificate")
	}
	if err := checkObjectID(objectID); err != nil {
		return "", err
	}
	pub, ok := key.Public().(*rsa.PublicKey)
	if !ok {
		return "", fmt.Errorf("proof of possession: the key is %T, but Graph takes RS256 proofs: an RSA key is needed", key.Public())
	}
	if !pub.Equal(cert.PublicKey) {
		return "", fmt.Errorf("proof of possession: the key does not belong to the certificate %s (thumbprint %X)", termtext.Escape(cert.Subject.String()), sha1.Sum(cert.Raw))
	}
	sum := sha1.Sum(cert.Raw)
	h, err := json.Marshal(proofHeader{Alg: "RS256", Typ: "JWT", X5t: base64.RawURLEncoding.EncodeToString(sum[:])})
	if err != nil {
		return "", fmt.Errorf("proof of possession: %w", err)
	}
	nbf := now.Unix()
	c, err := json.Marshal(proofClaims{Aud: ProofAudience, Iss: objectID, Nbf: nbf, Exp: nbf + int64(ProofLifetime/time.Second)})
	if err != nil {
		return "", fmt.Errorf("proof of possession: %w", err)
	}
	signingInput := base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c)
	digest := sha256.Sum256([]byte(signingInput))
	// A bare crypto.Hash (not *rsa.PSSOptions) asks a crypto.Signer for PKCS#1 v1.5.
	sig, err := key.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		return "", fmt.Errorf("proof of possession: signing with the key of %s: %w", termtext.Escape(cert.Subject.String()), err)
	}
	// A signer that answers with PSS, or with another key, would earn Graph's opaque
	// 401: say what is wrong here.
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		return "", fmt.Errorf("proof of possession: the key's RS256 signature does not verify with certificate %s (a key store that signs only with PSS cannot make Graph proofs)", termtext.Escape(cert.Subject.String()))
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}
