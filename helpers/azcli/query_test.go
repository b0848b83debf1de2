package azcli

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jmespath/go-jmespath"
)

// jmesCompile is the full evaluator, as azjmes.Compile is (azjmes imports this
// package, so its tests cannot be imported here): go-jmespath, linked by tests only.
func jmesCompile(expr string) (Query, error) {
	jp, err := jmespath.Compile(expr)
	if err != nil {
		return nil, err
	}
	return jp.Search, nil
}

// shimResults are the values the shim renders: get-access-token, account show,
// account list (a subscription-level and a tenant-level profile) and version.
func shimResults() map[string]any {
	acct := Account{Profile: "prod", TenantID: tenantA, ClientID: clientA, SubscriptionID: subA, Authority: "https://login.microsoftonline.com"}
	tenantLevel := Account{Profile: "t", TenantID: tenantA, ClientID: clientA, Authority: "https://login.microsoftonline.com"}
	return map[string]any{
		"get-access-token":      NewAccessToken("h.p.s", time.Unix(1704153600, 0), tenantA, subA, time.UTC),
		"account show":          NewSubscription(acct),
		"account show (tenant)": NewSubscription(tenantLevel),
		"account list":          []listedSubscription{NewSubscription(acct).listed()},
		"account list (tenant)": []listedSubscription{NewSubscription(tenantLevel).listed()},
		"version":               versionInfo{AzureCLI: CLIVersion, AzureCLICore: CLIVersion, AzureCLITelemetry: "1.1.0", Extensions: map[string]string{}},
		"null":                  nil,
		"string":                "accessToken",
		"number":                1704153600,
	}
}

// identifiers are the bare identifiers scripts use on those results (the SPEC's list
// first), present and absent, JMESPath's literal names (not keywords unquoted) and
// near misses of present keys.
var identifiers = []string{
	"accessToken", "expiresOn", "expires_on", "tenant", "tokenType",
	"subscription", "id", "name", "tenantId", "homeTenantId", "user", "isDefault", "state",
	"environmentName", "cloudName", "managedByTenants", "extensions",
	"nosuchfield", "accesstoken", "ExpiresOn", "expires", "null", "true", "false",
	"_", "_x9", "a", "Z", "azure_cli",
}

// toData is v as Write searches it: encoded and decoded as JSON.
func toData(t *testing.T, v any) any {
	t.Helper()
	raw, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var data any
	if err := json.Unmarshal(raw, &data); err != nil {
		t.Fatal(err)
	}
	return data
}

// The built-in evaluator answers a bare identifier exactly as go-jmespath does, on
// every result the shim renders, in every output format.
func TestCompileIdentifierMatchesJMESPath(t *testing.T) {
	for name, v := range shimResults() {
		data := toData(t, v)
		for _, q := range identifiers {
			builtin, err := CompileIdentifier(q)
			if err != nil {
				t.Fatalf("CompileIdentifier(%q): %v", q, err)
			}
			full, err := jmesCompile(q)
			if err != nil {
				t.Fatalf("jmespath.Compile(%q): %v", q, err)
			}
			got, gerr := builtin(data)
			want, werr := full(data)
			if !reflect.DeepEqual(got, want) || (gerr == nil) != (werr == nil) {
				t.Errorf("%s --query %s: built-in %#v (%v), go-jmespath %#v (%v)", name, q, got, gerr, want, werr)
			}
			for _, format := range []string{"json", "jsonc", "tsv", "none"} {
				var gb, wb bytes.Buffer
				gerr := Write(&gb, v, format, q, nil)
				werr := Write(&wb, v, format, q, jmesCompile)
				if gb.String() != wb.String() || (gerr == nil) != (werr == nil) {
					t.Errorf("%s -o %s --query %s: built-in %q (%v), go-jmespath %q (%v)", name, format, q, gb.String(), gerr, wb.String(), werr)
				}
			}
		}
	}
}

// Anything but a bare identifier is the engine's, valid JMESPath or not: the built-in
// cannot tell an invalid query from one it does not evaluate.
func TestCompileIdentifierNeedsEngine(t *testing.T) {
	for _, q := range []string{
		"", "a.b", "user.name", "[0]", "[0].user.name", "[].id", "{t:tokenType}", "`\"x\"`", `"accessToken"`,
		" accessToken", "accessToken ", "9a", "a-b", "ünï", "@", "*", "accessToken | length(@)", "[[", "abs(accessToken)",
	} {
		if _, err := CompileIdentifier(q); !errors.Is(err, ErrNeedsEngine) {
			t.Errorf("CompileIdentifier(%q) = %v, want ErrNeedsEngine", q, err)
		}
	}
}

