//go:build cgo

package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/ThalesGroup/crypto11"
	"github.com/miekg/pkcs11"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/keystore"
)

// options are a profile's certificateStoreOptions for this plugin.
type options struct {
	module      string // path of the PKCS#11 library
	tokenLabel  string // one of tokenLabel, tokenSerial, slot picks the token
	tokenSerial string
	slot        *int
	keyLabel    string // keyLabel and/or keyId pick the key; else the certificate's CKA_ID
	keyID       []byte
}

var knownOptions = []string{"module", "tokenLabel", "tokenSerial", "slot", "keyLabel", "keyId"}

func parseOptions(m map[string]string) (*options, error) {
	for k := range m {
		known := false
		for _, o := range knownOptions {
			known = known || k == o
		}
		if !known {
			return nil, fmt.Errorf("unknown option %q (the pkcs11 store knows %s): %w", k, strings.Join(knownOptions, ", "), keystore.ErrBadOptions)
		}
	}
	o := &options{module: m["module"], tokenLabel: m["tokenLabel"], tokenSerial: m["tokenSerial"], keyLabel: m["keyLabel"]}
	if o.module == "" {
		return nil, fmt.Errorf("option module is missing: give the path of the PKCS#11 library, e.g. --store-option module=/usr/lib/softhsm/libsofthsm2.so: %w", keystore.ErrBadOptions)
	}
	if s := m["slot"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("option slot %q is not a slot number: %w", s, keystore.ErrBadOptions)
		}
		o.slot = &n
	}
	picked := 0
	for _, set := range []bool{o.tokenLabel != "", o.tokenSerial != "", o.slot != nil} {
		if set {
			picked++
		}
	}
	if picked != 1 {
		return nil, fmt.Errorf("give exactly one of the options tokenLabel, tokenSerial and slot to pick the token (pkcs11-tool --module %s --list-tokens shows them): %w", o.module, keystore.ErrBadOptions)
	}
	if s := m["keyId"]; s != "" {
		id, err := hex.DecodeString(strings.NewReplacer(":", "", " ", "").Replace(s))
		if err != nil || len(id) == 0 {
			return nil, fmt.Errorf("option keyId %q is not hex (e.g. 01 or a1b2c3): %w", s, keystore.ErrBadOptions)
		}
		o.keyID = id
	}
	return o, nil
}

func (o *options) token() string {
	switch {
	case o.tokenLabel != "":
		return fmt.Sprintf("token %q", o.tokenLabel)
	case o.tokenSerial != "":
		return fmt.Sprintf("token with serial %q", o.tokenSerial)
	}
	return fmt.Sprintf("slot %d", *o.slot)
}

// store opens tokens on demand and keeps them open for the life of the process — one
// token request — so that Certificates and Sign log in once.
type store struct {
	mu   sync.Mutex
	open map[string]*crypto11.Context
}

func newStore() *store { return &store{open: map[string]*crypto11.Context{}} }

// Close logs out of every token and unloads the modules.
func (s *store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, c := range s.open {
		c.Close()
		delete(s.open, k)
	}
	return nil
}

func (s *store) context(r keystore.Request) (*crypto11.Context, *options, error) {
	o, err := parseOptions(r.Options)
	if err != nil {
		return nil, nil, err
	}
	if r.PIN == "" {
		return nil, nil, fmt.Errorf("%s needs its user PIN and none was given (it is kept as the profile's certificate password): %w", o.token(), keystore.ErrBadPIN)
	}
	// The PIN is part of the key only as a hash: a wrong PIN must not reuse a session
	// that a right one opened.
	pinSum := sha256.Sum256([]byte(r.PIN))
	slot := ""
	if o.slot != nil {
		slot = strconv.Itoa(*o.slot)
	}
	key := strings.Join([]string{o.module, o.tokenLabel, o.tokenSerial, slot, hex.EncodeToString(pinSum[:])}, "\x00")
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, ok := s.open[key]; ok {
		return c, o, nil
	}
	if _, err := os.Stat(o.module); err != nil {
		return nil, nil, fmt.Errorf("PKCS#11 module %s cannot be read (%v): install it or fix the module option: %w", o.module, errors.Unwrap(err), keystore.ErrUnavailable)
	}
	c, err := crypto11.Configure(&crypto11.Config{Path: o.module, TokenLabel: o.tokenLabel, TokenSerial: o.tokenSerial, SlotNumber: o.slot, Pin: r.PIN})
	if err != nil {
		return nil, nil, explain(err, o)
	}
	s.open[key] = c
	return c, o, nil
}

