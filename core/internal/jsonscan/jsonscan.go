// Package jsonscan reads the small JSON files of a cache hit (profiles.json, cache
// entries, certificate memos) without encoding/json's reflection: a strict validating
// scanner over the bytes, for decoders that take the shapes entratool writes and hand
// anything else to encoding/json.
//
// The scanner works on a string: the caller converts the file once, and every string
// it returns is a substring of that copy (no allocation per value).
//
// Every function reports ok == false rather than an error: the caller then decodes the
// same bytes with its full decoder (the source of truth), which accepts or reports them
// exactly as before. So the scanner may refuse more than JSON does (a nesting depth over
// MaxDepth, for one), but never accepts what JSON refuses: whatever it accepts is valid
// JSON, and a string it returns is what encoding/json would decode.
package jsonscan

import (
	"encoding/json"
	"unicode/utf8"
	"unsafe"

	"github.com/entratool/entratool/core/jsonstr"
)

// MaxDepth bounds the nesting the scanner follows; deeper values are left to
// encoding/json (whose own bound is 10000).
const MaxDepth = 512

// SkipSpace returns the offset of the first byte at or after i that is not JSON
// whitespace.
func SkipSpace(data string, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// End reports whether only whitespace follows offset i.
func End(data string, i int) bool { return SkipSpace(data, i) == len(data) }

// Skip validates the value starting at i (no leading whitespace) and returns the offset
// just after it.
func Skip(data string, i int) (int, bool) {
	return skip(data, i, 0)
}

func skip(data string, i, depth int) (int, bool) {
	if i >= len(data) {
		return 0, false
	}
	switch c := data[i]; {
	case c == '"':
		end, _, ok := scanString(data, i)
		return end, ok
	case c == '{':
		if depth >= MaxDepth {
			return 0, false
		}
		return Object(data, i, func(_ string, v int) (int, bool) { return skip(data, v, depth+1) })
	case c == '[':
		if depth >= MaxDepth {
			return 0, false
		}
		return Array(data, i, func(_ int, v int) (int, bool) { return skip(data, v, depth+1) })
	case c == 't':
		return literal(data, i, "true")
	case c == 'f':
		return literal(data, i, "false")
	case c == 'n':
		return literal(data, i, "null")
	case c == '-' || '0' <= c && c <= '9':
		return number(data, i)
	}
	return 0, false
}

func literal(data string, i int, lit string) (int, bool) {
	if len(data)-i < len(lit) || data[i:i+len(lit)] != lit {
		return 0, false
	}
	return i + len(lit), true
}

// IsNull reports whether the value at i is null, and where it ends.
func IsNull(data string, i int) (int, bool) { return literal(data, i, "null") }

// Bool reads true, false or null (as false, with null set) at i.
func Bool(data string, i int) (b, null bool, end int, ok bool) {
	if end, ok := literal(data, i, "true"); ok {
		return true, false, end, true
	}
	if end, ok := literal(data, i, "false"); ok {
		return false, false, end, true
	}
	if end, ok := literal(data, i, "null"); ok {
		return false, true, end, true
	}
	return false, false, 0, false
}

// number validates a JSON number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func number(data string, i int) (int, bool) {
	if i < len(data) && data[i] == '-' {
		i++
	}
	switch {
	case i < len(data) && data[i] == '0':
		i++
	case i < len(data) && '1' <= data[i] && data[i] <= '9':
		i = digits(data, i)
	default:
		return 0, false
	}
	if i < len(data) && data[i] == '.' {
		j := digits(data, i+1)
		if j == i+1 {
			return 0, false
		}
		i = j
	}
	if i < len(data) && (data[i] == 'e' || data[i] == 'E') {
		i++
		if i < len(data) && (data[i] == '+' || data[i] == '-') {
			i++
		}
		j := digits(data, i)
		if j == i {
			return 0, false
		}
		i = j
	}
	return i, true
}

func digits(data string, i int) int {
	for i < len(data) && '0' <= data[i] && data[i] <= '9' {
		i++
	}
	return i
}

