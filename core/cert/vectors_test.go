package cert

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"software.sslmate.com/src/go-pkcs12"
)

// vectors is a directory of openssl-made inputs around the shared RSA key:
//
//	key.pem    the shared key, PKCS#8 (as openssl pkey writes it)
//	cert.pem   self-signed CN=entratool-test for key.pem
//	ca.pem     CN=Test CA, ECDSA P-256 (cheap to generate), ca.key its key
//	leaf.pem   CN=leaf for key.pem, issued by ca.pem
type vectors struct {
	dir string
}

func newVectors(t *testing.T) *vectors {
	t.Helper()
	needOpenSSL(t)
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "go-key.pem"), pkcs8PEM(t, sharedKey(t)))
	openssl(t, dir, "pkey", "-in", "go-key.pem", "-out", "key.pem")
	openssl(t, dir, "req", "-new", "-x509", "-key", "key.pem", "-subj", "/CN=entratool-test/O=Entratool Tests",
		"-days", "30", "-out", "cert.pem")
	openssl(t, dir, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
		"-keyout", "ca.key", "-subj", "/CN=Test CA", "-days", "30", "-out", "ca.pem")
	openssl(t, dir, "req", "-new", "-key", "key.pem", "-subj", "/CN=leaf", "-out", "leaf.csr")
	openssl(t, dir, "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
		"-days", "30", "-out", "leaf.pem")
	return &vectors{dir: dir}
}

func (v *vectors) path(name string) string { return filepath.Join(v.dir, name) }

func (v *vectors) run(t *testing.T, args ...string) { openssl(t, v.dir, args...) }

// check loads file and verifies leaf (by openssl's fingerprint of wantLeafFile), key and
// the subjects of the chain.
func (v *vectors) check(t *testing.T, file, password, wantLeafFile string, wantChain ...string) *Credential {
	t.Helper()
	c, err := Load(t.Context(), v.path(file), password)
	if err != nil {
		t.Fatalf("Load(%s): %v", file, err)
	}
	if got, want := ThumbprintSHA1(c.Leaf), opensslFingerprint(t, v.dir, wantLeafFile, "sha1", false); got != want {
		t.Errorf("leaf thumbprint %s, openssl says %s", got, want)
	}
	if got, want := ThumbprintSHA256(c.Leaf), opensslFingerprint(t, v.dir, wantLeafFile, "sha256", false); got != want {
		t.Errorf("leaf SHA-256 thumbprint %s, openssl says %s", got, want)
	}
	if !sameKey(c, sharedKey(t)) {
		t.Errorf("key is not the shared test key")
	}
	if c.Path != v.path(file) {
		t.Errorf("Path = %q", c.Path)
	}
	var got []string
	for _, cc := range c.Chain {
		got = append(got, cc.Subject.CommonName)
	}
	if strings.Join(got, ",") != strings.Join(wantChain, ",") {
		t.Errorf("chain %v, want %v", got, wantChain)
	}
	if c.Chain[0] != c.Leaf {
		t.Errorf("Chain[0] is not Leaf")
	}
	return c
}

func (v *vectors) wrongPassword(t *testing.T, file string) {
	t.Helper()
	_, err := Load(t.Context(), v.path(file), wrongPassword)
	assertErr(t, err, ErrBadPassword, "invalid certificate password for "+v.path(file))
}

