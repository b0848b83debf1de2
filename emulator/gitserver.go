package emulator

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/cgi"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// AzureDevOpsResource is the resource (token audience) of Azure DevOps, the same for
// every organization.
const AzureDevOpsResource = "499b84ac-1321-427f-aa17-267ca6975798"

// GitServerOptions configure StartGitServer. Zero values give the defaults.
type GitServerOptions struct {
	Audience string // tokens must carry this aud; default AzureDevOpsResource
	Realm    string // realm of the Basic challenge; default "https://dev.azure.com/"
	Git      string // git binary; default "git" on PATH
	Dir      string // GIT_PROJECT_ROOT's parent; default a temp dir removed by Close
}

// GitServer is git's smart HTTP protocol over HTTPS (git http-backend run as CGI) in
// front of bare repositories, admitting only access tokens this emulator issued for the
// Azure DevOps audience — as the password of Basic auth (any username) or as a Bearer
// token — as Azure Repos does. Everyone else gets 401 with a Basic challenge.
type GitServer struct {
	URL  string // https://127.0.0.1:PORT (no trailing slash)
	Host string // 127.0.0.1:PORT, as git's credential host attribute
	Root string // GIT_PROJECT_ROOT

	e        *Emulator
	srv      *Server
	git      string
	home     string // HOME for git processes: no user or system config leaks in
	audience string
	realm    string
	tempDir  string

	mu         sync.Mutex
	rejectNext int
	revoked    map[string]bool // token fingerprints the server refuses from now on
	requests   []GitRequest
}

// GitRequest is one request the git server answered. Tokens appear only as
// fingerprints.
type GitRequest struct {
	Method   string
	Path     string
	Auth     string // "", "basic" or "bearer"
	Username string // Basic auth's username, for accepted requests (a refused one may carry a secret there)
	Token    string // TokenFingerprint of the presented token; "" without one
	AppID    string // appid of an accepted token
	Status   int
	Reason   string // why a request was refused
}

// TokenFingerprint names a token in logs and assertions without revealing it: the
// first 16 hex digits of its SHA-256.
func TokenFingerprint(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:8])
}

// StartGitServer serves git over HTTPS on a new 127.0.0.1 port with a leaf from the
// emulator CA. Close it, or the emulator, when done.
func (e *Emulator) StartGitServer(opts GitServerOptions) (*GitServer, error) {
	g := &GitServer{e: e, audience: opts.Audience, realm: opts.Realm, git: opts.Git, revoked: map[string]bool{}}
	if g.audience == "" {
		g.audience = AzureDevOpsResource
	}
	if g.realm == "" {
		g.realm = "https://dev.azure.com/"
	}
	if g.git == "" {
		p, err := exec.LookPath("git")
		if err != nil {
			return nil, fmt.Errorf("start git server: git is not installed: %w", err)
		}
		g.git = p
	}
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "entra-emulator-git-")
		if err != nil {
			return nil, fmt.Errorf("start git server: %w", err)
		}
		dir, g.tempDir = d, d
	}
	g.Root = filepath.Join(dir, "repos")
	g.home = filepath.Join(dir, "home")
	for _, d := range []string{g.Root, g.home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			g.removeTemp()
			return nil, fmt.Errorf("start git server: %w", err)
		}
	}
	srv, err := e.StartServer(g)
	if err != nil {
		g.removeTemp()
		return nil, err
	}
	g.srv, g.URL, g.Host = srv, srv.URL, srv.Host
	return g, nil
}

// Close stops the server and removes the directory StartGitServer made.
func (g *GitServer) Close() error {
	err := g.srv.Close()
	g.removeTemp()
	return err
}

func (g *GitServer) removeTemp() {
	if g.tempDir != "" {
		os.RemoveAll(g.tempDir)
	}
}

