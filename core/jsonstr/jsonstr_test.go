package jsonstr

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"testing"
)

func encodingJSON(t testing.TB, s string, escapeHTML bool) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(escapeHTML)
	if err := enc.Encode(s); err != nil {
		t.Fatal(err)
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

var samples = []string{
	"", "plain", `quote " and \ backslash`, "<script>&amp;</script>", "\x00\x01\b\f\n\r\t\x1f\x7f",
	"é ü 中文 🙂", "\u2028\u2029", "bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate",
	"eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln-_+/=~",
	"eyJhbGciOiJSUzI1NiJ9<>&\"\\\x01eyJhbGciOiJSUzI1NiJ9\u2028é\xffeyJhbGciOiJSUzI1NiJ9\U0001F642", jwtLike(),
}

func TestAppendIsEncodingJSON(t *testing.T) {
	for _, s := range samples {
		for _, html := range []bool{false, true} {
			if got, want := Append(nil, s, html), encodingJSON(t, s, html); !bytes.Equal(got, want) {
				t.Errorf("Append(%q, html=%v) = %s, want %s", s, html, got, want)
			}
		}
	}
}

func FuzzAppend(f *testing.F) {
	for _, s := range samples {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, html := range []bool{false, true} {
			if got, want := Append([]byte("x"), s, html), append([]byte("x"), encodingJSON(t, s, html)...); !bytes.Equal(got, want) {
				t.Fatalf("Append(%q, html=%v) = %s, want %s", s, html, got, want)
			}
		}
	})
}

// needsEscape is the byte loop's rule, written apart from the tables: what Append must
// not copy as it is.
func needsEscape(c byte, escapeHTML bool) bool {
	return c < 0x20 || c == '"' || c == '\\' || c >= 0x80 || escapeHTML && (c == '<' || c == '>' || c == '&')
}

// PlainEnd's sixteen-bytes-at-a-time test finds the same byte as the byte loop, and Append
// writes encoding/json's bytes around it: every byte value at every offset of every
// length up to 40, in a run of every byte that needs no escape ('<', '>' and '&' among
// them without escapeHTML, where the word test stops at them and must go on), from
// several starts.
func TestPlainEndIsTheByteLoop(t *testing.T) {
	for _, html := range []bool{false, true} {
		var run []byte
		for c := 0; c < 256; c++ {
			if !needsEscape(byte(c), html) {
				run = append(run, byte(c))
			}
		}
		naive := func(s string, i int) int {
			for ; i < len(s) && !needsEscape(s[i], html); i++ {
			}
			return i
		}
		check := func(s []byte, start int) {
			if got, want := PlainEnd(string(s), start, html), naive(string(s), start); got != want {
				t.Fatalf("html=%v %q from %d: PlainEnd = %d, want %d", html, s, start, got, want)
			}
		}
		for n := 0; n <= 40; n++ {
			base := make([]byte, n)
			for i := range base {
				base[i] = run[(i*5+n)%len(run)]
			}
			check(base, 0)
			for at := 0; at < n; at++ {
				for c := 0; c < 256; c++ {
					s := append([]byte(nil), base...)
					s[at] = byte(c)
					for _, start := range []int{0, 1, 7, at, at + 1} {
						if start <= n {
							check(s, start)
						}
					}
					if got, want := Append(nil, string(s), html), encodingJSON(t, string(s), html); !bytes.Equal(got, want) {
						t.Fatalf("Append(%q, html=%v) = %s, want %s", s, html, got, want)
					}
				}
			}
		}
		long := bytes.Repeat(run, 20)
		if got := PlainEnd(string(long), 0, html); got != len(long) {
			t.Fatalf("html=%v all plain: %d, want %d", html, got, len(long))
		}
	}
}

// jwtLike is a 1.2 KB access token shaped like Entra's: base64url header, claims and
// RS256 signature, as base64url of arbitrary bytes (1204 bytes).
func jwtLike() string {
	part := func(n int, seed byte) string {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i)*151 + seed
		}
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return part(75, 1) + "." + part(570, 2) + "." + part(256, 3)
}

// BenchmarkAppend is the token written into kubectl's ExecCredential (escapeHTML) and
// az's answer (not).
func BenchmarkAppend(b *testing.B) {
	tok := jwtLike()
	for _, html := range []bool{true, false} {
		b.Run(fmt.Sprintf("html=%v", html), func(b *testing.B) {
			buf := make([]byte, 0, 2*len(tok))
			b.SetBytes(int64(len(tok)))
			for b.Loop() {
				buf = Append(buf[:0], tok, html)
			}
		})
	}
}
