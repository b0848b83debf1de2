package keystore

import (
	"bufio"
	"bytes"
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/status"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/fsutil"
	pb "github.com/entratool/entratool/core/keystore/keystorepb"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// Prefix is how a plugin executable's name starts: entratool-keystore-<store name>.
const Prefix = "entratool-keystore-"

// DefaultTimeout bounds a plugin's start and each of its calls when neither
// Host.Timeout nor ENTRATOOL_PLUGIN_TIMEOUT says otherwise.
const DefaultTimeout = 20 * time.Second

// ErrPluginFailed marks failures of the plugin process itself (missing, crashed, hung,
// not a plugin), as opposed to refusals by the store it opens (ErrBadPIN, …).
var ErrPluginFailed = errors.New("key-store plugin failed")

// Host finds and starts key-store plugins. Its Credential method is token.KeyStore.
// The zero value works: home, environment and timeout come from the process.
type Host struct {
	Home    string              // $ENTRATOOL_HOME; "" → profile.Home(Getenv)
	Getenv  func(string) string // nil → os.Getenv
	Environ func() []string     // base environment of the plugin; nil → os.Environ
	// Timeout bounds the plugin's start and each call; 0 → ENTRATOOL_PLUGIN_TIMEOUT (a
	// Go duration such as 5s), else DefaultTimeout. The caller's ctx bounds everything.
	Timeout time.Duration
	Logger  *slog.Logger     // debug log, plugin log lines included; nil → none
	Now     func() time.Time // nil → time.Now
}

func (h Host) getenv(k string) string {
	if h.Getenv == nil {
		return os.Getenv(k)
	}
	return h.Getenv(k)
}

func (h Host) now() time.Time {
	if h.Now == nil {
		return time.Now()
	}
	return h.Now()
}

func (h Host) timeout() (time.Duration, error) {
	if h.Timeout > 0 {
		return h.Timeout, nil
	}
	v := h.getenv("ENTRATOOL_PLUGIN_TIMEOUT")
	if v == "" {
		return DefaultTimeout, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("ENTRATOOL_PLUGIN_TIMEOUT=%q is not a duration like 20s", v)
	}
	return d, nil
}

func (h Host) debug(msg string, args ...any) {
	if h.Logger != nil {
		h.Logger.Debug(msg, args...)
	}
}

// ValidName reports whether name can be a key-store name: it becomes part of a file
// name, so it is lower-case letters, digits, '-' and '_' only.
func ValidName(name string) bool {
	if name == "" || len(name) > 64 {
		return false
	}
	for i, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case (r == '-' || r == '_') && i > 0:
		default:
			return false
		}
	}
	return true
}

// Find returns the executable of the plugin for store name: the first
// entratool-keystore-<name> in the directory of the running executable,
// $ENTRATOOL_HOME/plugins/, or an absolute PATH entry (SPEC §12). A candidate is used
// only if it and its directory belong to the user or root and neither is writable by
// group or others: the plugin receives the PIN, so one another user could replace
// must not be started. The error says where it looked and what it refused.
func (h Host) Find(name string) (string, error) {
	if !ValidName(name) {
		return "", failed(ErrPluginFailed, "key store name %q: use lower-case letters, digits, '-' and '_' (the plugin is %s<name>)", name, Prefix)
	}
	exe := Prefix + name
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	home := h.Home
	if home == "" {
		var err error
		if home, err = profile.Home(h.getenv); err != nil {
			return "", err
		}
	}
	var dirs []string
	if self, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(self); err == nil {
			self = real
		}
		dirs = append(dirs, filepath.Dir(self))
	}
	dirs = append(dirs, filepath.Join(home, "plugins"))
	looked := append([]string(nil), dirs...)
	for _, d := range filepath.SplitList(h.getenv("PATH")) {
		// A relative PATH entry would make the plugin depend on the working directory,
		// which is how a planted binary gets run (Go's exec.ErrDot).
		if d != "" && filepath.IsAbs(d) {
			dirs = append(dirs, d)
		}
	}
	var refused []string
	for _, d := range dirs {
		p := filepath.Join(d, exe)
		fi, err := os.Stat(p)
		if err != nil || fi.IsDir() {
			continue
		}
		if err := fsutil.CheckExecutable(p); err != nil {
			refused = append(refused, err.Error())
			continue
		}
		if runtime.GOOS != "windows" && fi.Mode().Perm()&0o111 == 0 {
			return "", failed(ErrPluginFailed, "key-store plugin %s is not executable: chmod +x it", p)
		}
		return p, nil
	}
	if len(refused) > 0 {
		return "", failed(ErrPluginFailed, "key-store plugin %q not started: %s", name, strings.Join(refused, "; "))
	}
	return "", failed(ErrPluginFailed, "key-store plugin %q not found: no %s in %s or on PATH; install it there (see docs/keystore.md)",
		name, exe, strings.Join(looked, ", "))
}

