package profile

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/entratool/entratool/internal/testkit"
)

func TestIsSecretKey(t *testing.T) {
	for _, k := range []string{
		"clientSecret", "certificatePassword", "password", "pin", "PIN", "Pin",
		"PASSWORD", "apiSecretKey", "client_secret", "db-password-file", "SECRET", "secretStore",
		"paſſword", // ſ is s under Unicode case folding
		"pın",      // and ı is i
	} {
		if !IsSecretKey(k) {
			t.Errorf("IsSecretKey(%q) = false", k)
		}
	}
	for _, k := range []string{"", "pinned", "spin", "pins", "passwd", "pass", "certificatePath", "tenantId", "module", "tokenLabel", "secre t"} {
		if IsSecretKey(k) {
			t.Errorf("IsSecretKey(%q) = true", k)
		}
	}
}

func TestScrubJSONKeepsEveryOtherByte(t *testing.T) {
	cases := []struct {
		in, want string
		dropped  []string
	}{
		{`{"a": 1,   "password": "x"}`, `{"a": 1}`, []string{"x.password"}},
		{`{"password": "x", "a":  1.50}`, `{"a":  1.50}`, []string{"x.password"}},
		{`{ "password" : "x" , "a" : 1 , "Pin" : 2 , "b" : [ 1 ] }`, `{ "a" : 1 , "b" : [ 1 ] }`, []string{"x.password", "x.Pin"}},
		{"{\n  \"keep\": true,\n  \"apiSecret\": {\"password\": 1}\n}", "{\n  \"keep\": true\n}", []string{"x.apiSecret"}},
		{`{"password":"x"}`, `{}`, []string{"x.password"}},
		{`[{"Pin":"1"}, {"k":[{"mySecret":{"deep":1}}, 2]}, "password"]`, `[{}, {"k":[{}, 2]}, "password"]`, []string{"x[0].Pin", "x[1].k[0].mySecret"}},
		{`{"pass\u0077ord":"x","b":"\"}password"}`, `{"b":"\"}password"}`, []string{"x.password"}},
		{`{"we.ird Secret\u001b":1,"k":2}`, `{"k":2}`, []string{`x["we.ird Secret\x1b"]`}},
		{`{"a":{},"b":[],"c":null,"d":-1e+3}`, `{"a":{},"b":[],"c":null,"d":-1e+3}`, nil},
		{`"secret"`, `"secret"`, nil},
	}
	for _, c := range cases {
		got, dropped := scrubJSON(json.RawMessage(c.in), "x")
		if string(got) != c.want || !reflect.DeepEqual(dropped, c.dropped) {
			t.Errorf("scrubJSON(%s) =\n  %s %q\nwant\n  %s %q", c.in, got, dropped, c.want, c.dropped)
		}
		if !json.Valid(got) {
			t.Errorf("scrubJSON(%s) made invalid JSON: %s", c.in, got)
		}
	}
}

const profileWithSecrets = `{
  "name": "p",
  "clientId": "12345678-1234-1234-1234-123456789abc",
  "tenantId": "contoso.com",
  "certificateStore": "pkcs11",
  "certificateThumbprint": "0123456789ABCDEF0123456789ABCDEF01234567",
  "useCertificate": true,
  "certificateStoreOptions": {"module": "m.so", "PIN": "v-pin", "userPassword": "v-user"},
  "secretStore": "file",
  "clientSecret": "v-client",
  "certificatePassword": "v-cert",
  "extra": {"Password": "v-extra", "apiSecretKey": "v-api", "keep":   [1, 2.50, "x"]},
  "future": {"nested": [1, 2.50, "x"], "flag": true}
}`

var secretValues = []string{"v-pin", "v-user", "v-client", "v-cert", "v-extra", "v-api"}

func TestWithoutSecrets(t *testing.T) {
	var p Profile
	if err := p.UnmarshalJSON([]byte(profileWithSecrets)); err != nil {
		t.Fatal(err)
	}
	q, dropped := p.WithoutSecrets()
	want := []string{"certificateStoreOptions.PIN", "certificateStoreOptions.userPassword", "certificatePassword", "clientSecret", "extra.Password", "extra.apiSecretKey"}
	if !reflect.DeepEqual(dropped, want) {
		t.Errorf("dropped %q, want %q", dropped, want)
	}
	if got := p.SecretFields(); !reflect.DeepEqual(got, want) {
		t.Errorf("SecretFields %q, want %q", got, want)
	}
	out := (&Config{Profiles: []*Profile{q}}).Marshal()
	for _, v := range secretValues {
		if bytes.Contains(out, []byte(v)) {
			t.Errorf("%s survived:\n%s", v, out)
		}
	}
	for _, raw := range []string{`"extra": {"keep":   [1, 2.50, "x"]}`, `"future": {"nested": [1, 2.50, "x"], "flag": true}`, `"secretStore": "file"`, `"module": "m.so"`} {
		if !bytes.Contains(out, []byte(raw)) {
			t.Errorf("lost %s:\n%s", raw, out)
		}
	}
	// The original is untouched: profiles.json keeps what a person wrote there.
	if full := (&Config{Profiles: []*Profile{&p}}).Marshal(); !bytes.Contains(full, []byte("v-extra")) || p.CertificateStoreOptions["PIN"] != "v-pin" {
		t.Errorf("WithoutSecrets changed its receiver:\n%s", full)
	}
	// MarshalJSON (config show -o json, backups) leaves them out as well.
	j, _ := p.MarshalJSON()
	for _, v := range secretValues {
		if bytes.Contains(j, []byte(v)) {
			t.Errorf("MarshalJSON kept %s:\n%s", v, j)
		}
	}
	if again, d := q.WithoutSecrets(); d != nil || !reflect.DeepEqual(again, q) {
		t.Errorf("a second pass dropped %q", d)
	}
}

