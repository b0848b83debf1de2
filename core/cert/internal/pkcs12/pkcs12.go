// Copyright 2015, 2018, 2019 Opsmate, Inc. All rights reserved.
// Copyright 2015 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

// Package pkcs12 is the decoding half of software.sslmate.com/src/go-pkcs12 v0.7.4,
// changed so that a decode does bounded key-derivation work (see README.md).
//
// Every key derivation runs on a Budget: each iteration count is checked against a
// cap when its parameters are parsed; the work of every derivation whose parameters
// are in clear (the MAC or PBMAC1, each encryptedData, each shrouded key bag) is
// reserved before the first one runs, and a bag revealed by decrypting an
// encryptedData is reserved before its own derivation; derivations stop when the
// Budget's context ends. A parameter set that cannot be parsed is refused.
//
// Only DER is supported, as upstream: encoding/asn1 reads nothing else.
package pkcs12

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
)

var (
	oidDataContentType          = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 7, 1})
	oidEncryptedDataContentType = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 7, 6})
)

type pfxPdu struct {
	Version  int
	AuthSafe contentInfo
	MacData  macData `asn1:"optional"`
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type encryptedData struct {
	Version              int
	EncryptedContentInfo encryptedContentInfo
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           []byte `asn1:"tag:0,optional"`
}

type safeBag struct {
	Id         asn1.ObjectIdentifier
	Value      asn1.RawValue     `asn1:"tag:0,explicit"`
	Attributes []pkcs12Attribute `asn1:"set,optional"`
}

type pkcs12Attribute struct {
	Id    asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

type encryptedPrivateKeyInfo struct {
	AlgorithmIdentifier pkix.AlgorithmIdentifier
	EncryptedData       []byte
}

// unmarshal calls asn1.Unmarshal, but also returns an error if there is any
// trailing data after unmarshaling.
func unmarshal(in []byte, out interface{}) error {
	trailing, err := asn1.Unmarshal(in, out)
	if err != nil {
		return err
	}
	if len(trailing) != 0 {
		return errors.New("pkcs12: trailing data found")
	}
	return nil
}

// bag is a safe bag with, for a shrouded key bag, its parsed encryption scheme.
type bag struct {
	safeBag
	shrouded *encryptedPrivateKeyInfo
	scheme   *cipherScheme
}

// safe is one item of the authenticated safe: bags in clear, or encrypted content
// (bags stays nil until it is decrypted).
type safe struct {
	scheme     *cipherScheme // nil once opened, or for content in clear
	ciphertext []byte
	clear      []byte
	bags       []bag
}

// decoder holds one decode's state: what it has parsed, counted and accounted for.
type decoder struct {
	b        *Budget
	maxCerts int
	certs    int
	keys     int
	safes    []safe
}

// DecodeChain extracts the private key and the certificates (in file order) from
// pfxData, a DER-encoded PKCS#12 file, doing key derivations only on b. It refuses
// files with more than maxCerts certificate bags, or more than one key.
func DecodeChain(b *Budget, pfxData []byte, password string, maxCerts int) (privateKey any, certs []*x509.Certificate, err error) {
	if err := b.Err(); err != nil {
		return nil, nil, err
	}
	encodedPassword, err := bmpStringZeroTerminated(password)
	if err != nil {
		return nil, nil, err
	}
	// Reservations are per attempt: a caller that retries (another password) over
	// the same budget is charged for work done, not for work once planned.
	defer b.release()

	d := &decoder{b: b, maxCerts: maxCerts}
	mac, authSafe, err := d.parse(pfxData)
	if err != nil {
		return nil, nil, err
	}
	emptyPassword := len(encodedPassword) == 2 && encodedPassword[0] == 0 && encodedPassword[1] == 0
	if mac == nil && !emptyPassword {
		return nil, nil, ErrNoMAC
	}

	// Everything visible in clear, accounted for before the first derivation.
	var work int64
	if mac != nil {
		work += mac.work()
		if emptyPassword {
			work += mac.work() // the second try with an empty byte array, below
		}
	}
	for _, s := range d.safes {
		if s.scheme != nil {
			work += s.scheme.work()
		}
		work += bagsWork(s.bags)
	}
	if err := b.Reserve(work); err != nil {
		return nil, nil, err
	}

	if mac != nil {
		err := mac.verify(b, authSafe, encodedPassword)
		if err == ErrIncorrectPassword && emptyPassword {
			// some implementations use an empty byte array
			// for the empty string password try one more
			// time with empty-empty password
			encodedPassword = nil
			err = mac.verify(b, authSafe, encodedPassword)
		}
		if err != nil {
			return nil, nil, err
		}
	}

	for i := range d.safes {
		s := &d.safes[i]
		if s.scheme == nil {
			continue
		}
		data, err := s.scheme.decrypt(b, s.ciphertext, encodedPassword)
		if err != nil {
			return nil, nil, err
		}
		s.scheme = nil // opened: what is left unopened is what AtLeast counts
		if s.bags, err = d.admit(data); err != nil {
			return nil, nil, err
		}
		if err := b.Reserve(bagsWork(s.bags)); err != nil {
			return nil, nil, err
		}
	}

	for _, s := range d.safes {
		for _, bg := range s.bags {
			switch {
			case bg.Id.Equal(oidCertBag):
				certsData, err := decodeCertBag(bg.Value.Bytes)
				if err != nil {
					return nil, nil, err
				}
				parsed, err := x509.ParseCertificates(certsData)
				if err != nil {
					return nil, nil, err
				}
				if len(parsed) != 1 {
					return nil, nil, errors.New("pkcs12: expected exactly one certificate in the certBag")
				}
				certs = append(certs, parsed[0])
			case bg.Id.Equal(oidKeyBag):
				if privateKey, err = x509.ParsePKCS8PrivateKey(bg.Value.Bytes); err != nil {
					return nil, nil, err
				}
			case bg.Id.Equal(oidPKCS8ShroundedKeyBag):
				if privateKey, err = decodePkcs8ShroudedKeyBag(b, bg.shrouded, bg.scheme, encodedPassword); err != nil {
					return nil, nil, err
				}
			}
		}
	}

	if len(certs) == 0 {
		return nil, nil, ErrCertMissing
	}
	if privateKey == nil {
		return nil, nil, ErrKeyMissing
	}
	return privateKey, certs, nil
}

// parse reads the PFX and everything in it that is not encrypted: the MAC's
// parameters (nil when there is no MAC), each safe's encryption scheme or bags. It
// returns the authenticated safe's bytes, which the MAC covers.
func (d *decoder) parse(p12Data []byte) (*macScheme, []byte, error) {
	pfx := new(pfxPdu)
	if err := unmarshal(p12Data, pfx); err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrNotPKCS12, err)
	}
	if pfx.Version != 3 {
		return nil, nil, NotImplementedError("can only decode v3 PFX PDU's")
	}
	if !pfx.AuthSafe.ContentType.Equal(oidDataContentType) {
		return nil, nil, NotImplementedError("only password-protected PFX is implemented")
	}
	var mac *macScheme
	if len(pfx.MacData.Mac.Algorithm.Algorithm) != 0 {
		var err error
		if mac, err = parseMac(d.b, &pfx.MacData); err != nil {
			return nil, nil, err
		}
	}
	var authSafe []byte
	if err := unmarshal(pfx.AuthSafe.Content.Bytes, &authSafe); err != nil {
		return nil, nil, err
	}

	var authenticatedSafe []contentInfo
	if err := unmarshal(authSafe, &authenticatedSafe); err != nil {
		return nil, nil, err
	}
	// One safe for the key and one for the certificates is what every tool writes.
	if len(authenticatedSafe) < 1 || len(authenticatedSafe) > 2 {
		return nil, nil, NotImplementedError(fmt.Sprintf("expected between 1 and 2 items in the authenticated safe, but this file has %d", len(authenticatedSafe)))
	}
	d.safes = make([]safe, len(authenticatedSafe))
	for i, ci := range authenticatedSafe {
		switch {
		case ci.ContentType.Equal(oidDataContentType):
			var data []byte
			if err := unmarshal(ci.Content.Bytes, &data); err != nil {
				return nil, nil, err
			}
			d.safes[i].clear = data
		case ci.ContentType.Equal(oidEncryptedDataContentType):
			var ed encryptedData
			if err := unmarshal(ci.Content.Bytes, &ed); err != nil {
				return nil, nil, err
			}
			if ed.Version != 0 {
				return nil, nil, NotImplementedError("only version 0 of EncryptedData is supported")
			}
			scheme, err := parseCipherScheme(d.b, ed.EncryptedContentInfo.ContentEncryptionAlgorithm)
			if err != nil {
				return nil, nil, err
			}
			d.safes[i].scheme = scheme
			d.safes[i].ciphertext = ed.EncryptedContentInfo.EncryptedContent
		default:
			return nil, nil, NotImplementedError("only data and encryptedData content types are supported in authenticated safe")
		}
	}
	// Bags in clear are admitted once every safe is known, so that a count refusal
	// can tell whether encrypted ones remain.
	for i := range d.safes {
		s := &d.safes[i]
		if s.scheme != nil {
			continue
		}
		var err error
		if s.bags, err = d.admit(s.clear); err != nil {
			return nil, nil, err
		}
	}
	return mac, authSafe, nil
}

