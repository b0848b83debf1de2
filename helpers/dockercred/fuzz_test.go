package dockercred

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// FuzzNormalizeServerURL: whatever docker passes, a key is canonical (lower-case ASCII,
// no path, no ":443"), stable under re-normalising, and reached again from its https
// URL; a listed key is never reached from a longer or shorter name.
func FuzzNormalizeServerURL(f *testing.F) {
	for _, s := range []string{
		"myreg.azurecr.io", "MYREG.AZURECR.IO:443", "https://myreg.azurecr.io/v2/repo", "myreg.azurecr.io/team/app",
		"myreg.azurecr.io.evil.com", "evil-myreg.azurecr.io", "[::1]:5000", "http://x", "https://u@h/", "h:0", "h:65536",
		"ｍyreg.azurecr.io", "a..b", "127.0.0.1:41234", " \thost\n", "https://[fe80::1%25eth0]:443/", "host:0443",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		key, ok := NormalizeServerURL(in)
		if !ok {
			if key != "" {
				t.Fatalf("%q: rejected but key %q", in, key)
			}
			return
		}
		for i := 0; i < len(key); i++ {
			c := key[i]
			if c >= 0x80 || ('A' <= c && c <= 'Z') || c == '/' || c == '@' || c == '?' || c == '#' || c <= ' ' {
				t.Fatalf("%q → %q: byte %q in key", in, key, c)
			}
		}
		if strings.HasSuffix(key, ":443") {
			t.Fatalf("%q → %q keeps the default port", in, key)
		}
		if again, ok := NormalizeServerURL(key); !ok || again != key {
			t.Fatalf("%q → %q → %q, %v", in, key, again, ok)
		}
		if again, ok := RegistryKey(key); !ok || again != key {
			t.Fatalf("%q → %q is not a registry key (%q, %v)", in, key, again, ok)
		}
		if viaURL, ok := NormalizeServerURL("https://" + key + "/v2/"); !ok || viaURL != key {
			t.Fatalf("https URL of %q → %q, %v", key, viaURL, ok)
		}
		if k, ok := NormalizeServerURL("x" + key); ok && k == key {
			t.Fatalf("%q matches %q", "x"+key, key)
		}
		if !strings.HasPrefix(key, "[") {
			if k, ok := NormalizeServerURL(key + ".evil.com"); ok && k == key {
				t.Fatalf("suffixed name matches %q", key)
			}
		}
	})
}

// FuzzSetCredHelper: on any config.json, setting the helper either fails with a
// line:column error or gives JSON in which credHelpers[r] is "entra" and every other
// key decodes as before; removing it again restores what was there.
func FuzzSetCredHelper(f *testing.F) {
	f.Add([]byte(richConfig))
	f.Add([]byte(`{"credHelpers":{"r.io":"gcloud"},"auths":{}}`))
	f.Add([]byte("{\n  \"a\": [1,\n 2]\n}"))
	f.Add([]byte(`{"credHelpers":null}`))
	f.Add([]byte(`{"CredHelpers":{"x":"y"}}`))
	f.Add([]byte(`{"a":1,"a":2}`))
	f.Add([]byte(""))
	f.Add([]byte("[]"))
	f.Add([]byte(`{"a":"<\u00e9>"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		out, _, err := SetCredHelper("c.json", data, "r.io", HelperName)
		if err != nil {
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Line < 1 || ce.Column < 1 {
				t.Fatalf("%q: error without position: %v", data, err)
			}
			return
		}
		helpers, err := CredHelpers("c.json", out)
		if err != nil || helpers["r.io"] != HelperName {
			t.Fatalf("%q → %q: credHelpers %v, %v", data, out, helpers, err)
		}
		if !reflect.DeepEqual(others(t, data), others(t, out)) {
			t.Fatalf("%q → %q: other keys changed", data, out)
		}
		back, cur, err := RemoveCredHelper("c.json", out, "r.io", HelperName)
		if err != nil || cur != HelperName {
			t.Fatalf("%q: remove: %v %q", out, err, cur)
		}
		if !reflect.DeepEqual(others(t, data), others(t, back)) {
			t.Fatalf("%q → %q: remove changed other keys", out, back)
		}
		// Set then remove leaves credHelpers as it was, less any entry for r.io.
		want, _ := CredHelpers("c.json", data)
		delete(want, "r.io")
		got, err := CredHelpers("c.json", back)
		if err != nil || !reflect.DeepEqual(got, want) {
			t.Fatalf("%q → %q: credHelpers %v, want %v (%v)", data, back, got, want, err)
		}
	})
}

// others decodes the config without its credHelpers, as docker would read the rest.
func others(t *testing.T, data []byte) map[string]any {
	t.Helper()
	m := map[string]any{}
	if len(bytes.TrimSpace(data)) == 0 {
		return m
	}
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%q: %v", data, err)
	}
	for k := range m {
		if strings.EqualFold(k, "credHelpers") {
			delete(m, k)
		}
	}
	return m
}
