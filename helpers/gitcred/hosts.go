package gitcred

import (
	"strconv"
	"strings"

	"github.com/entratool/entratool/core/hostport"
)

// DefaultHosts is the allow-list of a profile without gitHosts: Azure DevOps Services
// under both of its host names.
func DefaultHosts() []string { return []string{"dev.azure.com", "*.visualstudio.com"} }

// httpsPort is the port a host without one means: the helper only ever serves https.
const httpsPort = hostport.HTTPSPort

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
	name, port, ok := hostport.Split(host)
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
	name, port, ok = hostport.Split(p)
	if wildcard && (!ok || strings.HasPrefix(name, "[")) {
		return "", 0, false, false
	}
	return name, port, wildcard, ok
}

// HostKey is host in the form gitHosts lists it: lower-case, and without ":443".
// ok is false for a host MatchHost would never match.
func HostKey(host string) (key string, ok bool) {
	name, port, ok := hostport.Split(host)
	if !ok {
		return "", false
	}
	if port == httpsPort {
		return name, true
	}
	return name + ":" + strconv.Itoa(port), true
}
