package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/internal/testkit"
)

// faultWorld is a world with a registered certificate profile "p" on the emulator.
func faultWorld(t *testing.T) (*world, *certFiles) {
	t.Helper()
	w := newWorld(t)
	cf := w.newCert("fault", "fault-Pfx-Pw-31")
	w.register(cf.leaf)
	w.certProfile("p", cf, cf.pfx)
	return w, cf
}

// timedRun runs a binary and fails the test if it takes longer than bound.
func (w *world) timedRun(bound time.Duration, stdin, name string, args ...string) (string, string, int) {
	w.t.Helper()
	start := time.Now()
	out, errOut, code := w.run(stdin, name, args...)
	if d := time.Since(start); d > bound {
		w.t.Fatalf("%s %v took %v, bound %v (stderr %q)", name, args, d, bound, errOut)
	}
	return out, errOut, code
}

// checkOneLine asserts stderr is one line a user can read: no stack, no token, none of
// the given secrets.
func checkOneLine(t *testing.T, what, stderr string, secrets ...string) {
	t.Helper()
	s := strings.TrimSpace(stderr)
	if s == "" || strings.Contains(s, "\n") {
		t.Fatalf("%s: stderr is not one line: %q", what, stderr)
	}
	for _, bad := range []string{"goroutine ", "panic:", ".go:", "eyJ"} {
		if strings.Contains(s, bad) {
			t.Fatalf("%s: stderr holds %q: %q", what, bad, s)
		}
	}
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			t.Fatalf("%s: stderr holds a secret: %q", what, s)
		}
	}
}

func TestFaultAuthorityDown(t *testing.T) {
	w, cf := faultWorld(t)
	w.saveProfile(&profile.Profile{Name: "down", UseCertificate: true, CertificatePath: cf.pfx, Scope: graph,
		AuthorityHost: "https://" + testkit.ClosedAddr(t)}, cf.password)
	_, errOut, code := w.timedRun(8*time.Second, "", "entratool", "get-token", "-p", "down", "--timeout", "3s")
	if code != 1 || !strings.Contains(errOut, "refused") {
		t.Fatalf("exit %d: %q", code, errOut)
	}
	checkOneLine(t, "authority down", errOut, cf.password)
	t.Logf("authority down: %s", strings.TrimSpace(errOut))
}

func TestFaultAuthoritySlowerThanTimeout(t *testing.T) {
	w, cf := faultWorld(t)
	w.emu.SetPermanentFault(&emulator.Fault{Delay: 10 * time.Second})
	t.Cleanup(func() { w.emu.SetPermanentFault(nil) })
	_, errOut, code := w.timedRun(7*time.Second, "", "entratool", "get-token", "--timeout", "2s")
	if code != 1 || !strings.Contains(strings.ToLower(errOut), "timeout") && !strings.Contains(errOut, "deadline") && !strings.Contains(errOut, "timed out") {
		t.Fatalf("exit %d: %q", code, errOut)
	}
	checkOneLine(t, "slow authority", errOut, cf.password)
	t.Logf("slow authority: %s", strings.TrimSpace(errOut))
}

func TestFault429Storm(t *testing.T) {
	w, cf := faultWorld(t)
	w.emu.SetPermanentFault(&emulator.Fault{Status: 429, RetryAfter: "1"})
	_, errOut, code := w.timedRun(8*time.Second, "", "entratool", "get-token", "--timeout", "3s")
	low := strings.ToLower(errOut)
	if code != 1 || !strings.Contains(low, "429") && !strings.Contains(low, "throttl") {
		t.Fatalf("exit %d: %q", code, errOut)
	}
	checkOneLine(t, "429 storm", errOut, cf.password)
	t.Logf("429 storm: %s", strings.TrimSpace(errOut))
	// Retry-After: 1 within 3 s: a few attempts, not a hammering.
	if n := w.emu.Counts().Token; n < 2 || n > 4 {
		t.Fatalf("%d token requests in a 3 s 429 storm with Retry-After: 1", n)
	}
}