func TestPFXVectors(t *testing.T) {
	v := newVectors(t)
	export := func(t *testing.T, out, pass string, extra ...string) {
		args := append([]string{"pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-out", out,
			"-passout", "pass:" + pass}, extra...)
		v.run(t, args...)
	}

	t.Run("openssl3 default AES-256 SHA-256 MAC", func(t *testing.T) {
		export(t, "default.pfx", testPassword)
		info := string(openssl(t, v.dir, "pkcs12", "-in", "default.pfx", "-info", "-noout", "-passin", "pass:"+testPassword))
		if !strings.Contains(info, "MAC: sha256") || !strings.Contains(info, "AES-256-CBC") {
			t.Fatalf("openssl did not write its modern defaults:\n%s", info)
		}
		v.check(t, "default.pfx", testPassword, "cert.pem", "entratool-test")
		v.wrongPassword(t, "default.pfx")
		_, err := Load(t.Context(), v.path("default.pfx"), "")
		// A missing password is not reported as a wrong one.
		assertErr(t, err, ErrPasswordRequired, "certificate password required for "+v.path("default.pfx")+
			": the file is password-protected and no password was given")
		assertErr(t, err, ErrBadPassword, err.Error())
	})
	t.Run("legacy RC2 3DES SHA-1 MAC", func(t *testing.T) {
		export(t, "legacy.pfx", testPassword, "-legacy")
		info := string(openssl(t, v.dir, "pkcs12", "-legacy", "-in", "legacy.pfx", "-info", "-noout", "-passin", "pass:"+testPassword))
		if !strings.Contains(info, "MAC: sha1") || !strings.Contains(info, "RC2") {
			t.Fatalf("not a legacy file:\n%s", info)
		}
		v.check(t, "legacy.pfx", testPassword, "cert.pem", "entratool-test")
		v.wrongPassword(t, "legacy.pfx")
	})
	t.Run("empty password", func(t *testing.T) {
		export(t, "empty.pfx", "")
		v.check(t, "empty.pfx", "", "cert.pem", "entratool-test")
		v.wrongPassword(t, "empty.pfx")
	})
	t.Run("no password at all (no encryption, no MAC)", func(t *testing.T) {
		export(t, "nopass.pfx", "", "-keypbe", "NONE", "-certpbe", "NONE", "-nomac")
		v.check(t, "nopass.pfx", "", "cert.pem", "entratool-test")
		// A password remembered from an earlier file must not make it unreadable.
		v.check(t, "nopass.pfx", testPassword, "cert.pem", "entratool-test")
	})
	t.Run("MAC but no encryption", func(t *testing.T) {
		export(t, "maconly.pfx", testPassword, "-keypbe", "NONE", "-certpbe", "NONE")
		v.check(t, "maconly.pfx", testPassword, "cert.pem", "entratool-test")
		v.wrongPassword(t, "maconly.pfx")
	})
	t.Run("encrypted without MAC is refused clearly", func(t *testing.T) {
		export(t, "nomac.pfx", testPassword, "-nomac")
		_, err := Load(t.Context(), v.path("nomac.pfx"), testPassword)
		assertErr(t, err, ErrFormat, v.path("nomac.pfx")+
			": PKCS#12 files with a password but no integrity MAC are not supported; re-export with a MAC (omit -nomac)")
	})
	t.Run("CA chain via -certfile", func(t *testing.T) {
		v.run(t, "pkcs12", "-export", "-in", "leaf.pem", "-certfile", "ca.pem", "-inkey", "key.pem",
			"-out", "chain.pfx", "-passout", "pass:"+testPassword)
		v.check(t, "chain.pfx", testPassword, "leaf.pem", "leaf", "Test CA")
	})
	t.Run("Windows-like TripleDES_SHA1 with chain", func(t *testing.T) {
		v.run(t, "pkcs12", "-export", "-in", "leaf.pem", "-certfile", "ca.pem", "-inkey", "key.pem",
			"-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1",
			"-out", "windows.pfx", "-passout", "pass:"+testPassword)
		v.check(t, "windows.pfx", testPassword, "leaf.pem", "leaf", "Test CA")
		v.wrongPassword(t, "windows.pfx")
	})
	t.Run("non-ASCII password", func(t *testing.T) {
		const pw = "Pässwörd-ß€"
		export(t, "utf8.pfx", pw)
		v.check(t, "utf8.pfx", pw, "cert.pem", "entratool-test")
		_, err := Load(t.Context(), v.path("utf8.pfx"), "Passwort")
		assertErr(t, err, ErrBadPassword, "")
	})
	t.Run("base64 text as Key Vault exports it", func(t *testing.T) {
		export(t, "kv.pfx", testPassword)
		v.run(t, "base64", "-in", "kv.pfx", "-out", "kv.pfx.b64")
		v.check(t, "kv.pfx.b64", testPassword, "cert.pem", "entratool-test")
		raw := readFile(t, v.path("kv.pfx"))
		writeFile(t, v.path("kv-oneline.txt"), []byte(base64.StdEncoding.EncodeToString(raw)+"\n"))
		v.check(t, "kv-oneline.txt", testPassword, "cert.pem", "entratool-test")
	})
	t.Run("leaf not first (written by go-pkcs12, read back by openssl)", func(t *testing.T) {
		// openssl always writes the key's certificate first, so this file comes from
		// go-pkcs12 with the CA in the first bag, the order Windows chain exports can have.
		ca := mustLoadCert(t, v.path("ca.pem"))
		leaf := mustLoadCert(t, v.path("leaf.pem"))
		data, err := pkcs12.Modern2023.Encode(sharedKey(t), ca, []*x509.Certificate{leaf}, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, v.path("cafirst.pfx"), data)
		_, first, _, err := pkcs12.DecodeChain(data, testPassword)
		if err != nil || first.Subject.CommonName != "Test CA" {
			t.Fatalf("fixture does not have the CA first (first=%v, err=%v)", first, err)
		}
		v.check(t, "cafirst.pfx", testPassword, "leaf.pem", "leaf", "Test CA")
		out := openssl(t, v.dir, "pkcs12", "-in", "cafirst.pfx", "-nodes", "-passin", "pass:"+testPassword)
		if !bytes.Contains(out, []byte("PRIVATE KEY")) || bytes.Count(out, []byte("BEGIN CERTIFICATE")) != 2 {
			t.Errorf("openssl could not read it back:\n%s", out)
		}
	})
	t.Run("PBMAC1 (OpenSSL 3.4+, written by go-pkcs12)", func(t *testing.T) {
		data, err := pkcs12.Modern2026.Encode(sharedKey(t), mustLoadCert(t, v.path("cert.pem")), nil, testPassword)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, v.path("pbmac1.pfx"), data)
		v.check(t, "pbmac1.pfx", testPassword, "cert.pem", "entratool-test")
		v.wrongPassword(t, "pbmac1.pfx")
	})
	t.Run("MAC sha384 is refused with a way out", func(t *testing.T) {
		export(t, "sha384.pfx", testPassword, "-macalg", "sha384")
		_, err := Load(t.Context(), v.path("sha384.pfx"), testPassword)
		assertErr(t, err, ErrFormat, "")
		if !strings.Contains(err.Error(), "openssl pkcs12 -in OLD.pfx -nodes | openssl pkcs12 -export -out NEW.pfx") {
			t.Errorf("no conversion hint in %q", err)
		}
	})
	t.Run("ParsePFX without a path", func(t *testing.T) {
		export(t, "bytes.pfx", testPassword)
		data := readFile(t, v.path("bytes.pfx"))
		c, err := ParsePFX(t.Context(), data, testPassword)
		if err != nil || !sameKey(c, sharedKey(t)) || c.Path != "" {
			t.Fatalf("ParsePFX: %v", err)
		}
		_, err = ParsePFX(t.Context(), data, wrongPassword)
		assertErr(t, err, ErrBadPassword, "invalid certificate password")
	})
}

