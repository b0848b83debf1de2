package azcli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Skipf("time zone %s not available: %v", name, err)
	}
	return loc
}

func render(t *testing.T, v any, format, query string) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, v, format, query, jmesCompile); err != nil {
		t.Fatalf("Write(%s, %q): %v", format, query, err)
	}
	return b.String()
}

// The bytes az prints (json.dumps with sort_keys=True, indent=2), expiresOn in the
// local zone with six fraction digits, expires_on a number.
func TestWriteAccessTokenJSON(t *testing.T) {
	exp := time.Unix(1704153600, 0) // 2024-01-02T00:00:00Z
	cases := []struct {
		zone, expiresOn string
	}{
		{"UTC", "2024-01-02 00:00:00.000000"},
		{"Asia/Kolkata", "2024-01-02 05:30:00.000000"},
		{"America/St_Johns", "2024-01-01 20:30:00.000000"},
	}
	for _, tc := range cases {
		at := NewAccessToken("h.p.s", exp, tenantA, subA, mustLoad(t, tc.zone))
		want := `{
  "accessToken": "h.p.s",
  "expiresOn": "` + tc.expiresOn + `",
  "expires_on": 1704153600,
  "subscription": "` + subA + `",
  "tenant": "` + tenantA + `",
  "tokenType": "Bearer"
}
`
		if got := render(t, at, "json", ""); got != want {
			t.Errorf("%s:\n%s\nwant\n%s", tc.zone, got, want)
		}
	}
	// Newfoundland daylight time is UTC-2:30.
	summer := NewAccessToken("h.p.s", time.Unix(1719792000, 0), tenantA, subA, mustLoad(t, "America/St_Johns"))
	if summer.ExpiresOn != "2024-06-30 21:30:00.000000" {
		t.Errorf("St. John's in summer: %s", summer.ExpiresOn)
	}
}

func TestWriteTSVAndQuery(t *testing.T) {
	at := NewAccessToken("h.p.s", time.Unix(1704153600, 0), tenantA, subA, time.UTC)
	cases := []struct{ format, query, want string }{
		{"tsv", "accessToken", "h.p.s\n"},
		{"tsv", "expires_on", "1704153600\n"},
		{"tsv", "expiresOn", "2024-01-02 00:00:00.000000\n"},
		{"tsv", "", "h.p.s\t2024-01-02 00:00:00.000000\t1704153600\t" + subA + "\t" + tenantA + "\tBearer\n"},
		{"json", "accessToken", "\"h.p.s\"\n"},
		{"json", "expires_on", "1704153600\n"},
		{"json", "nosuchfield", ""},
		{"tsv", "nosuchfield", ""},
		{"none", "", ""},
		// A list result is one row per item, as knack prints it.
		{"tsv", "[tenant, tokenType]", tenantA + "\nBearer\n"},
		{"tsv", "{type: tokenType, t: tenant}", "Bearer\t" + tenantA + "\n"},
		{"json", "{type: tokenType, t: tenant}", "{\n  \"t\": \"" + tenantA + "\",\n  \"type\": \"Bearer\"\n}\n"},
	}
	for _, tc := range cases {
		if got := render(t, at, tc.format, tc.query); got != tc.want {
			t.Errorf("-o %s --query %q: %q, want %q", tc.format, tc.query, got, tc.want)
		}
	}
}

func TestWriteAccounts(t *testing.T) {
	sub := NewSubscription(Account{Profile: "prod", TenantID: tenantA, ClientID: clientA, SubscriptionID: subA, Authority: "https://login.microsoftonline.com"})
	want := `{
  "environmentName": "AzureCloud",
  "homeTenantId": "` + tenantA + `",
  "id": "` + subA + `",
  "isDefault": true,
  "managedByTenants": [],
  "name": "prod",
  "state": "Enabled",
  "tenantId": "` + tenantA + `",
  "user": {
    "name": "` + clientA + `",
    "type": "servicePrincipal"
  }
}
`
	if got := render(t, sub, "json", ""); got != want {
		t.Errorf("account show:\n%s\nwant\n%s", got, want)
	}
	list := []listedSubscription{sub.listed()}
	got := render(t, list, "json", "")
	if !strings.Contains(got, `"cloudName": "AzureCloud"`) || strings.Contains(got, "environmentName") || !strings.HasPrefix(got, "[\n  {\n") {
		t.Errorf("account list renames environmentName to cloudName:\n%s", got)
	}
	// knack's tsv: nested list → its length, nested map → empty, nested bool → True.
	if got, want := render(t, list, "tsv", ""), "AzureCloud\t"+tenantA+"\t"+subA+"\tTrue\t0\tprod\tEnabled\t"+tenantA+"\t\n"; got != want {
		t.Errorf("account list -o tsv: %q, want %q", got, want)
	}
	// A bare boolean row is lower-case; a list of strings is one per line.
	if got := render(t, sub, "tsv", "isDefault"); got != "true\n" {
		t.Errorf("--query isDefault -o tsv: %q", got)
	}
	if got := render(t, list, "tsv", "[?isDefault].id"); got != subA+"\n" {
		t.Errorf("--query [?isDefault].id -o tsv: %q", got)
	}
	if got := render(t, sub, "tsv", "user.name"); got != clientA+"\n" {
		t.Errorf("--query user.name -o tsv: %q", got)
	}
	if got := render(t, list, "tsv", "[].{name: name, sub: id}"); got != "prod\t"+subA+"\n" {
		t.Errorf("multi-select hash keeps the query's order: %q", got)
	}
	if got := render(t, sub, "tsv", "{u: user, m: managedByTenants, n: `null`}"); got != "\t0\tNone\n" {
		t.Errorf("nested values: %q", got)
	}

	tenantLevel := NewSubscription(Account{Profile: "p", TenantID: tenantA, ClientID: clientA})
	if tenantLevel.ID != tenantA || tenantLevel.Name != TenantLevelName {
		t.Errorf("no subscription → tenant-level account: %+v", tenantLevel)
	}
	if CloudFor("https://login.chinacloudapi.cn").Name != NewSubscription(Account{Authority: "https://login.chinacloudapi.cn"}).EnvironmentName {
		t.Error("environmentName follows the profile's cloud")
	}
}

