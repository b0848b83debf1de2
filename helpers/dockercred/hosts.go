package dockercred

import (
	"strconv"
	"strings"
)

// httpsPort is what a registry name without a port means: registries are reached over
// https, and a token is never handed out for anything else.
const httpsPort = 443

// NormalizeServerURL turns what docker or go-containerregistry passes to `get` — a
// registry name ("myreg.azurecr.io"), with a port ("host:5000"), with a repository
// ("host/team/app"), or a URL ("https://host/v2/") — into the registry's key:
// lower-case, without ":443". ok is false for anything this helper must never answer:
// a scheme other than https, user info, a name that is not plain ASCII DNS labels or a
// bracketed IPv6 literal, or a bad port.
func NormalizeServerURL(s string) (key string, ok bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 2048 {
		return "", false
	}
	if i := strings.Index(s, "://"); i >= 0 {
		if !strings.EqualFold(s[:i], "https") {
			return "", false
		}
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if strings.ContainsRune(s, '@') {
		return "", false
	}
	return RegistryKey(s)
}

// RegistryKey is the key of a registry name as a profile's "registries" lists it:
// host or host:port, nothing else (no scheme, path or user info).
func RegistryKey(s string) (key string, ok bool) {
	name, port, ok := splitHost(s)
	if !ok {
		return "", false
	}
	if port == httpsPort {
		return name, true
	}
	return name + ":" + strconv.Itoa(port), true
}

// SameRegistry reports whether two registry names (any form NormalizeServerURL takes)
// name the same registry.
func SameRegistry(a, b string) bool {
	ka, ok := NormalizeServerURL(a)
	if !ok {
		return false
	}
	kb, ok := NormalizeServerURL(b)
	return ok && ka == kb
}

// splitHost lower-cases host[:port] and checks its shape: DNS labels of ASCII letters,
// digits, '-' and '_' (no empty label, so no leading, trailing or double dot), or a
// bracketed IPv6 literal; an optional decimal port 1–65535 (443 when absent). Unicode
// is refused outright: case folding could make a look-alike name equal a listed one,
// while the client would connect to its punycode form, another host.
func splitHost(h string) (name string, port int, ok bool) {
	if h == "" || len(h) > 300 {
		return "", 0, false
	}
	port = httpsPort
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
		if !validName(h) {
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
	return asciiLower(h), port, true
}

func validName(s string) bool {
	if s == "" || len(s) > 253 {
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
