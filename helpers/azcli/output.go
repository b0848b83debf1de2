package azcli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/tokencache"
)

// checkToken refuses a token the shim must not print (SPEC §12): the SDKs and Terraform
// put it in HTTP headers, and scripts into shell variables.
func checkToken(tok Token, acct Account) error {
	return tokencache.CheckHandOff(tok.AccessToken, tok.ExpiresOn, acct.Authority, time.Now())
}

// Write renders v as az renders a command's result (knack's output.py): the value is
// turned into JSON data, --query (JMESPath, compiled with compile; nil:
// CompileIdentifier) is applied, a null result prints nothing, and the format is
// json/jsonc (keys sorted, two-space indent, non-ASCII kept), tsv or none.
func Write(w io.Writer, v any, format, query string, compile Compiler) error {
	if query == "" && (format == "json" || format == "jsonc" || format == "") {
		if at, ok := v.(AccessToken); ok {
			// Every SDK call asks for this one: written directly, not through
			// encoding/json's reflection (TestAccessTokenJSONIsEncodeJSON).
			_, err := w.Write(at.appendJSON(make([]byte, 0, max(fsutil.SmallBuffer, len(at.AccessToken)+256))))
			return err
		}
		// The shim's result types declare their fields in key order, so the value
		// encodes as the sorted data would (TestWriteDirectMatchesSorted).
		return encodeJSON(w, v)
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("render output: %w", err)
	}
	var data any
	if err := json.Unmarshal(raw, &data); err != nil {
		return fmt.Errorf("render output: %w", err)
	}
	if query != "" {
		search, err := compileQuery(compile, query)
		if err != nil {
			return err
		}
		if data, err = search(data); err != nil {
			return fmt.Errorf("--query '%s' failed: %w", query, err)
		}
	}
	if data == nil {
		return nil
	}
	var b bytes.Buffer
	switch format {
	case "json", "jsonc", "":
		return encodeJSON(w, data)
	case "tsv":
		writeTSV(&b, data, hashKeyOrder(query))
	case "none":
		return nil
	default:
		return usagef("output format '%s' is not supported by entratool's az shim: use json, jsonc, tsv or none", format)
	}
	_, err = w.Write(b.Bytes())
	return err
}

// encodeJSON writes json.dumps(indent=2, ensure_ascii=False)'s layout.
func encodeJSON(w io.Writer, v any) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("render output: %w", err)
	}
	_, err := w.Write(b.Bytes())
	return err
}

// writeTSV is knack's _TsvOutput: one row per list item (or the one value), a map's
// values in key order (or in the order a --query multi-select hash named them),
// nested lists as their length, nested maps as an empty cell, null as None, nested
// booleans as True/False and a bare boolean row as true/false.
func writeTSV(b *bytes.Buffer, data any, order []string) {
	rows, ok := data.([]any)
	if !ok {
		rows = []any{data}
	}
	for _, row := range rows {
		switch r := row.(type) {
		case map[string]any:
			for i, k := range rowKeys(r, order) {
				if i > 0 {
					b.WriteByte('\t')
				}
				tsvCell(b, r[k])
			}
		case []any:
			for i, v := range r {
				if i > 0 {
					b.WriteByte('\t')
				}
				tsvCell(b, v)
			}
		case bool:
			b.WriteString(strconv.FormatBool(r))
		default:
			tsvCell(b, r)
		}
		b.WriteByte('\n')
	}
}

func rowKeys(m map[string]any, order []string) []string {
	if len(order) == len(m) {
		match := true
		for _, k := range order {
			if _, ok := m[k]; !ok {
				match = false
				break
			}
		}
		if match {
			return order
		}
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func tsvCell(b *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		b.WriteString("None")
	case string:
		b.WriteString(x)
	case bool:
		if x {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case float64:
		b.WriteString(pyNumber(x))
	case []any:
		b.WriteString(strconv.Itoa(len(x)))
	case map[string]any:
	default:
		fmt.Fprint(b, x)
	}
}

// pyNumber prints a JSON number as Python prints the int or float json.loads made of it.
func pyNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e16 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// hashKeyOrder returns the keys of a JMESPath multi-select hash that ends the query
// ("{id:id, t:tenantId}", "[].{a:b}", "x | {a:b}"), in the order written: knack keeps
// that order in tsv output. Any other query (or one this scanner cannot follow) gives
// nil, and maps print in key order.
func hashKeyOrder(query string) []string {
	q := strings.TrimSpace(query)
	if !strings.HasSuffix(q, "}") {
		return nil
	}
	open := matchingOpen(q)
	if open < 0 {
		return nil
	}
	before := strings.TrimSpace(q[:open])
	if before != "" && !strings.HasSuffix(before, ".") && !strings.HasSuffix(before, "|") {
		return nil
	}
	var keys []string
	for _, part := range splitTop(q[open+1 : len(q)-1]) {
		k, _, ok := cutTop(part, ':')
		if !ok {
			return nil
		}
		k = strings.TrimSpace(k)
		if strings.HasPrefix(k, `"`) {
			var s string
			if json.Unmarshal([]byte(k), &s) != nil {
				return nil
			}
			k = s
		}
		keys = append(keys, k)
	}
	return keys
}

// scanQuoted skips a quoted JMESPath token ("…", '…' or `…`) starting at i and returns
// the index after it, or -1 if it does not end.
func scanQuoted(s string, i int) int {
	q := s[i]
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			j++
		case q:
			return j + 1
		}
	}
	return -1
}

// matchingOpen finds the '{' matching the final '}' of s.
func matchingOpen(s string) int {
	var stack []int
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'', '`':
			j := scanQuoted(s, i)
			if j < 0 {
				return -1
			}
			i = j - 1
		case '{', '[', '(':
			stack = append(stack, i)
		case '}', ']', ')':
			if len(stack) == 0 {
				return -1
			}
			if i == len(s)-1 {
				if s[stack[len(stack)-1]] != '{' {
					return -1
				}
				return stack[len(stack)-1]
			}
			stack = stack[:len(stack)-1]
		}
	}
	return -1
}

// splitTop splits s on commas outside brackets and quotes.
func splitTop(s string) []string {
	var parts []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'', '`':
			j := scanQuoted(s, i)
			if j < 0 {
				return nil
			}
			i = j - 1
		case '{', '[', '(':
			depth++
		case '}', ']', ')':
			depth--
		case ',':
			if depth == 0 {
				parts = append(parts, s[start:i])
				start = i + 1
			}
		}
	}
	return append(parts, s[start:])
}

// cutTop cuts s at the first sep outside quotes.
func cutTop(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'', '`':
			j := scanQuoted(s, i)
			if j < 0 {
				return "", "", false
			}
			i = j - 1
		case sep:
			return s[:i], s[i+1:], true
		}
	}
	return "", "", false
}