// Conn is a started plugin. Close it when done: that stops the process.
type Conn struct {
	name, path string
	timeout    time.Duration
	client     *plugin.Client
	rpc        pb.KeyStoreClient
	stderr     *tail
	kill       context.CancelFunc
	sockDir    string
	logger     *slog.Logger
	closeOnce  sync.Once
	mu         sync.Mutex
	broken     error // set once the process died or hung: later calls fail at once
}

// Open finds and starts the plugin for store name, bounded by ctx and the timeout.
func (h Host) Open(ctx context.Context, name string) (*Conn, error) {
	timeout, err := h.timeout()
	if err != nil {
		return nil, err
	}
	path, err := h.Find(name)
	if err != nil {
		return nil, err
	}
	start := time.Now()
	c := &Conn{name: name, path: path, timeout: timeout, stderr: &tail{}, logger: h.Logger}
	env := pluginEnv(h.Environ)
	if runtime.GOOS != "windows" {
		// The socket goes in a directory only this user can enter, so no other local
		// user can connect to the plugin and ask it to sign (the PIN travels in calls).
		if c.sockDir, err = os.MkdirTemp("", "entratool-plugin-"); err != nil {
			return nil, fmt.Errorf("key-store plugin: %w", err)
		}
		env = append(env, "PLUGIN_UNIX_SOCKET_DIR="+c.sockDir)
	}
	// The process dies with ctx: a caller that gives up never leaves a plugin behind.
	cmdCtx, kill := context.WithCancel(ctx)
	c.kill = kill
	cmd := exec.CommandContext(cmdCtx, path)
	cmd.Env = env
	cmd.WaitDelay = time.Second
	logger := hclog.NewNullLogger()
	if h.Logger != nil {
		logger = hclog.New(&hclog.LoggerOptions{Name: Prefix + name, Level: hclog.Debug, Output: &slogWriter{l: h.Logger}})
	}
	c.client = plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  handshake(),
		Plugins:          plugin.PluginSet{pluginName: &grpcPlugin{}},
		Cmd:              cmd,
		SkipHostEnv:      true,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		StartTimeout:     timeout,
		Stderr:           c.stderr,
		SyncStderr:       c.stderr,
		Logger:           logger,
		// On Windows go-plugin listens on 127.0.0.1, which every local user can reach.
		AutoMTLS: runtime.GOOS == "windows",
	})
	rpc, err := c.client.Client()
	if err == nil {
		var raw any
		if raw, err = rpc.Dispense(pluginName); err == nil {
			c.rpc = raw.(pb.KeyStoreClient)
		}
	}
	if err != nil {
		c.Close()
		return nil, c.startError(ctx, err)
	}
	h.debug("key-store plugin started", "plugin", path, "elapsed", time.Since(start))
	return c, nil
}

