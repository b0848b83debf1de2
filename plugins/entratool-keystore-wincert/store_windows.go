package main

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unsafe"

	"golang.org/x/sys/windows"

	"github.com/entratool/entratool/core/keystore"
)

// CNG values (ncrypt.h, bcrypt.h) that golang.org/x/sys/windows does not define.
const (
	bcryptPadPKCS1    = 0x00000002
	bcryptPadPSS      = 0x00000008
	ncryptSilentFlag  = 0x00000040
	certNCryptKeySpec = 0xFFFFFFFF

	nteBadKeyset      = 0x80090016
	nteSilentContext  = 0x80090022
	nteNotSupported   = 0x80090029
	nteInvalidParam   = 0x80090027
	scardWrongPIN     = 0x8010006B
	scardPINLocked    = 0x8010006C // SCARD_W_CHV_BLOCKED
	cryptNoKeyProp    = 0x8009200B // CRYPT_E_NO_KEY_PROPERTY
	cryptENotFound    = 0x80092004
	nteUserCancelled  = 0x80090036
	ncryptPinProperty = "SmartCardPin"
)

type bcryptPSSPaddingInfo struct {
	algID *uint16
	salt  uint32
}

type bcryptPKCS1PaddingInfo struct {
	algID *uint16
}

// store holds the CNG entry points; nothing else lives between calls.
type store struct {
	signHash    *windows.LazyProc
	freeObject  *windows.LazyProc
	setProperty *windows.LazyProc
}

func newStore() *store {
	ncrypt := windows.NewLazySystemDLL("ncrypt.dll")
	return &store{
		signHash:    ncrypt.NewProc("NCryptSignHash"),
		freeObject:  ncrypt.NewProc("NCryptFreeObject"),
		setProperty: ncrypt.NewProc("NCryptSetProperty"),
	}
}

// where is the store a request names: location CurrentUser (default) or LocalMachine,
// option store (default My).
type where struct {
	flags    uint32
	location string
	name     string
}

func parse(r keystore.Request) (*where, error) {
	for k := range r.Options {
		if k != "store" {
			return nil, fmt.Errorf("unknown option %q (the wincert store knows: store): %w", k, keystore.ErrBadOptions)
		}
	}
	w := &where{name: "My"}
	if s := r.Options["store"]; s != "" {
		w.name = s
	}
	switch strings.ToLower(r.Location) {
	case "", "currentuser":
		w.flags, w.location = windows.CERT_SYSTEM_STORE_CURRENT_USER, "CurrentUser"
	case "localmachine":
		w.flags, w.location = windows.CERT_SYSTEM_STORE_LOCAL_MACHINE, "LocalMachine"
	default:
		return nil, fmt.Errorf("certificateStoreLocation %q: use CurrentUser or LocalMachine: %w", r.Location, keystore.ErrBadOptions)
	}
	return w, nil
}

