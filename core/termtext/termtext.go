// Package termtext makes text from outside the program — certificate subjects, server
// error messages — safe to print on a terminal: control characters, Unicode bidi and
// invisible format characters, and invalid UTF-8 become visible escapes, so that a
// hostile value can neither forge extra output lines, drive the terminal with escape
// sequences, nor reorder what the user reads. It links only unicode/utf8, so the lean
// front ends can use it.
package termtext

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Escape returns s with every character NeedsEscape reports written as an escape:
// \n, \r and \t by name, other C0 controls, DEL and the bytes of invalid UTF-8 as \xNN,
// and the rest (C1 controls, bidi and zero-width format characters) as \uNNNN.
// Everything else, non-ASCII letters included, is left as it is, and s itself is
// returned (no allocation) when there is nothing to escape.
//
// Backslashes are not doubled: the output is for people, not for a parser, and leaving
// them makes Escape idempotent, so text escaped where it enters (a server's error
// description) can be escaped again at the final print without growing backslashes.
func Escape(s string) string {
	i := firstUnsafe(s)
	if i < 0 {
		return s
	}
	b := make([]byte, 0, len(s)+16)
	b = append(b, s[:i]...)
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = appendHex(b, `\x`, uint32(s[i]), 2)
		case NeedsEscape(r):
			b = appendRune(b, r)
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// firstUnsafe is the byte offset of the first character Escape changes, or -1. Printable
// ASCII, by far the common case, costs one comparison per byte.
func firstUnsafe(s string) int {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < 0x7f {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			return i
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size == 1) || NeedsEscape(r) {
			return i
		}
		i += size
	}
	return -1
}

// Line is s as one line for a terminal: every run of white space (line breaks
// included) one space, the ends trimmed, then Escape. It is how an error message is
// printed, however many lines the server or certificate put in it.
func Line(s string) string { return Escape(strings.Join(strings.Fields(s), " ")) }

// NeedsEscape reports whether r must not reach a terminal as itself: C0 controls, DEL,
// C1 controls (U+0080–U+009F: a terminal may read U+009B as CSI), the bidi embeddings,
// overrides, isolates and marks (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069),
// zero-width and invisible characters (U+200B–U+200D, U+FEFF), and the Unicode line
// and paragraph separators (U+2028, U+2029), which some viewers break lines on.
func NeedsEscape(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r < 0x61c:
		return false
	case r == 0x61c,
		r >= 0x200b && r <= 0x200f,
		r >= 0x2028 && r <= 0x202e,
		r >= 0x2066 && r <= 0x2069,
		r == 0xfeff:
		return true
	}
	return false
}

func appendRune(b []byte, r rune) []byte {
	switch r {
	case '\n':
		return append(b, `\n`...)
	case '\r':
		return append(b, `\r`...)
	case '\t':
		return append(b, `\t`...)
	}
	if r < 0x80 {
		return appendHex(b, `\x`, uint32(r), 2)
	}
	return appendHex(b, `\u`, uint32(r), 4)
}

func appendHex(b []byte, prefix string, v uint32, width int) []byte {
	b = append(b, prefix...)
	h := strconv.FormatUint(uint64(v), 16)
	for n := len(h); n < width; n++ {
		b = append(b, '0')
	}
	return append(b, h...)
}

// WriteJSON writes v as every -o json of entratool is written: indented, without HTML
// escaping, and through JSON, so that nothing in it is a character a terminal acts on
// (certificate subjects come from whoever made the certificate).
func WriteJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(JSON(b.Bytes()))
	return err
}

// JSON rewrites the characters NeedsEscape reports inside an encoding/json document as
// \uNNNN escapes. encoding/json already escapes C0 controls (and U+2028, U+2029) but
// writes DEL, C1 controls and bidi characters raw, which a terminal then acts on; the
// document decodes to the same values either way. It returns data itself when there is
// nothing to rewrite. Invalid UTF-8 is left alone (encoding/json never writes it).
func JSON(data []byte) []byte {
	i := firstUnsafeJSON(data)
	if i < 0 {
		return data
	}
	b := make([]byte, 0, len(data)+16)
	b = append(b, data[:i]...)
	for i < len(data) {
		r, size := utf8.DecodeRune(data[i:])
		if jsonRewrites(r, size) {
			b = appendHex(b, `\u`, uint32(r), 4)
		} else {
			b = append(b, data[i:i+size]...)
		}
		i += size
	}
	return b
}

// jsonRewrites leaves ASCII controls alone: inside strings encoding/json has escaped
// them already, and outside strings they are the document's own line breaks and indent.
func jsonRewrites(r rune, size int) bool {
	return r >= 0x7f && !(r == utf8.RuneError && size == 1) && NeedsEscape(r)
}

func firstUnsafeJSON(data []byte) int {
	for i := 0; i < len(data); {
		if data[i] < 0x7f {
			i++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if jsonRewrites(r, size) {
			return i
		}
		i += size
	}
	return -1
}
