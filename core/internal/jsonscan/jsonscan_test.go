package jsonscan

import (
	"testing"

	"github.com/entratool/entratool/core/jsonstr"
)

// What a reader skips in a string (jsonstr.PlainEnd without escapeHTML) is what a plain
// loop skips: every byte value at every offset of a run of plain bytes, from every start.
func TestPlainEndIsTheByteLoop(t *testing.T) {
	naive := func(s string, j int) int {
		for ; j < len(s); j++ {
			if c := s[j]; c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
				return j
			}
		}
		return j
	}
	plain := "abcdefghijklmnopqrstuvwxyz-_.~+/=ABCDEF0123456789 !#$%&'()*,:;<>?@[]^`{|}"
	for c := 0; c < 256; c++ {
		for at := 0; at < 20; at++ {
			s := []byte(plain[:24])
			s[at] = byte(c)
			for start := 0; start <= len(s); start++ {
				if got, want := jsonstr.PlainEnd(string(s), start, false), naive(string(s), start); got != want {
					t.Fatalf("byte %#02x at %d, from %d: PlainEnd = %d, want %d", c, at, start, got, want)
				}
			}
		}
	}
	if got := jsonstr.PlainEnd(plain, 0, false); got != len(plain) {
		t.Fatalf("all plain: %d, want %d", got, len(plain))
	}
}
