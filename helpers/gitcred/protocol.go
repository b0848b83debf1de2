// Package gitcred is git's credential helper protocol (git-credential(1), git ≥ 2.46)
// for git-credential-entra: it reads git's attributes, decides whether a request is
// one this helper may answer (https to a host the profile lists), and writes the answer
// — an Entra access token as Basic password, or as a Bearer credential when git offers
// the authtype capability.
package gitcred

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/weburl"
)

// MaxLine is the longest attribute line accepted, newline included; git-credential(1)
// promises helpers that no line exceeds it.
const MaxLine = 65535

// maxLines bounds a request: git sends about ten attributes, a few wwwauth[] more.
const maxLines = 4096

// Request is what git sent. Multi-valued attributes (key[]) keep their order; an empty
// value resets the list, as git-credential(1) specifies.
type Request struct {
	Protocol          string
	Host              string // may include ":port"
	Path              string // only with credential.useHttpPath
	Username          string
	Password          string
	PasswordExpiryUTC string // as sent (Unix seconds)
	OAuthRefreshToken string
	AuthType          string
	Credential        string
	Ephemeral         bool
	Capabilities      []string // capability[]
	WWWAuth           []string // wwwauth[]
	State             []string // state[]
}

// HasCapability reports whether git announced capability[]=name.
func (r *Request) HasCapability(name string) bool {
	for _, c := range r.Capabilities {
		if c == name {
			return true
		}
	}
	return false
}

// LineError is an attribute line git itself would refuse. It never quotes the line,
// which may hold a password.
type LineError struct {
	Line   int
	Reason string
}

func (e *LineError) Error() string {
	return fmt.Sprintf("invalid credential line %d: %s", e.Line, e.Reason)
}

// Parse reads attributes up to a blank line or end of input, as git's credential_read
// does: keys are exact and case-sensitive, the value is everything after the first '=',
// a trailing CR is dropped, unknown keys are ignored, and a line without '=' fails the
// whole request. Bytes after the blank line are left unread.
func Parse(r io.Reader) (*Request, error) {
	br := bufio.NewReaderSize(r, fsutil.SmallBuffer) // longer lines are read in pieces (readLine)
	req := &Request{}
	for n := 1; ; n++ {
		if n > maxLines {
			return nil, fmt.Errorf("credential request has more than %d lines", maxLines)
		}
		line, err := readLine(br, n)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		eof := errors.Is(err, io.EOF)
		if line == "" {
			// A blank line ends the request, as does the end of input.
			return req, nil
		}
		if err := req.set(line, n); err != nil {
			return nil, err
		}
		if eof {
			return req, nil
		}
	}
}

// readLine returns one line without its "\n" (and a "\r" before it, as git's
// strbuf_getline drops); io.EOF when the input ended, with whatever the last,
// unterminated line held.
func readLine(br *bufio.Reader, n int) (string, error) {
	var buf []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if buf == nil && err == nil && len(chunk) <= MaxLine {
			// A whole line in the buffer, the usual case: one copy, the string.
			return strings.TrimSuffix(string(chunk[:len(chunk)-1]), "\r"), nil
		}
		buf = append(buf, chunk...)
		if len(buf) > MaxLine {
			return "", &LineError{Line: n, Reason: fmt.Sprintf("longer than %d bytes", MaxLine)}
		}
		switch {
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case err == nil:
			return strings.TrimSuffix(string(buf[:len(buf)-1]), "\r"), nil
		case errors.Is(err, io.EOF):
			return strings.TrimSuffix(string(buf), "\r"), io.EOF
		default:
			return "", fmt.Errorf("read credential request: %w", err)
		}
	}
}

