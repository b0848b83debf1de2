// Command fakeplugin is a key-store plugin backed by a PEM file, for tests of the
// plugin host: it signs like a real store and misbehaves on request.
//
// Options (certificateStoreOptions): pem = file with the certificate and its PKCS#8
// key; pin = the PIN calls must carry (none when absent); crash = List, Certificates or
// Sign (exit mid-call); hang = the same (never answer); wrongKey = true (sign with
// another key); echoEnv = NAME (List reports the plugin's $NAME in the key ref).
// FAKEPLUGIN_MODE in the environment acts before the handshake:
// crash-start, hang-start, not-a-plugin.
package main

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/entratool/entratool/core/keystore"
)

func main() {
	switch os.Getenv("FAKEPLUGIN_MODE") {
	case "crash-start":
		fmt.Fprintln(os.Stderr, "fakeplugin: cannot open the store: simulated start failure")
		os.Exit(2)
	case "hang-start":
		time.Sleep(time.Hour)
	case "not-a-plugin":
		fmt.Println("hello, I am some other program")
		os.Exit(0)
	}
	// go-plugin points os.Stderr at its stdio stream once serving; a crash report, like
	// a Go panic or a C library's abort message, goes to file descriptor 2.
	keystore.Serve(store{stderr: os.Stderr})
}

type store struct{ stderr *os.File }

func (s store) misbehave(r keystore.Request, op string) {
	if strings.EqualFold(r.Options["crash"], op) {
		fmt.Fprintf(s.stderr, "fakeplugin: simulated crash in %s\n", op)
		os.Exit(2)
	}
	if strings.EqualFold(r.Options["hang"], op) {
		time.Sleep(time.Hour)
	}
}

type loaded struct {
	leaf *x509.Certificate
	key  *rsa.PrivateKey
}

func load(r keystore.Request) (*loaded, error) {
	if want := r.Options["pin"]; want != "" && r.PIN != want {
		return nil, fmt.Errorf("the PIN was refused (fake CKR_PIN_INCORRECT): %w", keystore.ErrBadPIN)
	}
	path := r.Options["pem"]
	if path == "" {
		return nil, fmt.Errorf("option pem is missing: %w", keystore.ErrBadOptions)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%v: %w", err, keystore.ErrUnavailable)
	}
	l := &loaded{}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		switch b.Type {
		case "CERTIFICATE":
			if l.leaf == nil {
				if l.leaf, err = x509.ParseCertificate(b.Bytes); err != nil {
					return nil, err
				}
			}
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, err
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("key is %T: %w", k, keystore.ErrUnsupported)
			}
			l.key = rk
		}
	}
	if l.leaf == nil {
		return nil, fmt.Errorf("no certificate in %s: %w", path, keystore.ErrNotFound)
	}
	return l, nil
}

func thumbs(c *x509.Certificate) (string, string) {
	s1 := sha1.Sum(c.Raw)
	s2 := sha256.Sum256(c.Raw)
	return strings.ToUpper(hex.EncodeToString(s1[:])), strings.ToUpper(hex.EncodeToString(s2[:]))
}

func (s store) find(r keystore.Request, thumbprint string) (*loaded, error) {
	l, err := load(r)
	if err != nil {
		return nil, err
	}
	a, b := thumbs(l.leaf)
	if !strings.EqualFold(thumbprint, a) && !strings.EqualFold(thumbprint, b) {
		return nil, fmt.Errorf("no certificate with thumbprint %s: %w", thumbprint, keystore.ErrNotFound)
	}
	return l, nil
}

func (s store) List(ctx context.Context, r keystore.Request) ([]keystore.Item, error) {
	s.misbehave(r, "List")
	l, err := load(r)
	if err != nil {
		return nil, err
	}
	ref := "file=" + r.Options["pem"]
	if name := r.Options["echoEnv"]; name != "" {
		ref += " " + name + "=" + os.Getenv(name)
	}
	return []keystore.Item{{Certificate: l.leaf.Raw, HasKey: l.key != nil, KeyRef: ref}}, nil
}

func (s store) Certificates(ctx context.Context, r keystore.Request, thumbprint string) ([][]byte, error) {
	s.misbehave(r, "Certificates")
	l, err := s.find(r, thumbprint)
	if err != nil {
		return nil, err
	}
	return [][]byte{l.leaf.Raw}, nil
}

func (s store) Sign(ctx context.Context, r keystore.Request, thumbprint string, digest []byte, alg keystore.Algorithm) ([]byte, error) {
	s.misbehave(r, "Sign")
	l, err := s.find(r, thumbprint)
	if err != nil {
		return nil, err
	}
	key := l.key
	if key == nil {
		return nil, fmt.Errorf("no private key for %s: %w", thumbprint, keystore.ErrNotFound)
	}
	if r.Options["wrongKey"] == "true" {
		if key, err = rsa.GenerateKey(rand.Reader, 2048); err != nil {
			return nil, err
		}
	}
	switch alg {
	case keystore.PS256:
		return rsa.SignPSS(rand.Reader, key, crypto.SHA256, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
	case keystore.RS256:
		return rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, digest)
	}
	return nil, fmt.Errorf("algorithm %s: %w", alg, keystore.ErrUnsupported)
}
