package keystore

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/google/uuid"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
)

// assertionLifetime is what MSAL Go gives its own assertions.
const assertionLifetime = 10 * time.Minute

// Credential starts the plugin of p's certificateStore, fetches the certificate
// p.CertificateThumbprint names, refuses it when expired or not RSA, and returns an MSAL
// credential whose assertions the plugin signs, and the certificate (the token pipeline
// remembers its expiry and warns once a day when it is near, SPEC §13). The release
// function stops the plugin; the caller runs it when the token request is done. It
// implements token.KeyStore.
func (h Host) Credential(ctx context.Context, p *profile.Profile, pin string) (confidential.Credential, *x509.Certificate, func(), error) {
	s, err := h.signer(ctx, p, pin)
	if err != nil {
		return confidential.Credential{}, nil, nil, err
	}
	return confidential.NewCredFromAssertionCallback(s.assertion), s.chain[0], s.conn.Close, nil
}

// signer starts the plugin and readies the assertion signer for p's certificate.
func (h Host) signer(ctx context.Context, p *profile.Profile, pin string) (*assertionSigner, error) {
	if p.CertificateThumbprint == "" {
		return nil, fmt.Errorf("profile %q uses key store %q but has no certificateThumbprint: find it with `entratool keystore list --store %s` and set it with `entratool config edit -p %s --thumbprint T`",
			p.Name, p.CertificateStore, p.CertificateStore, p.Name)
	}
	c, err := h.Open(ctx, p.CertificateStore)
	if err != nil {
		return nil, err
	}
	req := RequestFor(p, pin)
	chain, err := c.Certificates(ctx, req, p.CertificateThumbprint)
	if err != nil {
		c.Close()
		return nil, profileHint(err, p)
	}
	leaf := chain[0]
	if err := cert.CheckValidity(leaf, h.now()); err != nil {
		c.Close()
		return nil, err
	}
	pub, ok := leaf.PublicKey.(*rsa.PublicKey)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("%w: certificate %s in key store %q has a %T key; Entra ID client assertions need RSA",
			cert.ErrUnsupportedKey, cert.ThumbprintSHA1(leaf), p.CertificateStore, leaf.PublicKey)
	}
	return &assertionSigner{conn: c, req: req, chain: chain, pub: pub, sendX5C: p.SendX5C, now: h.now, profile: p}, nil
}

// profileHint adds the fix for a refused PIN: where the PIN is kept.
func profileHint(err error, p *profile.Profile) error {
	if err != nil && errors.Is(err, ErrBadPIN) {
		return fmt.Errorf("%w; profile %q keeps the PIN as its certificate password: update it with `entratool config edit -p %s` (Certificate Password), or ENTRATOOL_CERT_PASSWORD with the env store",
			err, p.Name, p.Name)
	}
	return err
}

// assertionSigner builds client assertions the way MSAL Go v1.10.1 does for a
// certificate (accesstokens.Credential.JWT), with the signature made by the plugin.
type assertionSigner struct {
	conn    *Conn
	req     Request
	chain   []*x509.Certificate
	pub     *rsa.PublicKey
	sendX5C bool
	now     func() time.Time
	profile *profile.Profile
}

func (s *assertionSigner) assertion(ctx context.Context, o confidential.AssertionRequestOptions) (string, error) {
	leaf := s.chain[0]
	signingInput, err := AssertionSigningInput(leaf, s.chain, s.sendX5C, o.ClientID, o.TokenEndpoint, s.now())
	if err != nil {
		return "", err
	}
	digest := sha256.Sum256([]byte(signingInput))
	sig, err := s.conn.Sign(ctx, s.req, cert.ThumbprintSHA256(leaf), digest[:], PS256)
	if err != nil {
		return "", profileHint(err, s.profile)
	}
	// A store whose key does not belong to the certificate would earn an opaque
	// AADSTS700027 from Entra; checking here names the cause.
	if err := rsa.VerifyPSS(s.pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
		return "", failed(ErrPluginFailed, "key store %q signed with a key that does not match certificate %s (thumbprint %s): check keyLabel/keyId in certificateStoreOptions",
			s.conn.name, leaf.Subject, cert.ThumbprintSHA1(leaf))
	}
	return signingInput + "." + base64.RawURLEncoding.EncodeToString(sig), nil
}

// AssertionSigningInput is the unsigned part (header.claims, base64url) of a PS256
// client assertion: header alg PS256, typ JWT, x5t#S256 in standard base64 with padding
// (as MSAL Go sends it and Entra accepts), x5c (standard base64 DER, leaf first) when
// sendX5C; claims aud = token endpoint, iss = sub = client id, a random jti, nbf = now,
// exp = now + 10 minutes.
func AssertionSigningInput(leaf *x509.Certificate, chain []*x509.Certificate, sendX5C bool, clientID, tokenEndpoint string, now time.Time) (string, error) {
	sum := sha256.Sum256(leaf.Raw)
	header := map[string]any{
		"alg":      "PS256",
		"typ":      "JWT",
		"x5t#S256": base64.StdEncoding.EncodeToString(sum[:]),
	}
	if sendX5C {
		x5c := make([]string, 0, len(chain))
		for _, c := range chain {
			x5c = append(x5c, base64.StdEncoding.EncodeToString(c.Raw))
		}
		header["x5c"] = x5c
	}
	jti, err := uuid.NewRandom()
	if err != nil {
		return "", err
	}
	claims := map[string]any{
		"aud": tokenEndpoint,
		"exp": now.Add(assertionLifetime).Unix(),
		"iss": clientID,
		"jti": jti.String(),
		"nbf": now.Unix(),
		"sub": clientID,
	}
	h, err := json.Marshal(header)
	if err != nil {
		return "", err
	}
	c, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c), nil
}
