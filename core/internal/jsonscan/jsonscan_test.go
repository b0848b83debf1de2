package jsonscan

import "testing"

// skipPlain's eight-bytes-at-a-time test finds the same byte as a plain loop: every
// byte value at every offset of a run of plain bytes, from every start.
func TestSkipPlainIsTheByteLoop(t *testing.T) {
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
				if got, want := skipPlain(string(s), start), naive(string(s), start); got != want {
					t.Fatalf("byte %#02x at %d, from %d: skipPlain = %d, want %d", c, at, start, got, want)
				}
			}
		}
	}
	if got := skipPlain(plain, 0); got != len(plain) {
		t.Fatalf("all plain: %d, want %d", got, len(plain))
	}
}