func (w *where) String() string { return w.location + `\` + w.name }

// each calls f for every certificate in the store until f returns true; the context it
// was given is then duplicated and returned (the caller frees it).
func each(w *where, f func(c *windows.CertContext, der []byte) bool) (*windows.CertContext, error) {
	name, err := windows.UTF16PtrFromString(w.name)
	if err != nil {
		return nil, fmt.Errorf("store name %q: %w", w.name, keystore.ErrBadOptions)
	}
	h, err := windows.CertOpenStore(windows.CERT_STORE_PROV_SYSTEM, 0, 0,
		w.flags|windows.CERT_STORE_READONLY_FLAG|windows.CERT_STORE_OPEN_EXISTING_FLAG, uintptr(unsafe.Pointer(name)))
	if err != nil {
		return nil, fmt.Errorf("cannot open the certificate store %s: %v: %w", w, err, keystore.ErrUnavailable)
	}
	defer windows.CertCloseStore(h, 0)
	var prev *windows.CertContext
	for {
		c, err := windows.CertEnumCertificatesInStore(h, prev)
		if err != nil || c == nil {
			// CRYPT_E_NOT_FOUND ends the enumeration; prev was freed by the call.
			return nil, nil
		}
		der := append([]byte(nil), unsafe.Slice(c.EncodedCert, c.Length)...)
		if f(c, der) {
			dup := windows.CertDuplicateCertificateContext(c)
			windows.CertFreeCertificateContext(c)
			return dup, nil
		}
		prev = c
	}
}

func thumbprints(der []byte) (string, string) {
	a := sha1.Sum(der)
	b := sha256.Sum256(der)
	return strings.ToUpper(hex.EncodeToString(a[:])), strings.ToUpper(hex.EncodeToString(b[:]))
}

func (s *store) List(ctx context.Context, r keystore.Request) ([]keystore.Item, error) {
	w, err := parse(r)
	if err != nil {
		return nil, err
	}
	var items []keystore.Item
	_, err = each(w, func(c *windows.CertContext, der []byte) bool {
		if _, err := x509.ParseCertificate(der); err == nil {
			items = append(items, keystore.Item{Certificate: der, HasKey: s.hasKey(c), KeyRef: w.String()})
		}
		return false
	})
	return items, err
}

// hasKey reports whether a CNG private key is attached, without opening it (no UI).
func (s *store) hasKey(c *windows.CertContext) bool {
	var key windows.Handle
	var spec uint32
	var free bool
	err := windows.CryptAcquireCertificatePrivateKey(c, windows.CRYPT_ACQUIRE_ONLY_NCRYPT_KEY_FLAG|windows.CRYPT_ACQUIRE_SILENT_FLAG, nil, &key, &spec, &free)
	if err != nil {
		// A key that needs a prompt is still a key.
		return errors.Is(err, windows.Errno(nteSilentContext))
	}
	if free {
		s.freeObject.Call(uintptr(key))
	}
	return true
}

func (s *store) find(r keystore.Request, thumbprint string) (*windows.CertContext, []byte, *where, error) {
	w, err := parse(r)
	if err != nil {
		return nil, nil, nil, err
	}
	want := keystore.NormThumbprint(thumbprint)
	var found []byte
	c, err := each(w, func(_ *windows.CertContext, der []byte) bool {
		a, b := thumbprints(der)
		if a == want || b == want {
			found = der
			return true
		}
		return false
	})
	if err != nil {
		return nil, nil, nil, err
	}
	if c == nil {
		return nil, nil, nil, fmt.Errorf("no certificate with thumbprint %s in %s (certutil -user -store My lists them): %w", want, w, keystore.ErrNotFound)
	}
	return c, found, w, nil
}

func (s *store) Certificates(ctx context.Context, r keystore.Request, thumbprint string) ([][]byte, error) {
	c, der, _, err := s.find(r, thumbprint)
	if err != nil {
		return nil, err
	}
	windows.CertFreeCertificateContext(c)
	return [][]byte{der}, nil
}

func (s *store) Sign(ctx context.Context, r keystore.Request, thumbprint string, digest []byte, alg keystore.Algorithm) ([]byte, error) {
	c, _, w, err := s.find(r, thumbprint)
	if err != nil {
		return nil, err
	}
	defer windows.CertFreeCertificateContext(c)
	var key windows.Handle
	var spec uint32
	var free bool
	flags := uint32(windows.CRYPT_ACQUIRE_ONLY_NCRYPT_KEY_FLAG | windows.CRYPT_ACQUIRE_SILENT_FLAG)
	if err := windows.CryptAcquireCertificatePrivateKey(c, flags, nil, &key, &spec, &free); err != nil {
		return nil, explain(err, w, thumbprint)
	}
	if free {
		defer s.freeObject.Call(uintptr(key))
	}
	if spec != certNCryptKeySpec {
		return nil, fmt.Errorf("the key of %s in %s is not a CNG key: re-import the PFX with a CNG provider: %w", thumbprint, w, keystore.ErrUnsupported)
	}
	if r.PIN != "" {
		// Smart-card keys take their PIN as a property; software keys have none to set.
		prop, _ := windows.UTF16PtrFromString(ncryptPinProperty)
		pin, _ := windows.UTF16FromString(r.PIN)
		st, _, _ := s.setProperty.Call(uintptr(key), uintptr(unsafe.Pointer(prop)), uintptr(unsafe.Pointer(&pin[0])), uintptr(len(pin)*2), ncryptSilentFlag)
		for i := range pin {
			pin[i] = 0
		}
		if st != 0 && uint32(st) != nteNotSupported && uint32(st) != nteInvalidParam {
			return nil, explain(windows.Errno(st), w, thumbprint)
		}
	}
	sha, _ := windows.UTF16PtrFromString("SHA256")
	var padding unsafe.Pointer
	var padFlag uintptr
	switch alg {
	case keystore.PS256:
		padding, padFlag = unsafe.Pointer(&bcryptPSSPaddingInfo{algID: sha, salt: 32}), bcryptPadPSS
	case keystore.RS256:
		padding, padFlag = unsafe.Pointer(&bcryptPKCS1PaddingInfo{algID: sha}), bcryptPadPKCS1
	default:
		return nil, fmt.Errorf("algorithm %s: %w", alg, keystore.ErrUnsupported)
	}
	var size uint32
	st, _, _ := s.signHash.Call(uintptr(key), uintptr(padding), uintptr(unsafe.Pointer(&digest[0])), uintptr(len(digest)), 0, 0, uintptr(unsafe.Pointer(&size)), padFlag|ncryptSilentFlag)
	if st != 0 {
		return nil, explain(windows.Errno(st), w, thumbprint)
	}
	sig := make([]byte, size)
	st, _, _ = s.signHash.Call(uintptr(key), uintptr(padding), uintptr(unsafe.Pointer(&digest[0])), uintptr(len(digest)),
		uintptr(unsafe.Pointer(&sig[0])), uintptr(size), uintptr(unsafe.Pointer(&size)), padFlag|ncryptSilentFlag)
	if st != 0 {
		return nil, explain(windows.Errno(st), w, thumbprint)
	}
	return sig[:size], nil
}

// explain maps CNG and CryptoAPI status codes to a sentence and a kind.
func explain(err error, w *where, thumbprint string) error {
	var code windows.Errno
	if !errors.As(err, &code) {
		return fmt.Errorf("%s: %v", w, err)
	}
	switch uint32(code) {
	case nteSilentContext:
		return fmt.Errorf("the key of %s in %s needs a PIN or a confirmation prompt, which a plugin cannot show: store the PIN as the profile's certificate password: %w", thumbprint, w, keystore.ErrBadPIN)
	case scardWrongPIN:
		return fmt.Errorf("the smart card refused the PIN for %s: %w", thumbprint, keystore.ErrBadPIN)
	case scardPINLocked:
		return fmt.Errorf("the smart card holding %s is locked after too many wrong PINs: %w", thumbprint, keystore.ErrPINLocked)
	case nteBadKeyset, cryptNoKeyProp, cryptENotFound:
		return fmt.Errorf("certificate %s in %s has no private key on this machine: %w", thumbprint, w, keystore.ErrNotFound)
	case nteUserCancelled:
		return fmt.Errorf("signing with %s was cancelled: %w", thumbprint, keystore.ErrBadPIN)
	case nteNotSupported, nteInvalidParam:
		return fmt.Errorf("the key of %s in %s cannot make an RSA-PSS SHA-256 signature (%v): %w", thumbprint, w, code, keystore.ErrUnsupported)
	}
	return fmt.Errorf("%s: %v (0x%08X)", w, code, uint32(code))
}