// explain turns crypto11 and PKCS#11 errors into a sentence and an error kind. The PIN
// is never part of it.
func explain(err error, o *options) error {
	var rv pkcs11.Error
	if errors.As(err, &rv) {
		name := pkcs11.Error(rv).Error() // "pkcs11: 0xA0: CKR_PIN_INCORRECT"
		if i := strings.LastIndex(name, ": "); i >= 0 {
			name = name[i+2:]
		}
		switch rv {
		case pkcs11.CKR_PIN_INCORRECT, pkcs11.CKR_PIN_INVALID, pkcs11.CKR_PIN_LEN_RANGE:
			return fmt.Errorf("the PIN for %s was refused (%s): %w", o.token(), name, keystore.ErrBadPIN)
		case pkcs11.CKR_PIN_LOCKED:
			return fmt.Errorf("%s is locked after too many wrong PINs (%s): unlock it with the SO PIN: %w", o.token(), name, keystore.ErrPINLocked)
		case pkcs11.CKR_PIN_EXPIRED:
			return fmt.Errorf("the PIN for %s has expired (%s): set a new one with the token's tools: %w", o.token(), name, keystore.ErrPINLocked)
		case pkcs11.CKR_USER_PIN_NOT_INITIALIZED:
			return fmt.Errorf("%s has no user PIN yet (%s): initialise it with the token's tools: %w", o.token(), name, keystore.ErrUnavailable)
		case pkcs11.CKR_TOKEN_NOT_PRESENT, pkcs11.CKR_DEVICE_REMOVED, pkcs11.CKR_DEVICE_ERROR, pkcs11.CKR_TOKEN_NOT_RECOGNIZED:
			return fmt.Errorf("%s is not available (%s): is the device plugged in?: %w", o.token(), name, keystore.ErrUnavailable)
		case pkcs11.CKR_MECHANISM_INVALID, pkcs11.CKR_MECHANISM_PARAM_INVALID, pkcs11.CKR_KEY_TYPE_INCONSISTENT, pkcs11.CKR_KEY_FUNCTION_NOT_PERMITTED:
			return fmt.Errorf("%s cannot make an RSA-PSS SHA-256 signature with this key (%s): %w", o.token(), name, keystore.ErrUnsupported)
		}
		return fmt.Errorf("%s: %s", o.token(), name)
	}
	msg := err.Error()
	switch {
	case strings.Contains(msg, "could not find PKCS#11 token"):
		return fmt.Errorf("no %s in %s%s: %w", o.token(), o.module, tokensIn(o.module), keystore.ErrNotFound)
	case strings.Contains(msg, "failed to open module"), strings.Contains(msg, "failed to initialize module"):
		return fmt.Errorf("PKCS#11 module %s could not be loaded (%s): check the module option and that its configuration (e.g. SOFTHSM2_CONF) is readable: %w",
			o.module, msg, keystore.ErrUnavailable)
	}
	return fmt.Errorf("%s: %s", o.token(), msg)
}

// tokensIn names the tokens a module offers, for "no such token" errors.
func tokensIn(module string) string {
	p := pkcs11.New(module)
	if p == nil {
		return ""
	}
	defer p.Destroy()
	if err := p.Initialize(); err != nil {
		return ""
	}
	defer p.Finalize()
	slots, err := p.GetSlotList(true)
	if err != nil {
		return ""
	}
	var labels []string
	for _, s := range slots {
		// SoftHSM always offers one free slot with an uninitialised, unlabelled token.
		if ti, err := p.GetTokenInfo(s); err == nil && ti.Flags&pkcs11.CKF_TOKEN_INITIALIZED != 0 {
			labels = append(labels, fmt.Sprintf("%q", strings.TrimSpace(ti.Label)))
		}
	}
	if len(labels) == 0 {
		return " (it has no initialised token)"
	}
	sort.Strings(labels)
	return " (its tokens: " + strings.Join(labels, ", ") + ")"
}

// pair is a certificate on the token with the key that signs for it.
type pair struct {
	leaf   *x509.Certificate
	signer crypto.Signer
	ref    string
}

