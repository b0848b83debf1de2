package secret

import (
	"errors"
	"maps"
	"testing"
)

func FuzzParseSecrets(f *testing.F) {
	for _, s := range []string{
		`{"p/client-secret":"v","q/certificate-password":"w\u00e9"}`,
		`{"a":1}`, `{"a":"b",}`, `null`, `[]`, ``, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseSecrets("secrets.json", data)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) || se.Line < 1 || se.Column < 1 {
				t.Fatalf("error %v (%T) is not a positioned SyntaxError", err, err)
			}
			return
		}
		again, err := parseSecrets("secrets.json", marshalSecrets(m))
		if err != nil || !maps.Equal(m, again) {
			t.Fatalf("rewrite does not read back: %v", err)
		}
	})
}
