package keystore

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	"github.com/golang-jwt/jwt/v5"
	"github.com/hashicorp/go-plugin"

	"github.com/entratool/entratool/core/cert"
	pb "github.com/entratool/entratool/core/keystore/keystorepb"
	"github.com/entratool/entratool/internal/testkit"
)

// memStore is an in-memory Store: one certificate and its key, a PIN.
type memStore struct {
	c       *cert.Credential
	pin     string
	wrongTP bool // Certificates returns another certificate than asked for
}

func (m *memStore) check(r Request) error {
	if r.PIN != m.pin {
		return fmt.Errorf("the PIN for token %q was refused (CKR_PIN_INCORRECT): %w", "mem", ErrBadPIN)
	}
	return nil
}

func (m *memStore) find(tp string) error {
	if tp != cert.ThumbprintSHA1(m.c.Leaf) && tp != cert.ThumbprintSHA256(m.c.Leaf) {
		return fmt.Errorf("no certificate with thumbprint %s on token %q: %w", tp, "mem", ErrNotFound)
	}
	return nil
}

func (m *memStore) List(ctx context.Context, r Request) ([]Item, error) {
	if err := m.check(r); err != nil {
		return nil, err
	}
	return []Item{{Certificate: m.c.Leaf.Raw, HasKey: true, KeyRef: "id=01 label=" + r.Options["keyLabel"]}}, nil
}

func (m *memStore) Certificates(ctx context.Context, r Request, tp string) ([][]byte, error) {
	if err := m.check(r); err != nil {
		return nil, err
	}
	if err := m.find(tp); err != nil {
		return nil, err
	}
	if m.wrongTP {
		other := newCred(nil, "CN=other")
		return [][]byte{other.Leaf.Raw}, nil
	}
	return [][]byte{m.c.Leaf.Raw}, nil
}

func (m *memStore) Sign(ctx context.Context, r Request, tp string, digest []byte, alg Algorithm) ([]byte, error) {
	if err := m.check(r); err != nil {
		return nil, err
	}
	if err := m.find(tp); err != nil {
		return nil, err
	}
	if alg != PS256 {
		return nil, fmt.Errorf("%s: %w", alg, ErrUnsupported)
	}
	return rsa.SignPSS(rand.Reader, m.c.Key.(*rsa.PrivateKey), crypto.SHA256, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
}

func newCred(t testing.TB, subject string) *cert.Credential {
	c, err := cert.Create(cert.CreateOptions{Subject: subject, Days: 30})
	if err != nil {
		if t != nil {
			t.Fatal(err)
		}
		panic(err)
	}
	return c
}

// inProcess serves s over a real gRPC connection inside the test process, the way
// go-plugin would across processes.
func inProcess(t *testing.T, s Store) *Conn {
	t.Helper()
	client, server := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{pluginName: &grpcPlugin{impl: s}})
	// Close asks the server to stop (the controller's Shutdown), as the host does.
	t.Cleanup(func() { client.Close() })
	_ = server
	raw, err := client.Dispense(pluginName)
	if err != nil {
		t.Fatal(err)
	}
	return &Conn{name: "mem", path: "(in-process)", timeout: 5 * time.Second, rpc: raw.(pb.KeyStoreClient), stderr: &tail{}, kill: func() {}}
}

func TestProtocolRoundTrip(t *testing.T) {
	c := newCred(t, "CN=hsm-app")
	conn := inProcess(t, &memStore{c: c, pin: "1234"})
	ctx := context.Background()
	req := Request{Options: map[string]string{"keyLabel": "app"}, PIN: "1234"}

	list, err := conn.List(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Fatalf("List: %d entries, want 1", len(list))
	}
	e := list[0]
	if e.Subject != "CN=hsm-app" || e.SHA1 != cert.ThumbprintSHA1(c.Leaf) || e.SHA256 != cert.ThumbprintSHA256(c.Leaf) ||
		!e.NotAfter.Equal(c.Leaf.NotAfter) || !e.HasKey || e.KeyRef != "id=01 label=app" {
		t.Errorf("List entry = %+v", e)
	}

	// Thumbprints as people paste them: SHA-1 with colons in lower case, SHA-256.
	sha1 := cert.ThumbprintSHA1(c.Leaf)
	var colons []string
	for i := 0; i < len(sha1); i += 2 {
		colons = append(colons, strings.ToLower(sha1[i:i+2]))
	}
	for _, tp := range []string{strings.Join(colons, ":"), cert.ThumbprintSHA256(c.Leaf)} {
		chain, err := conn.Certificates(ctx, req, tp)
		if err != nil {
			t.Fatalf("Certificates(%s): %v", tp, err)
		}
		if !chain[0].Equal(c.Leaf) {
			t.Errorf("Certificates(%s) returned %s", tp, chain[0].Subject)
		}
	}

	digest := sha256.Sum256([]byte("signing input"))
	sig, err := conn.Sign(ctx, req, sha1, digest[:], PS256)
	if err != nil {
		t.Fatal(err)
	}
	pub := c.Leaf.PublicKey.(*rsa.PublicKey)
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
		t.Errorf("PS256 signature does not verify with salt length = hash length: %v", err)
	}
}

