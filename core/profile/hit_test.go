package profile

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
)

// sameAsParse fails t unless ParseHit gives what Parse gives: the same Config (unknown
// keys and their bytes included) or the same error. It reports whether the scanner took
// the input itself.
func sameAsParse(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	want, werr := Parse("p.json", data)
	got, gerr := ParseHit("p.json", data)
	if (werr == nil) != (gerr == nil) || werr != nil && werr.Error() != gerr.Error() {
		t.Fatalf("%q: Parse error %v, ParseHit error %v", data, werr, gerr)
	}
	if !reflect.DeepEqual(want, got) {
		t.Fatalf("%q:\nParse    %#v\nParseHit %#v", data, want, got)
	}
	_, fast = parseHit(trimBOM(data))
	if fast && werr != nil {
		t.Fatalf("%q: the scanner accepted what Parse refuses: %v", data, werr)
	}
	return fast
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && string(b[:3]) == string(utf8BOM) {
		return b[3:]
	}
	return b
}

func TestParseHitIsParse(t *testing.T) {
	for _, s := range []string{
		seedFile,
		`{"defaultProfile":"a","profiles":[{"name":"a","clientId":"x","useCertificate":true,"gitHosts":["h",null],"certificateStoreOptions":{"k":"v","n":null},"z":[1,{"y":null}],"q":-0.5e+3}],"top":1e3}`,
		`{"defaultProfile":"a","defaultProfile":"b","profiles":[{"name":"a"}],"profiles":[{"name":"b","name":"c"}]}`,
		`{"profiles":[{"gitHosts":[],"registries":null,"certificateStoreOptions":{},"sendX5C":null,"useCertificate":false}]}`,
		`{"profiles":[{"useCertificate":"yes"}]}`,
		`{"profiles":[{"name":1}]}`,
		`{"profiles":[null]}`,
		`{"profiles":{}}`,
		`{"profiles":[],}`,
		`{"profiles": [`,
		"\uFEFF{}",
		" \t\r\n{ } \n",
		`{"profiles":null,"defaultProfile":null}`,
		`{"profiles":[{"name":"\ud800","x":"\xff","y":"a\u00e9\/b\"c\\"}]}`,
		"{\"profiles\":[{\"name\":\"caf\xc3\xa9 \xff\"}]}",
		`{"profiles":[{"na\u006de":"escaped key","Name":"other case"}]}`,
		`{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":-}`, `{"a":1e}`, `{"a":tru}`, `{"a":"\x"}`, `{"a":"\u12"}`,
		"{\"a\":\"tab\there\"}",
		`{} {}`, `{}x`, `[]`, ``, `null`, `"s"`,
		strings.Repeat("[", 600) + strings.Repeat("]", 600),
		`{"x":` + strings.Repeat("[", 600) + strings.Repeat("]", 600) + `}`,
	} {
		sameAsParse(t, []byte(s))
	}
	if !sameAsParse(t, []byte(seedFile)) {
		t.Fatal("the scanner left an ordinary file to Parse")
	}
}

// Every key of Profile's json tags is decoded by ParseHit itself, into its field: a
// field added to Profile without a case in parseHitProfile would otherwise be kept as
// an unknown key on the hit path.
func TestParseHitKnowsEveryField(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"profiles":[{`)
	for i, f := range profileFields() {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`"` + f.key + `":`)
		switch reflect.TypeFor[Profile]().Field(f.index).Type.Kind() {
		case reflect.String:
			b.WriteString(`"v-` + f.key + `"`)
		case reflect.Bool:
			b.WriteString("true")
		case reflect.Slice:
			b.WriteString(`["a","b"]`)
		case reflect.Map:
			b.WriteString(`{"k":"v"}`)
		default:
			t.Fatalf("no case for %s", f.key)
		}
	}
	b.WriteString(`}]}`)
	data := []byte(b.String())
	if !sameAsParse(t, data) {
		t.Fatal("the scanner left the file to Parse")
	}
	c, _ := ParseHit("p.json", data)
	if len(c.Profiles) != 1 || c.Profiles[0].extra != nil {
		t.Fatalf("known keys kept as unknown: %v", c.Profiles[0].extra)
	}
}

func TestLoadHitIsLoad(t *testing.T) {
	s := &Store{Home: t.TempDir()}
	if err := os.WriteFile(s.Path(), []byte(seedFile), 0o600); err != nil {
		t.Fatal(err)
	}
	want, err := s.Load()
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.LoadHit()
	if err != nil || !reflect.DeepEqual(want, got) {
		t.Fatalf("LoadHit: %#v, %v", got, err)
	}
	// The trust rules hold on the hit path: a group-writable file is refused.
	os.Chmod(s.Path(), 0o620)
	_, lerr := s.Load()
	_, herr := s.LoadHit()
	if lerr == nil || herr == nil || lerr.Error() != herr.Error() {
		t.Fatalf("Load: %v; LoadHit: %v", lerr, herr)
	}
	// A missing file is an empty config for both.
	os.Remove(s.Path())
	if c, err := s.LoadHit(); err != nil || len(c.Profiles) != 0 || c.Path != s.Path() {
		t.Fatalf("missing file: %#v, %v", c, err)
	}
	var se *SyntaxError
	os.WriteFile(s.Path(), []byte(`{"profiles":[{"name":1}]}`), 0o600)
	if _, err := s.LoadHit(); !errors.As(err, &se) || se.Line != 1 {
		t.Fatalf("bad file: %v", err)
	}
}

func FuzzParseHit(f *testing.F) {
	for _, s := range []string{
		seedFile,
		`{"defaultProfile":"a","profiles":[{"name":"a","clientId":"x","useCertificate":true,"gitHosts":["h"],"certificateStoreOptions":{"k":"v"},"z":[1,{"y":null}]}],"top":1e3}`,
		`{"profiles":[{"useCertificate":"yes"}]}`,
		`{"profiles":[{"name":"\ud800","x":"\xff"}]}`,
		`{"a":[-0.5e+3,true,false,null,"\u00e9"]}`,
		"\uFEFF{}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { sameAsParse(t, data) })
}
