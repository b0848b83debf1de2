package profile

import (
	"strings"
	"testing"
)

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

// The separators are dropped byte for byte as a strings.Replacer did, and a normalized
// thumbprint costs no allocation (a cache hit normalizes one).
func TestNormThumbprintAsReplacer(t *testing.T) {
	old := strings.NewReplacer(":", "", " ", "", "-", "")
	for _, in := range []string{"", " ", "-:-", "a b", "é:è", "\xff:ab", "ab\xc3", "\u00a0ab\u00a0", "::AB--cd  ", "ß-x"} {
		if got, want := NormThumbprint(in), strings.ToUpper(old.Replace(strings.TrimSpace(in))); got != want {
			t.Errorf("NormThumbprint(%q) = %q, the Replacer gave %q", in, got, want)
		}
	}
	norm := "ABCDEF0123456789ABCDEF0123456789ABCDEF01"
	if n := testing.AllocsPerRun(100, func() { NormThumbprint(norm) }); n != 0 {
		t.Errorf("NormThumbprint of a normalized thumbprint made %v allocations, want 0", n)
	}
}
