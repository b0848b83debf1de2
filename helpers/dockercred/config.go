package dockercred

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/entratool/entratool/core/jsonpos"
)

// HelperName is the credHelpers value that makes docker run docker-credential-entra.
const HelperName = "entra"

// ConfigDir is docker's configuration directory: DOCKER_CONFIG, else ~/.docker.
func ConfigDir(getenv func(string) string) (string, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if d := getenv("DOCKER_CONFIG"); d != "" {
		return filepath.Abs(d)
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find docker's configuration directory (%w): set DOCKER_CONFIG", err)
		}
		home = h
	}
	return filepath.Join(home, ".docker"), nil
}

// ConfigError is a docker config.json that does not parse, or does not have the shape
// docker gives it, with the line and column of the problem.
type ConfigError struct {
	Path         string
	Line, Column int
	Msg          string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s:%d:%d: %s (the file was not changed: fix it, or move it aside)", e.Path, e.Line, e.Column, e.Msg)
}

// member is one key of a JSON object with its value's bytes exactly as in the file.
type member struct {
	key   string
	value json.RawMessage
}

// object is a parsed JSON object and the layout to write it back in.
type object struct {
	members  []member
	compact  bool   // written on one line
	indent   string // one level of indentation ("\t" as docker writes it)
	trailing bool   // the file ended with a newline
}

// SetCredHelper returns config.json's content with credHelpers[registry] set to
// helper, and the value it had before ("" if none). Every other key keeps its place
// and its value's bytes; empty data stands for a new file. path only appears in errors.
func SetCredHelper(path string, data []byte, registry, helper string) (out []byte, previous string, err error) {
	obj, err := parseConfig(path, data)
	if err != nil {
		return nil, "", err
	}
	i, helpers, err := obj.credHelpers(path, data)
	if err != nil {
		return nil, "", err
	}
	val, _ := json.Marshal(helper)
	found := false
	for j := range helpers.members {
		if helpers.members[j].key == registry {
			_ = json.Unmarshal(helpers.members[j].value, &previous)
			helpers.members[j].value = val
			found = true
		}
	}
	if !found {
		helpers.insert(member{key: registry, value: val})
	}
	obj.setCredHelpers(i, helpers)
	return obj.marshal(), previous, nil
}

// RemoveCredHelper deletes credHelpers[registry] if its value is helper; a credHelpers
// left empty is dropped, as docker writes it. current is the value found ("" if none);
// when it is another helper's, nothing changes and out is data.
func RemoveCredHelper(path string, data []byte, registry, helper string) (out []byte, current string, err error) {
	obj, err := parseConfig(path, data)
	if err != nil {
		return nil, "", err
	}
	i, helpers, err := obj.credHelpers(path, data)
	if err != nil {
		return nil, "", err
	}
	kept := helpers.members[:0:0]
	for _, m := range helpers.members {
		if m.key == registry {
			_ = json.Unmarshal(m.value, &current)
			if current == helper {
				continue
			}
		}
		kept = append(kept, m)
	}
	if current != helper {
		return data, current, nil
	}
	helpers.members = kept
	if len(kept) == 0 {
		obj.members = append(obj.members[:i:i], obj.members[i+1:]...)
	} else {
		obj.setCredHelpers(i, helpers)
	}
	return obj.marshal(), current, nil
}

// CredHelpers reads credHelpers from config.json's content (nil for empty data).
func CredHelpers(path string, data []byte) (map[string]string, error) {
	obj, err := parseConfig(path, data)
	if err != nil {
		return nil, err
	}
	_, helpers, err := obj.credHelpers(path, data)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, h := range helpers.members {
		var v string
		_ = json.Unmarshal(h.value, &v)
		m[h.key] = v
	}
	return m, nil
}

func parseConfig(path string, data []byte) (*object, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return &object{indent: "\t", trailing: true}, nil
	}
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, configError(path, data, int(se.Offset)-1, "not valid JSON: "+se.Error())
		}
		return nil, configError(path, data, 0, "not valid JSON: "+err.Error())
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, configError(path, data, firstNonSpace(data), "not a JSON object, as docker's config.json must be")
	}
	return parseObject(data)
}

