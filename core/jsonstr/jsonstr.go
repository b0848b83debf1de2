// Package jsonstr writes JSON strings exactly as encoding/json does, for the few fixed
// documents a cache hit prints (az's token, kubectl's ExecCredential). encoding/json
// builds a type's encoder by reflection on first use, and a fresh process pays for it:
// about 190K instructions in az-entra's hit, more than the rest of its work. The tests
// and the fuzz target hold this to encoding/json's bytes.
package jsonstr

import "unicode/utf8"

const hex = "0123456789abcdef"

// safe is the ASCII written as it is: 0x20–0x7f but '"' and '\\'; htmlSafe is safe
// without '<', '>' and '&', which escapeHTML escapes as well.
var (
	safe     = [4]uint64{^uint64(0) &^ (1<<0x20 - 1) &^ (1 << '"'), ^uint64(0) &^ (1 << ('\\' - 64))}
	htmlSafe = [4]uint64{safe[0] &^ (1<<'<' | 1<<'>' | 1<<'&'), safe[1]}
)

// Append appends s as a JSON string, escaped as encoding/json escapes it: '"' and '\\',
// control characters (\b \f \n \r \t, else \u00XX), U+2028 and U+2029, invalid UTF-8 as
// \ufffd, and with escapeHTML (json.Marshal's default) also '<', '>' and '&'.
func Append(b []byte, s string, escapeHTML bool) []byte {
	b = append(b, '"')
	plain := &safe
	if escapeHTML {
		plain = &htmlSafe
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if plain[c>>6]&(1<<(c&63)) != 0 {
			i++ // one load and a mask a byte: a token is 1–2 KB of these
			continue
		}
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
