package profile

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
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
