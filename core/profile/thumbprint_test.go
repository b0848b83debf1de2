package profile

import "testing"

func TestNormThumbprint(t *testing.T) {
	const want = "ABCDEF0123456789ABCDEF0123456789ABCDEF01"
	for _, in := range []string{
		want,
		"abcdef0123456789abcdef0123456789abcdef01",
		" ab cd-ef 01:23 45 67 89 ab cd ef 01 23 45 67 89 ab cd ef 01 ",
		"AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01",
		"ab-cd-ef-01-23-45-67-89-ab-cd-ef-01-23-45-67-89-ab-cd-ef-01",
		"\tABCDEF0123456789ABCDEF0123456789ABCDEF01\n",
	} {
		if got := NormThumbprint(in); got != want {
			t.Errorf("NormThumbprint(%q) = %q, want %q", in, got, want)
		}
	}
	if got := NormThumbprint(" ab:cd-ef 01 "); got != "ABCDEF01" {
		t.Errorf("NormThumbprint = %q", got)
	}
}
