package hostport

import "testing"

func TestSplit(t *testing.T) {
	for _, c := range []struct {
		in   string
		name string
		port int
		ok   bool
	}{
		{"dev.azure.com", "dev.azure.com", 443, true},
		{"MyOrg.VisualStudio.com:443", "myorg.visualstudio.com", 443, true},
		{"127.0.0.1:8443", "127.0.0.1", 8443, true},
		{"[::1]:5000", "[::1]", 5000, true},
		{"[::1]", "[::1]", 443, true},
		{"dev.azure.com:0443", "dev.azure.com", 443, true},
		{"", "", 0, false},
		{"dev.azure.com:", "", 0, false},
		{"dev.azure.com:65536", "", 0, false},
		{"dev.azure.com:0", "", 0, false},
		{"dev..azure.com", "", 0, false},
		{".dev.azure.com", "", 0, false},
		{"dev.azure.com.", "", 0, false},
		{"dév.azure.com", "", 0, false},
		{"dev.azure.com/path", "", 0, false},
		{"user@dev.azure.com", "", 0, false},
		{"[::1", "", 0, false},
		{"[::1]x", "", 0, false},
		{"[zz]", "", 0, false},
	} {
		name, port, ok := Split(c.in)
		if ok != c.ok || name != c.name || port != c.port {
			t.Errorf("Split(%q) = %q, %d, %v; want %q, %d, %v", c.in, name, port, ok, c.name, c.port, c.ok)
		}
	}
}