func TestFaultBadBodies(t *testing.T) {
	w, cf := faultWorld(t)
	w.emu.SetPermanentFault(&emulator.Fault{Status: 500, Body: "<html>"})
	_, errOut, code := w.timedRun(8*time.Second, "", "entratool", "get-token", "--timeout", "3s")
	if code != 1 || !strings.Contains(errOut, "500") {
		t.Fatalf("html 500: exit %d: %q", code, errOut)
	}
	checkOneLine(t, "html 500", errOut, cf.password)
	t.Logf("html 500: %s", strings.TrimSpace(errOut))
	w.emu.SetPermanentFault(nil)

	w.emu.QueueFaults(emulator.Fault{Status: 200, Body: `{"access_tok`})
	out, errOut, code := w.timedRun(8*time.Second, "", "entratool", "get-token", "--force-refresh", "--timeout", "3s")
	switch code {
	case 1:
		checkOneLine(t, "truncated 200", errOut, cf.password)
		t.Logf("truncated 200: %s", strings.TrimSpace(errOut))
	case 0:
		// A retry after the broken answer is acceptable only with a real token.
		w.claims(out, "https://graph.microsoft.com")
	default:
		t.Fatalf("truncated 200: exit %d: %q", code, errOut)
	}
	if code == 1 && out != "" {
		t.Fatalf("truncated 200 printed %q", out)
	}

	// A body cut after the access token must not echo it: MSAL quotes the raw body in
	// its JSON errors.
	const marker = "Leaked-Access-Token-Zz81"
	w.emu.QueueFaults(emulator.Fault{Status: 200, Body: `{"token_type":"Bearer","access_token":"` + marker + `","expires_in":35`})
	_, errOut, _ = w.timedRun(8*time.Second, "", "entratool", "get-token", "--force-refresh", "--timeout", "3s")
	if strings.Contains(errOut, marker) {
		t.Fatalf("a truncated token response is echoed on stderr: %q", errOut)
	}
}

// tlsServer is an HTTPS listener on 127.0.0.1 whose leaf is signed by a CA of its own,
// for names only; hellos counts TLS handshakes attempted (one per connection).
type tlsServer struct {
	url, caFile string
	hellos      atomic.Int32
}

func startTLSServer(t *testing.T, dir string, names []string, ips []net.IP) *tlsServer {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Rogue Test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "leaf"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour), DNSNames: names, IPAddresses: ips,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	s := &tlsServer{caFile: filepath.Join(dir, "rogue-ca.pem")}
	if err := os.WriteFile(s.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	leaf := tls.Certificate{Certificate: [][]byte{leafDER, caDER}, PrivateKey: leafKey}
	conf := &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		s.hellos.Add(1)
		return &leaf, nil
	}}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", conf)
	if err != nil {
		t.Fatal(err)
	}
	// Failed handshakes are the point here: keep them out of the test log.
	srv := &http.Server{Handler: http.NotFoundHandler(), ErrorLog: log.New(io.Discard, "", 0), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	s.url = "https://" + ln.Addr().String()
	return s
}