// parseObject splits valid JSON object bytes into members, keeping each value's bytes.
func parseObject(data []byte) (*object, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil {
		return nil, err
	}
	obj := &object{indent: "\t", trailing: bytes.HasSuffix(data, []byte("\n"))}
	first := true
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		if first {
			// The layout is read from the whitespace before the first key: a newline
			// and what follows it is one level of indentation; none means one line.
			first = false
			start := bytes.IndexByte(data, '{') + 1
			ws := data[start:]
			ws = ws[:len(ws)-len(bytes.TrimLeft(ws, " \t\r\n"))]
			if nl := bytes.LastIndexByte(ws, '\n'); nl >= 0 {
				if ind := string(ws[nl+1:]); ind != "" {
					obj.indent = ind
				}
			} else {
				obj.compact = true
			}
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		obj.members = append(obj.members, member{key: key, value: v})
	}
	return obj, nil
}

// credHelpers finds the credHelpers member (encoding/json, and so docker, matches the
// key case-insensitively) and parses it; i is its index, or len(members) if absent.
func (o *object) credHelpers(path string, data []byte) (int, *object, error) {
	idx := -1
	for i, m := range o.members {
		if strings.EqualFold(m.key, "credHelpers") {
			if idx >= 0 {
				return 0, nil, configError(path, data, 0, fmt.Sprintf("has both %q and %q: merge them into one credHelpers", o.members[idx].key, m.key))
			}
			idx = i
		}
	}
	helpers := &object{indent: o.indent, compact: o.compact}
	if idx < 0 {
		return len(o.members), helpers, nil
	}
	raw := bytes.TrimSpace(o.members[idx].value)
	if string(raw) == "null" {
		return idx, helpers, nil
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return 0, nil, configError(path, data, bytes.Index(data, raw), "credHelpers is not an object of registry → helper name")
	}
	for k, v := range m {
		if _, ok := v.(string); !ok {
			return 0, nil, configError(path, data, bytes.Index(data, raw), fmt.Sprintf("credHelpers[%q] is not a string", k))
		}
	}
	parsed, err := parseObject(raw)
	if err != nil {
		return 0, nil, configError(path, data, bytes.Index(data, raw), "credHelpers: "+err.Error())
	}
	parsed.indent, parsed.compact = o.indent, o.compact
	return idx, parsed, nil
}

// insert adds m in key order if the keys are sorted (as docker writes them), else last.
func (o *object) insert(m member) {
	keys := make([]string, len(o.members))
	for i, x := range o.members {
		keys[i] = x.key
	}
	if !sort.StringsAreSorted(keys) {
		o.members = append(o.members, m)
		return
	}
	i := sort.SearchStrings(keys, m.key)
	o.members = append(o.members, member{})
	copy(o.members[i+1:], o.members[i:])
	o.members[i] = m
}

func (o *object) setCredHelpers(i int, helpers *object) {
	helpers.compact = o.compact
	v := json.RawMessage(helpers.render(1))
	if i < len(o.members) {
		o.members[i].value = v
		return
	}
	o.members = append(o.members, member{key: "credHelpers", value: v})
}

func (o *object) marshal() []byte {
	b := o.render(0)
	if o.trailing {
		b = append(b, '\n')
	}
	return b
}

// render writes the object at nesting depth (values keep their own bytes), in the
// layout MarshalIndent(v, "", o.indent) gives, or on one line.
func (o *object) render(depth int) []byte {
	var b bytes.Buffer
	if len(o.members) == 0 {
		return []byte("{}")
	}
	b.WriteByte('{')
	for i, m := range o.members {
		if i > 0 {
			b.WriteByte(',')
		}
		if !o.compact {
			b.WriteByte('\n')
			b.WriteString(strings.Repeat(o.indent, depth+1))
		}
		b.Write(encodeKey(m.key))
		b.WriteByte(':')
		if !o.compact {
			b.WriteByte(' ')
		}
		b.Write(m.value)
	}
	if !o.compact {
		b.WriteByte('\n')
		b.WriteString(strings.Repeat(o.indent, depth))
	}
	b.WriteByte('}')
	return b.Bytes()
}

func encodeKey(k string) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(k)
	return bytes.TrimRight(b.Bytes(), "\n")
}

func configError(path string, data []byte, off int, msg string) *ConfigError {
	line, col := jsonpos.LineCol(data, int64(off))
	return &ConfigError{Path: path, Line: line, Column: col, Msg: msg}
}

func firstNonSpace(data []byte) int {
	return len(data) - len(bytes.TrimLeft(data, " \t\r\n"))
}