// CreateRepo makes an empty bare repository (branch main) that accepts pushes, at a
// path such as "org/project/_git/repo", and returns its clone URL.
func (g *GitServer) CreateRepo(ctx context.Context, name string) (string, error) {
	clean := path.Clean(name)
	if name == "" || clean != name || path.IsAbs(name) || clean == "." || strings.HasPrefix(clean, "../") || clean == ".." ||
		strings.ContainsAny(name, "\\\x00") {
		return "", fmt.Errorf("create repo: %q is not a clean relative path like org/project/_git/repo", name)
	}
	dir := filepath.Join(g.Root, filepath.FromSlash(name))
	if err := g.runGit(ctx, "", "init", "--quiet", "--bare", "--initial-branch=main", dir); err != nil {
		return "", err
	}
	if err := g.runGit(ctx, dir, "config", "http.receivepack", "true"); err != nil {
		return "", err
	}
	return g.URL + "/" + name, nil
}

func (g *GitServer) runGit(ctx context.Context, dir string, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.git, args...)
	cmd.Dir = dir
	cmd.Env = g.gitEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git %s: %w: %s", args[0], err, strings.TrimSpace(string(out)))
	}
	return nil
}

// gitEnv keeps the developer's git configuration out of the server's git processes.
func (g *GitServer) gitEnv() []string {
	return []string{"PATH=" + os.Getenv("PATH"), "HOME=" + g.home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null"}
}

// RejectNext makes the server refuse the next n distinct valid tokens it sees, and keep
// refusing them (as if revoked), so that a client must drop its cached token and fetch
// a new one.
func (g *GitServer) RejectNext(n int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.rejectNext = n
}

// Requests returns every request answered so far, in order.
func (g *GitServer) Requests() []GitRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]GitRequest(nil), g.requests...)
}

// ServeHTTP checks the token, then hands the request to git http-backend.
func (g *GitServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := GitRequest{Method: r.Method, Path: r.URL.Path}
	defer func() {
		g.mu.Lock()
		g.requests = append(g.requests, rec)
		g.mu.Unlock()
	}()
	token, user := "", ""
	if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ") {
		rec.Auth, token = "bearer", strings.TrimSpace(auth[7:])
	} else if u, pass, ok := r.BasicAuth(); ok {
		rec.Auth, user, token = "basic", u, pass
	}
	if token == "" {
		rec.Status, rec.Reason = g.challenge(w, "no credentials")
		return
	}
	rec.Token = TokenFingerprint(token)
	c, err := g.e.Validate(token, g.audience)
	if err != nil {
		rec.Status, rec.Reason = g.challenge(w, err.Error())
		return
	}
	if reason := g.refuse(rec.Token); reason != "" {
		rec.Status, rec.Reason = g.challenge(w, reason)
		return
	}
	rec.AppID, rec.Username = c.AppID, user
	sw := &gitStatusWriter{ResponseWriter: w, status: http.StatusOK}
	g.backend(c.AppID).ServeHTTP(sw, stripAuth(r))
	rec.Status = sw.status
}

// refuse applies RejectNext and the revocations it made.
func (g *GitServer) refuse(fp string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.revoked[fp] {
		return "token revoked by RejectNext"
	}
	if g.rejectNext > 0 {
		g.rejectNext--
		g.revoked[fp] = true
		return "token rejected by RejectNext"
	}
	return ""
}

func (g *GitServer) challenge(w http.ResponseWriter, reason string) (int, string) {
	w.Header().Set("WWW-Authenticate", fmt.Sprintf("Basic realm=%q", g.realm))
	http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
	return http.StatusUnauthorized, reason
}

func (g *GitServer) backend(user string) *cgi.Handler {
	return &cgi.Handler{
		Path: g.git,
		Args: []string{"http-backend"},
		Root: "/",
		Dir:  g.Root,
		Env: append(g.gitEnv(),
			"GIT_PROJECT_ROOT="+g.Root,
			"GIT_HTTP_EXPORT_ALL=1",
			"REMOTE_USER="+user,
		),
		Logger: serverLog(g.e.logf),
	}
}

// stripAuth keeps the token out of the CGI environment (HTTP_AUTHORIZATION).
func stripAuth(r *http.Request) *http.Request {
	r2 := r.Clone(r.Context())
	r2.Header.Del("Authorization")
	return r2
}

type gitStatusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (w *gitStatusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *gitStatusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *gitStatusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *gitStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
