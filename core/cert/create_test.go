package cert

import (
	"bytes"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestCreateWriteLoad is the round trip `entratool cert create` does, checked against
// openssl: the written PFX opens in openssl and shows the same thumbprint.
func TestCreateWriteLoad(t *testing.T) {
	needOpenSSL(t)
	dir := t.TempDir()
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

	for _, tc := range []struct {
		bits    int
		subject string
		want    pkix.Name
	}{
		{2048, "CN=MyApp,O=Contoso\\, Ltd,OU=Platform,C=us", pkix.Name{CommonName: "MyApp",
			Organization: []string{"Contoso, Ltd"}, OrganizationalUnit: []string{"Platform"}, Country: []string{"US"}}},
		{3072, "/CN=Other App/O=Org/L=Berlin/ST=Berlin", pkix.Name{CommonName: "Other App",
			Organization: []string{"Org"}, Locality: []string{"Berlin"}, Province: []string{"Berlin"}}},
	} {
		t.Run(tc.subject, func(t *testing.T) {
			c, err := Create(CreateOptions{Subject: tc.subject, Days: 90, KeySize: tc.bits, Now: now})
			if err != nil {
				t.Fatal(err)
			}
			leaf := c.Leaf
			if got := c.Key.(*rsa.PrivateKey).N.BitLen(); got != tc.bits {
				t.Errorf("key size %d", got)
			}
			if !reflect.DeepEqual(stripNames(leaf.Subject), tc.want) || !reflect.DeepEqual(stripNames(leaf.Issuer), tc.want) {
				t.Errorf("subject %+v issuer %v, want %+v", leaf.Subject, leaf.Issuer, tc.want)
			}
			if !leaf.NotAfter.Equal(now.AddDate(0, 0, 90)) || !leaf.NotBefore.Before(now) || now.Sub(leaf.NotBefore) > 10*time.Minute {
				t.Errorf("validity %v – %v", leaf.NotBefore, leaf.NotAfter)
			}
			if leaf.KeyUsage != x509.KeyUsageDigitalSignature ||
				!reflect.DeepEqual(leaf.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}) || leaf.IsCA {
				t.Errorf("usage %v %v CA=%v", leaf.KeyUsage, leaf.ExtKeyUsage, leaf.IsCA)
			}
			if bl := leaf.SerialNumber.BitLen(); bl > 128 || bl < 64 || leaf.SerialNumber.Sign() <= 0 {
				t.Errorf("serial %v has %d bits", leaf.SerialNumber, bl)
			}
			if err := leaf.CheckSignature(leaf.SignatureAlgorithm, leaf.RawTBSCertificate, leaf.Signature); err != nil {
				t.Errorf("not self-signed: %v", err)
			}

			path := filepath.Join(dir, tc.want.CommonName+".pfx")
			// An existing looser file is replaced, not reused with its mode.
			writeFile(t, path, []byte("old"))
			if err := os.Chmod(path, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := WritePFX(path, c, testPassword); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("mode %v, %v", fi.Mode(), err)
			}
			got, err := Load(t.Context(), path, testPassword)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Leaf.Equal(leaf) || !got.Key.(*rsa.PrivateKey).Equal(c.Key) || len(got.Chain) != 1 {
				t.Errorf("round trip changed the credential")
			}

			info := string(openssl(t, dir, "pkcs12", "-in", path, "-info", "-noout", "-passin", "pass:"+testPassword))
			if !strings.Contains(info, "MAC: sha256") || !strings.Contains(info, "AES-256-CBC") {
				t.Errorf("not AES-256/SHA-256:\n%s", info)
			}
			openssl(t, dir, "pkcs12", "-in", path, "-nokeys", "-passin", "pass:"+testPassword, "-out", "leaf.pem")
			if fp := opensslFingerprint(t, dir, "leaf.pem", "sha1", false); fp != ThumbprintSHA1(leaf) {
				t.Errorf("openssl fingerprint %s, ThumbprintSHA1 %s", fp, ThumbprintSHA1(leaf))
			}
			text := string(openssl(t, dir, "x509", "-in", "leaf.pem", "-noout", "-text"))
			for _, want := range []string{"Digital Signature", "TLS Web Client Authentication"} {
				if !strings.Contains(text, want) {
					t.Errorf("openssl -text lacks %q", want)
				}
			}
			if w := PermissionWarning(path); w != "" {
				t.Errorf("written file draws %q", w)
			}
		})
	}
}

// stripNames drops the parsed Names/ExtraNames so DeepEqual compares the fields only.
func stripNames(n pkix.Name) pkix.Name {
	n.Names, n.ExtraNames = nil, nil
	return n
}

func TestCreateRejects(t *testing.T) {
	// All of these fail before any key is generated.
	for _, o := range []CreateOptions{
		{Subject: "CN=x", KeySize: 1024},
		{Subject: "CN=x", KeySize: 2047},
		{Subject: "CN=x", Days: -1},
		{Subject: "CN=x", Days: 40000},
		{Subject: ""},
		{Subject: "O=Org"},
	} {
		if _, err := Create(o); err == nil {
			t.Errorf("Create(%+v) succeeded", o)
		}
	}
	_, err := Create(CreateOptions{Subject: "CN=x", KeySize: 1024})
	if err == nil || err.Error() != "unsupported RSA key size 1024: use 2048, 3072 or 4096" {
		t.Errorf("got %v", err)
	}
}

