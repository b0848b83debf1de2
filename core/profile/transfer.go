package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
)

// Dropped names the secret-bearing fields left out of one profile on import or export.
type Dropped struct {
	Profile string   // the profile's name, or "profiles[N]" when it has none
	Fields  []string // paths as SecretFields gives them
}

// ParseImport reads what `config import` accepts: what `config export` writes
// ({"profiles": [...]}), one bare profile object, or an array of profiles. Errors carry
// FILE:LINE:COL. Secret-bearing fields are removed from every profile (SPEC §12) and
// named in the second result; only the profiles and defaultProfile are taken from the
// file, so nothing else of it can reach profiles.json.
func ParseImport(path string, data []byte) (*Config, []Dropped, error) {
	c, err := parseImportShape(path, data)
	if err != nil {
		return nil, nil, err
	}
	c.extra = nil
	var dropped []Dropped
	for i, p := range c.Profiles {
		q, fields := p.WithoutSecrets()
		c.Profiles[i] = q
		if len(fields) > 0 {
			dropped = append(dropped, Dropped{Profile: nameOr(q, i), Fields: fields})
		}
	}
	return c, dropped, nil
}

func nameOr(p *Profile, i int) string {
	if p.Name != "" {
		return p.Name
	}
	return fmt.Sprintf("profiles[%d]", i)
}

// parseImportShape turns the bare shapes into profiles.json's and parses that; wrapping
// shifts columns on the first line only, which the error position is corrected for.
func parseImportShape(path string, data []byte) (*Config, error) {
	body := bytes.TrimPrefix(data, utf8BOM)
	trimmed := bytes.TrimSpace(body)
	var prefix, suffix string
	switch {
	case len(trimmed) > 0 && trimmed[0] == '[':
		prefix, suffix = `{"profiles":`, `}`
	case len(trimmed) > 0 && trimmed[0] == '{':
		var top map[string]json.RawMessage
		if err := json.Unmarshal(body, &top); err == nil {
			if _, ok := top["profiles"]; !ok {
				prefix, suffix = `{"profiles":[`, `]}`
			}
		}
	}
	if prefix == "" {
		return Parse(path, data)
	}
	wrapped := append(append([]byte(prefix), body...), suffix...)
	c, err := Parse(path, wrapped)
	var se *SyntaxError
	if errors.As(err, &se) {
		fixed := *se
		if fixed.Line == 1 {
			fixed.Column = max(1, fixed.Column-len(prefix))
		}
		return nil, &fixed
	}
	return c, err
}

// Export renders profiles for `config export`: profiles.json's shape, importable as is,
// without secret-bearing fields even when profiles.json was edited by hand to hold one
// (SPEC §12). What was left out is named in the second result.
func Export(ps ...*Profile) ([]byte, []Dropped) {
	c := &Config{}
	var dropped []Dropped
	for i, p := range ps {
		if p == nil {
			continue
		}
		q, fields := p.WithoutSecrets()
		c.Profiles = append(c.Profiles, q)
		if len(fields) > 0 {
			dropped = append(dropped, Dropped{Profile: nameOr(q, i), Fields: fields})
		}
	}
	return c.Marshal(), dropped
}
