// Package jsonpos turns the byte offsets encoding/json reports into the line:column a
// person looks for, for every file entratool reads (profiles.json, secrets.json,
// docker's config.json, the emulator's app list).
package jsonpos

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

var utf8BOM = []byte("\xef\xbb\xbf")

// LineCol turns a byte offset into a 1-based line and character column. An offset past
// the end (a truncated file) is the position just after the last character; a leading
// UTF-8 BOM does not count as a column.
func LineCol(data []byte, offset int64) (line, col int) {
	offset = min(max(offset, 0), int64(len(data)))
	before := data[:offset]
	line = 1 + bytes.Count(before, []byte{'\n'})
	lineStart := bytes.LastIndexByte(before, '\n') + 1
	col = 1 + utf8.RuneCount(bytes.TrimPrefix(before[lineStart:], utf8BOM))
	return line, col
}

// Kind names the JSON value that starts with first, for "must be a string, not …".
func Kind(first byte) string {
	switch first {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

// SyntaxError reports a JSON file that cannot be read, at the line and column (both
// 1-based, column counted in characters) of the offending value. Msg never quotes the
// file's content: some files (secrets.json) are secret.
type SyntaxError struct {
	Path   string
	Line   int
	Column int
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s", e.Path, e.Line, e.Column, e.Msg)
}
