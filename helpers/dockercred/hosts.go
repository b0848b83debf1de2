package dockercred

import (
	"strconv"
	"strings"

	"github.com/entratool/entratool/core/hostport"
)

// httpsPort is what a registry name without a port means: registries are reached over
// https, and a token is never handed out for anything else.
const httpsPort = hostport.HTTPSPort

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
	name, port, ok := hostport.Split(s)
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

// acrDomains are the domains of Azure Container Registry login servers: the public,
// US government and China clouds.
func acrDomains() []string { return []string{".azurecr.io", ".azurecr.us", ".azurecr.cn"} }

// IsACRHost reports whether registry (any form NormalizeServerURL takes) is an Azure
// Container Registry login server, a name with at least one label in front of one of
// ACR's domains. The port is not part of the name: "myreg.azurecr.io:5000" is named
// like ACR, "registry.example.com:5000" is not. The helper only speaks ACR's token
// exchange, so setup warns about any other registry.
func IsACRHost(registry string) bool {
	key, ok := NormalizeServerURL(registry)
	if !ok {
		return false
	}
	name, _, ok := hostport.Split(key)
	if !ok {
		return false
	}
	for _, d := range acrDomains() {
		if len(name) > len(d) && strings.HasSuffix(name, d) {
			return true
		}
	}
	return false
}
