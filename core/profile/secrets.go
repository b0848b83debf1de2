package profile

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"
	"strings"
)

// IsSecretKey reports whether a JSON key names a field that holds a secret (SPEC §12):
// clientSecret, certificatePassword, password, pin, or any key containing "secret" or
// "password", in any case. It is the one rule every reader and writer of profiles uses,
// at any depth of a profile, so that import, export and show cannot disagree.
func IsSecretKey(key string) bool {
	// Upper then lower folds the Unicode look-alikes that case-insensitive matching
	// treats as equal (ſ → s, ı → i), so that "paſſword" is not a way around the rule.
	k := strings.ToLower(strings.ToUpper(key))
	return k == "pin" || strings.Contains(k, "secret") || strings.Contains(k, "password")
}

// notSecretKey reports the known profile keys that the rule matches by name but whose values
// Validate confines to non-secrets: secretStore says where secrets live (keyring, file
// or env). Only the exact known key at the top of a profile is spared. (A function, not a
// map: package init would build the map on every start of every front.)
func notSecretKey(k string) bool { return k == "secretStore" }

// SecretFields lists the secret-bearing keys p carries (see IsSecretKey), as paths such
// as "clientSecret", "certificateStoreOptions.pin" or "extra.list[0].apiSecretKey", in
// the order the profile is written. Only names are returned, never values.
func (p *Profile) SecretFields() []string {
	_, dropped := p.WithoutSecrets()
	return dropped
}

// WithoutSecrets returns a copy of p with every secret-bearing key removed, at any depth,
// and the paths of what it removed (see SecretFields). Everything else is kept as it
// was: unknown fields without a secret keep their bytes, and an unknown object that held
// one keeps the bytes of its other members.
func (p *Profile) WithoutSecrets() (*Profile, []string) {
	q := p.Clone()
	var dropped []string
	if len(q.CertificateStoreOptions) > 0 {
		for _, k := range sortedStringKeys(q.CertificateStoreOptions) {
			if IsSecretKey(k) {
				delete(q.CertificateStoreOptions, k)
				dropped = append(dropped, keyPath("certificateStoreOptions", k))
			}
		}
	}
	for _, k := range sortedKeys(q.extra) {
		if IsSecretKey(k) && !notSecretKey(k) {
			delete(q.extra, k)
			dropped = append(dropped, keyPath("", k))
			continue
		}
		raw, d := scrubJSON(q.extra[k], keyPath("", k))
		q.extra[k] = raw
		dropped = append(dropped, d...)
	}
	return q, dropped
}

func sortedStringKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// keyPath appends key to a dotted path; a key that would not read plainly there (a dot,
// a bracket, a control character) is quoted, so that a warning naming it stays one line
// and cannot smuggle terminal escapes.
func keyPath(parent, key string) string {
	plain := key != ""
	for _, r := range key {
		if !(r == '_' || r == '-' || r == '$' || r == '@' || '0' <= r && r <= '9' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z') {
			plain = false
			break
		}
	}
	switch {
	case !plain:
		return parent + "[" + strconv.Quote(key) + "]"
	case parent == "":
		return key
	default:
		return parent + "." + key
	}
}

// scrubJSON removes the members with secret-bearing keys from every object in the JSON
// value raw, copying all other bytes as they are, and returns the paths it removed
// (below path). A value with nothing to remove comes back unchanged.
func scrubJSON(raw json.RawMessage, path string) (json.RawMessage, []string) {
	if !json.Valid(raw) {
		// Parse only hands over values the decoder accepted; should that ever change, a
		// value that cannot be inspected is not let through.
		return json.RawMessage("null"), []string{path}
	}
	s := &scrubber{src: raw}
	var out bytes.Buffer
	s.value(skipSpace(raw, 0), path, &out)
	if len(s.dropped) == 0 {
		return raw, nil
	}
	return out.Bytes(), s.dropped
}

// scrubber walks valid JSON by hand, rather than decoding and re-encoding it, so that
// what it keeps keeps its exact bytes (number spelling, spacing, key order, escapes).
type scrubber struct {
	src     []byte
	dropped []string
}

// value copies the value starting at i into out (nil: skip it) and returns the index
// just after it.
func (s *scrubber) value(i int, path string, out *bytes.Buffer) int {
	switch s.src[i] {
	case '{':
		return s.object(i, path, out)
	case '[':
		return s.array(i, path, out)
	case '"':
		end := stringEnd(s.src, i)
		write(out, s.src[i:end])
		return end
	default:
		end := i
		for end < len(s.src) && !strings.ContainsRune(",]} \t\r\n", rune(s.src[end])) {
			end++
		}
		write(out, s.src[i:end])
		return end
	}
}

// object copies an object without its secret-bearing members. A member's separator is
// the bytes between the previous member and its key, so dropping a member drops the
// comma before it; the first kept member takes the first member's leading space.
func (s *scrubber) object(i int, path string, out *bytes.Buffer) int {
	src := s.src
	j := skipSpace(src, i+1)
	if src[j] == '}' {
		write(out, src[i:j+1])
		return j + 1
	}
	lead := src[i+1 : j] // space before the first member
	kept := 0
	prevEnd := i + 1
	for {
		keyStart := skipSpace(src, prevEnd)
		if src[keyStart] == ',' {
			keyStart = skipSpace(src, keyStart+1)
		}
		keyEnd := stringEnd(src, keyStart)
		// The input is valid JSON, so the key decodes; the value starts past the colon.
		var key string
		json.Unmarshal(src[keyStart:keyEnd], &key)
		valStart := skipSpace(src, skipSpace(src, keyEnd)+1)
		if IsSecretKey(key) {
			if out != nil {
				s.dropped = append(s.dropped, keyPath(path, key))
			}
			prevEnd = s.value(valStart, "", nil)
		} else {
			if kept == 0 {
				write(out, src[i:i+1])
				write(out, lead)
			} else {
				write(out, src[prevEnd:keyStart])
			}
			kept++
			write(out, src[keyStart:valStart])
			prevEnd = s.value(valStart, keyPath(path, key), out)
		}
		next := skipSpace(src, prevEnd)
		if src[next] == '}' {
			if kept == 0 {
				write(out, []byte("{}"))
			} else {
				write(out, src[prevEnd:next+1])
			}
			return next + 1
		}
	}
}

func (s *scrubber) array(i int, path string, out *bytes.Buffer) int {
	src := s.src
	copied := i
	j := skipSpace(src, i+1)
	for n := 0; src[j] != ']'; n++ {
		write(out, src[copied:j])
		copied = s.value(j, path+"["+strconv.Itoa(n)+"]", out)
		j = skipSpace(src, copied)
		if src[j] == ',' {
			j = skipSpace(src, j+1)
		}
	}
	write(out, src[copied:j+1])
	return j + 1
}

func write(out *bytes.Buffer, b []byte) {
	if out != nil {
		out.Write(b)
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd is the index just after the JSON string starting at b[i].
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(b)
}
