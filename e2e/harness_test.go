// Package e2e drives the built binaries (entratool and the helpers) against the local
// emulator, the way git, kubectl, docker and scripts run them: separate processes,
// real files, real TLS.
package e2e

import (
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/internal/testbin"
	"github.com/entratool/entratool/internal/testkit"
)

// binDir holds the binaries of this run (internal/testbin: built once per `go test`,
// shared with the other packages' tests, traversable by other users: one test runs a
// binary as nobody). It holds nothing else: plugins are looked for beside entratool.
var binDir string

func TestMain(m *testing.M) {
	dir, err := testbin.Dir("./entratool", "./entratool-engine", "./git-credential-entra", "./kubectl-exec-entra",
		"./docker-credential-entra", "./az-entra")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binDir = dir
	os.Exit(m.Run())
}

const (
	tenantID = testkit.TenantID
	clientID = testkit.ClientID
	graph    = "https://graph.microsoft.com/.default"
)

// world is one test's emulator, ENTRATOOL_HOME and environment.
type world struct {
	t    *testing.T
	emu  *emulator.Emulator
	dir  string
	home string
	env  map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	dir := t.TempDir()
	emu, err := emulator.Start(emulator.Options{Dir: filepath.Join(dir, "emulator")})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	w := &world{t: t, emu: emu, dir: dir, home: filepath.Join(dir, "home")}
	w.env = map[string]string{
		"ENTRATOOL_HOME":         w.home,
		"ENTRATOOL_SECRET_STORE": "file",
		"SSL_CERT_FILE":          emu.CAFile,
		"HOME":                   filepath.Join(dir, "userhome"),
		"PATH":                   binDir + string(os.PathListSeparator) + os.Getenv("PATH"),
		"TZ":                     "UTC",
	}
	return w
}

// run executes a built binary with the world's environment and returns stdout, stderr
// and the exit code.
func (w *world) run(stdin string, name string, args ...string) (string, string, int) {
	w.t.Helper()
	return w.runCtx(context.Background(), stdin, name, args...)
}

func (w *world) runCtx(ctx context.Context, stdin string, name string, args ...string) (string, string, int) {
	w.t.Helper()
	return runCmd(w.t, w.command(ctx, stdin, name, args...))
}

// runCmd runs cmd and returns its stdout, stderr and exit code (testkit.Run).
func runCmd(t *testing.T, cmd *exec.Cmd) (string, string, int) {
	t.Helper()
	return testkit.Run(t, cmd)
}

func (w *world) command(ctx context.Context, stdin, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, filepath.Join(binDir, name), args...)
	cmd.Env = w.environ()
	cmd.Stdin = strings.NewReader(stdin)
	return cmd
}

func (w *world) environ() []string {
	var env []string
	for k, v := range w.env {
		env = append(env, k+"="+v)
	}
	return env
}

// mustRun runs and fails the test unless the exit code is 0; it returns stdout.
func (w *world) mustRun(stdin, name string, args ...string) string {
	w.t.Helper()
	out, errOut, code := w.run(stdin, name, args...)
	if code != 0 {
		w.t.Fatalf("%s %v: exit %d\nstdout: %s\nstderr: %s", name, args, code, out, errOut)
	}
	return out
}

// certFiles is a generated certificate in several encodings.
type certFiles struct {
	dir, pfx, pem, cer string
	password           string
	leaf               *x509.Certificate
}

// newCert makes a certificate with Go (one RSA key per call) and writes it as a modern
// PFX, a PEM pair and a public .cer.
func (w *world) newCert(name, password string) *certFiles {
	w.t.Helper()
	cf, c := w.writeCert(name, password, cert.CreateOptions{Days: 365})
	cf.pem, cf.cer = filepath.Join(cf.dir, name+".pem"), filepath.Join(cf.dir, name+".cer")
	if err := os.WriteFile(cf.cer, cert.EncodeCER(c.Leaf, false), 0o600); err != nil {
		w.t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(c.Key)
	if err != nil {
		w.t.Fatal(err)
	}
	pemData := append(cert.EncodeCER(c.Leaf, false), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...)
	if err := os.WriteFile(cf.pem, pemData, 0o600); err != nil {
		w.t.Fatal(err)
	}
	return cf
}

// register "uploads" certificates to the app registration.
func (w *world) register(certs ...*x509.Certificate) {
	w.emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Certificates: certs})
}