// startError explains why a plugin did not come up.
func (c *Conn) startError(ctx context.Context, err error) error {
	msg := err.Error()
	switch {
	case ctx.Err() != nil:
		return failed(ctx.Err(), "key-store plugin %s (%s) was stopped while starting: %s", c.exe(), c.path, gaveUp(ctx))
	case strings.Contains(msg, "timeout while waiting for plugin to start"):
		return failed(ErrPluginFailed, "key-store plugin %s (%s) did not start within %s (ENTRATOOL_PLUGIN_TIMEOUT); it was stopped%s", c.exe(), c.path, c.timeout, c.stderr.hint())
	case strings.Contains(msg, "plugin exited before we could connect"), strings.Contains(msg, "Failed to read any lines from plugin's stdout"):
		return failed(ErrPluginFailed, "key-store plugin %s (%s) exited before it was ready%s", c.exe(), c.path, c.stderr.hint())
	case strings.Contains(msg, "Incompatible API version"):
		return failed(ErrPluginFailed, "key-store plugin %s (%s) speaks another protocol version than this entratool (%d): install matching versions (%s)",
			c.exe(), c.path, ProtocolVersion, firstLine(msg))
	case strings.Contains(msg, "Unrecognized remote plugin message"), strings.Contains(msg, "unsupported plugin protocol"):
		return failed(ErrPluginFailed, "%s is not an entratool key-store plugin (%s)", c.path, firstLine(msg))
	}
	return failed(ErrPluginFailed, "key-store plugin %s (%s) could not be started: %s", c.exe(), c.path, firstLine(msg))
}

// gaveUp says why the caller's context ended.
func gaveUp(ctx context.Context) string {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return "the request timed out (--timeout)"
	}
	return "the request was cancelled"
}

func (c *Conn) exe() string { return filepath.Base(c.path) }

// Path is the plugin executable.
func (c *Conn) Path() string { return c.path }

// Close stops the plugin: politely when it is healthy (so it can log out of its
// store), at once when it hung or crashed. Safe to call more than once.
func (c *Conn) Close() {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		broken := c.broken != nil
		c.mu.Unlock()
		if broken {
			c.kill()
		}
		start := time.Now()
		if c.client != nil {
			c.client.Kill()
		}
		if c.logger != nil {
			c.logger.Debug("key-store plugin stopped", "plugin", c.exe(), "elapsed", time.Since(start))
		}
		c.kill()
		if c.sockDir != "" {
			os.RemoveAll(c.sockDir)
		}
	})
}

// call runs one RPC under the call timeout and turns transport failures into one line
// that says what happened to the plugin.
func (c *Conn) call(ctx context.Context, op string, f func(context.Context) error) error {
	c.mu.Lock()
	broken := c.broken
	c.mu.Unlock()
	if broken != nil {
		return broken
	}
	cctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	err := f(cctx)
	if c.logger != nil {
		c.logger.Debug("key-store call", "plugin", c.exe(), "op", op, "elapsed", time.Since(start), "ok", err == nil)
	}
	if err == nil {
		return nil
	}
	if e, ok := fromStatus(err); ok {
		return fmt.Errorf("key store %q: %w", c.name, e)
	}
	switch {
	case ctx.Err() != nil:
		err = failed(ctx.Err(), "key-store plugin %s (%s) was stopped during %s: %s", c.exe(), c.path, op, gaveUp(ctx))
	case cctx.Err() != nil:
		err = failed(context.DeadlineExceeded, "key-store plugin %s (%s) did not answer %s within %s (ENTRATOOL_PLUGIN_TIMEOUT); it was stopped%s",
			c.exe(), c.path, op, c.timeout, c.stderr.hint())
	case c.exited(time.Second):
		err = failed(ErrPluginFailed, "key-store plugin %s (%s) exited during %s%s", c.exe(), c.path, op, c.stderr.hint())
	default:
		// The transport's own text ("error reading from server: EOF") would read as a
		// network fault, which the token loop retries; the code is enough to debug.
		err = failed(ErrPluginFailed, "key-store plugin %s (%s): %s failed (gRPC %s)", c.exe(), c.path, op, status.Code(err))
	}
	c.mu.Lock()
	c.broken = err
	c.mu.Unlock()
	// A plugin that failed this way is not trusted with another call.
	c.kill()
	return err
}

