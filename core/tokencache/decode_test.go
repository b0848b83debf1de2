package tokencache

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// sameAsUnmarshal fails t unless decodeEntry and decodeMemo give what json.Unmarshal
// gives (value and whether it failed), and reports whether the scanner took data.
func sameAsUnmarshal(t *testing.T, data []byte) (fast bool) {
	t.Helper()
	var we, ge cacheEntry
	werr, gerr := json.Unmarshal(data, &we), decodeEntry(data, &ge)
	if (werr == nil) != (gerr == nil) || !reflect.DeepEqual(we, ge) {
		t.Fatalf("%q: entry: Unmarshal %#v %v; decodeEntry %#v %v", data, we, werr, ge, gerr)
	}
	if werr == nil && we.Token != nil && !we.Token.ExpiresOn.Equal(ge.Token.ExpiresOn) {
		t.Fatalf("%q: expiry differs", data)
	}
	var wm, gm memoEntry
	werr2, gerr2 := json.Unmarshal(data, &wm), decodeMemo(data, &gm)
	if (werr2 == nil) != (gerr2 == nil) || !reflect.DeepEqual(wm, gm) {
		t.Fatalf("%q: memo: Unmarshal %#v %v; decodeMemo %#v %v", data, wm, werr2, gm, gerr2)
	}
	var f cacheEntry
	var m memoEntry
	fe, fm := scanEntry(data, &f), scanMemo(data, &m)
	if fe && werr != nil || fm && werr2 != nil {
		t.Fatalf("%q: the scanner accepted what json.Unmarshal refuses", data)
	}
	return fe || fm
}

func TestDecodeEntryIsUnmarshal(t *testing.T) {
	exp := time.Date(2026, 12, 3, 14, 0, 0, 123456789, time.FixedZone("", 3600))
	entry, _ := json.Marshal(cacheEntry{Version: 1, Key: Key{Kind: "acr", Authority: "https://login.example/<&>", TenantID: "t", ClientID: "c", Scope: "s", Credential: "x5t:AB"},
		Token: &Token{AccessToken: "eyJ.a.b", TokenType: "Bearer", ExpiresOn: exp, Scope: "s", TenantID: "t", ClientID: "c"}})
	memo, _ := json.Marshal(memoEntry{Path: "/p/c\u00e9.pfx", Identity: "1:2", CertInfo: CertInfo{Thumbprint: "AB", NotAfter: exp, Subject: "CN=\"x\" \x1b O=A&B"}})
	oldMemo, _ := json.Marshal(memoEntry{Path: "/p", Identity: "1:2", CertInfo: CertInfo{Thumbprint: "AB"}})
	if !sameAsUnmarshal(t, entry) || !sameAsUnmarshal(t, memo) || !sameAsUnmarshal(t, oldMemo) {
		t.Fatal("the scanner left what Put or CertMemo wrote to json.Unmarshal")
	}
	for _, s := range []string{
		`{"v":1,"key":{},"token":{}}`,
		`{"v":2,"token":null}`,
		`{"v":1,"V":2}`,
		`{"v":1,"v":2}`,
		`{"v":1.0}`, `{"v":-1}`, `{"v":"1"}`, `{"v":1e0}`, `{"v":12345678901234567890}`,
		`{"v":1,"key":{"authority":null}}`,
		`{"v":1,"token":{"accessToken":"a","expiresOn":"2026-13-01T00:00:00Z"}}`,
		`{"v":1,"token":{"expiresOn":"2026-12-01T24:00:00Z"}}`,
		`{"v":1,"token":{"expiresOn":null}}`,
		`{"v":1,"token":{"expiresOn":12}}`,
		`{"v":1,"token":{"accessToken":"a\u0041\ud800"}}`,
		"{\"v\":1,\"token\":{\"accessToken\":\"\xff\"}}",
		`{"v":1,"extra":1}`,
		`{"v":1} x`, `{"v":1`, ``, `null`, `[]`,
		`{"thumbprint":"AB","notAfter":"2026-12-03T14:00:00Z","subject":"CN=a"}`,
		`{"thumbprint":"AB","Thumbprint":"CD"}`,
		`{"path":"/a","identity":"1","thumbprint":"","notAfter":"0001-01-01T00:00:00Z"}`,
	} {
		sameAsUnmarshal(t, []byte(s))
	}
}

func FuzzDecodeEntry(f *testing.F) {
	exp := time.Date(2026, 12, 3, 14, 0, 0, 5, time.UTC)
	entry, _ := json.Marshal(cacheEntry{Version: 1, Key: Key{Authority: "https://a", TenantID: "t", ClientID: "c", Scope: "s", Credential: "x5t:AB"},
		Token: &Token{AccessToken: "eyJ.a.b", TokenType: "Bearer", ExpiresOn: exp, Scope: "s"}})
	memo, _ := json.Marshal(memoEntry{Path: "/p", Identity: "1:2", CertInfo: CertInfo{Thumbprint: "AB", NotAfter: exp, Subject: "CN=x"}})
	f.Add(entry)
	f.Add(memo)
	f.Add([]byte(`{"v":1,"token":{"accessToken":"a\u0041","expiresOn":"2026-12-01T23:59:60Z"}}`))
	f.Fuzz(func(t *testing.T, data []byte) { sameAsUnmarshal(t, data) })
}
