// Copyright 2015, 2018, 2019 Opsmate, Inc. All rights reserved.
// Copyright 2015 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package pkcs12

// Changed from go-pkcs12: decoding only; the shrouded key bag arrives parsed, with
// its scheme already checked and accounted for (decoder.admit).

import (
	"crypto/x509"
	"encoding/asn1"
	"fmt"
)

var (
	// see https://tools.ietf.org/html/rfc7292#appendix-D
	oidCertTypeX509Certificate = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 9, 22, 1})
	oidKeyBag                  = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 12, 10, 1, 1})
	oidPKCS8ShroundedKeyBag    = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 12, 10, 1, 2})
	oidCertBag                 = asn1.ObjectIdentifier([]int{1, 2, 840, 113549, 1, 12, 10, 1, 3})
)

type certBag struct {
	Id   asn1.ObjectIdentifier
	Data []byte `asn1:"tag:0,explicit"`
}

func decodePkcs8ShroudedKeyBag(b *Budget, pkinfo *encryptedPrivateKeyInfo, scheme *cipherScheme, password []byte) (privateKey interface{}, err error) {
	pkData, err := scheme.decrypt(b, pkinfo.EncryptedData, password)
	if err != nil {
		return nil, fmt.Errorf("pkcs12: error decrypting PKCS#8 shrouded key bag: %w", err)
	}

	ret := new(asn1.RawValue)
	if err = unmarshal(pkData, ret); err != nil {
		return nil, fmt.Errorf("pkcs12: error unmarshaling decrypted private key: %w", err)
	}

	if privateKey, err = x509.ParsePKCS8PrivateKey(pkData); err != nil {
		return nil, fmt.Errorf("pkcs12: error parsing PKCS#8 private key: %w", err)
	}

	return privateKey, nil
}

func decodeCertBag(asn1Data []byte) (x509Certificates []byte, err error) {
	bag := new(certBag)
	if err := unmarshal(asn1Data, bag); err != nil {
		return nil, fmt.Errorf("pkcs12: error decoding cert bag: %w", err)
	}
	if !bag.Id.Equal(oidCertTypeX509Certificate) {
		return nil, NotImplementedError("only X509 certificates are supported in cert bags")
	}
	return bag.Data, nil
}
