// Package cert loads, inspects and creates the X.509 client certificates entratool signs
// Entra ID client assertions with.
//
// Files are recognised by content, not extension: PKCS#12 (binary or base64 text, as Key
// Vault exports it) and PEM (certificate blocks plus a PKCS#1, PKCS#8 or encrypted PKCS#8
// key). PKCS#12 is decoded by internal/pkcs12, a fork of software.sslmate.com/src/go-pkcs12
// (golang.org/x/crypto/pkcs12 reads none of the files OpenSSL 3 or current Windows write)
// that bounds the key-derivation work a file can ask for (SPEC §12).
//
// Decoding takes a context: key derivations stop when it ends, so a slow file cannot
// outlast the command's --timeout.
//
// Only RSA keys are accepted: Entra's client assertions are RSA signatures (PS256/RS256).
// Load does not judge validity dates, so that `cert inspect` can still show an expired
// certificate; callers that are about to authenticate call CheckValidity first.
//
// Errors from Load and the parsers are one line naming the file, never contain the
// password, and wrap an Err* sentinel for every failure the user can act on (errors.Is).
package cert

import (
	"bytes"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/entratool/entratool/core/cert/internal/pkcs12"
)

// Credential is a certificate with its private key.
type Credential struct {
	Leaf  *x509.Certificate
	Chain []*x509.Certificate // leaf first, then CA certs from the file
	Key   crypto.Signer       // *rsa.PrivateKey for files
	Path  string
}

var (
	ErrNotFound    = errors.New("certificate not found")
	ErrBadPassword = errors.New("invalid certificate password")
	// ErrPasswordRequired: the file is protected and no password was given. Errors
	// that wrap it wrap ErrBadPassword too (a prompt asks again either way), but say
	// "required": a missing password is not a wrong one.
	ErrPasswordRequired = errors.New("certificate password required")
	ErrNoKey            = errors.New("no private key")
	ErrUnsupportedKey   = errors.New("unsupported key type")
	ErrExpired          = errors.New("certificate expired")
	ErrNotYetValid      = errors.New("certificate not yet valid")

	// ErrNoCertificate: the file holds a key but no certificate.
	ErrNoCertificate = errors.New("no certificate")
	// ErrKeyMismatch: the file's key belongs to none of its certificates.
	ErrKeyMismatch = errors.New("private key does not match any certificate")
	// ErrFormat: the content is not a certificate file, or uses an encoding not supported.
	ErrFormat = errors.New("not a PKCS#12 or PEM certificate file")
)

// maxFileSize bounds what Load reads: real certificate files are a few KiB, and a
// mistaken path such as /dev/zero must not exhaust memory.
const maxFileSize = 16 << 20

// maxIterations bounds each key derivation a file can ask for (PKCS#12 MAC and PBES1,
// PBKDF2 in PBES2 and PBMAC1, encrypted PKCS#8 keys). OpenSSL and Windows write about
// 2000 and current guidance tops out near 1.3 million; the bound keeps a corrupt or
// hostile file from stalling a credential helper for minutes (SPEC §12).
const maxIterations = 2_000_000

// maxKDFWork bounds one decode's derivations together, in iterations × output blocks.
// A legacy file (RC2 certificates, 3DES key, SHA-1 MAC) does six blocks' worth, seven
// with an empty password: this lets it, and anything real, use the full per-count cap,
// while a file crafted to chain many derivations is refused before the first.
const maxKDFWork = 8 * maxIterations

// maxCertificates bounds the certificates in one file: a leaf and its CAs are a handful,
// and the bound keeps parsing and chain assembly small (SPEC §12).
const maxCertificates = 100

func newBudget(ctx context.Context) *pkcs12.Budget {
	return pkcs12.NewBudget(ctx, maxIterations, maxKDFWork)
}

// certError carries a complete user-facing message while errors.Is still finds the
// sentinel (and, when there is one, the underlying cause).
type certError struct {
	msg      string
	sentinel error
	cause    error
}

func (e *certError) Error() string { return e.msg }

func (e *certError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.sentinel}
	}
	return []error{e.sentinel, e.cause}
}

func newErr(sentinel, cause error, format string, args ...any) error {
	return &certError{msg: fmt.Sprintf(format, args...), sentinel: sentinel, cause: cause}
}

// Phrasing helpers so the same parser serves Load (which knows the path) and the
// Parse* functions (which only have bytes).
func inName(name string) string {
	if name == "" {
		return " in the file"
	}
	return " in " + name
}

func forName(name string) string {
	if name == "" {
		return ""
	}
	return " for " + name
}

func prefix(name string) string {
	if name == "" {
		return ""
	}
	return name + ": "
}

