//go:build cgo

package main

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/keystore"
	"github.com/entratool/entratool/core/keystore/softhsmtest"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/internal/testbin"
)

func TestParseOptions(t *testing.T) {
	const mod = "/usr/lib/softhsm/libsofthsm2.so"
	o, err := parseOptions(map[string]string{"module": mod, "tokenLabel": "t", "keyId": "0A:1b", "keyLabel": "app"})
	if err != nil || o.module != mod || o.tokenLabel != "t" || string(o.keyID) != "\x0a\x1b" || o.keyLabel != "app" {
		t.Fatalf("parseOptions = %+v, %v", o, err)
	}
	if o, err := parseOptions(map[string]string{"module": mod, "slot": "3"}); err != nil || *o.slot != 3 || o.token() != "slot 3" {
		t.Errorf("slot: %+v, %v", o, err)
	}
	for _, tc := range []struct {
		opts map[string]string
		want string
	}{
		{map[string]string{"tokenLabel": "t"}, "option module is missing"},
		{map[string]string{"module": mod}, "give exactly one of the options tokenLabel, tokenSerial and slot"},
		{map[string]string{"module": mod, "tokenLabel": "t", "slot": "1"}, "give exactly one of"},
		{map[string]string{"module": mod, "slot": "x"}, `option slot "x" is not a slot number`},
		{map[string]string{"module": mod, "tokenLabel": "t", "keyId": "zz"}, `option keyId "zz" is not hex`},
		{map[string]string{"module": mod, "tokenLabel": "t", "tokenlabel": "t"}, `unknown option "tokenlabel"`},
	} {
		_, err := parseOptions(tc.opts)
		if !errors.Is(err, keystore.ErrBadOptions) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("parseOptions(%v) = %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func FuzzParseOptions(f *testing.F) {
	f.Add("module", "/m.so", "tokenLabel", "t", "keyId", "01")
	f.Add("module", "", "slot", "-1", "keyId", "0:1")
	f.Add("x", "y", "slot", "99999999999999999999", "keyLabel", "")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2, k3, v3 string) {
		o, err := parseOptions(map[string]string{k1: v1, k2: v2, k3: v3})
		if err == nil && (o.module == "" || (o.tokenLabel == "" && o.tokenSerial == "" && o.slot == nil)) {
			t.Errorf("accepted options without a module or token: %+v", o)
		}
		if err != nil && !errors.Is(err, keystore.ErrBadOptions) {
			t.Errorf("error of the wrong kind: %v", err)
		}
	})
}

// buildPlugin puts this plugin (built once per run by internal/testbin) into a home's
// plugins directory, as a user installs it.
func buildPlugin(t *testing.T) string {
	t.Helper()
	home := t.TempDir()
	testbin.Install(t, "./plugins/entratool-keystore-pkcs11", filepath.Join(home, "plugins", "entratool-keystore-pkcs11"))
	return home
}

func host(home string, tok *softhsmtest.Token) keystore.Host {
	env := append(os.Environ(), tok.Env())
	return keystore.Host{Home: home, Getenv: func(string) string { return "" }, Environ: func() []string { return env }, Timeout: 20 * time.Second}
}

func TestPluginAgainstSoftHSM(t *testing.T) {
	softhsmtest.Module(t)
	tok := softhsmtest.New(t, softhsmtest.Options{})
	home := buildPlugin(t)
	h := host(home, tok)
	ctx := context.Background()

	c, err := h.Open(ctx, "pkcs11")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	req := keystore.Request{Options: tok.Options(), PIN: tok.PIN}

	list, err := c.List(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].SHA1 != cert.ThumbprintSHA1(tok.Cert) || list[0].Subject != "CN=hsm-app" || !list[0].HasKey || list[0].KeyRef != "id=01 label=app" {
		t.Fatalf("List = %+v", list)
	}

	chain, err := c.Certificates(ctx, req, cert.ThumbprintSHA256(tok.Cert))
	if err != nil || len(chain) != 1 || !chain[0].Equal(tok.Cert) {
		t.Fatalf("Certificates = %v, %v", chain, err)
	}

	digest := sha256.Sum256([]byte("header.claims"))
	start := time.Now()
	sig, err := c.Sign(ctx, req, cert.ThumbprintSHA1(tok.Cert), digest[:], keystore.PS256)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("PSS sign through the plugin and SoftHSM: %v", time.Since(start))
	pub := tok.Cert.PublicKey.(*rsa.PublicKey)
	// Verified with the exact salt length PS256 requires, not "auto".
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: 32}); err != nil {
		t.Errorf("PS256 signature: %v", err)
	}
	sig, err = c.Sign(ctx, req, cert.ThumbprintSHA1(tok.Cert), digest[:], keystore.RS256)
	if err != nil || rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig) != nil {
		t.Errorf("RS256 signature: %v", err)
	}

	// The key named explicitly, by id and by label.
	for _, o := range []map[string]string{{"keyId": "01"}, {"keyLabel": "app"}} {
		r := keystore.Request{Options: tok.Options(), PIN: tok.PIN}
		for k, v := range o {
			r.Options[k] = v
		}
		if _, err := c.Sign(ctx, r, cert.ThumbprintSHA1(tok.Cert), digest[:], keystore.PS256); err != nil {
			t.Errorf("Sign with %v: %v", o, err)
		}
	}
}

func TestPluginErrorsAgainstSoftHSM(t *testing.T) {
	softhsmtest.Module(t)
	tok := softhsmtest.New(t, softhsmtest.Options{})
	home := buildPlugin(t)
	h := host(home, tok)
	ctx := context.Background()
	tp := cert.ThumbprintSHA1(tok.Cert)
	with := func(k, v string) map[string]string {
		o := tok.Options()
		o[k] = v
		return o
	}
	for _, tc := range []struct {
		name string
		opts map[string]string
		pin  string
		tp   string
		is   error
		want string
	}{
		{"wrong PIN", tok.Options(), "999999", tp, keystore.ErrBadPIN, `key store "pkcs11": the PIN for token "entratool-test" was refused (CKR_PIN_INCORRECT)`},
		{"no PIN", tok.Options(), "", tp, keystore.ErrBadPIN, `token "entratool-test" needs its user PIN and none was given`},
		{"no such token", with("tokenLabel", "other"), tok.PIN, tp, keystore.ErrNotFound, `no token "other" in ` + tok.Module + ` (its tokens: "entratool-test")`},
		{"no such module", with("module", "/nonexistent/libp11.so"), tok.PIN, tp, keystore.ErrUnavailable, "PKCS#11 module /nonexistent/libp11.so cannot be read"},
		{"no such certificate", tok.Options(), tok.PIN, strings.Repeat("AB", 20), keystore.ErrNotFound, "no certificate with thumbprint ABAB"},
		{"no such key", with("keyId", "99"), tok.PIN, tp, keystore.ErrNotFound, `no key pair with id=99 on token "entratool-test"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := &profile.Profile{Name: "hsm", ClientID: "c", CertificateStore: "pkcs11", CertificateThumbprint: tc.tp, CertificateStoreOptions: tc.opts}
			_, _, _, err := h.Credential(ctx, p, tc.pin)
			if !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got  %v\nwant %q (%v)", err, tc.want, tc.is)
			}
			if tc.pin != "" && strings.Contains(err.Error(), tc.pin) {
				t.Errorf("the PIN is in the error: %v", err)
			}
		})
	}
}
