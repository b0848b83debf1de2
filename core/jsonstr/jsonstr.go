// Package jsonstr writes JSON strings exactly as encoding/json does, for the few fixed
// documents a cache hit prints (az's token, kubectl's ExecCredential). encoding/json
// builds a type's encoder by reflection on first use, and a fresh process pays for it:
// about 190K instructions in az-entra's hit, more than the rest of its work. The tests
// and the fuzz target hold this to encoding/json's bytes. PlainEnd, the scan for bytes a
// string needs no escape for, also serves the hit's JSON reader (core/internal/jsonscan).
package jsonstr

import (
	"math/bits"
	"unicode/utf8"
)

const hex = "0123456789abcdef"

// safe is the ASCII written as it is: 0x20–0x7f but '"' and '\\'; htmlSafe is safe
// without '<', '>' and '&', which escapeHTML escapes as well.
// The words are constants so that the tables are static data: an array built from
// another variable's elements is filled in by package init, code a front would run (and
// page in) on every start.
const (
	safe0     = ^uint64(0) &^ (1<<0x20 - 1) &^ (1 << '"')
	safe1     = ^uint64(0) &^ (1 << ('\\' - 64))
	htmlSafe0 = safe0 &^ (1<<'<' | 1<<'>' | 1<<'&')
)

var (
	safe     = [4]uint64{safe0, safe1}
	htmlSafe = [4]uint64{htmlSafe0, safe1}
)

// Append appends s as a JSON string, escaped as encoding/json escapes it: '"' and '\\',
// control characters (\b \f \n \r \t, else \u00XX), U+2028 and U+2029, invalid UTF-8 as
// \ufffd, and with escapeHTML (json.Marshal's default) also '<', '>' and '&'.
func Append(b []byte, s string, escapeHTML bool) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if i = PlainEnd(s, i, escapeHTML); i == len(s) {
			break
		}
		c := s[i]
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// PlainEnd returns the index of the first byte at or after i that a JSON string does not
// hold as it is — '"', '\\', a control character, a byte ≥ 0x80 (the start of a rune to
// check), and with escapeHTML '<', '>' and '&' — or len(s). Append copies the bytes
// before it; a reader (core/internal/jsonscan, escapeHTML false) skips them.
//
// It looks at sixteen bytes at a time, since a token is 1–2 KB of bytes that need none:
// a byte at a time, a 1.2 KB token cost Append some 20K instructions. '<', '>' and '&'
// stop the word test whether or not they are escaped; the table decides, and the test
// goes on after them.
func PlainEnd(s string, i int, escapeHTML bool) int {
	plain := &safe
	if escapeHTML {
		plain = &htmlSafe
	}
	for i+16 <= len(s) {
		b := s[i : i+16] // one bounds check for both words
		lo, hi := mayEscape(word(b[:8])), mayEscape(word(b[8:]))
		if lo|hi == 0 {
			i += 16
			continue
		}
		if lo != 0 {
			i += bits.TrailingZeros64(lo) >> 3
		} else {
			i += 8 + bits.TrailingZeros64(hi)>>3
		}
		if c := s[i]; plain[c>>6]&(1<<(c&63)) == 0 {
			return i
		}
		i++ // '<', '>' or '&' without escapeHTML
	}
	for ; i < len(s); i++ {
		if c := s[i]; plain[c>>6]&(1<<(c&63)) == 0 {
			return i
		}
	}
	return i
}

// word is the eight bytes of b, little-endian: the compiler makes it one load.
func word(b string) uint64 {
	return uint64(b[0]) | uint64(b[1])<<8 | uint64(b[2])<<16 | uint64(b[3])<<24 |
		uint64(b[4])<<32 | uint64(b[5])<<40 | uint64(b[6])<<48 | uint64(b[7])<<56
}

// mayEscape has the high bit of each byte of x set that may need an escape (see
// PlainEnd); the lowest set bit is the first such byte.
func mayEscape(x uint64) uint64 {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	// Each of these is zero in a byte that is one of a pair: setting bit 2 makes '"'
	// (0x22) a '&' (0x26), setting bit 1 makes '<' (0x3c) a '>' (0x3e).
	quoteAmp, angle, backslash := (x|ones*4)^(ones*'&'), (x|ones*2)^(ones*'>'), x^(ones*'\\')
	// A byte's high bit ends up set if it is < 0x20, one of the five (a zero less one),
	// or ≥ 0x80 — and only then, but for a borrow, which runs only out of a byte that is
	// itself one of these: the lowest byte with its high bit set is one, not a borrow's
	// echo of one below. The usual &^ of the zero test is not needed: it only clears
	// bytes ≥ 0x80, which x sets again.
	return ((x - ones*0x20) | (quoteAmp - ones) | (angle - ones) | (backslash - ones) | x) & highs
}