// Load reads a PFX/P12 or PEM file (detected by content, not extension) with password
// ("" = none). Decoding gives up when ctx ends, with an error naming the file.
func Load(ctx context.Context, path, password string) (*Credential, error) {
	data, err := readLimited(path)
	if err != nil {
		return nil, err
	}
	c, err := parse(newBudget(ctx), data, password, path)
	if err != nil {
		return nil, err
	}
	c.Path = path
	return c, nil
}

func readLimited(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, newErr(ErrNotFound, err, "certificate not found: %s", path)
		}
		return nil, fmt.Errorf("cannot read certificate %s: %w", path, unwrapPathError(err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read certificate %s: %w", path, unwrapPathError(err))
	}
	if len(data) > maxFileSize {
		return nil, newErr(ErrFormat, nil, "%s: too large for a certificate file (over %d MiB)", path, maxFileSize>>20)
	}
	return data, nil
}

// unwrapPathError drops the *fs.PathError layer so the path is not printed twice.
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// parse dispatches on content. PEM is recognised by its armour anywhere in the file
// (openssl writes "Bag Attributes" text before it); DER starts with a SEQUENCE; anything
// else may be a base64-encoded PFX, which is how Key Vault hands certificates out.
func parse(b *pkcs12.Budget, data []byte, password, name string) (*Credential, error) {
	if bytes.Contains(data, []byte("-----BEGIN ")) {
		return parsePEM(b, data, password, name)
	}
	if len(data) > 0 && data[0] == 0x30 {
		return parseDER(b, data, password, name)
	}
	if der, ok := decodeBase64(data); ok && len(der) > 0 && der[0] == 0x30 {
		return parseDER(b, der, password, name)
	}
	return nil, notCertFile(name)
}

// limitError words the refusals of SPEC §12 (too much key-derivation work, too many
// certificates, the context ending), or returns nil for any other error.
func limitError(err error, name string) error {
	var (
		iter  *pkcs12.IterationsError
		work  *pkcs12.WorkError
		certs *pkcs12.TooManyCertificatesError
	)
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return newErr(context.DeadlineExceeded, nil,
			"%s could not be decoded within the timeout; raise --timeout, or re-export the file with the defaults", certName(name))
	case errors.Is(err, context.Canceled):
		return newErr(context.Canceled, nil, "decoding %s was cancelled", certName(name))
	case errors.As(err, &iter):
		return newErr(ErrFormat, nil, "%skey derivation asks for %s iterations, more than the %d accepted; re-export the file with the defaults",
			prefix(name), pkcs12.FormatCount(iter.Count), iter.Max)
	case errors.As(err, &work):
		return newErr(ErrFormat, nil, "%skey derivation would take %d iterations in all, more than the %d accepted; re-export the file with the defaults",
			prefix(name), work.Work, work.Max)
	case errors.As(err, &certs):
		least := ""
		if certs.AtLeast {
			least = "at least "
		}
		return tooManyCertificates(name, least, certs.Count)
	}
	return nil
}

func tooManyCertificates(name, least string, n int) error {
	return newErr(ErrFormat, nil, "%sthe file holds %s%d certificates, more than the %d accepted; keep only the certificate and the CAs that issued it",
		prefix(name), least, n, maxCertificates)
}

func certName(name string) string {
	if name == "" {
		return "the certificate"
	}
	return "certificate " + name
}

func notCertFile(name string) error {
	if name == "" {
		return newErr(ErrFormat, nil, "%s", ErrFormat.Error())
	}
	return newErr(ErrFormat, nil, "%s: %s", name, ErrFormat.Error())
}

func decodeBase64(data []byte) ([]byte, bool) {
	compact := bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, data)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding} {
		if der, err := enc.DecodeString(string(compact)); err == nil {
			return der, true
		}
	}
	return nil, false
}

// parseDER handles binary input: a PKCS#12 file, or — to give a better error than
// "not a certificate file" — a lone DER certificate or key.
func parseDER(b *pkcs12.Budget, der []byte, password, name string) (*Credential, error) {
	c, err := parsePFX(b, der, password, name)
	if err == nil || !errors.Is(err, ErrFormat) {
		return c, err
	}
	if _, cerr := x509.ParseCertificate(der); cerr == nil {
		return nil, newErr(ErrNoKey, nil, "no private key%s (it holds only a DER certificate)", inName(name))
	}
	if _, kerr := x509.ParsePKCS8PrivateKey(der); kerr == nil {
		return nil, newErr(ErrNoCertificate, nil, "no certificate%s (it holds only a DER private key)", inName(name))
	}
	if _, kerr := x509.ParsePKCS1PrivateKey(der); kerr == nil {
		return nil, newErr(ErrNoCertificate, nil, "no certificate%s (it holds only a DER private key)", inName(name))
	}
	return nil, err
}
