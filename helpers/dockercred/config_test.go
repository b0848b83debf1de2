package dockercred

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/docker/cli/cli/config/configfile"
)

// richConfig is a config.json as docker writes it (tab-indented), with what real ones
// hold: auths, a credsStore, proxies, plugin settings, values whose bytes a re-encode
// would change (HTML characters, escapes, number spellings), and keys docker does not know.
const richConfig = `{
	"auths": {
		"https://index.docker.io/v1/": {
			"auth": "dXNlcjpwYXNz"
		},
		"quay.io": {}
	},
	"credsStore": "desktop",
	"currentContext": "remote<&>",
	"detachKeys": "ctrl-\u0065,e",
	"proxies": {
		"default": {
			"httpProxy": "http://proxy.example:3128",
			"noProxy": "*.azurecr.io,localhost"
		}
	},
	"plugins": {"buildx": {"default":   "true"}},
	"x-unknown": {"n": 1.50, "e": 1e3, "list": [1, 2,   3]},
	"psFormat": "table {{.ID}}\t{{.Names}}"
}
`

func TestSetCredHelperChangesOnlyCredHelpers(t *testing.T) {
	out, prev, err := SetCredHelper("config.json", []byte(richConfig), "myreg.azurecr.io", HelperName)
	if err != nil || prev != "" {
		t.Fatalf("%v %q", err, prev)
	}
	want := strings.TrimSuffix(richConfig, "\n}\n") + `,
	"credHelpers": {
		"myreg.azurecr.io": "entra"
	}
}
`
	if string(out) != want {
		t.Fatalf("got\n%s\nwant\n%s", out, want)
	}
	// docker's own loader reads the result: the helper is configured, and the rest
	// reads exactly as before.
	before, after := loadDocker(t, []byte(richConfig)), loadDocker(t, out)
	if after.CredentialHelpers["myreg.azurecr.io"] != "entra" || after.CredentialsStore != "desktop" {
		t.Fatalf("docker reads credHelpers %v, credsStore %q", after.CredentialHelpers, after.CredentialsStore)
	}
	after.CredentialHelpers = nil
	if !reflect.DeepEqual(before.AuthConfigs, after.AuthConfigs) || !reflect.DeepEqual(before.Proxies, after.Proxies) ||
		before.CurrentContext != after.CurrentContext || before.DetachKeys != after.DetachKeys || before.PsFormat != after.PsFormat {
		t.Fatalf("docker reads other keys differently")
	}
	// Removing it again gives the original bytes back.
	back, cur, err := RemoveCredHelper("config.json", out, "myreg.azurecr.io", HelperName)
	if err != nil || cur != HelperName || string(back) != richConfig {
		t.Fatalf("remove: %v %q\n%s", err, cur, back)
	}
}

func loadDocker(t *testing.T, data []byte) *configfile.ConfigFile {
	t.Helper()
	cf := configfile.New("config.json")
	if err := cf.LoadFromReader(bytes.NewReader(data)); err != nil {
		t.Fatalf("docker cannot load the config: %v\n%s", err, data)
	}
	return cf
}

func TestSetCredHelperLayouts(t *testing.T) {
	for _, c := range []struct {
		name, in, want, prev string
	}{
		{"new file", "", "{\n\t\"credHelpers\": {\n\t\t\"r.io\": \"entra\"\n\t}\n}\n", ""},
		{"empty object", "{}", "{\n\t\"credHelpers\": {\n\t\t\"r.io\": \"entra\"\n\t}\n}", ""},
		{"sorted helpers stay sorted", "{\n\t\"credHelpers\": {\n\t\t\"a.io\": \"ecr-login\",\n\t\t\"z.io\": \"gcloud\"\n\t}\n}\n",
			"{\n\t\"credHelpers\": {\n\t\t\"a.io\": \"ecr-login\",\n\t\t\"r.io\": \"entra\",\n\t\t\"z.io\": \"gcloud\"\n\t}\n}\n", ""},
		{"unsorted helpers get it last", `{"credHelpers":{"z.io":"gcloud","a.io":"x"}}`, `{"credHelpers":{"z.io":"gcloud","a.io":"x","r.io":"entra"}}`, ""},
		{"one line stays one line", `{"auths":{},"credHelpers":{}}`, `{"auths":{},"credHelpers":{"r.io":"entra"}}`, ""},
		{"two-space indent", "{\n  \"auths\": {}\n}\n", "{\n  \"auths\": {},\n  \"credHelpers\": {\n    \"r.io\": \"entra\"\n  }\n}\n", ""},
		{"replaces another helper", `{"credHelpers":{"r.io":"acr-env"}}`, `{"credHelpers":{"r.io":"entra"}}`, "acr-env"},
		{"null credHelpers", `{"credHelpers":null}`, `{"credHelpers":{"r.io":"entra"}}`, ""},
		{"key spelled otherwise", `{"CredHelpers":{}}`, `{"CredHelpers":{"r.io":"entra"}}`, ""},
	} {
		out, prev, err := SetCredHelper("config.json", []byte(c.in), "r.io", HelperName)
		if err != nil || string(out) != c.want || prev != c.prev {
			t.Errorf("%s: %v %q\ngot  %q\nwant %q", c.name, err, prev, out, c.want)
			continue
		}
		if cf := loadDocker(t, out); cf.CredentialHelpers["r.io"] != "entra" {
			t.Errorf("%s: docker reads credHelpers %v", c.name, cf.CredentialHelpers)
		}
	}
}