// admit parses a SafeContents, counts its certificates and keys against the limits,
// and parses each shrouded key bag's encryption scheme (checking its iteration
// count), so the caller can account for the bags' work before decrypting any.
func (d *decoder) admit(data []byte) ([]bag, error) {
	var safeContents []safeBag
	if err := unmarshal(data, &safeContents); err != nil {
		return nil, err
	}
	bags := make([]bag, len(safeContents))
	for i, sb := range safeContents {
		bags[i].safeBag = sb
		switch {
		case sb.Id.Equal(oidCertBag):
			d.certs++
		case sb.Id.Equal(oidKeyBag), sb.Id.Equal(oidPKCS8ShroundedKeyBag):
			d.keys++
		}
	}
	if d.certs > d.maxCerts {
		unopened := false
		for _, s := range d.safes {
			unopened = unopened || s.scheme != nil
		}
		return nil, &TooManyCertificatesError{Count: d.certs, Max: d.maxCerts, AtLeast: unopened}
	}
	if d.keys > 1 {
		return nil, errors.New("pkcs12: expected exactly one key bag")
	}
	for i := range bags {
		if !bags[i].Id.Equal(oidPKCS8ShroundedKeyBag) {
			continue
		}
		pkinfo := new(encryptedPrivateKeyInfo)
		if err := unmarshal(bags[i].Value.Bytes, pkinfo); err != nil {
			return nil, fmt.Errorf("pkcs12: error decoding PKCS#8 shrouded key bag: %w", err)
		}
		scheme, err := parseCipherScheme(d.b, pkinfo.AlgorithmIdentifier)
		if err != nil {
			return nil, fmt.Errorf("pkcs12: error decoding PKCS#8 shrouded key bag: %w", err)
		}
		bags[i].shrouded, bags[i].scheme = pkinfo, scheme
	}
	return bags, nil
}

// bagsWork is what decrypting bags' shrouded keys will derive.
func bagsWork(bags []bag) int64 {
	var work int64
	for _, bg := range bags {
		if bg.scheme != nil {
			work += bg.scheme.work()
		}
	}
	return work
}