func TestProtocolErrorsKeepKindAndSentence(t *testing.T) {
	c := newCred(t, "CN=hsm-app")
	conn := inProcess(t, &memStore{c: c, pin: "1234"})
	ctx := context.Background()
	tp := cert.ThumbprintSHA1(c.Leaf)

	_, err := conn.Certificates(ctx, Request{PIN: "0000"}, tp)
	if !errors.Is(err, ErrBadPIN) {
		t.Fatalf("wrong PIN: %v, want ErrBadPIN", err)
	}
	if want := `key store "mem": the PIN for token "mem" was refused (CKR_PIN_INCORRECT)`; err.Error() != want {
		t.Errorf("wrong PIN message:\n got %q\nwant %q", err, want)
	}
	if strings.Contains(err.Error(), "0000") {
		t.Errorf("the PIN leaked into the error: %v", err)
	}

	other := strings.Repeat("AB", 20)
	_, err = conn.Certificates(ctx, Request{PIN: "1234"}, other)
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), other) {
		t.Errorf("unknown thumbprint: %v", err)
	}
	if _, err := conn.Certificates(ctx, Request{PIN: "1234"}, "not-hex"); err == nil || !strings.Contains(err.Error(), "not 40 (SHA-1) or 64 (SHA-256) hex digits") {
		t.Errorf("bad thumbprint: %v", err)
	}

	digest := sha256.Sum256(nil)
	if _, err := conn.Sign(ctx, Request{PIN: "1234"}, tp, digest[:], RS256); !errors.Is(err, ErrUnsupported) {
		t.Errorf("RS256 from a PS256-only store: %v, want ErrUnsupported", err)
	}
	if _, err := conn.Sign(ctx, Request{PIN: "1234"}, tp, digest[:5], PS256); !errors.Is(err, ErrBadOptions) || !strings.Contains(err.Error(), "digest is 5 bytes") {
		t.Errorf("short digest: %v", err)
	}
	if _, err := conn.Sign(ctx, Request{PIN: "1234"}, tp, digest[:], "ES256"); !errors.Is(err, ErrUnsupported) {
		t.Errorf("ES256: %v", err)
	}
}

func TestCertificatesRefusesAnotherCertificate(t *testing.T) {
	c := newCred(t, "CN=hsm-app")
	conn := inProcess(t, &memStore{c: c, wrongTP: true})
	_, err := conn.Certificates(context.Background(), Request{}, cert.ThumbprintSHA1(c.Leaf))
	if !errors.Is(err, ErrPluginFailed) || !strings.Contains(err.Error(), "returned certificate CN=other") {
		t.Errorf("got %v", err)
	}
}

// The assertion is what Entra (and the emulator) check: header and claims as MSAL Go
// v1.10.1 builds them, and a PS256 signature by the certificate's key.
func TestAssertionLikeMSAL(t *testing.T) {
	c := newCred(t, "CN=hsm-app")
	conn := inProcess(t, &memStore{c: c, pin: "1"})
	const client = testkit.ClientID
	const endpoint = "https://login.example/tenant/oauth2/v2.0/token"
	now := time.Now().Truncate(time.Second)
	for _, x5c := range []bool{false, true} {
		t.Run(fmt.Sprintf("x5c=%v", x5c), func(t *testing.T) {
			s := &assertionSigner{conn: conn, req: Request{PIN: "1"}, chain: []*x509.Certificate{c.Leaf}, pub: c.Leaf.PublicKey.(*rsa.PublicKey),
				sendX5C: x5c, now: func() time.Time { return now }}
			raw, err := s.assertion(context.Background(), confidential.AssertionRequestOptions{ClientID: client, TokenEndpoint: endpoint})
			if err != nil {
				t.Fatal(err)
			}
			claims := jwt.MapClaims{}
			tok, err := jwt.NewParser(jwt.WithValidMethods([]string{"PS256"}), jwt.WithTimeFunc(func() time.Time { return now })).
				ParseWithClaims(raw, claims, func(*jwt.Token) (any, error) { return c.Leaf.PublicKey, nil })
			if err != nil {
				t.Fatalf("assertion does not verify: %v", err)
			}
			sum := sha256.Sum256(c.Leaf.Raw)
			if got, want := tok.Header["x5t#S256"], base64.StdEncoding.EncodeToString(sum[:]); got != want {
				t.Errorf("x5t#S256 = %v, want standard base64 with padding %s", got, want)
			}
			if tok.Header["typ"] != "JWT" || tok.Header["alg"] != "PS256" {
				t.Errorf("header = %v", tok.Header)
			}
			list, present := tok.Header["x5c"].([]any)
			if present != x5c {
				t.Fatalf("x5c present = %v, want %v", present, x5c)
			}
			if x5c && (len(list) != 1 || list[0] != base64.StdEncoding.EncodeToString(c.Leaf.Raw)) {
				t.Errorf("x5c = %v", list)
			}
			if claims["aud"] != endpoint || claims["iss"] != client || claims["sub"] != client {
				t.Errorf("claims = %v", claims)
			}
			if claims["nbf"] != float64(now.Unix()) || claims["exp"] != float64(now.Add(10*time.Minute).Unix()) {
				t.Errorf("nbf/exp = %v/%v, want now and now + 10 min", claims["nbf"], claims["exp"])
			}
			jti, _ := claims["jti"].(string)
			if len(jti) != 36 || jti[14] != '4' {
				t.Errorf("jti = %q, want a v4 GUID", jti)
			}
		})
	}
	// Two assertions never share a jti (Entra refuses a replay).
	a1, _ := AssertionSigningInput(c.Leaf, nil, false, client, endpoint, now)
	a2, _ := AssertionSigningInput(c.Leaf, nil, false, client, endpoint, now)
	if a1 == a2 {
		t.Error("two assertions with the same jti")
	}
}

