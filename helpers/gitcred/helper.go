package gitcred

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/entratool/entratool/core/tokencache"
)

// AzureDevOpsScope is the scope of Azure DevOps (Azure Repos) access tokens: the
// resource 499b84ac-1321-427f-aa17-267ca6975798, the same for every organization.
const AzureDevOpsScope = "499b84ac-1321-427f-aa17-267ca6975798/.default"

// Profile is what the helper needs to know about the profile it serves.
type Profile struct {
	Name     string   // for messages
	ClientID string   // sent as the username
	Hosts    []string // gitHosts; empty → DefaultHosts
	Scope    string   // gitScope; empty → AzureDevOpsScope
	// Authority issued the profile's tokens; it names the culprit when a token is refused.
	Authority string
}

// Tokens is the token pipeline of the profile (the main wires core/token into it).
type Tokens interface {
	Token(ctx context.Context, scope string) (token string, expiresOn time.Time, err error)
	Forget(ctx context.Context, scope string) error
}

// Helper answers git's credential requests for one profile.
type Helper struct {
	// Bearer answers with authtype=Bearer when git offers capability[]=authtype.
	Bearer bool
	// Load reads the profile and wires its token pipeline. It is called only for https
	// requests, and must not touch certificates, keyrings or the network itself.
	Load func(ctx context.Context) (Profile, Tokens, error)
	// Debug, if set, receives one line per decision (never a secret).
	Debug func(msg string, args ...any)
}

// Run performs action with git's attributes on in, writing an answer (if any) to out.
// "Don't know" is a nil error with nothing written; errors are for stderr.
func (h *Helper) Run(ctx context.Context, action string, in io.Reader, out io.Writer) error {
	switch action {
	case "get":
		return h.get(ctx, in, out)
	case "erase":
		return h.erase(ctx, in)
	case "store":
		// Tokens are minted on demand; git's copy has nowhere to go. Draining the input
		// spares git a broken pipe.
		_, err := io.Copy(io.Discard, io.LimitReader(in, 1<<20))
		return err
	case "capability":
		return h.capability(out)
	default:
		// git-credential(1): helpers ignore actions they do not know.
		h.debug("ignoring unknown action", "action", action)
		return nil
	}
}

// capability announces what this helper can answer with, in the shape of
// `git credential capability`.
func (h *Helper) capability(out io.Writer) error {
	s := "version 0\n"
	if h.Bearer {
		s += "capability authtype\n"
	}
	_, err := io.WriteString(out, s)
	return err
}

func (h *Helper) get(ctx context.Context, in io.Reader, out io.Writer) error {
	req, err := Parse(in)
	if err != nil {
		return err
	}
	p, tokens, ok, err := h.resolve(ctx, req)
	if !ok || err != nil {
		return err
	}
	scope := p.scope()
	tok, exp, err := tokens.Token(ctx, scope)
	if err != nil {
		return fmt.Errorf("profile %s: token for %s: %w", p.Name, req.Host, err)
	}
	if tok == "" {
		return fmt.Errorf("profile %s: empty token for %s", p.Name, req.Host)
	}
	// The token becomes a line of git's credential protocol: a line break in it would
	// add attributes of the server's choosing.
	if err := tokencache.CheckHandOff(tok, exp, p.Authority, time.Now()); err != nil {
		return fmt.Errorf("profile %s: token for %s: %w", p.Name, req.Host, err)
	}
	var resp Response
	if h.Bearer && req.HasCapability("authtype") {
		resp = Response{Capabilities: []string{"authtype"}, AuthType: "Bearer", Credential: tok, Ephemeral: true}
	} else {
		resp = Response{Username: p.ClientID, Password: tok, PasswordExpiry: exp}
	}
	b, err := resp.Marshal()
	if err != nil {
		return err
	}
	if h.Debug != nil { // not h.debug: its arguments (boxed, a formatted time) cost every hit
		h.Debug("answering", "host", req.Host, "scope", scope, "bearer", resp.AuthType != "", "expires", exp.UTC().Format(time.RFC3339))
	}
	_, err = out.Write(b)
	return err
}

// erase is git reporting that the server refused the credential: drop the cached token
// so that the next get fetches a new one.
func (h *Helper) erase(ctx context.Context, in io.Reader) error {
	req, err := Parse(in)
	if err != nil {
		return err
	}
	p, tokens, ok, err := h.resolve(ctx, req)
	if !ok || err != nil {
		return err
	}
	h.debug("forgetting cached token", "host", req.Host, "scope", p.scope())
	if err := tokens.Forget(ctx, p.scope()); err != nil {
		return fmt.Errorf("profile %s: forget cached token: %w", p.Name, err)
	}
	return nil
}

// resolve decides whether req is this helper's to answer. ok is false, with a nil
// error, for anything else — then nothing is printed and nothing beyond profiles.json
// is read.
func (h *Helper) resolve(ctx context.Context, req *Request) (Profile, Tokens, bool, error) {
	if !strings.EqualFold(req.Protocol, "https") {
		h.debug("not https: not answering", "protocol", req.Protocol)
		return Profile{}, nil, false, nil
	}
	if h.Load == nil {
		return Profile{}, nil, false, errors.New("no profile loader configured")
	}
	p, tokens, err := h.Load(ctx)
	if err != nil {
		// Without a profile there is no allow-list. Say why only when the host is one
		// this helper serves by default; any other host is not ours to comment on.
		if Allowed(nil, req.Protocol, req.Host) {
			return Profile{}, nil, false, err
		}
		h.debug("no profile; host not in the default list: not answering", "host", req.Host)
		return Profile{}, nil, false, nil
	}
	if !Allowed(p.Hosts, req.Protocol, req.Host) {
		h.debug("host not in gitHosts: not answering", "host", req.Host, "profile", p.Name)
		return Profile{}, nil, false, nil
	}
	return p, tokens, true, nil
}

func (p Profile) scope() string {
	if p.Scope != "" {
		return p.Scope
	}
	return AzureDevOpsScope
}

func (h *Helper) debug(msg string, args ...any) {
	if h.Debug != nil {
		h.Debug(msg, args...)
	}
}
