package emulator

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Server is a further HTTPS listener run beside the authority (a fake git server,
// Kubernetes API or container registry). Its certificate chains to the emulator CA, so
// the same CAFile / HTTPClient trusts it.
type Server struct {
	URL  string // https://127.0.0.1:PORT (no trailing slash)
	Host string // 127.0.0.1:PORT, as a registry or git host name

	srv *http.Server
}

// StartServer serves h over HTTPS on a new 127.0.0.1 port, with a leaf for the loopback
// names plus names. The emulator's Close also closes it.
func (e *Emulator) StartServer(h http.Handler, names ...string) (*Server, error) {
	conf := e.ServerTLSConfig(names...)
	if conf == nil {
		return nil, errors.New("start server: TLS certificate could not be issued")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start server: %w", err)
	}
	s := &Server{
		URL:  "https://" + ln.Addr().String(),
		Host: ln.Addr().String(),
		srv: &http.Server{
			Handler:           h,
			TLSConfig:         conf,
			ReadHeaderTimeout: 10 * time.Second,
			ErrorLog:          serverLog(e.logf),
		},
	}
	// Registered under the lock Close takes, so a server is either closed by Close or
	// never started.
	e.mu.Lock()
	defer e.mu.Unlock()
	select {
	case <-e.done:
		ln.Close()
		return nil, errors.New("start server: emulator is closed")
	default:
	}
	e.servers = append(e.servers, s)
	go s.srv.ServeTLS(ln, "", "")
	return s, nil
}

// Close stops the server and its open connections.
func (s *Server) Close() error { return s.srv.Close() }

type claimsKey struct{}

// ClaimsFromContext returns the claims RequireToken checked for this request.
func ClaimsFromContext(ctx context.Context) (*Claims, bool) {
	c, ok := ctx.Value(claimsKey{}).(*Claims)
	return c, ok
}

// RequireToken admits only requests carrying an access token this emulator issued for
// audience, as "Authorization: Bearer <token>" (Kubernetes, Azure DevOps) or as the
// password of Basic auth (git over HTTPS with a credential helper). Others get 401 with
// a WWW-Authenticate challenge naming the authority.
func (e *Emulator) RequireToken(audience string, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		token := ""
		if auth := r.Header.Get("Authorization"); len(auth) > 7 && strings.EqualFold(auth[:7], "Bearer ") {
			token = strings.TrimSpace(auth[7:])
		} else if _, pass, ok := r.BasicAuth(); ok {
			token = pass
		}
		if token == "" {
			e.challenge(w, "")
			return
		}
		c, err := e.Validate(token, audience)
		if err != nil {
			e.challenge(w, err.Error())
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), claimsKey{}, c)))
	})
}

func (e *Emulator) challenge(w http.ResponseWriter, reason string) {
	v := fmt.Sprintf(`Bearer authorization_uri="%s/common/oauth2/authorize"`, e.URL)
	if reason != "" {
		v += fmt.Sprintf(`, error="invalid_token", error_description=%q`, reason)
	}
	w.Header().Set("WWW-Authenticate", v)
	http.Error(w, "401 Unauthorized", http.StatusUnauthorized)
}
