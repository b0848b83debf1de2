package cli

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/entratool/entratool/core/cert"
)

// hostileCN would, printed raw, forge an extra line, colour the terminal, return the
// cursor, and reverse the rest of the line.
const hostileCN = "evil\nentratool: forged line\x1b[31m red\r\u202egnp.exe"

// writeHostileCert makes a self-signed certificate (with crypto/x509 directly: cert
// create would refuse such a subject) valid from notBefore for days, and writes it as a
// PFX with key and as a public .cer.
func writeHostileCert(t *testing.T, dir, name string, notBefore time.Time, days int, password string) (pfx, cer string) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	subj := pkix.Name{CommonName: hostileCN, Organization: []string{"Org\x1b]0;owned\x07\u0085"}}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1234), Subject: subj, Issuer: subj,
		NotBefore: notBefore, NotAfter: notBefore.AddDate(0, 0, days),
		KeyUsage: x509.KeyUsageDigitalSignature, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	if leaf.Subject.CommonName != hostileCN {
		t.Fatalf("CN did not survive encoding: %q", leaf.Subject.CommonName)
	}
	pfx, cer = filepath.Join(dir, name+".pfx"), filepath.Join(dir, name+".cer")
	if err := cert.WritePFX(pfx, &cert.Credential{Leaf: leaf, Chain: []*x509.Certificate{leaf}, Key: key}, password); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cer, cert.EncodeCER(leaf, false), 0o600); err != nil {
		t.Fatal(err)
	}
	return pfx, cer
}

// checkTerminalSafe asserts text holds no raw control or bidi character other than the
// line ending of each line, and no line that the hostile subject forged.
func checkTerminalSafe(t *testing.T, what, text string) {
	t.Helper()
	for _, line := range strings.SplitAfter(text, "\n") {
		body := strings.TrimSuffix(line, "\n")
		for _, b := range []byte(body) {
			if b < 0x20 || b == 0x7f {
				t.Fatalf("%s: raw control byte 0x%02x in %q", what, b, line)
			}
		}
		for _, r := range body {
			if unicode.IsControl(r) || r == '\u202e' {
				t.Fatalf("%s: raw %U in %q", what, r, line)
			}
		}
		if strings.HasPrefix(body, "entratool: forged") {
			t.Fatalf("%s: forged line %q", what, line)
		}
	}
}

// wantEscaped asserts line shows the hostile CN as escapes.
func wantEscaped(t *testing.T, what, line string) {
	t.Helper()
	for _, esc := range []string{`evil\nentratool: forged line\x1b[31m red\r\u202egnp.exe`} {
		if !strings.Contains(line, esc) {
			t.Fatalf("%s: %q does not show the subject escaped (%s)", what, line, esc)
		}
	}
}

// lineWith returns the one line of text that starts with prefix.
func lineWith(t *testing.T, what, text, prefix string) string {
	t.Helper()
	var found []string
	for _, l := range strings.Split(text, "\n") {
		if strings.HasPrefix(l, prefix) {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%s: %d lines start with %q:\n%s", what, len(found), prefix, text)
	}
	return found[0]
}

func TestHostileCertificateSubjectIsEscaped(t *testing.T) {
	e := newTestEnv(t)
	now := time.Now()
	_, cer := writeHostileCert(t, e.dir, "hostile", now.Add(-time.Hour), 365, "pw-Hostile-1")

	r := e.ok("", "cert", "info", cer)
	checkTerminalSafe(t, "cert info", r.out)
	if n := strings.Count(r.out, "\n"); n != 10 {
		t.Fatalf("cert info: %d lines, want one per field (10):\n%s", n, r.out)
	}
	for _, field := range []string{"Subject:", "Issuer:"} {
		wantEscaped(t, "cert info "+field, lineWith(t, "cert info", r.out, field))
	}
	if l := lineWith(t, "cert info", r.out, "Subject:"); !strings.Contains(l, `O=Org\x1b]0\;owned\x07\u0085`) {
		t.Fatalf("organization: %q", l)
	}

	r = e.ok("", "cert", "info", cer, "-o", "json")
	checkTerminalSafe(t, "cert info -o json", r.out)
	var info struct{ Subject, Issuer string }
	if err := json.Unmarshal([]byte(r.out), &info); err != nil || !strings.Contains(info.Subject, "CN="+hostileCN) || info.Issuer != info.Subject {
		t.Fatalf("cert info -o json does not decode to the subject: %v %+v", err, info)
	}

	r = e.ok("", "cert", "check", cer)
	checkTerminalSafe(t, "cert check", r.out)
	if strings.Count(r.out, "\n") != 1 {
		t.Fatalf("cert check: not one line: %q", r.out)
	}
	wantEscaped(t, "cert check", r.out)
}

func TestHostileCertificateInErrorsAndProfileViews(t *testing.T) {
	e := newTestEnv(t)
	now := time.Now()
	const pw = "pw-Hostile-2"
	pfx, _ := writeHostileCert(t, e.dir, "hostile", now.Add(-time.Hour), 365, pw)
	e.createProfile("p", pfx, pw)

	r := e.ok("", "config", "show", "-p", "p")
	checkTerminalSafe(t, "config show", r.out)
	wantEscaped(t, "config show", lineWith(t, "config show", r.out, "Subject:"))

	// The same file, now expired: every view of it quotes the subject in an error.
	expiredPFX, expiredCER := writeHostileCert(t, e.dir, "expired", now.AddDate(0, 0, -60), 30, pw)
	if err := os.Rename(expiredPFX, pfx); err != nil {
		t.Fatal(err)
	}

	r = e.run("", "cert", "check", expiredCER)
	if r.code != checkBad {
		t.Fatalf("cert check expired: %s", r)
	}
	checkTerminalSafe(t, "cert check expired", r.out)
	wantEscaped(t, "cert check expired", lineWith(t, "cert check expired", r.out, "✗ "))

	r = e.run("", "doctor", "-p", "p")
	checkTerminalSafe(t, "doctor", r.out)
	checkTerminalSafe(t, "doctor stderr", r.err)
	wantEscaped(t, "doctor", lineWith(t, "doctor", r.out, "✗ profile p: certificate CN="))

	r = e.run("", "get-token", "-p", "p")
	if r.code != ExitFailure || r.out != "" {
		t.Fatalf("get-token with the expired certificate: %s", r)
	}
	checkTerminalSafe(t, "get-token stderr", r.err)
	if strings.Count(r.err, "\n") != 1 || !strings.HasPrefix(r.err, "entratool: certificate CN=evil") || !strings.Contains(r.err, `\x1b[31m`) || !strings.Contains(r.err, `\u202e`) {
		t.Fatalf("get-token error line: %q", r.err)
	}
}
