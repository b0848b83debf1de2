// Copyright 2015 The Go Authors. All rights reserved.
// Use of this source code is governed by a BSD-style
// license that can be found in the LICENSE file.

package pkcs12

import (
	"errors"
	"fmt"
)

// Changed from go-pkcs12: the failures callers tell apart are sentinels or types
// rather than strings to compare.

var (
	// ErrDecryption represents a failure to decrypt the input.
	ErrDecryption = errors.New("pkcs12: decryption error, incorrect padding")

	// ErrIncorrectPassword is returned when an incorrect password is detected.
	// Usually, P12/PFX data is signed to be able to verify the password.
	ErrIncorrectPassword = errors.New("pkcs12: decryption password incorrect")

	// ErrPasswordEncoding: PKCS#12 passwords are UCS-2, which has no room for
	// characters outside the Basic Multilingual Plane.
	ErrPasswordEncoding = errors.New("pkcs12: string contains characters that cannot be encoded in UCS-2")

	// ErrNotPKCS12 wraps the failure to read the outer PFX structure.
	ErrNotPKCS12 = errors.New("pkcs12: error reading P12 data")

	// ErrNoMAC is a file without an integrity MAC opened with a password.
	ErrNoMAC = errors.New("pkcs12: no MAC in data")

	// ErrKeyMissing and ErrCertMissing: the file has no private key, or no certificate.
	ErrKeyMissing  = errors.New("pkcs12: private key missing")
	ErrCertMissing = errors.New("pkcs12: certificate missing")
)

// NotImplementedError indicates that the input is not currently supported.
type NotImplementedError string

func (e NotImplementedError) Error() string {
	return "pkcs12: " + string(e)
}

// TooManyCertificatesError is a file with more certificate bags than the caller
// accepts. Count is what the decoder had seen when it stopped; AtLeast says there was
// encrypted content it had not opened yet.
type TooManyCertificatesError struct {
	Count, Max int
	AtLeast    bool
}

func (e *TooManyCertificatesError) Error() string {
	least := ""
	if e.AtLeast {
		least = "at least "
	}
	return fmt.Sprintf("pkcs12: the file holds %s%d certificates, more than the %d accepted", least, e.Count, e.Max)
}