// Whatever the built-in compiles, go-jmespath compiles and evaluates to the same value.
func FuzzCompileIdentifier(f *testing.F) {
	for _, q := range append(identifiers, "a.b", "[0]", "x9_", "9x", "", "a b", "a\n") {
		f.Add(q)
	}
	results := shimResults()
	f.Fuzz(func(t *testing.T, q string) {
		builtin, err := CompileIdentifier(q)
		if err != nil {
			if !errors.Is(err, ErrNeedsEngine) {
				t.Fatalf("CompileIdentifier(%q): %v, not ErrNeedsEngine", q, err)
			}
			return
		}
		full, err := jmesCompile(q)
		if err != nil {
			t.Fatalf("the built-in compiled %q, go-jmespath refused it: %v", q, err)
		}
		for name, v := range results {
			data := toData(t, v)
			got, _ := builtin(data)
			want, _ := full(data)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s --query %q: built-in %#v, go-jmespath %#v", name, q, got, want)
			}
		}
	})
}

// With the built-in evaluator, a query it cannot answer sends the whole command to the
// engine before anything else happens: no profile read, no token, no output.
func TestRunHandsComplexQueriesToEngine(t *testing.T) {
	for _, args := range [][]string{
		{"account", "list", "--query", "[0].user.name", "-o", "tsv"},
		{"account", "get-access-token", "--query", "{t:tokenType}"},
		{"account", "show", "--query", "user.name"},
		{"version", "--query", "\"azure-cli\""},
		{"account", "get-access-token", "--query", "[["}, // the engine says it is invalid
		{"account", "get-access-token", "--query", "[0]", "-h"},
	} {
		src := newSource()
		src.err = errors.New("the source was used")
		engine := 0
		r := runAz(t, src, Env{Engine: func() int { engine++; return 7 }}, args...)
		if engine != 1 || r.code != 7 || r.out != "" || r.err != "" || len(src.scopes) != 0 {
			t.Errorf("az %q: engine called %d times, exit %d, stdout %q, stderr %q, scopes %q", args, engine, r.code, r.out, r.err, src.scopes)
		}
	}
}

// The front answers what it can: no query, a bare identifier, a command it does not
// cover, and any usage error found before the query is looked at (the engine would
// report the same one).
func TestRunBuiltinQueriesStayInFront(t *testing.T) {
	engine := func() int { t.Fatal("handed to the engine"); return 1 }
	src := newSource()
	for _, tc := range []struct {
		args []string
		code int
		out  string
		err  string
	}{
		{[]string{"account", "get-access-token", "--query", "tokenType", "-o", "tsv"}, 0, "Bearer\n", ""},
		{[]string{"account", "show", "--query", "id", "-o", "json"}, 0, "\"" + subA + "\"\n", ""},
		{[]string{"account", "list", "--query", "id"}, 0, "", ""}, // a list has no fields: null
		{[]string{"account", "get-access-token", "--query", "[0]", "--bogus"}, 2, "", "ERROR: unrecognized arguments: --bogus\n"},
		{[]string{"account", "get-access-token", "--query", "[0]", "-o", "xml"}, 2, "", "ERROR: argument --output/-o: invalid choice: 'xml' (choose from 'json', 'jsonc', 'yaml', 'yamlc', 'table', 'tsv', 'none')\n"},
		{[]string{"account", "get-access-token", "--query"}, 2, "", "ERROR: argument --query: expected one argument\n"},
		{[]string{"--version", "--query", "[0]"}, 0, "", ""},
	} {
		r := runAz(t, src, Env{Engine: engine}, tc.args...)
		if r.code != tc.code || (tc.out != "" && r.out != tc.out) || r.err != tc.err {
			t.Errorf("az %q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr %q", tc.args, r.code, r.out, r.err, tc.code, tc.out, tc.err)
		}
	}
}

// With no engine to hand it to, a query the evaluator cannot answer is an error; with
// the full evaluator an invalid query is az's usage error, word for word, exit 2.
func TestRunQueryErrors(t *testing.T) {
	r := runAz(t, newSource(), Env{}, "account", "list", "--query", "[0].id")
	if r.code != 1 || r.out != "" || r.err != "ERROR: "+ErrNeedsEngine.Error()+"\n" {
		t.Errorf("no engine: exit %d, stdout %q, stderr %q", r.code, r.out, r.err)
	}
	for _, q := range []string{"[[", "a.", "{t:}", "accessToken)"} {
		r := runAz(t, newSource(), Env{Query: jmesCompile}, "account", "get-access-token", "--query", q)
		if want := "ERROR: argument --query: invalid jmespath_type value: '" + q + "'\n"; r.code != 2 || r.out != "" || r.err != want {
			t.Errorf("--query %q: exit %d, stdout %q, stderr %q; want exit 2, %q", q, r.code, r.out, r.err, want)
		}
	}
	if !strings.Contains(ErrNeedsEngine.Error(), "entratool-engine") {
		t.Errorf("ErrNeedsEngine does not say where the evaluator is: %v", ErrNeedsEngine)
	}
}