func TestParseSubject(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want pkix.Name
	}{
		{"CN=MyApp", pkix.Name{CommonName: "MyApp"}},
		{"MyApp", pkix.Name{CommonName: "MyApp"}},
		{" cn = My App , o = Org ", pkix.Name{CommonName: "My App", Organization: []string{"Org"}}},
		{`CN=a\,b,O="Acme, Inc",OU=x,OU=y`, pkix.Name{CommonName: "a,b", Organization: []string{"Acme, Inc"}, OrganizationalUnit: []string{"x", "y"}}},
		{"/CN=MyApp/O=Org/C=de/S=Bayern", pkix.Name{CommonName: "MyApp", Organization: []string{"Org"}, Country: []string{"DE"}, Province: []string{"Bayern"}}},
		{"CN=a=b", pkix.Name{CommonName: "a=b"}},
	} {
		got, err := ParseSubject(tc.in)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseSubject(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "   ", "O=Org", "CN=a,CN=b", "CN=x,E=me@x", "CN=x,C=USA", "CN=", "CN=x,=y", `CN=x\`, `CN="x`, "CN=x,,O=y"} {
		if _, err := ParseSubject(in); err == nil {
			t.Errorf("ParseSubject(%q) succeeded", in)
		}
	}
}

func TestEncodeCER(t *testing.T) {
	needOpenSSL(t)
	key := sharedKey(t)
	now := time.Now()
	c := goCert(t, "cer", &key.PublicKey, key, nil, now, now.Add(time.Hour), false)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "c.cer"), EncodeCER(c, true))
	writeFile(t, filepath.Join(dir, "c.pem"), EncodeCER(c, false))
	if fp := opensslFingerprint(t, dir, "c.cer", "sha1", true); fp != ThumbprintSHA1(c) {
		t.Errorf("DER: openssl %s, ours %s", fp, ThumbprintSHA1(c))
	}
	if fp := opensslFingerprint(t, dir, "c.pem", "sha256", false); fp != ThumbprintSHA256(c) {
		t.Errorf("PEM: openssl %s, ours %s", fp, ThumbprintSHA256(c))
	}
	b, _ := pem.Decode(EncodeCER(c, false))
	if b == nil || b.Type != "CERTIFICATE" || !bytes.Equal(b.Bytes, c.Raw) {
		t.Errorf("PEM block %v", b)
	}
	der := EncodeCER(c, true)
	der[0] ^= 0xff
	if c.Raw[0] != 0x30 {
		t.Error("EncodeCER(der) aliases the certificate's bytes")
	}
}

func TestEncodePFXChainAndErrors(t *testing.T) {
	key := sharedKey(t)
	now := time.Now()
	ca := goCert(t, "CA", &key.PublicKey, key, nil, now, now.Add(time.Hour), true)
	// Leaf and CA share the key here, so the leaf is told apart by name below.
	leaf := goCert(t, "leaf", &key.PublicKey, key, ca, now, now.Add(time.Hour), false)
	data, err := EncodePFX(&Credential{Leaf: leaf, Chain: []*x509.Certificate{leaf, ca}, Key: key}, "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParsePFX(t.Context(), data, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Chain) != 2 || got.Chain[1].Subject.CommonName != "CA" {
		t.Errorf("chain %v", got.Chain)
	}
	if _, err := EncodePFX(&Credential{Leaf: leaf}, "x"); err == nil {
		t.Error("EncodePFX without key succeeded")
	}
	if _, err := EncodePFX(nil, "x"); err == nil {
		t.Error("EncodePFX(nil) succeeded")
	}
}

func TestPermissionWarning(t *testing.T) {
	dir := t.TempDir()
	p := writeFile(t, filepath.Join(dir, "cert.pfx"), []byte("x"))
	for _, tc := range []struct {
		mode os.FileMode
		want string
	}{
		{0o600, ""},
		{0o400, ""},
		{0o644, "warning: " + p + " is readable by group or others (mode 0644); run: chmod 600 " + p},
		{0o640, "warning: " + p + " is readable by group or others (mode 0640); run: chmod 600 " + p},
		{0o620, "warning: " + p + " is accessible by group or others (mode 0620); run: chmod 600 " + p},
	} {
		if err := os.Chmod(p, tc.mode); err != nil {
			t.Fatal(err)
		}
		if got := PermissionWarning(p); got != tc.want {
			t.Errorf("mode %04o:\n got %q\nwant %q", tc.mode, got, tc.want)
		}
	}
	spaced := writeFile(t, filepath.Join(dir, "my cert's.pfx"), []byte("x"))
	if err := os.Chmod(spaced, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := PermissionWarning(spaced); !strings.HasSuffix(got, `run: chmod 600 '`+dir+`/my cert'\''s.pfx'`) {
		t.Errorf("unquoted path in %q", got)
	}
	if got := PermissionWarning(filepath.Join(dir, "missing")); got != "" {
		t.Errorf("missing file: %q", got)
	}
}