func TestParseImportDropsSecretsInEveryShape(t *testing.T) {
	for _, in := range []string{
		profileWithSecrets,
		"[" + profileWithSecrets + "]",
		`{"defaultProfile":"p","clientSecret":"v-client","profiles":[` + profileWithSecrets + `]}`,
	} {
		c, dropped, err := ParseImport("f.json", []byte(in))
		if err != nil {
			t.Fatalf("%v\n%s", err, in)
		}
		if len(dropped) != 1 || dropped[0].Profile != "p" || len(dropped[0].Fields) != 6 {
			t.Errorf("dropped = %+v", dropped)
		}
		out := c.Marshal()
		for _, v := range secretValues {
			if bytes.Contains(out, []byte(v)) {
				t.Errorf("%s survived the import:\n%s", v, out)
			}
		}
		if exp, d := Export(c.Profiles...); d != nil || !bytes.Equal(exp, (&Config{Profiles: c.Profiles}).Marshal()) {
			t.Errorf("export of an import dropped %+v or differs:\n%s\n%s", d, exp, out)
		}
	}
	if _, d, _ := ParseImport("f.json", []byte(`[{"name":"a"},{"pin":"1"}]`)); len(d) != 1 || d[0].Profile != "profiles[1]" {
		t.Errorf("a profile without a name is named by its index: %+v", d)
	}
}

func TestExportLeavesOutSecretsWrittenByHand(t *testing.T) {
	c, err := Parse("profiles.json", []byte(`{"profiles":[`+profileWithSecrets+`]}`))
	if err != nil {
		t.Fatal(err)
	}
	out, dropped := Export(c.Profiles...)
	if len(dropped) != 1 || !strings.Contains(strings.Join(dropped[0].Fields, ","), "extra.apiSecretKey") {
		t.Errorf("dropped = %+v", dropped)
	}
	for _, v := range secretValues {
		if bytes.Contains(out, []byte(v)) {
			t.Errorf("%s exported:\n%s", v, out)
		}
	}
}

func TestIdentityChanged(t *testing.T) {
	base := func() *Profile {
		return &Profile{Name: "p", ClientID: testkit.ClientID, TenantID: testkit.TenantID}
	}
	same := []func(p *Profile){
		func(p *Profile) {},
		func(p *Profile) { p.Scope = "api://x/.default" },
		func(p *Profile) { p.CertificatePath, p.SecretStore, p.SendX5C = "/new.pfx", "file", true },
		func(p *Profile) { p.Cloud = "public" },
		func(p *Profile) { p.AuthorityHost = AuthorityPublic },
		func(p *Profile) { p.AuthorityHost = "HTTPS://Login.MicrosoftOnline.COM/" },
		func(p *Profile) { p.AuthorityHost = "https://login.microsoftonline.com:443" },
		func(p *Profile) { p.ClientID = strings.ToUpper(p.ClientID) },
		func(p *Profile) { p.TenantID = strings.ToUpper(p.TenantID) },
	}
	for i, f := range same {
		q := base()
		f(q)
		if IdentityChanged(base(), q) || IdentityChanged(q, base()) {
			t.Errorf("same[%d]: %+v counts as another identity", i, q)
		}
	}
	other := []func(p *Profile){
		func(p *Profile) { p.AuthorityHost = "https://login.attacker.example" },
		func(p *Profile) { p.AuthorityHost = "https://login.microsoftonline.com:8443" },
		func(p *Profile) { p.AuthorityHost = "http://login.microsoftonline.com" },
		func(p *Profile) { p.Cloud = "usgov" },
		func(p *Profile) { p.Cloud = "china" },
		func(p *Profile) { p.TenantID = "contoso.onmicrosoft.com" },
		func(p *Profile) { p.ClientID = "22222222-1234-1234-1234-123456789abc" },
	}
	for i, f := range other {
		q := base()
		f(q)
		if !IdentityChanged(base(), q) || !IdentityChanged(q, base()) {
			t.Errorf("other[%d]: %+v counts as the same identity", i, q)
		}
	}
	// cloud usgov and its authority host are one authority.
	a, b := base(), base()
	a.Cloud, b.AuthorityHost = "usgov", AuthorityUSGov+"/"
	if IdentityChanged(a, b) {
		t.Error("cloud usgov and https://login.microsoftonline.us/ differ")
	}
	if IdentityChanged(nil, base()) || IdentityChanged(base(), nil) {
		t.Error("a missing profile has no identity to change")
	}
}
