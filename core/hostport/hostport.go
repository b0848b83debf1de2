// Package hostport parses the host[:port] a credential request names, strictly, for the
// allow-lists of the git and docker helpers. What it refuses is never matched.
package hostport

import "strings"

// HTTPSPort is the port a host without one means.
const HTTPSPort = 443

// Split lower-cases host[:port] and checks its shape: DNS labels of ASCII letters,
// digits, '-' and '_' (no empty label, so no leading, trailing or double dot), or a
// bracketed IPv6 literal; an optional decimal port 1–65535 (443 when absent). Unicode
// is refused outright: case folding could make a look-alike name equal a listed one,
// while the client would connect to its punycode form, another host.
func Split(h string) (name string, port int, ok bool) {
	if h == "" || len(h) > 300 {
		return "", 0, false
	}
	port = HTTPSPort
	portStr, hasPort := "", false
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", 0, false
		}
		lit, rest := h[1:end], h[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", 0, false
			}
			portStr, hasPort = rest[1:], true
		}
		if !validIPv6Literal(lit) {
			return "", 0, false
		}
		h = h[:end+1]
	} else {
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			h, portStr, hasPort = h[:i], h[i+1:], true
		}
		if !ValidName(h) {
			return "", 0, false
		}
	}
	if hasPort {
		if portStr == "" || len(portStr) > 5 {
			return "", 0, false
		}
		n := 0
		for i := 0; i < len(portStr); i++ {
			c := portStr[i]
			if c < '0' || c > '9' {
				return "", 0, false
			}
			n = n*10 + int(c-'0')
		}
		if n < 1 || n > 65535 {
			return "", 0, false
		}
		port = n
	}
	return Lower(h), port, true
}

// ValidName reports whether s is a DNS name of ASCII labels.
func ValidName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") { // no slice to allocate: a hit checks two or three names
		if label == "" || len(label) > 63 {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

func validIPv6Literal(s string) bool {
	if s == "" || !strings.Contains(s, ":") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' || c == ':' || c == '.') {
			return false
		}
	}
	return true
}

// Lower lower-cases ASCII only (the only letters Split accepts).
func Lower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}