func mustLoadCert(t *testing.T, path string) *x509.Certificate {
	t.Helper()
	c, err := parseCertsPEM(readFile(t, path))
	if err != nil || len(c) == 0 {
		t.Fatalf("%s: %v", path, err)
	}
	return c[0]
}

func parseCertsPEM(data []byte) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return out, nil
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
}

func TestPEMVectors(t *testing.T) {
	v := newVectors(t)
	cat := func(t *testing.T, out string, files ...string) {
		var buf bytes.Buffer
		for _, f := range files {
			buf.Write(readFile(t, v.path(f)))
		}
		writeFile(t, v.path(out), buf.Bytes())
	}

	t.Run("PKCS#1 key", func(t *testing.T) {
		v.run(t, "pkey", "-in", "key.pem", "-traditional", "-out", "key1.pem")
		if !bytes.Contains(readFile(t, v.path("key1.pem")), []byte("BEGIN RSA PRIVATE KEY")) {
			t.Fatal("openssl did not write PKCS#1")
		}
		cat(t, "pkcs1.pem", "cert.pem", "key1.pem")
		v.check(t, "pkcs1.pem", "", "cert.pem", "entratool-test")
		// A password given for an unencrypted key is simply not needed.
		v.check(t, "pkcs1.pem", testPassword, "cert.pem", "entratool-test")
	})
	t.Run("PKCS#8 key before the certificate", func(t *testing.T) {
		cat(t, "pkcs8.pem", "key.pem", "cert.pem")
		v.check(t, "pkcs8.pem", "", "cert.pem", "entratool-test")
	})
	for _, enc := range []struct {
		name, file string
		args       []string
	}{
		{"encrypted PKCS#8 aes-256-cbc (openssl 3 default)", "enc-aes256.pem", []string{"-v2", "aes-256-cbc"}},
		{"encrypted PKCS#8 des3", "enc-des3.pem", []string{"-v2", "des3"}},
		{"encrypted PKCS#8 aes-128-cbc hmacWithSHA1", "enc-aes128.pem", []string{"-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA1"}},
		{"encrypted PKCS#8 aes-192-cbc hmacWithSHA512", "enc-aes192.pem", []string{"-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512"}},
	} {
		t.Run(enc.name, func(t *testing.T) {
			args := append([]string{"pkcs8", "-topk8", "-in", "key.pem", "-out", "k-" + enc.file, "-passout", "pass:" + testPassword}, enc.args...)
			v.run(t, args...)
			cat(t, enc.file, "cert.pem", "k-"+enc.file)
			v.check(t, enc.file, testPassword, "cert.pem", "entratool-test")
			v.wrongPassword(t, enc.file)
			_, err := Load(t.Context(), v.path(enc.file), "")
			assertErr(t, err, ErrPasswordRequired, "certificate password required for "+v.path(enc.file)+
				": the private key is encrypted and no password was given")
			assertErr(t, err, ErrBadPassword, err.Error())
		})
	}
	t.Run("openssl pkcs12 -nodes output with chain and Bag Attributes", func(t *testing.T) {
		v.run(t, "pkcs12", "-export", "-in", "leaf.pem", "-certfile", "ca.pem", "-inkey", "key.pem",
			"-out", "chain.pfx", "-passout", "pass:"+testPassword)
		v.run(t, "pkcs12", "-in", "chain.pfx", "-nodes", "-passin", "pass:"+testPassword, "-out", "dump.pem")
		if !bytes.Contains(readFile(t, v.path("dump.pem")), []byte("Bag Attributes")) {
			t.Fatal("expected openssl's Bag Attributes text")
		}
		v.check(t, "dump.pem", "", "leaf.pem", "leaf", "Test CA")
	})
	t.Run("CA before leaf in PEM", func(t *testing.T) {
		cat(t, "ca-first.pem", "ca.pem", "key.pem", "leaf.pem")
		v.check(t, "ca-first.pem", "", "leaf.pem", "leaf", "Test CA")
	})
	t.Run("legacy Proc-Type encrypted key is refused with the fix", func(t *testing.T) {
		v.run(t, "rsa", "-in", "key.pem", "-aes256", "-traditional", "-passout", "pass:"+testPassword, "-out", "legacy-key.pem")
		cat(t, "legacy.pem", "cert.pem", "legacy-key.pem")
		_, err := Load(t.Context(), v.path("legacy.pem"), testPassword)
		assertErr(t, err, ErrFormat, v.path("legacy.pem")+
			": legacy encrypted PEM keys (Proc-Type: 4,ENCRYPTED) are not supported; convert the key: openssl pkcs8 -topk8 -v2 aes-256-cbc -in OLD.pem -out NEW.pem")
	})
	t.Run("PBES1 encrypted PKCS#8 is refused with the fix", func(t *testing.T) {
		v.run(t, "pkcs8", "-topk8", "-v1", "PBE-SHA1-3DES", "-in", "key.pem", "-out", "pbes1-key.pem", "-passout", "pass:"+testPassword)
		cat(t, "pbes1.pem", "cert.pem", "pbes1-key.pem")
		_, err := Load(t.Context(), v.path("pbes1.pem"), testPassword)
		assertErr(t, err, ErrFormat, "")
		if !strings.Contains(err.Error(), "is not supported; re-encrypt the key: openssl pkcs8 -topk8 -v2 aes-256-cbc") {
			t.Errorf("unexpected text %q", err)
		}
	})
	t.Run("ParsePEM without a path", func(t *testing.T) {
		v.run(t, "pkcs8", "-topk8", "-in", "key.pem", "-out", "k-both.pem", "-passout", "pass:"+testPassword)
		cat(t, "both.pem", "cert.pem", "k-both.pem")
		c, err := ParsePEM(t.Context(), readFile(t, v.path("both.pem")), testPassword)
		if err != nil || !sameKey(c, sharedKey(t)) {
			t.Fatalf("ParsePEM: %v", err)
		}
		_, err = ParsePEM(t.Context(), readFile(t, v.path("both.pem")), wrongPassword)
		assertErr(t, err, ErrBadPassword, "invalid certificate password")
	})
}

