package graph

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/entratool/entratool/core/profile"
)

var thumbprintRE = regexp.MustCompile(`^([0-9A-F]{40})?$`)

// Whatever Graph (or anything in its place) answers, the error is one escaped line of
// bounded size, and decoded key credentials only ever carry GUID key ids and
// well-formed thumbprints.
func FuzzGraphError(f *testing.F) {
	f.Add(403, []byte(graphError("Authorization_RequestDenied", "Insufficient privileges to complete the operation.", "r")), "")
	f.Add(401, []byte(`{"error":{"code":"Authentication_MissingOrMalformed","message":"a\u001b[2J\r\nb","innererror":{"request-id":"\u202e"}}}`), "rid")
	f.Add(200, []byte(addKeyAnswer(testKeyID)), "")
	f.Add(200, []byte(`{"keyCredentials":[{"keyId":"`+testKeyID+`","customKeyIdentifier":"3q2+7w==","key":"MIIB"}]}`), "")
	f.Add(500, []byte("<html>\x00\xff</html>"), "\x1b[2J")
	f.Add(404, []byte(`{"error":"flat"}`), "")
	f.Fuzz(func(t *testing.T, status int, body []byte, requestID string) {
		h := http.Header{}
		h.Set("request-id", strings.ToValidUTF8(requestID, ""))
		for _, op := range []string{"addKey", "removeKey", "keyCredentials"} {
			e := newError(op, status, h, body, false)
			msg := e.Error()
			if strings.ContainsAny(msg, "\r\n\x1b\x00\x07") || !utf8.ValidString(msg) || len(msg) > 4096 {
				t.Fatalf("%q", msg)
			}
			if e.Status != status {
				t.Fatalf("status %d, want %d", e.Status, status)
			}
		}
		if kc, err := decodeKeyCredential(body); err == nil {
			checkCredential(t, kc)
		} else if strings.ContainsAny(err.Error(), "\r\n\x1b") {
			t.Fatalf("%q", err)
		}
		if list, err := decodeKeyCredentials(body); err == nil {
			for _, kc := range list {
				checkCredential(t, kc)
			}
		} else if strings.ContainsAny(err.Error(), "\r\n\x1b") {
			t.Fatalf("%q", err)
		}
	})
}

func checkCredential(t *testing.T, kc KeyCredential) {
	t.Helper()
	if !profile.ValidGUID(kc.KeyID) {
		t.Fatalf("keyId %q", kc.KeyID)
	}
	if tp := kc.Thumbprint(); !thumbprintRE.MatchString(tp) {
		t.Fatalf("thumbprint %q", tp)
	}
	for _, s := range []string{kc.DisplayName, kc.Type, kc.Usage, kc.CustomKeyIdentifier} {
		if strings.ContainsAny(s, "\r\n\x1b") {
			t.Fatalf("unescaped %q", s)
		}
	}
}
