package gitcred

import (
	"strconv"
	"strings"
)

// DefaultHosts is the allow-list of a profile without gitHosts: Azure DevOps Services
// under both of its host names.
func DefaultHosts() []string { return []string{"dev.azure.com", "*.visualstudio.com"} }

// httpsPort is the port a host without one means: the helper only ever serves https.
const httpsPort = 443

// Allowed reports whether a request for protocol and host may be answered with a token
// of a profile whose gitHosts are patterns (nil or empty → DefaultHosts). Only https is
// served: a token must never cross the wire in clear text.
func Allowed(patterns []string, protocol, host string) bool {
	if !strings.EqualFold(protocol, "https") {
		return false
	}
	if len(patterns) == 0 {
		patterns = DefaultHosts()
	}
	return MatchHost(patterns, host)
}

// MatchHost reports whether host (git's host attribute: name, optionally ":port")
// matches one of patterns. A pattern is a host name, matched exactly, or "*." and a
// name, matched by any host that ends with "." and that name (one or more whole labels
// in front). Both may carry ":port"; without one they mean 443. Comparison is
// ASCII case-insensitive. A host that is not plain ASCII never matches: Unicode case
// folding could turn a look-alike name into a listed one, while curl would connect to
// its punycode form, a different host.
func MatchHost(patterns []string, host string) bool {
	name, port, ok := splitHost(host)
	if !ok {
		return false
	}
	for _, p := range patterns {
		if matchPattern(p, name, port) {
			return true
		}
	}
	return false
}

func matchPattern(pattern, name string, port int) bool {
	pname, pport, wildcard, ok := splitPattern(pattern)
	if !ok || pport != port {
		return false
	}
	if !wildcard {
		return name == pname
	}
	// pname is the suffix after "*.": the host must have at least one label before it.
	return len(name) > len(pname)+1 && strings.HasSuffix(name, pname) && name[len(name)-len(pname)-1] == '.'
}

// splitPattern parses a gitHosts entry.
func splitPattern(p string) (name string, port int, wildcard bool, ok bool) {
	if rest, found := strings.CutPrefix(p, "*."); found {
		p, wildcard = rest, true
	}
	name, port, ok = splitHost(p)
	if wildcard && (!ok || strings.HasPrefix(name, "[")) {
		return "", 0, false, false
	}
	return name, port, wildcard, ok
}

// splitHost lower-cases a host[:port] and checks its shape: DNS labels of ASCII
// letters, digits, '-' and '_' (no empty label, so no leading, trailing or double dot),
// or a bracketed IPv6 literal; an optional decimal port 1–65535 (443 when absent).
func splitHost(h string) (name string, port int, ok bool) {
	if h == "" || len(h) > 300 {
		return "", 0, false
	}
	port = httpsPort
	var portStr string
	hasPort := false
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", 0, false
		}
		name, rest := h[:end+1], h[end+1:]
		if rest != "" {
			if rest[0] != ':' {
				return "", 0, false
			}
			portStr, hasPort = rest[1:], true
		}
		if !validIPv6Literal(name[1 : len(name)-1]) {
			return "", 0, false
		}
		h = name
	} else {
		if i := strings.LastIndexByte(h, ':'); i >= 0 {
			h, portStr, hasPort = h[:i], h[i+1:], true
		}
		if !validName(h) {
			return "", 0, false
		}
	}
	if hasPort {
		if portStr == "" || len(portStr) > 5 {
			return "", 0, false
		}
		for i := 0; i < len(portStr); i++ {
			if portStr[i] < '0' || portStr[i] > '9' {
				return "", 0, false
			}
		}
		n, err := strconv.Atoi(portStr)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, false
		}
		port = n
	}
	return asciiLower(h), port, true
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, label := range strings.Split(s, ".") {
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

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + ('a' - 'A')
		}
	}
	return string(b)
}

// HostKey is host in the form gitHosts lists it: lower-case, and without ":443".
// ok is false for a host MatchHost would never match.
func HostKey(host string) (key string, ok bool) {
	name, port, ok := splitHost(host)
	if !ok {
		return "", false
	}
	if port == httpsPort {
		return name, true
	}
	return name + ":" + strconv.Itoa(port), true
}
