package gitcred

import (
	"strings"
	"testing"
)

func TestAllowed(t *testing.T) {
	local := []string{"127.0.0.1:8443", "dev.azure.com", "*.visualstudio.com", "[::1]:9443", "git.contoso.com:443"}
	cases := []struct {
		url      string // protocol://host as git splits it
		patterns []string
		want     bool
	}{
		// The defaults (empty gitHosts).
		{"https://dev.azure.com", nil, true},
		{"https://DEV.Azure.COM", nil, true},
		{"https://dev.azure.com:443", nil, true},
		{"https://dev.azure.com:0443", nil, true},
		{"https://myorg.visualstudio.com", nil, true},
		{"https://MyOrg.VisualStudio.com", nil, true},
		{"https://myorg.visualstudio.com:443", nil, true},
		{"https://a.b.visualstudio.com", nil, true},
		{"http://dev.azure.com", nil, false},
		{"HTTPS://dev.azure.com", nil, true},
		{"ssh://dev.azure.com", nil, false},
		{"://dev.azure.com", nil, false},
		{"https://dev.azure.com:8443", nil, false},
		{"https://dev.azure.com.evil.com", nil, false},
		{"https://evil-dev.azure.com", nil, false},
		{"https://evil.dev.azure.com", nil, false},
		{"https://dev.azure.co", nil, false},
		{"https://azure.com", nil, false},
		{"https://visualstudio.com", nil, false},
		{"https://evilvisualstudio.com", nil, false},
		{"https://myorg.visualstudio.com.evil.com", nil, false},
		{"https://myorg.visualstudio.com:8443", nil, false},
		{"https://.visualstudio.com", nil, false},
		{"https://myorg..visualstudio.com", nil, false},
		{"https://dev.azure.com.", nil, false},
		{"https://dev.azure.com:", nil, false},
		{"https://dev.azure.com:https", nil, false},
		{"https://dev.azure.com:65536", nil, false},
		{"https://dev.azure.com:0", nil, false},
		{"https://", nil, false},
		{"https://user@dev.azure.com", nil, false},
		{"https://dev.azure.com/org", nil, false},
		{"https://dev.azure.com%2eevil.com", nil, false},
		{"https://dev.azure.com\\@evil.com", nil, false},
		{"https://dev azure.com", nil, false},
		{"https://dev.azure.çom", nil, false},
		// U+212A KELVIN SIGN lower-cases to 'k' under Unicode folding.
		{"https://\u212Aube.contoso.com", []string{"kube.contoso.com"}, false},
		// A listed host with a port, as the tests' git server is.
		{"https://127.0.0.1:8443", local, true},
		{"https://127.0.0.1", local, false},
		{"https://127.0.0.1:443", local, false},
		{"https://127.0.0.1:8444", local, false},
		{"https://127.0.0.10:8443", local, false},
		{"https://[::1]:9443", local, true},
		{"https://[::1]", local, false},
		{"https://[::1]9443", local, false},
		{"https://git.contoso.com", local, true},
		{"https://git.contoso.com:443", local, true},
		{"https://myorg.visualstudio.com", local, true},
		{"https://dev.azure.com", []string{"127.0.0.1:8443"}, false},
		// Patterns that match nothing rather than everything.
		{"https://dev.azure.com", []string{"*"}, false},
		{"https://dev.azure.com", []string{"*."}, false},
		{"https://dev.azure.com", []string{""}, false},
		{"https://dev.azure.com", []string{"*.[::1]"}, false},
		{"https://x.dev.azure.com", []string{"dev.azure.com"}, false},
	}
	for _, c := range cases {
		proto, host, _ := strings.Cut(c.url, "://")
		if got := Allowed(c.patterns, proto, host); got != c.want {
			t.Errorf("Allowed(%q, %q) = %v, want %v", c.patterns, c.url, got, c.want)
		}
	}
}

func TestHostKey(t *testing.T) {
	for in, want := range map[string]string{
		"dev.azure.com":     "dev.azure.com",
		"Dev.Azure.com:443": "dev.azure.com",
		"127.0.0.1:8443":    "127.0.0.1:8443",
		"[::1]:9443":        "[::1]:9443",
		"dev.azure.com:":    "",
		"a/b":               "",
	} {
		got, ok := HostKey(in)
		if got != want || ok != (want != "") {
			t.Errorf("HostKey(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