func TestWriteVersion(t *testing.T) {
	v := versionInfo{AzureCLI: CLIVersion, AzureCLICore: CLIVersion, AzureCLITelemetry: "1.1.0", Extensions: map[string]string{}}
	got := render(t, v, "json", "")
	var back map[string]any
	if err := json.Unmarshal([]byte(got), &back); err != nil {
		t.Fatal(err)
	}
	if back["azure-cli"] != CLIVersion || back["extensions"] == nil || !strings.Contains(got, `"extensions": {}`) {
		t.Errorf("az version: %s", got)
	}
}

func TestWriteRuntimeQueryError(t *testing.T) {
	var b bytes.Buffer
	err := Write(&b, map[string]any{"a": "x"}, "json", "abs(a)", jmesCompile)
	if err == nil || b.Len() != 0 {
		t.Fatalf("abs of a string: %v, output %q", err, b.String())
	}
}

func TestHashKeyOrder(t *testing.T) {
	cases := map[string][]string{
		"{a: b, c: d}":                 {"a", "c"},
		"[].{name: name, \"x y\": id}": {"name", "x y"},
		"foo | {z: a, y: b}":           {"z", "y"},
		"[?a=='}'].{k: v}":             {"k"},
		"{a: {b: c}, d: [e, f]}":       {"a", "d"},
		"a.b":                          nil,
		"{a: b}.c":                     nil,
		"[{a: b}]":                     nil,
		"x{a:b}":                       nil,
		"{a b}":                        nil,
		"'unterminated}":               nil,
	}
	for q, want := range cases {
		got := hashKeyOrder(q)
		if strings.Join(got, "|") != strings.Join(want, "|") || (got == nil) != (want == nil) {
			t.Errorf("hashKeyOrder(%q) = %q, want %q", q, got, want)
		}
	}
}

// The direct encoding of each result type is byte for byte what the sorted generic
// data encodes as (az's sort_keys=True).
func TestWriteDirectMatchesSorted(t *testing.T) {
	sub := NewSubscription(Account{Profile: "p<&>", TenantID: tenantA, ClientID: clientA, SubscriptionID: subA})
	for _, v := range []any{
		NewAccessToken("h.p.s", time.Unix(1704153600, 0), tenantA, subA, time.UTC),
		sub,
		[]listedSubscription{sub.listed()},
		versionInfo{AzureCLI: CLIVersion, AzureCLICore: CLIVersion, AzureCLITelemetry: "1.1.0", Extensions: map[string]string{}},
	} {
		direct := render(t, v, "json", "")
		raw, _ := json.Marshal(v)
		var data any
		json.Unmarshal(raw, &data)
		var b bytes.Buffer
		if err := encodeJSON(&b, data); err != nil {
			t.Fatal(err)
		}
		if direct != b.String() {
			t.Errorf("%T: direct\n%s\nsorted\n%s", v, direct, b.String())
		}
		if strings.Contains(direct, `\u003c`) {
			t.Errorf("HTML-escaped: %s", direct)
		}
	}
}

// The get-access-token answer, written directly, is byte for byte what encodeJSON
// writes — for odd strings too, and through Write.
func TestAccessTokenJSONIsEncodeJSON(t *testing.T) {
	for _, at := range []AccessToken{
		NewAccessToken("eyJ0.eyJ1.c2ln-_", time.Unix(1796315582, 0), "87654321-4321-4321-4321-cba987654321", "sub-id", time.UTC),
		{},
		{AccessToken: "a\"b\\c<d>&e\x01\u2028é\xff", ExpiresOn: "x", ExpiresOnUTC: -5, Subscription: "N/A(tenant level account)", Tenant: "t", TokenType: "Bearer"},
	} {
		var want, got bytes.Buffer
		if err := encodeJSON(&want, at); err != nil {
			t.Fatal(err)
		}
		if err := Write(&got, at, "json", "", nil); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("AccessToken %+v:\ngot  %s\nwant %s", at, got.String(), want.String())
		}
	}
}