func TestRemoveCredHelper(t *testing.T) {
	in := "{\n\t\"credHelpers\": {\n\t\t\"a.io\": \"gcloud\",\n\t\t\"r.io\": \"entra\"\n\t}\n}\n"
	out, cur, err := RemoveCredHelper("config.json", []byte(in), "r.io", HelperName)
	if err != nil || cur != HelperName || string(out) != "{\n\t\"credHelpers\": {\n\t\t\"a.io\": \"gcloud\"\n\t}\n}\n" {
		t.Fatalf("%v %q %q", err, cur, out)
	}
	// The last one drops credHelpers, as docker omits an empty map.
	out, _, err = RemoveCredHelper("config.json", []byte(`{"auths":{},"credHelpers":{"r.io":"entra"}}`), "r.io", HelperName)
	if err != nil || string(out) != `{"auths":{}}` {
		t.Fatalf("%v %q", err, out)
	}
	// Another helper's entry and absent entries are left alone, bytes and all.
	for _, in := range []string{`{"credHelpers": {"r.io": "gcloud"}}`, `{ "auths" : {} }`, ""} {
		out, cur, err := RemoveCredHelper("config.json", []byte(in), "r.io", HelperName)
		if err != nil || string(out) != in || cur == HelperName {
			t.Errorf("%q: %v %q %q", in, err, cur, out)
		}
	}
}

func TestMalformedConfigNamesLineAndColumn(t *testing.T) {
	for _, c := range []struct {
		name, in  string
		line, col int
		msg       string
	}{
		{"missing value", "{\n\t\"auths\": {},\n\t\"x\": ,\n}\n", 3, 7, "not valid JSON"},
		{"trailing comma", "{\n  \"auths\": {},\n}", 3, 1, "not valid JSON"},
		{"truncated", "{\"auths\": {", 1, 11, "not valid JSON"},
		{"array", "\n  [1]", 2, 3, "not a JSON object"},
		{"credHelpers list", "{\n\"credHelpers\": [\"r.io\"]}", 2, 16, "credHelpers is not an object"},
		{"credHelpers number value", "{\"credHelpers\": {\"r.io\": 1}}", 1, 17, `credHelpers["r.io"] is not a string`},
		{"duplicate spellings", `{"credHelpers":{},"credhelpers":{}}`, 1, 1, "merge them"},
		{"é before the error", "{\"é\": \"é\", x}", 1, 12, "not valid JSON"},
	} {
		_, _, err := SetCredHelper("/home/u/.docker/config.json", []byte(c.in), "r.io", HelperName)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Line != c.line || ce.Column != c.col || !strings.Contains(ce.Msg, c.msg) {
			t.Errorf("%s: %v (want %d:%d %q)", c.name, err, c.line, c.col, c.msg)
			continue
		}
		if !strings.HasPrefix(err.Error(), "/home/u/.docker/config.json:") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: message %q", c.name, err)
		}
	}
}

func TestCredHelpers(t *testing.T) {
	m, err := CredHelpers("c", []byte(`{"credHelpers":{"a.io":"entra","b.io":"gcloud"}}`))
	if err != nil || !reflect.DeepEqual(m, map[string]string{"a.io": "entra", "b.io": "gcloud"}) {
		t.Fatalf("%v %v", m, err)
	}
	var v any
	if json.Unmarshal([]byte(richConfig), &v) != nil {
		t.Fatal("richConfig is not JSON")
	}
}