// Int reads a non-negative integer of at most 9 digits at i, as encoding/json would
// decode it into an int; anything else (a fraction, an exponent, a sign) is not ok.
func Int(data string, i int) (n, end int, ok bool) {
	end, ok = number(data, i)
	if !ok || end-i > 9 || data[i] == '-' {
		return 0, 0, false
	}
	for j := i; j < end; j++ {
		c := data[j]
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, end, true
}

// scanString validates the string at i and returns its end and whether it needs
// unescaping (a backslash) or repair (invalid UTF-8, which encoding/json replaces with
// U+FFFD).
func scanString(data string, i int) (end int, slow, ok bool) {
	if i >= len(data) || data[i] != '"' {
		return 0, false, false
	}
	ascii := true
	for j := i + 1; j < len(data); j++ {
		if j = jsonstr.PlainEnd(data, j, false); j >= len(data) {
			break
		}
		switch c := data[j]; {
		case c == '"':
			if !ascii && !utf8.ValidString(data[i+1:j]) {
				slow = true
			}
			return j + 1, slow, true
		case c == '\\':
			slow = true
			j++
			if j >= len(data) {
				return 0, false, false
			}
			switch data[j] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			case 'u':
				if len(data)-j < 5 || !hex4(data[j+1:j+5]) {
					return 0, false, false
				}
				j += 4
			default:
				return 0, false, false
			}
		case c < 0x20:
			return 0, false, false
		case c >= 0x80:
			ascii = false
		}
	}
	return 0, false, false
}

func hex4(b string) bool {
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// String reads the string at i as encoding/json decodes it.
func String(data string, i int) (s string, end int, ok bool) {
	end, slow, ok := scanString(data, i)
	if !ok {
		return "", 0, false
	}
	if !slow {
		return data[i+1 : end-1], end, true
	}
	// Escapes and invalid UTF-8 are rare in these files: encoding/json decodes them,
	// with its exact rules (surrogates, U+FFFD).
	return unquote(data[i:end], end)
}

// unquote is the slow path of String, apart so that only it pays for the string that
// json.Unmarshal decodes into (a variable whose address is taken lives on the heap).
func unquote(quoted string, end int) (string, int, bool) {
	var u string
	if json.Unmarshal([]byte(quoted), &u) != nil {
		return "", 0, false
	}
	return u, end, true
}

// Object walks the object at i: for each member, member gets the key and the offset of
// its value (whitespace skipped) and returns the offset just after the value. Object
// returns the offset just after the closing brace.
func Object(data string, i int, member func(key string, v int) (int, bool)) (int, bool) {
	if i >= len(data) || data[i] != '{' {
		return 0, false
	}
	i = SkipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return i + 1, true
	}
	for {
		key, end, ok := String(data, i)
		if !ok {
			return 0, false
		}
		i = SkipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return 0, false
		}
		if i, ok = member(key, SkipSpace(data, i+1)); !ok {
			return 0, false
		}
		var done bool
		if i, done, ok = afterItem(data, i, '}'); !ok || done {
			return i, ok
		}
	}
}

// Array walks the array at i as Object walks an object, with each element's index.
func Array(data string, i int, elem func(n int, v int) (int, bool)) (int, bool) {
	if i >= len(data) || data[i] != '[' {
		return 0, false
	}
	i = SkipSpace(data, i+1)
	if i < len(data) && data[i] == ']' {
		return i + 1, true
	}
	for n := 0; ; n++ {
		var ok bool
		if i, ok = elem(n, i); !ok {
			return 0, false
		}
		var done bool
		if i, done, ok = afterItem(data, i, ']'); !ok || done {
			return i, ok
		}
	}
}

// afterItem steps past what follows a member or element at i: a comma (the next item
// starts at next) or the closing byte (done: next is just past it).
func afterItem(data string, i int, closing byte) (next int, done, ok bool) {
	i = SkipSpace(data, i)
	if i >= len(data) {
		return 0, false, false
	}
	switch data[i] {
	case ',':
		return SkipSpace(data, i+1), false, true
	case closing:
		return i + 1, true, true
	}
	return 0, false, false
}

// Owned is b's bytes as a string, without a copy, for a decoder whose caller hands over
// a buffer it never writes again (a file just read): the strings decoded from it are
// substrings of it. A copy was a hit's largest allocation — a 1–4 KB token, the whole of
// profiles.json — made only to be read once, and a heap span of its own size class.
func Owned(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}
