package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"

	"github.com/entratool/entratool/core/jsonpos"
)

// SyntaxError reports a profiles.json that cannot be read, at the line and column (both
// 1-based, column counted in characters) of the offending value.
type SyntaxError = jsonpos.SyntaxError

// posError is a decoding failure at a byte offset of the whole file; Parse turns it into
// a SyntaxError once it knows the file's lines.
type posError struct {
	at  int64
	msg string
}

func (e *posError) Error() string { return e.msg }

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

// Parse decodes the content of a profiles.json; path is only used in error messages and
// recorded in the Config. Keys are matched exactly (the file's keys are camelCase), so a
// key that differs only in case is kept as unknown rather than silently renamed.
func Parse(path string, data []byte) (*Config, error) {
	// Windows editors may prefix a BOM; it carries no meaning in JSON.
	body := bytes.TrimPrefix(data, utf8BOM)
	skip := int64(len(data) - len(body))
	c, err := parseConfig(body, skip)
	if err != nil {
		return nil, toSyntaxError(path, data, err)
	}
	c.Path = path
	return c, nil
}

func parseConfig(data []byte, base int64) (*Config, error) {
	// Check the whole text first: encoding/json reports every syntax error (a truncated
	// file included) with its offset, so the structural pass below can assume valid JSON.
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Offset counts the offending byte as read: point at it, not after it.
			at := se.Offset - 1
			if se.Offset >= int64(len(data)) && strings.Contains(se.Error(), "end of JSON input") {
				at = int64(len(data))
			}
			return nil, &posError{at: base + max(at, 0), msg: se.Error()}
		}
		return nil, &posError{at: base, msg: err.Error()}
	}
	start := int64(len(data) - len(bytes.TrimLeft(data, " \t\r\n")))
	raw := bytes.TrimSpace(data)
	c := &Config{}
	err := eachMember(raw, base+start, "the file", func(key string, v json.RawMessage, at int64) error {
		switch key {
		case "defaultProfile":
			return decodeString("defaultProfile", v, at, &c.DefaultProfile)
		case "profiles":
			c.Profiles = nil
			if isNull(v) {
				return nil
			}
			return eachElement(v, at, "profiles", func(i int, ev json.RawMessage, eat int64) error {
				p, err := parseProfile(ev, eat, fmt.Sprintf("profiles[%d]", i))
				if err != nil {
					return err
				}
				c.Profiles = append(c.Profiles, p)
				return nil
			})
		default:
			if c.extra == nil {
				c.extra = map[string]json.RawMessage{}
			}
			c.extra[key] = v
			return nil
		}
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// profileField describes one known key of a profile, found through the struct's json tags
// so that parsing, writing and the Profile type cannot drift apart.
type profileField struct {
	key       string
	index     int
	omitEmpty bool
}

func profileFields() []profileField {
	t := reflect.TypeFor[Profile]()
	fs := make([]profileField, 0, t.NumField())
	for i := range t.NumField() {
		sf := t.Field(i)
		tag, ok := sf.Tag.Lookup("json")
		if !ok || !sf.IsExported() || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		fs = append(fs, profileField{key: name, index: i, omitEmpty: opts == "omitempty"})
	}
	return fs
}

func parseProfile(data json.RawMessage, base int64, where string) (*Profile, error) {
	fields := profileFields()
	p := &Profile{}
	v := reflect.ValueOf(p).Elem()
	err := eachMember(data, base, where, func(key string, raw json.RawMessage, at int64) error {
		for _, f := range fields {
			if f.key != key {
				continue
			}
			name := where + "." + key
			switch dst := v.Field(f.index).Addr().Interface().(type) {
			case *string:
				return decodeString(name, raw, at, dst)
			case *bool:
				return decodeBool(name, raw, at, dst)
			case *[]string:
				return decodeStrings(name, raw, at, dst)
			case *map[string]string:
				return decodeStringMap(name, raw, at, dst)
			default:
				panic("profile: no decoder for field " + key)
			}
		}
		if p.extra == nil {
			p.extra = map[string]json.RawMessage{}
		}
		p.extra[key] = raw
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// eachMember calls fn for every member of the JSON object data (valid JSON, starting at
// file offset base) with the member's raw value and that value's file offset.
func eachMember(data json.RawMessage, base int64, what string, fn func(key string, v json.RawMessage, at int64) error) error {
	if len(data) == 0 || data[0] != '{' {
		return &posError{at: base, msg: fmt.Sprintf("%s must be a JSON object, not %s", what, kindOfRaw(data))}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return &posError{at: base, msg: err.Error()}
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return &posError{at: base + dec.InputOffset(), msg: err.Error()}
		}
		key, _ := tok.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return &posError{at: base + dec.InputOffset(), msg: err.Error()}
		}
		if err := fn(key, v, base+dec.InputOffset()-int64(len(v))); err != nil {
			return err
		}
	}
	return nil
}

func eachElement(data json.RawMessage, base int64, what string, fn func(i int, v json.RawMessage, at int64) error) error {
	if len(data) == 0 || data[0] != '[' {
		return &posError{at: base, msg: fmt.Sprintf("%s must be a JSON array, not %s", what, kindOfRaw(data))}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return &posError{at: base, msg: err.Error()}
	}
	for i := 0; dec.More(); i++ {
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return &posError{at: base + dec.InputOffset(), msg: err.Error()}
		}
		if err := fn(i, v, base+dec.InputOffset()-int64(len(v))); err != nil {
			return err
		}
	}
	return nil
}

func isNull(v json.RawMessage) bool { return string(v) == "null" }

// null stands for "absent" everywhere: hand editors and other tools write it for unset.
func decodeString(name string, v json.RawMessage, at int64, dst *string) error {
	if isNull(v) {
		*dst = ""
		return nil
	}
	if v[0] != '"' {
		return &posError{at: at, msg: fmt.Sprintf("%s must be a string, not %s", name, kindOfRaw(v))}
	}
	if err := json.Unmarshal(v, dst); err != nil {
		return &posError{at: at, msg: fmt.Sprintf("%s: %v", name, err)}
	}
	return nil
}

func decodeBool(name string, v json.RawMessage, at int64, dst *bool) error {
	switch string(v) {
	case "true":
		*dst = true
	case "false", "null":
		*dst = false
	default:
		return &posError{at: at, msg: fmt.Sprintf("%s must be true or false, not %s", name, kindOfRaw(v))}
	}
	return nil
}

func decodeStrings(name string, v json.RawMessage, at int64, dst *[]string) error {
	*dst = nil
	if isNull(v) {
		return nil
	}
	out := []string{}
	err := eachElement(v, at, name+" (a list of strings)", func(i int, ev json.RawMessage, eat int64) error {
		var s string
		if err := decodeString(fmt.Sprintf("%s[%d]", name, i), ev, eat, &s); err != nil {
			return err
		}
		out = append(out, s)
		return nil
	})
	if err != nil {
		return err
	}
	*dst = out
	return nil
}

func decodeStringMap(name string, v json.RawMessage, at int64, dst *map[string]string) error {
	*dst = nil
	if isNull(v) {
		return nil
	}
	out := map[string]string{}
	err := eachMember(v, at, name+" (an object of strings)", func(k string, ev json.RawMessage, eat int64) error {
		var s string
		if err := decodeString(name+"."+k, ev, eat, &s); err != nil {
			return err
		}
		out[k] = s
		return nil
	})
	if err != nil {
		return err
	}
	*dst = out
	return nil
}

func toSyntaxError(path string, data []byte, err error) error {
	var pe *posError
	if !errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", path, err)
	}
	line, col := jsonpos.LineCol(data, pe.at)
	return &SyntaxError{Path: path, Line: line, Column: col, Msg: pe.msg}
}

// Marshal renders the config as profiles.json: two-space indent, a trailing newline, known
// keys in struct order, then unknown keys sorted, with the raw value bytes they were read
// with. The output is deterministic, so an unchanged config rewrites to the same bytes.
func (c *Config) Marshal() []byte {
	var b bytes.Buffer
	b.WriteString("{\n")
	first := true
	member := func(indent, key string) {
		if !first {
			b.WriteString(",\n")
		}
		first = false
		b.WriteString(indent)
		writeString(&b, key)
		b.WriteString(": ")
	}
	if c.DefaultProfile != "" {
		member("  ", "defaultProfile")
		writeString(&b, c.DefaultProfile)
	}
	member("  ", "profiles")
	n := 0
	for _, p := range c.Profiles {
		if p == nil {
			continue
		}
		if n == 0 {
			b.WriteString("[\n")
		} else {
			b.WriteString(",\n")
		}
		b.WriteString("    ")
		writeProfile(&b, p, "    ")
		n++
	}
	if n == 0 {
		b.WriteString("[]")
	} else {
		b.WriteString("\n  ]")
	}
	for _, k := range sortedKeys(c.extra) {
		member("  ", k)
		b.Write(c.extra[k])
	}
	b.WriteString("\n}\n")
	return b.Bytes()
}

// writeProfile writes p as an object whose members are indented by indent+"  ".
func writeProfile(b *bytes.Buffer, p *Profile, indent string) {
	in := indent + "  "
	b.WriteString("{")
	first := true
	member := func(key string) {
		if !first {
			b.WriteString(",")
		}
		first = false
		b.WriteString("\n" + in)
		writeString(b, key)
		b.WriteString(": ")
	}
	v := reflect.ValueOf(p).Elem()
	for _, f := range profileFields() {
		fv := v.Field(f.index)
		if f.omitEmpty && fv.IsZero() || f.omitEmpty && (fv.Kind() == reflect.Slice || fv.Kind() == reflect.Map) && fv.Len() == 0 {
			continue
		}
		member(f.key)
		switch x := fv.Interface().(type) {
		case string:
			writeString(b, x)
		case bool:
			if x {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
		case []string:
			b.WriteString("[")
			for i, s := range x {
				if i > 0 {
					b.WriteString(", ")
				}
				writeString(b, s)
			}
			b.WriteString("]")
		case map[string]string:
			if len(x) == 0 {
				b.WriteString("{}")
				break
			}
			b.WriteString("{")
			keys := make([]string, 0, len(x))
			for k := range x {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for i, k := range keys {
				if i > 0 {
					b.WriteString(",")
				}
				b.WriteString("\n" + in + "  ")
				writeString(b, k)
				b.WriteString(": ")
				writeString(b, x[k])
			}
			b.WriteString("\n" + in + "}")
		default:
			panic("profile: no encoder for field " + f.key)
		}
	}
	for _, k := range sortedKeys(p.extra) {
		member(k)
		b.Write(p.extra[k])
	}
	if first {
		b.WriteString("}")
		return
	}
	b.WriteString("\n" + indent + "}")
}

func writeString(b *bytes.Buffer, s string) {
	// Without HTML escaping: paths and URLs stay readable ("&" rather than "\u0026").
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	enc.Encode(s) // a string always encodes
	b.Truncate(b.Len() - 1)
}

func sortedKeys(m map[string]json.RawMessage) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// MarshalJSON encodes the profile with its unknown keys, for `config show -o json` and
// backups, less any secret-bearing field (see WithoutSecrets): what leaves profiles.json
// never carries a secret, even one a person wrote there.
func (p *Profile) MarshalJSON() ([]byte, error) {
	q, _ := p.WithoutSecrets()
	var b bytes.Buffer
	writeProfile(&b, q, "")
	return b.Bytes(), nil
}

// UnmarshalJSON decodes one profile object with the same rules as profiles.json,
// keeping unknown keys.
func (p *Profile) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, new(json.RawMessage)); err != nil {
		return err
	}
	q, err := parseProfile(bytes.TrimSpace(data), 0, "profile")
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

func kindOfRaw(v json.RawMessage) string {
	if len(v) == 0 {
		return "nothing"
	}
	return jsonpos.Kind(v[0])
}