// pairs lists the certificates that have a private key on the token: by keyId/keyLabel
// when the options name the key, else every key with a certificate of the same CKA_ID.
func pairs(c *crypto11.Context, o *options) ([]pair, error) {
	if o.keyID != nil || o.keyLabel != "" {
		var label []byte
		if o.keyLabel != "" {
			label = []byte(o.keyLabel)
		}
		k, err := c.FindKeyPair(o.keyID, label)
		if err != nil || k == nil {
			return nil, fmt.Errorf("no key pair with %s on %s: %w", keyName(o.keyID, o.keyLabel), o.token(), keystore.ErrNotFound)
		}
		ids := attr(c, k, crypto11.CkaId)
		leaf, err := c.FindCertificate(nonEmpty(ids, o.keyID), nil, nil)
		if (err != nil || leaf == nil) && o.keyLabel != "" {
			leaf, err = c.FindCertificate(nil, []byte(o.keyLabel), nil)
		}
		if err != nil || leaf == nil {
			return nil, fmt.Errorf("the key with %s on %s has no certificate beside it (write one with pkcs11-tool --write-object cert.der --type cert --id …): %w",
				keyName(o.keyID, o.keyLabel), o.token(), keystore.ErrNotFound)
		}
		return []pair{{leaf: leaf, signer: k, ref: keyName(ids, string(attr(c, k, crypto11.CkaLabel)))}}, nil
	}
	all, err := c.FindAllPairedCertificates()
	if err != nil {
		return nil, explain(err, o)
	}
	var out []pair
	for _, tc := range all {
		s, ok := tc.PrivateKey.(crypto.Signer)
		if !ok || tc.Leaf == nil {
			continue
		}
		out = append(out, pair{leaf: tc.Leaf, signer: s, ref: keyName(attr(c, s, crypto11.CkaId), string(attr(c, s, crypto11.CkaLabel)))})
	}
	return out, nil
}

func attr(c *crypto11.Context, key any, t crypto11.AttributeType) []byte {
	a, err := c.GetAttribute(key, t)
	if err != nil || a == nil {
		return nil
	}
	return a.Value
}

func nonEmpty(a, b []byte) []byte {
	if len(a) > 0 {
		return a
	}
	return b
}

func keyName(id []byte, label string) string {
	var parts []string
	if len(id) > 0 {
		parts = append(parts, "id="+hex.EncodeToString(id))
	}
	if label != "" {
		parts = append(parts, "label="+label)
	}
	return strings.Join(parts, " ")
}

func (s *store) find(r keystore.Request, thumbprint string) (*pair, *options, error) {
	c, o, err := s.context(r)
	if err != nil {
		return nil, nil, err
	}
	ps, err := pairs(c, o)
	if err != nil {
		return nil, nil, err
	}
	want := keystore.NormThumbprint(thumbprint)
	for i := range ps {
		if cert.ThumbprintSHA1(ps[i].leaf) == want || cert.ThumbprintSHA256(ps[i].leaf) == want {
			return &ps[i], o, nil
		}
	}
	return nil, nil, fmt.Errorf("no certificate with thumbprint %s and its key on %s (entratool keystore list --store pkcs11 shows what is there): %w",
		want, o.token(), keystore.ErrNotFound)
}

func (s *store) List(ctx context.Context, r keystore.Request) ([]keystore.Item, error) {
	c, o, err := s.context(r)
	if err != nil {
		return nil, err
	}
	ps, err := pairs(c, o)
	if err != nil {
		return nil, err
	}
	items := make([]keystore.Item, 0, len(ps))
	for _, p := range ps {
		items = append(items, keystore.Item{Certificate: p.leaf.Raw, HasKey: true, KeyRef: p.ref})
	}
	return items, nil
}

func (s *store) Certificates(ctx context.Context, r keystore.Request, thumbprint string) ([][]byte, error) {
	p, _, err := s.find(r, thumbprint)
	if err != nil {
		return nil, err
	}
	return [][]byte{p.leaf.Raw}, nil
}

func (s *store) Sign(ctx context.Context, r keystore.Request, thumbprint string, digest []byte, alg keystore.Algorithm) ([]byte, error) {
	p, o, err := s.find(r, thumbprint)
	if err != nil {
		return nil, err
	}
	if _, ok := p.signer.Public().(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("the key %s on %s is %T, not RSA: %w", p.ref, o.token(), p.signer.Public(), keystore.ErrUnsupported)
	}
	var opts crypto.SignerOpts
	switch alg {
	case keystore.PS256:
		// PS256 fixes the salt at the hash length (RFC 7518 §3.5).
		opts = &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	case keystore.RS256:
		opts = crypto.SHA256
	default:
		return nil, fmt.Errorf("algorithm %s: %w", alg, keystore.ErrUnsupported)
	}
	sig, err := p.signer.Sign(rand.Reader, digest, opts)
	if err != nil {
		return nil, explain(err, o)
	}
	return sig, nil
}