// exited waits up to d for the plugin process to be seen gone.
func (c *Conn) exited(d time.Duration) bool {
	if c.client == nil {
		return false
	}
	deadline := time.Now().Add(d)
	for {
		if c.client.Exited() {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wireStore(r Request) *pb.Store {
	return &pb.Store{Location: r.Location, Options: r.Options, Pin: r.PIN}
}

// Entry is a certificate a store holds, as List reports it.
type Entry struct {
	Certificate *x509.Certificate
	Subject     string
	SHA1        string // upper-case hex, as the Azure portal shows it
	SHA256      string
	NotAfter    time.Time
	HasKey      bool
	KeyRef      string
}

// List returns the certificates the store holds.
func (c *Conn) List(ctx context.Context, r Request) ([]Entry, error) {
	var resp *pb.ListResponse
	err := c.call(ctx, "List", func(ctx context.Context) (err error) {
		resp, err = c.rpc.List(ctx, &pb.ListRequest{Store: wireStore(r)})
		return err
	})
	if err != nil {
		return nil, err
	}
	var out []Entry
	for i, e := range resp.GetEntries() {
		crt, err := x509.ParseCertificate(e.GetCertificate())
		if err != nil {
			return nil, fmt.Errorf("key-store plugin %s returned an unreadable certificate (entry %d): %w", c.exe(), i, err)
		}
		out = append(out, Entry{Certificate: crt, Subject: crt.Subject.String(), SHA1: cert.ThumbprintSHA1(crt),
			SHA256: cert.ThumbprintSHA256(crt), NotAfter: crt.NotAfter, HasKey: e.GetHasKey(), KeyRef: e.GetKeyRef()})
	}
	return out, nil
}

// NormThumbprint upper-cases a thumbprint and drops the separators people paste with it:
// profile.NormThumbprint, the one form the cache keys and the plugins compare.
func NormThumbprint(t string) string { return profile.NormThumbprint(t) }

// matches reports whether thumbprint (SHA-1 or SHA-256 hex, normalised) names c.
func matches(c *x509.Certificate, thumbprint string) bool {
	return thumbprint == cert.ThumbprintSHA1(c) || thumbprint == cert.ThumbprintSHA256(c)
}

// Certificates returns the chain of the certificate thumbprint names, leaf first, and
// checks that the leaf is the one asked for.
func (c *Conn) Certificates(ctx context.Context, r Request, thumbprint string) ([]*x509.Certificate, error) {
	thumbprint = NormThumbprint(thumbprint)
	if _, err := hex.DecodeString(thumbprint); err != nil || (len(thumbprint) != 40 && len(thumbprint) != 64) {
		return nil, fmt.Errorf("thumbprint %q is not 40 (SHA-1) or 64 (SHA-256) hex digits", thumbprint)
	}
	var resp *pb.CertificatesResponse
	err := c.call(ctx, "Certificates", func(ctx context.Context) (err error) {
		resp, err = c.rpc.Certificates(ctx, &pb.CertificatesRequest{Store: wireStore(r), Thumbprint: thumbprint})
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(resp.GetChain()) == 0 {
		return nil, failed(ErrNotFound, "key store %q: no certificate with thumbprint %s", c.name, thumbprint)
	}
	var chain []*x509.Certificate
	for i, der := range resp.GetChain() {
		crt, err := x509.ParseCertificate(der)
		if err != nil {
			return nil, fmt.Errorf("key-store plugin %s returned an unreadable certificate (chain[%d]): %w", c.exe(), i, err)
		}
		chain = append(chain, crt)
	}
	if !matches(chain[0], thumbprint) {
		return nil, failed(ErrPluginFailed, "key-store plugin %s returned certificate %s (thumbprint %s) when asked for %s",
			c.exe(), chain[0].Subject, cert.ThumbprintSHA1(chain[0]), thumbprint)
	}
	return chain, nil
}

// Sign asks the plugin to sign a SHA-256 digest with the key of thumbprint's certificate.
func (c *Conn) Sign(ctx context.Context, r Request, thumbprint string, digest []byte, alg Algorithm) ([]byte, error) {
	wa, err := wireAlgorithm(alg)
	if err != nil {
		return nil, err
	}
	var resp *pb.SignResponse
	err = c.call(ctx, "Sign", func(ctx context.Context) (err error) {
		resp, err = c.rpc.Sign(ctx, &pb.SignRequest{Store: wireStore(r), Thumbprint: NormThumbprint(thumbprint), Digest: digest, Algorithm: wa})
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp.GetSignature(), nil
}

// RequestFor is the request a profile's settings make, with the PIN from its secret store.
func RequestFor(p *profile.Profile, pin string) Request {
	return Request{Location: p.CertificateStoreLocation, Options: p.CertificateStoreOptions, PIN: pin}
}

// List starts store name's plugin, lists what it holds and stops it.
func (h Host) List(ctx context.Context, name string, r Request) ([]Entry, error) {
	c, err := h.Open(ctx, name)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.List(ctx, r)
}

// Chain returns the certificate chain of a plugin-backed profile (for cert info and
// export-public), starting and stopping its plugin.
func (h Host) Chain(ctx context.Context, p *profile.Profile, pin string) ([]*x509.Certificate, error) {
	c, err := h.Open(ctx, p.CertificateStore)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	chain, err := c.Certificates(ctx, RequestFor(p, pin), p.CertificateThumbprint)
	return chain, profileHint(err, p)
}

// pluginEnv is the plugin's environment: the host's, without the secrets entratool
// itself may read from it — a plugin gets its PIN in the call, nothing else.
func pluginEnv(environ func() []string) []string {
	var base []string
	if environ != nil {
		base = environ()
	} else {
		base = os.Environ()
	}
	out := make([]string, 0, len(base))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if secret.IsSecretEnv(k) || strings.EqualFold(k, "PLUGIN_UNIX_SOCKET_DIR") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

// tail keeps the last few KB a plugin wrote to stderr, to quote in errors.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

const tailMax = 8 << 10

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, p...)
	if len(t.buf) > tailMax {
		t.buf = append([]byte(nil), t.buf[len(t.buf)-tailMax:]...)
	}
	return len(p), nil
}

// hint is the plugin's most telling stderr line, as ` (it said: …)`, or "". A Go panic
// or fatal error wins over the stack trace that follows it; hclog JSON lines give their
// message.
func (t *tail) hint() string {
	t.mu.Lock()
	data := append([]byte(nil), t.buf...)
	t.mu.Unlock()
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), tailMax)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	pick := ""
	for _, l := range lines {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") {
			pick = l
			break
		}
	}
	for i := len(lines) - 1; pick == "" && i >= 0; i-- {
		l := lines[i]
		if strings.HasPrefix(l, "{") {
			var e struct {
				Level   string `json:"@level"`
				Message string `json:"@message"`
				Error   string `json:"error"`
			}
			if json.Unmarshal([]byte(l), &e) != nil || e.Level == "debug" || e.Level == "trace" || e.Message == "" {
				continue
			}
			l = e.Message
			if e.Error != "" {
				l += ": " + e.Error
			}
		}
		pick = l
	}
	if pick == "" {
		return ""
	}
	const max = 300
	if len(pick) > max {
		pick = pick[:max] + "…"
	}
	return " (it said: " + pick + ")"
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	return s
}

// slogWriter forwards go-plugin's log lines to the debug log.
type slogWriter struct{ l *slog.Logger }

func (w *slogWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		if line != "" {
			w.l.Debug("plugin", "log", line)
		}
	}
	return len(p), nil
}

var _ io.Writer = (*tail)(nil)
