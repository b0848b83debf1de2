package profile

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzLoad(f *testing.F) {
	for _, s := range []string{
		seedFile,
		`{"defaultProfile":"a","profiles":[{"name":"a","clientId":"x","useCertificate":true,"gitHosts":["h"],"certificateStoreOptions":{"k":"v"},"z":[1,{"y":null}]}],"top":1e3}`,
		`{"profiles":[{"useCertificate":"yes"}]}`,
		`{"profiles":[],}`,
		`{"profiles": [`,
		"\uFEFF{}",
		`{"profiles":null,"defaultProfile":null}`,
		`{"profiles":[{"name":"\ud800","x":"\xff"}]}`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	// One home per worker process: the fuzz function runs sequentially within it.
	s := &Store{Home: f.TempDir()}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(s.Path(), data, 0o600); err != nil {
			t.Fatal(err)
		}
		c, err := s.Load()
		if got, _ := os.ReadFile(s.Path()); !bytes.Equal(got, data) {
			t.Fatal("Load modified the file")
		}
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is %T, not *SyntaxError", err, err)
			}
			if se.Line < 1 || se.Column < 1 || se.Line > bytes.Count(data, []byte("\n"))+1 {
				t.Fatalf("position %d:%d out of range", se.Line, se.Column)
			}
			return
		}
		m1 := c.Marshal()
		c2, err := Parse(filepath.Join(s.Home, "again.json"), m1)
		if err != nil {
			t.Fatalf("own output does not load: %v\n%s", err, m1)
		}
		if m2 := c2.Marshal(); !bytes.Equal(m1, m2) {
			t.Fatalf("unstable rewrite:\n%s\nthen\n%s", m1, m2)
		}
	})
}

// FuzzParseImport: ParseImport never panics, names the file in every error and points
// inside it, never lets a secret-bearing key through at any depth, and what it accepts is
// what profiles.json and export then hold, stably.
func FuzzParseImport(f *testing.F) {
	for _, s := range []string{
		seedFile,
		`{"name":"a","clientId":"x","tenantId":"t.com","x":{"y":[1,{"Password":"p"}]},"pin":"1"}`,
		`[{"name":"a","certificateStoreOptions":{"pin":"1","m":"2"}},{"name":"b","clientSecret":"s"}]`,
		`{"profiles":[{"name":"a","secretStore":"file","SecretStore":"x"}],"defaultProfile":"a","password":1}`,
		`{"name":"a","k":{"pass\u0077ord":"x","b":"\"}"},"l":[[{"pın":1}],{}]}`,
		"\uFEFF{\"name\":\"a\"}",
		`{"name": "a",, }`,
		"[", "{", "", "null", `"x"`, `{"profiles": null}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, dropped, err := ParseImport("f.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.json") {
				t.Fatalf("error does not name the file: %v", err)
			}
			var se *SyntaxError
			if errors.As(err, &se) && (se.Line < 1 || se.Column < 1 || se.Line > bytes.Count(data, []byte("\n"))+1) {
				t.Fatalf("position %d:%d out of range: %v", se.Line, se.Column, err)
			}
			return
		}
		for _, d := range dropped {
			if len(d.Fields) == 0 || d.Profile == "" {
				t.Fatalf("empty report %+v", d)
			}
		}
		out := c.Marshal()
		checkNoSecretKeys(t, out)
		exp, d := Export(c.Profiles...)
		if d != nil {
			t.Fatalf("export of an import still found secrets: %+v", d)
		}
		checkNoSecretKeys(t, exp)
		again, d, err := ParseImport("again.json", out)
		if err != nil || d != nil {
			t.Fatalf("own output: %v, dropped %+v\n%s", err, d, out)
		}
		if m := again.Marshal(); !bytes.Equal(m, out) {
			t.Fatalf("unstable:\n%s\nthen\n%s", out, m)
		}
	})
}

// checkNoSecretKeys fails if any key of the profiles.json text data is secret-bearing,
// but for the known secretStore at the top of a profile.
func checkNoSecretKeys(t *testing.T, data []byte) {
	t.Helper()
	var doc struct {
		Profiles []map[string]json.RawMessage `json:"profiles"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if IsSecretKey(k) {
					t.Fatalf("secret-bearing key %q kept at %s:\n%s", k, path, data)
				}
				walk(e, path+"."+k)
			}
		case []any:
			for _, e := range x {
				walk(e, path+"[]")
			}
		}
	}
	for _, p := range doc.Profiles {
		for k, raw := range p {
			if IsSecretKey(k) && k != "secretStore" {
				t.Fatalf("secret-bearing key %q kept in a profile:\n%s", k, data)
			}
			var v any
			if err := json.Unmarshal(raw, &v); err != nil {
				t.Fatal(err)
			}
			walk(v, k)
		}
	}
}