// saveProfile writes a profile (and its certificate password, in the file store) the
// way `config create` would, without going through the CLI.
func (w *world) saveProfile(p *profile.Profile, password string) {
	w.t.Helper()
	st := &profile.Store{Home: w.home}
	if p.AuthorityHost == "" {
		p.AuthorityHost = w.emu.URL
	}
	if p.ClientID == "" {
		p.ClientID = clientID
	}
	if p.TenantID == "" {
		p.TenantID = tenantID
	}
	err := st.Update(context.Background(), func(c *profile.Config) error {
		c.Put(p)
		if c.DefaultProfile == "" {
			c.DefaultProfile = p.Name
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	if password != "" {
		kind := secret.CertificatePassword
		if !p.UseCertificate {
			kind = secret.ClientSecret
		}
		s, err := secret.Open("file", w.home, func(string) string { return "" })
		if err != nil {
			w.t.Fatal(err)
		}
		if err := s.Set(context.Background(), secret.Key(p.Name, kind), password); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *world) certProfile(name string, cf *certFiles, path string) *profile.Profile {
	p := &profile.Profile{Name: name, UseCertificate: true, CertificatePath: path, Scope: graph}
	w.saveProfile(p, cf.password)
	return p
}

// claims validates an access token with the emulator and returns its claims.
func (w *world) claims(tok, audience string) *emulator.Claims {
	w.t.Helper()
	c, err := w.emu.Validate(strings.TrimSpace(tok), audience)
	if err != nil {
		w.t.Fatalf("token not issued by the emulator for %s: %v", audience, err)
	}
	return c
}

func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("%s not installed (make test installs it)", name)
	}
	return p
}

func isRoot() bool { return runtime.GOOS != "windows" && os.Geteuid() == 0 }

// newExpiredCert writes a PFX whose certificate expired yesterday.
func (w *world) newExpiredCert(name, password string) *certFiles {
	w.t.Helper()
	cf, _ := w.writeCert(name, password, cert.CreateOptions{Days: 30, Now: time.Now().AddDate(0, 0, -31)})
	return cf
}

// writeCert makes a certificate CN=name with o (a 2048-bit key) and writes it as a
// modern PFX in its own directory under certs/.
func (w *world) writeCert(name, password string, o cert.CreateOptions) (*certFiles, *cert.Credential) {
	w.t.Helper()
	o.Subject, o.KeySize = "CN="+name, 2048
	c, err := cert.Create(o)
	if err != nil {
		w.t.Fatal(err)
	}
	dir := filepath.Join(w.dir, "certs", name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		w.t.Fatal(err)
	}
	cf := &certFiles{dir: dir, pfx: filepath.Join(dir, name+".pfx"), password: password, leaf: c.Leaf}
	if err := cert.WritePFX(cf.pfx, c, password); err != nil {
		w.t.Fatal(err)
	}
	return cf, c
}

// profile reads a saved profile back.
func (w *world) profile(name string) *profile.Profile {
	w.t.Helper()
	cfg, err := (&profile.Store{Home: w.home}).Load()
	if err != nil {
		w.t.Fatal(err)
	}
	p := cfg.Get(name)
	if p == nil {
		w.t.Fatalf("no profile %q", name)
	}
	return p
}

// recorder is a second HTTPS listener on 127.0.0.1 with a leaf from the emulator's CA, so
// the binaries trust it like the authority, that keeps every request reaching it: where a
// followed redirect, a planted file or a moved profile would deliver a secret. It answers
// OIDC discovery as Entra does, so that a client about to leak goes on to post its
// credential, and everything else with an Entra-style 401.
type recorder struct {
	url, host string
	mu        sync.Mutex
	got       []string // "METHOD URL", the headers, the body
}

func startRecorder(t *testing.T, emu *emulator.Emulator) *recorder {
	t.Helper()
	r := &recorder{}
	srv, err := emu.StartServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(req.Body, 1<<20))
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s (%d bytes)\n", req.Method, req.URL, len(body))
		req.Header.Write(&b)
		b.Write(body)
		r.mu.Lock()
		r.got = append(r.got, b.String())
		r.mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		if tenant, ok := strings.CutSuffix(strings.TrimPrefix(req.URL.Path, "/"), "/v2.0/.well-known/openid-configuration"); ok && req.Method == http.MethodGet {
			base := r.url + "/" + tenant
			json.NewEncoder(rw).Encode(map[string]string{
				"token_endpoint":         base + "/oauth2/v2.0/token",
				"authorization_endpoint": base + "/oauth2/v2.0/authorize",
				"issuer":                 base + "/v2.0",
				"jwks_uri":               base + "/discovery/v2.0/keys",
			})
			return
		}
		rw.WriteHeader(http.StatusUnauthorized)
		io.WriteString(rw, `{"error":"invalid_client","error_description":"AADSTS7000215: recorder"}`)
	}))
	if err != nil {
		t.Fatal(err)
	}
	r.url, r.host = srv.URL, srv.Host
	return r
}

func (r *recorder) requests() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.got...)
}