func (req *Request) set(line string, n int) error {
	if strings.IndexByte(line, 0) >= 0 {
		return &LineError{Line: n, Reason: "contains a NUL byte"}
	}
	key, value, ok := strings.Cut(line, "=")
	if !ok {
		return &LineError{Line: n, Reason: `no "=" between key and value`}
	}
	switch key {
	case "protocol":
		req.Protocol = value
	case "host":
		req.Host = value
	case "path":
		req.Path = value
	case "username":
		req.Username = value
	case "password":
		req.Password = value
	case "password_expiry_utc":
		req.PasswordExpiryUTC = value
	case "oauth_refresh_token":
		req.OAuthRefreshToken = value
	case "authtype":
		req.AuthType = value
	case "credential":
		req.Credential = value
	case "ephemeral":
		req.Ephemeral = gitBool(value)
	case "capability[]":
		req.Capabilities = appendOrReset(req.Capabilities, value)
	case "wwwauth[]":
		req.WWWAuth = appendOrReset(req.WWWAuth, value)
	case "state[]":
		req.State = appendOrReset(req.State, value)
	case "url":
		return req.setURL(value, n)
	}
	return nil
}

func appendOrReset(list []string, v string) []string {
	if v == "" {
		return nil
	}
	return append(list, v)
}

// setURL is git's credential_from_url: the URL replaces the whole request.
func (req *Request) setURL(value string, n int) error {
	u, err := weburl.Parse(value)
	if err != nil || u.Scheme == "" || u.Opaque != "" {
		return &LineError{Line: n, Reason: "url is not a URL like https://host/path"}
	}
	user, pass := "", ""
	if u.User != nil {
		user = u.User.Username()
		pass, _ = u.User.Password()
	}
	path := strings.TrimPrefix(u.Path, "/")
	// Percent-decoding could smuggle a line break into a later answer; git refuses such
	// URLs too.
	for _, v := range []string{u.Scheme, u.Host, path, user, pass} {
		if strings.ContainsAny(v, "\r\n\x00") {
			return &LineError{Line: n, Reason: "url has a line break or NUL in one of its parts"}
		}
	}
	// Like git's credential_from_url, which starts with credential_clear.
	*req = Request{}
	req.Protocol = u.Scheme
	req.Host = u.Host
	req.Path = path
	req.Username, req.Password = user, pass
	return nil
}

// gitBool is git_config_bool for the values a peer would send; anything else is false.
func gitBool(v string) bool {
	switch strings.ToLower(v) {
	case "true", "yes", "on":
		return true
	}
	i, err := strconv.Atoi(v)
	return err == nil && i != 0
}

// Response is a helper's answer to get. Zero fields are not written.
type Response struct {
	Capabilities   []string
	AuthType       string
	Credential     string
	Username       string
	Password       string
	PasswordExpiry time.Time
	Ephemeral      bool
}

// Marshal renders the answer in the order git writes its own attributes (git reads a
// helper's answer to end of output, so no blank line follows). A value git could not read back (newline or NUL) is an error, as
// it is in git's credential_write.
func (r *Response) Marshal() ([]byte, error) {
	var b bytes.Buffer
	// Sized once for what an answer holds (a token, a client id, a few short fields):
	// growing from empty copies the token three times on every hit.
	b.Grow(max(fsutil.SmallBuffer, len(r.Password)+len(r.Username)+len(r.Credential)+160))
	item := func(key, value string) error {
		if value == "" {
			return nil
		}
		// Two byte searches, not ContainsAny: the value is a 1–2 KB token on every hit.
		if strings.IndexByte(value, '\n') >= 0 || strings.IndexByte(value, 0) >= 0 {
			return fmt.Errorf("credential value for %s contains a newline or NUL byte", key)
		}
		b.WriteString(key)
		b.WriteByte('=')
		b.WriteString(value)
		b.WriteByte('\n')
		return nil
	}
	for _, c := range r.Capabilities {
		if err := item("capability[]", c); err != nil {
			return nil, err
		}
	}
	expiry := ""
	if !r.PasswordExpiry.IsZero() {
		expiry = strconv.FormatInt(r.PasswordExpiry.Unix(), 10)
	}
	ephemeral := ""
	if r.Ephemeral {
		ephemeral = "true"
	}
	for _, kv := range [][2]string{
		{"authtype", r.AuthType},
		{"credential", r.Credential},
		{"username", r.Username},
		{"password", r.Password},
		{"password_expiry_utc", expiry},
		{"ephemeral", ephemeral},
	} {
		if err := item(kv[0], kv[1]); err != nil {
			return nil, err
		}
	}
	if b.Len() == 0 {
		return nil, nil
	}
	return b.Bytes(), nil
}
