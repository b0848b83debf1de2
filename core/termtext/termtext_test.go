package termtext

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"CN=MyApp, O=Contoso", "CN=MyApp, O=Contoso"},
		{"Zürich Ærø 東京 مرحبا 👩‍💻", "Zürich Ærø 東京 مرحبا 👩\\u200d💻"},
		{"evil\nentratool: forged", `evil\nentratool: forged`},
		{"a\r\tb", `a\r\tb`},
		{"\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"\x00\x07\x08\x7f", `\x00\x07\x08\x7f`},
		{"c1 \u0085 \u009b2J", `c1 \u0085 \u009b2J`},
		{"txt.exe\u202egnp", `txt.exe\u202egnp`},
		{"\u200b\u200c\u200d\u200e\u200f", `\u200b\u200c\u200d\u200e\u200f`},
		{"\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u061c", `\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069\u061c`},
		{"\ufeffBOM", `\ufeffBOM`},
		{"line\u2028sep\u2029", `line\u2028sep\u2029`},
		{"bad \xff\xfe utf8 \xe2\x80", `bad \xff\xfe utf8 \xe2\x80`},
		{`already \n escaped \x1b`, `already \n escaped \x1b`},
		{"\ufffd is a real character", "\ufffd is a real character"},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestEscapeCostsNothingWhenClean(t *testing.T) {
	for _, s := range []string{"plain ASCII line", "Größe 東京"} {
		if n := testing.AllocsPerRun(100, func() { _ = Escape(s) }); n != 0 {
			t.Errorf("Escape(%q) allocates %v times", s, n)
		}
	}
	b := []byte(`{"subject": "CN=Zoë"}`)
	if n := testing.AllocsPerRun(100, func() { _ = JSON(b) }); n != 0 {
		t.Errorf("JSON allocates %v times", n)
	}
}

func TestJSON(t *testing.T) {
	v := map[string]string{"subject": "CN=a\nb\x1b[31m\u202e\u0085\x7fc Zoë", "plain": "x"}
	raw, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out := JSON(raw)
	if !strings.Contains(string(out), "\n  \"plain\"") {
		t.Fatalf("the document's own layout was changed: %s", out)
	}
	for _, r := range string(out) {
		if NeedsEscape(r) && r != '\n' {
			t.Fatalf("raw %U left in %q", r, out)
		}
	}
	var back map[string]string
	if err := json.Unmarshal(out, &back); err != nil || back["subject"] != v["subject"] || back["plain"] != "x" {
		t.Fatalf("round trip: %v %q", err, back)
	}
}

// unsafeRune is the fuzz oracle, written from the categories rather than from
// NeedsEscape: any Unicode control (Cc), and the bidi and zero-width characters.
func unsafeRune(r rune) bool {
	if unicode.IsControl(r) {
		return true
	}
	switch {
	case r == 0x61c, r >= 0x200b && r <= 0x200f, r >= 0x202a && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069, r == 0xfeff, r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

func FuzzEscape(f *testing.F) {
	for _, s := range []string{"", "plain", "a\nb", "\x1b[2J", "\u202e", "\xff", "Zoë", "\u0085", `\x1b`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if unsafeRune(r) {
				t.Fatalf("Escape(%q) = %q holds %U", s, out, r)
			}
		}
		clean := utf8.ValidString(s)
		for _, r := range s {
			clean = clean && !unsafeRune(r)
		}
		if clean && out != s {
			t.Fatalf("printable %q changed to %q", s, out)
		}
		if again := Escape(out); again != out {
			t.Fatalf("not idempotent: %q → %q → %q", s, out, again)
		}
		if len(out) < len(s) {
			t.Fatalf("Escape(%q) = %q lost text", s, out)
		}
	})
}

func TestLine(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "",
		"  one  ":                         "one",
		"a\nb\r\n\tc":                     "a b c",
		"AADSTS1: x\r\nentratool: forged": "AADSTS1: x entratool: forged",
		"CN=a\x1b[31m\u202e":              `CN=a\x1b[31m\u202e`,
	} {
		if got := Line(in); got != want {
			t.Errorf("Line(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestWriteJSONEscapesTerminalControls(t *testing.T) {
	var out bytes.Buffer
	if err := WriteJSON(&out, map[string]string{"subject": "CN=a\x1b[31m\u202e\u0085\x7f<b>&"}); err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"subject\": \"CN=a\\u001b[31m\\u202e\\u0085\\u007f<b>&\"\n}\n"
	if out.String() != want {
		t.Fatalf("got %q, want %q", out.String(), want)
	}
}