// TestErrors covers the failures a user meets, with their exact text.
func TestErrors(t *testing.T) {
	v := newVectors(t)
	p := v.path

	t.Run("missing file", func(t *testing.T) {
		_, err := Load(t.Context(), p("nope.pfx"), testPassword)
		assertErr(t, err, ErrNotFound, "certificate not found: "+p("nope.pfx"))
		if !errors.Is(err, os.ErrNotExist) {
			t.Error("the os error is not wrapped")
		}
	})
	t.Run("directory", func(t *testing.T) {
		_, err := Load(t.Context(), v.dir, "")
		if err == nil || !strings.Contains(err.Error(), "is a directory") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("ECDSA key in PFX", func(t *testing.T) {
		v.run(t, "pkcs12", "-export", "-in", "ca.pem", "-inkey", "ca.key", "-out", "ec.pfx", "-passout", "pass:"+testPassword)
		_, err := Load(t.Context(), p("ec.pfx"), testPassword)
		assertErr(t, err, ErrUnsupportedKey, "unsupported key type ECDSA in "+p("ec.pfx")+" (Entra client assertions need RSA)")
	})
	t.Run("ECDSA key in PEM, PKCS#8 and SEC1", func(t *testing.T) {
		writeFile(t, p("ec8.pem"), append(readFile(t, p("ca.pem")), readFile(t, p("ca.key"))...))
		_, err := Load(t.Context(), p("ec8.pem"), "")
		assertErr(t, err, ErrUnsupportedKey, "unsupported key type ECDSA in "+p("ec8.pem")+" (Entra client assertions need RSA)")
		v.run(t, "ec", "-in", "ca.key", "-out", "ca-sec1.key")
		writeFile(t, p("ec1.pem"), append(readFile(t, p("ca.pem")), readFile(t, p("ca-sec1.key"))...))
		_, err = Load(t.Context(), p("ec1.pem"), "")
		assertErr(t, err, ErrUnsupportedKey, "unsupported key type ECDSA in "+p("ec1.pem")+" (Entra client assertions need RSA)")
	})
	t.Run("certificate-only PFX", func(t *testing.T) {
		v.run(t, "pkcs12", "-export", "-nokeys", "-in", "cert.pem", "-out", "certonly.pfx", "-passout", "pass:"+testPassword)
		_, err := Load(t.Context(), p("certonly.pfx"), testPassword)
		assertErr(t, err, ErrNoKey, "no private key in "+p("certonly.pfx")+" (it holds only certificates; export the PFX with its private key)")
	})
	t.Run("certificate-only PEM and DER", func(t *testing.T) {
		_, err := Load(t.Context(), p("cert.pem"), "")
		assertErr(t, err, ErrNoKey, "no private key in "+p("cert.pem")+" (it holds only certificates; append the key: cat cert.pem key.pem > both.pem)")
		v.run(t, "x509", "-in", "cert.pem", "-outform", "DER", "-out", "cert.cer")
		_, err = Load(t.Context(), p("cert.cer"), "")
		assertErr(t, err, ErrNoKey, "no private key in "+p("cert.cer")+" (it holds only a DER certificate)")
	})
	t.Run("key-only PEM", func(t *testing.T) {
		_, err := Load(t.Context(), p("key.pem"), "")
		assertErr(t, err, ErrNoCertificate, "no certificate in "+p("key.pem")+" (it holds only a private key; append the certificate: cat cert.pem key.pem > both.pem)")
	})
	t.Run("key of another certificate", func(t *testing.T) {
		writeFile(t, p("mismatch.pem"), append(readFile(t, p("ca.pem")), readFile(t, p("key.pem"))...))
		_, err := Load(t.Context(), p("mismatch.pem"), "")
		assertErr(t, err, ErrKeyMismatch, "the private key in "+p("mismatch.pem")+" matches none of its 1 certificate(s)")
	})
	t.Run("garbage, empty, truncated", func(t *testing.T) {
		writeFile(t, p("garbage.pfx"), []byte("this is not a certificate\x00\x01\x02"))
		_, err := Load(t.Context(), p("garbage.pfx"), testPassword)
		assertErr(t, err, ErrFormat, p("garbage.pfx")+": not a PKCS#12 or PEM certificate file")
		writeFile(t, p("empty.pfx"), nil)
		_, err = Load(t.Context(), p("empty.pfx"), testPassword)
		assertErr(t, err, ErrFormat, p("empty.pfx")+": not a PKCS#12 or PEM certificate file")
		v.run(t, "pkcs12", "-export", "-in", "cert.pem", "-inkey", "key.pem", "-out", "full.pfx", "-passout", "pass:"+testPassword)
		full := readFile(t, p("full.pfx"))
		writeFile(t, p("half.pfx"), full[:len(full)/2])
		_, err = Load(t.Context(), p("half.pfx"), testPassword)
		assertErr(t, err, ErrFormat, p("half.pfx")+": not a PKCS#12 or PEM certificate file")
		writeFile(t, p("junk.pem"), []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
		_, err = Load(t.Context(), p("junk.pem"), "")
		assertErr(t, err, ErrFormat, "")
		if !strings.HasPrefix(err.Error(), p("junk.pem")+": certificate 1 is malformed: ") {
			t.Errorf("got %q", err)
		}
	})
	t.Run("two keys", func(t *testing.T) {
		writeFile(t, p("twokeys.pem"), bytes.Join([][]byte{readFile(t, p("cert.pem")), readFile(t, p("key.pem")), readFile(t, p("key.pem"))}, nil))
		_, err := Load(t.Context(), p("twokeys.pem"), "")
		assertErr(t, err, ErrFormat, p("twokeys.pem")+": more than one private key; keep only the certificate's key in the file")
	})
}