func TestFaultTLS(t *testing.T) {
	w, cf := faultWorld(t)
	check := func(what, errOut string, code int, hellos int32) {
		t.Helper()
		low := strings.ToLower(errOut)
		if code != 1 || !strings.Contains(low, "certificate") {
			t.Fatalf("%s: exit %d: %q", what, code, errOut)
		}
		checkOneLine(t, what, errOut, cf.password)
		t.Logf("%s: %s", what, strings.TrimSpace(errOut))
		// Certificate problems are not retried: one connection.
		if hellos > 1 {
			t.Fatalf("%s: %d TLS handshakes, want 1 (no retries)", what, hellos)
		}
	}

	// The real emulator, but SSL_CERT_FILE names a CA that did not sign it.
	rogue := startTLSServer(t, w.dir, nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	w.env["SSL_CERT_FILE"] = rogue.caFile
	_, errOut, code := w.timedRun(8*time.Second, "", "entratool", "get-token", "--timeout", "3s")
	check("emulator behind an untrusted CA", errOut, code, 0)
	if !strings.Contains(strings.ToLower(errOut), "unknown authority") {
		t.Fatalf("untrusted CA not named: %q", errOut)
	}
	if n := w.emu.Counts().Total; n != 0 {
		t.Fatalf("the emulator answered %d requests over an untrusted connection", n)
	}

	// A server whose chain is from a CA the client does not trust, counting attempts.
	w.env["SSL_CERT_FILE"] = w.emu.CAFile
	w.saveProfile(&profile.Profile{Name: "rogue", UseCertificate: true, CertificatePath: cf.pfx, Scope: graph, AuthorityHost: rogue.url}, cf.password)
	_, errOut, code = w.timedRun(8*time.Second, "", "entratool", "get-token", "-p", "rogue", "--timeout", "3s")
	check("unknown CA", errOut, code, rogue.hellos.Load())

	// A trusted CA, but the certificate is for another host name.
	other := startTLSServer(t, w.dir, []string{"login.example.invalid"}, nil)
	w.env["SSL_CERT_FILE"] = other.caFile
	w.saveProfile(&profile.Profile{Name: "wronghost", UseCertificate: true, CertificatePath: cf.pfx, Scope: graph, AuthorityHost: strings.Replace(other.url, "127.0.0.1", "localhost", 1)}, cf.password)
	_, errOut, code = w.timedRun(8*time.Second, "", "entratool", "get-token", "-p", "wronghost", "--timeout", "3s")
	check("wrong host", errOut, code, other.hellos.Load())
	if !strings.Contains(errOut, "valid for login.example.invalid, not localhost") {
		t.Fatalf("host mismatch not named: %q", errOut)
	}
	if other.hellos.Load() == 0 {
		t.Fatal("no handshake reached the wrong-host server: the case proves nothing")
	}
}

func TestFaultDockerRegistryErrors(t *testing.T) {
	w, reg, cf := acrWorld(t, "REG")
	check := func(what string) {
		t.Helper()
		out, errOut, code := w.timedRun(40*time.Second, reg.Host, "docker-credential-entra", "get")
		s := strings.TrimSpace(out)
		if code != 1 || s == "" || strings.Contains(s, "\n") || s == "credentials not found in native keychain" {
			t.Fatalf("%s: exit %d, stdout %q, stderr %q", what, code, out, errOut)
		}
		checkOneLine(t, what+" (stdout)", out, cf.password)
		t.Logf("%s: %s", what, strings.TrimSpace(out))
		if strings.Contains(errOut, "eyJ") || strings.Contains(errOut, cf.password) {
			t.Fatalf("%s: stderr leaks: %q", what, errOut)
		}
	}
	reg.SetAADDisabled(true)
	check("registry without AAD")
	reg.SetAADDisabled(false)
	reg.Close()
	check("registry down")
}

// A cache that cannot be written costs the cache, never the token.
func TestFaultUnwritableCache(t *testing.T) {
	w, cf := faultWorld(t)
	blocker := filepath.Join(w.dir, "not-a-dir")
	if err := os.WriteFile(blocker, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Under a regular file: mkdir fails even for root, whom chmod does not stop.
	w.env["ENTRATOOL_CACHE_DIR"] = filepath.Join(blocker, "cache")
	checkTokenWithWarning(t, w, cf, "read-only cache")

	t.Run("full", func(t *testing.T) {
		mnt := filepath.Join(w.dir, "tiny")
		if err := os.Mkdir(mnt, 0o700); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", mnt).CombinedOutput(); err != nil {
			t.Skipf("cannot mount a tiny tmpfs here (%v: %s); the full-disk case needs it", err, strings.TrimSpace(string(out)))
		}
		t.Cleanup(func() { exec.Command("umount", mnt).Run() })
		cache := filepath.Join(mnt, "cache")
		for _, d := range []string{cache, filepath.Join(cache, "tokens"), filepath.Join(cache, "metadata"), filepath.Join(cache, "certs")} {
			if err := os.Mkdir(d, 0o700); err != nil {
				t.Fatal(err)
			}
		}
		// Fill it up.
		f, err := os.Create(filepath.Join(mnt, "filler"))
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 4096)
		for {
			if _, err := f.Write(buf); err != nil {
				break
			}
		}
		f.Close()
		w.env["ENTRATOOL_CACHE_DIR"] = cache
		checkTokenWithWarning(t, w, cf, "full cache")
	})
}

func checkTokenWithWarning(t *testing.T, w *world, cf *certFiles, what string) {
	t.Helper()
	out, errOut, code := w.timedRun(20*time.Second, "", "entratool", "get-token", "--force-refresh")
	if code != 0 {
		t.Fatalf("%s: exit %d: %q", what, code, errOut)
	}
	w.claims(out, "https://graph.microsoft.com")
	if !strings.Contains(errOut, "warning") || !strings.Contains(errOut, "cache") {
		t.Fatalf("%s: no warning on stderr: %q", what, errOut)
	}
	for _, line := range strings.Split(strings.TrimSpace(errOut), "\n") {
		checkOneLine(t, what, line, cf.password, strings.TrimSpace(out))
	}
}