func TestAssertionRefusesForeignKey(t *testing.T) {
	c := newCred(t, "CN=hsm-app")
	other := newCred(t, "CN=other")
	// The store signs with c's key; the profile's certificate is other's.
	conn := inProcess(t, &memStore{c: c})
	s := &assertionSigner{conn: conn, chain: []*x509.Certificate{c.Leaf}, pub: other.Leaf.PublicKey.(*rsa.PublicKey), now: time.Now}
	_, err := s.assertion(context.Background(), confidential.AssertionRequestOptions{ClientID: "c", TokenEndpoint: "https://x/t"})
	if !errors.Is(err, ErrPluginFailed) || !strings.Contains(err.Error(), "does not match certificate") {
		t.Errorf("got %v", err)
	}
}

func TestHint(t *testing.T) {
	for _, tc := range []struct{ stderr, want string }{
		{"", ""},
		{"\n\n", ""},
		{"one\ntwo\n", " (it said: two)"},
		{"panic: boom\n\ngoroutine 1 [running]:\nmain.main()\n\t/x/main.go:3\nexit status 2\n", " (it said: panic: boom)"},
		{`{"@level":"error","@message":"cannot open","error":"no module"}` + "\n" + `{"@level":"debug","@message":"noise"}` + "\n", " (it said: cannot open: no module)"},
		{strings.Repeat("x", 400), " (it said: " + strings.Repeat("x", 300) + "…)"},
	} {
		tl := &tail{}
		tl.Write([]byte(tc.stderr))
		if got := tl.hint(); got != tc.want {
			t.Errorf("hint(%q) = %q, want %q", tc.stderr, got, tc.want)
		}
	}
	tl := &tail{}
	tl.Write([]byte(strings.Repeat("y", tailMax)))
	tl.Write([]byte("\nlast line\n"))
	if len(tl.buf) > tailMax || tl.hint() != " (it said: last line)" {
		t.Errorf("tail keeps %d bytes, hint %q", len(tl.buf), tl.hint())
	}
}

func TestValidNameAndThumbprint(t *testing.T) {
	for name, ok := range map[string]bool{"pkcs11": true, "wincert": true, "my-hsm_2": true, "": false, "-x": false, "PKCS11": false, "../x": false, "a/b": false, "a.b": false, strings.Repeat("a", 65): false} {
		if ValidName(name) != ok {
			t.Errorf("ValidName(%q) = %v", name, !ok)
		}
	}
	if got := NormThumbprint(" ab:cd-ef 01 "); got != "ABCDEF01" {
		t.Errorf("NormThumbprint = %q", got)
	}
}

func TestPluginEnvDropsSecrets(t *testing.T) {
	env := pluginEnv(func() []string {
		return []string{"PATH=/bin", "ENTRATOOL_CERT_PASSWORD=s3cret", "entratool_client_secret=x", "SOFTHSM2_CONF=/c", "PLUGIN_UNIX_SOCKET_DIR=/tmp/evil"}
	})
	if strings.Join(env, " ") != "PATH=/bin SOFTHSM2_CONF=/c" {
		t.Errorf("plugin env = %v", env)
	}
}

func FuzzHint(f *testing.F) {
	for _, s := range []string{"", "panic: x\nstack", `{"@level":"error","@message":"m"}`, "{not json", "a\r\nb", strings.Repeat("z", 9000)} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		tl := &tail{}
		tl.Write(data)
		h := tl.hint()
		if strings.ContainsAny(h, "\n") {
			t.Errorf("hint has a line break: %q", h)
		}
		if len(tl.buf) > tailMax {
			t.Errorf("tail grew to %d", len(tl.buf))
		}
	})
}
