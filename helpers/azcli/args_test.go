package azcli

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/entratool/entratool/internal/testkit"
)

const (
	tenantA = testkit.TenantID
	clientA = testkit.ClientID
	subA    = "11111111-2222-3333-4444-555555555555"
)

// The command lines the Azure SDKs, Terraform and scripts send, as they send them.
func TestParseArgsCallers(t *testing.T) {
	cases := []struct {
		name string
		args string
		want Command
	}{
		{"go azidentity", `account get-access-token -o json --resource https://management.azure.com --tenant ` + tenantA + ` --subscription ` + subA,
			Command{Name: CmdGetAccessToken, Output: "json", Resource: "https://management.azure.com", Tenant: tenantA, Subscription: subA}},
		{"python/js/.NET", `account get-access-token --output json --resource https://vault.azure.net`,
			Command{Name: CmdGetAccessToken, Output: "json", Resource: "https://vault.azure.net"}},
		{"terraform token", `account get-access-token --scope https://management.azure.com/.default --tenant ` + tenantA + ` -o=json`,
			Command{Name: CmdGetAccessToken, Output: "json", Scopes: []string{"https://management.azure.com/.default"}, Tenant: tenantA}},
		{"terraform token by subscription", `account get-access-token --scope https://management.azure.com/.default --subscription ` + subA + ` -o=json`,
			Command{Name: CmdGetAccessToken, Output: "json", Scopes: []string{"https://management.azure.com/.default"}, Subscription: subA}},
		{"terraform version", `version -o=json`, Command{Name: CmdVersion, Output: "json"}},
		{"terraform show", `account show -o=json`, Command{Name: CmdAccountShow, Output: "json"}},
		{"terraform list", `account list -o=json`, Command{Name: CmdAccountList, Output: "json"}},
		{"script tsv", `account get-access-token --query accessToken -o tsv`,
			Command{Name: CmdGetAccessToken, Output: "tsv", Query: "accessToken"}},
		{"attached short value", `account get-access-token -otsv --query=expires_on`,
			Command{Name: CmdGetAccessToken, Output: "tsv", Query: "expires_on"}},
		{"upper-case output", `account show --output=TSV`, Command{Name: CmdAccountShow, Output: "tsv"}},
		{"globals first", `--debug -o none account get-access-token -t ` + tenantA,
			Command{Name: CmdGetAccessToken, Output: "none", Debug: true, Tenant: tenantA}},
		{"scope nargs", `account get-access-token --scope https://a/.default https://a/.default -o json`,
			Command{Name: CmdGetAccessToken, Output: "json", Scopes: []string{"https://a/.default", "https://a/.default"}}},
		{"scope repeated", `account get-access-token --scope=https://a/.default --scope https://b/.default`,
			Command{Name: CmdGetAccessToken, Output: "json", Scopes: []string{"https://a/.default", "https://b/.default"}}},
		{"resource type", `account get-access-token --resource-type ms-graph -s ` + subA,
			Command{Name: CmdGetAccessToken, Output: "json", ResourceType: "ms-graph", Subscription: subA}},
		{"last value wins", `account get-access-token --tenant a --tenant ` + tenantA,
			Command{Name: CmdGetAccessToken, Output: "json", Tenant: tenantA}},
		{"show by name", `account show -n prod --only-show-errors --verbose`,
			Command{Name: CmdAccountShow, Output: "json", Subscription: "prod"}},
		{"list flags", `account list --all --refresh`, Command{Name: CmdAccountList, Output: "json"}},
		{"command help", `account get-access-token -h`, Command{Name: CmdGetAccessToken, Output: "json", Help: true}},
		{"no args", ``, Command{Name: CmdHelp, Output: "json"}},
		{"top help", `--help`, Command{Name: CmdHelp, Output: "json"}},
		{"version text", `--version`, Command{Name: CmdVersionText, Output: "json"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseArgs(strings.Fields(tc.args), jmesCompile)
			if err != nil {
				t.Fatalf("ParseArgs(%s): %v", tc.args, err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("ParseArgs(%s)\n got %+v\nwant %+v", tc.args, got, tc.want)
			}
		})
	}
}

// Commands the shim does not answer are recognised as such, whatever their options.
func TestParseArgsPassThrough(t *testing.T) {
	for _, args := range [][]string{
		{"vm", "list", "-o", "table"},
		{"login", "--service-principal", "-u", "x", "-p", "secret value", "--tenant", "t"},
		{"account", "set", "-s", subA},
		{"account"},
		{"storage", "account", "show", "-n", "x"},
		{"--query", "account", "vm", "list"},
		{"group", "list", "--query", "[?location=='westeurope'].name"},
		{"-h", "vm"},
	} {
		c, err := ParseArgs(args, jmesCompile)
		if err != nil || c.Name != "" {
			t.Errorf("ParseArgs(%q) = %+v, %v; want pass-through", args, c, err)
		}
	}
}

func TestParseArgsUsageErrors(t *testing.T) {
	cases := []struct{ args, want string }{
		{`account get-access-token --foo x`, "unrecognized arguments: --foo x"},
		{`account get-access-token extra`, "unrecognized arguments: extra"},
		{`account show --resource x`, "unrecognized arguments: --resource x"},
		{`account get-access-token -o xml`, "argument --output/-o: invalid choice: 'xml' (choose from 'json', 'jsonc', 'yaml', 'yamlc', 'table', 'tsv', 'none')"},
		{`account get-access-token -o table`, "output format 'table' is not supported"},
		{`account get-access-token --resource-type storage`, "'storage' is not a valid value for '--resource-type'. Allowed values: oss-rdbms, arm, aad-graph, ms-graph, batch, media, data-lake."},
		{`account get-access-token --query [[`, "argument --query: invalid jmespath_type value: '[['"},
		{`account get-access-token --tenant`, "argument --tenant/-t: expected one argument"},
		{`account get-access-token --tenant -o json`, "argument --tenant/-t: expected one argument"},
		{`account list --all=yes`, "argument --all: ignored explicit argument 'yes'"},
		{`version --tenant x`, "unrecognized arguments: --tenant x"},
	}
	for _, tc := range cases {
		_, err := ParseArgs(strings.Fields(tc.args), jmesCompile)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseArgs(%s) error = %v; want usage error containing %q", tc.args, err, tc.want)
		}
	}
}

// A --query or value that contains spaces or starts like a number is one argument.
func TestParseArgsValues(t *testing.T) {
	c, err := ParseArgs([]string{"account", "list", "--query", "[?isDefault && state=='Enabled'].{id: id, t: tenantId}", "-o", "tsv"}, jmesCompile)
	if err != nil || c.Query != "[?isDefault && state=='Enabled'].{id: id, t: tenantId}" {
		t.Fatalf("got %+v, %v", c, err)
	}
	c, err = ParseArgs([]string{"account", "get-access-token", "--tenant", "-1"}, jmesCompile)
	if err != nil || c.Tenant != "-1" {
		t.Fatalf("a negative number is a value, as argparse reads it: got %+v, %v", c, err)
	}
}

func TestScope(t *testing.T) {
	cases := []struct {
		args  string
		cloud Cloud
		want  string
	}{
		{`account get-access-token`, CloudPublic, "https://management.core.windows.net//.default"},
		{`account get-access-token --resource-type arm`, CloudPublic, "https://management.core.windows.net//.default"},
		{`account get-access-token --resource-type ms-graph`, CloudPublic, "https://graph.microsoft.com//.default"},
		{`account get-access-token --resource-type oss-rdbms`, CloudPublic, "https://ossrdbms-aad.database.windows.net/.default"},
		{`account get-access-token --resource-type batch`, CloudPublic, "https://batch.core.windows.net//.default"},
		{`account get-access-token --resource-type data-lake`, CloudPublic, "https://datalake.azure.net//.default"},
		{`account get-access-token --resource-type media`, CloudPublic, "https://rest.media.azure.net/.default"},
		{`account get-access-token --resource-type aad-graph`, CloudPublic, "https://graph.windows.net//.default"},
		{`account get-access-token --resource-type ms-graph`, CloudUSGov, "https://graph.microsoft.us//.default"},
		{`account get-access-token`, CloudChina, "https://management.core.chinacloudapi.cn//.default"},
		{`account get-access-token --resource https://management.azure.com/`, CloudPublic, "https://management.azure.com//.default"},
		{`account get-access-token --resource https://management.azure.com`, CloudPublic, "https://management.azure.com/.default"},
		{`account get-access-token --resource 499b84ac-1321-427f-aa17-267ca6975798`, CloudPublic, "499b84ac-1321-427f-aa17-267ca6975798/.default"},
		// --scope beats --resource, which beats --resource-type (az's order).
		{`account get-access-token --resource https://x --scope https://y/.default`, CloudPublic, "https://y/.default"},
		{`account get-access-token --resource-type ms-graph --resource https://x`, CloudPublic, "https://x/.default"},
		{`account get-access-token --scope https://y/.default https://y/.default`, CloudPublic, "https://y/.default"},
	}
	for _, tc := range cases {
		c, err := ParseArgs(strings.Fields(tc.args), jmesCompile)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Scope(tc.cloud)
		if err != nil || got != tc.want {
			t.Errorf("%s in %s: scope %q, %v; want %q", tc.args, tc.cloud.Name, got, err, tc.want)
		}
	}

	c, _ := ParseArgs(strings.Fields(`account get-access-token --resource-type data-lake`), jmesCompile)
	if _, err := c.Scope(CloudUSGov); err == nil || !strings.Contains(err.Error(), "AzureUSGovernment cloud has no endpoint") {
		t.Errorf("data-lake in US Gov: %v", err)
	}
	c, _ = ParseArgs(strings.Fields(`account get-access-token --scope https://a/.default --scope https://b/.default`), jmesCompile)
	var ue *UsageError
	if _, err := c.Scope(CloudPublic); !errors.As(err, &ue) || !strings.Contains(err.Error(), "one resource at a time") {
		t.Errorf("two resources: %v", err)
	}
}

// The Go SDK strips "/.default" from its scope to make --resource; the shim must ask
// Entra for exactly the scope the SDK was given.
func TestScopeRoundTripsSDKResource(t *testing.T) {
	for _, scope := range []string{
		"https://management.azure.com//.default",
		"https://management.azure.com/.default",
		"https://management.core.windows.net//.default",
		"https://vault.azure.net/.default",
		"https://storage.azure.com/.default",
		"api://my-api/.default",
	} {
		resource := strings.TrimSuffix(scope, "/.default") // azidentity's AzureCLICredential
		c, err := ParseArgs([]string{"account", "get-access-token", "-o", "json", "--resource", resource}, jmesCompile)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := c.Scope(CloudPublic); got != scope {
			t.Errorf("SDK scope %q → --resource %q → shim scope %q", scope, resource, got)
		}
	}
}

func TestCloudFor(t *testing.T) {
	for authority, want := range map[string]string{
		"":                                     "AzureCloud",
		"https://login.microsoftonline.com":    "AzureCloud",
		"https://login.microsoftonline.us/":    "AzureUSGovernment",
		"https://LOGIN.chinacloudapi.cn":       "AzureChinaCloud",
		"https://127.0.0.1:4443":               "AzureCloud",
		"https://login.microsoftonline.us:443": "AzureUSGovernment",
	} {
		if got := CloudFor(authority).Name; got != want {
			t.Errorf("CloudFor(%q) = %s, want %s", authority, got, want)
		}
	}
}

func TestParseAzdArgs(t *testing.T) {
	// What azidentity's AzureDeveloperCLICredential runs.
	c, err := ParseAzdArgs(strings.Fields("auth token -o json --no-prompt --scope https://a/.default --scope https://a/.default --tenant-id " + tenantA))
	if err != nil {
		t.Fatal(err)
	}
	want := AzdCommand{Name: CmdAzdToken, Output: "json", Scopes: []string{"https://a/.default", "https://a/.default"}, TenantID: tenantA}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v\nwant %+v", c, want)
	}
	c, err = ParseAzdArgs(strings.Fields("--debug auth token --output=json --scope=https://a/.default -C /tmp --no-prompt=false --claims abc"))
	if err != nil || c.Name != CmdAzdToken || !c.Debug || c.Claims != "abc" || c.Scopes[0] != "https://a/.default" {
		t.Fatalf("got %+v, %v", c, err)
	}
	for _, args := range []string{"up", "auth login", "env list -o json", ""} {
		if c, err := ParseAzdArgs(strings.Fields(args)); err != nil || c.Name != "" {
			t.Errorf("azd %s: %+v, %v; want pass-through", args, c, err)
		}
	}
	for args, want := range map[string]string{
		"auth token --bogus":        "unknown flag: --bogus",
		"auth token -o table":       "unsupported format 'table'",
		"auth token --scope":        "flag needs an argument: --scope",
		"auth token extra":          `unknown command "extra"`,
		"auth token --no-prompt=xy": `invalid argument "xy"`,
	} {
		if _, err := ParseAzdArgs(strings.Fields(args)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("azd %s: %v, want %q", args, err, want)
		}
	}
}

func TestModeFor(t *testing.T) {
	cases := []struct {
		argv     []string
		mode     string
		wantArgs []string
	}{
		{[]string{"/usr/local/bin/az", "account", "show"}, "az", []string{"account", "show"}},
		{[]string{"az-entra", "account", "show"}, "az", []string{"account", "show"}},
		{[]string{"/home/me/.entratool/bin/azd", "auth", "token"}, "azd", []string{"auth", "token"}},
		{[]string{"AZD.EXE", "auth", "token"}, "azd", []string{"auth", "token"}},
		{[]string{"az-entra.exe", "azd", "auth", "token"}, "azd", []string{"auth", "token"}},
		{[]string{"az"}, "az", []string{}},
		{nil, "az", nil},
	}
	for _, tc := range cases {
		mode, args := ModeFor(tc.argv)
		if mode != tc.mode || !reflect.DeepEqual(args, tc.wantArgs) {
			t.Errorf("ModeFor(%q) = %s %q; want %s %q", tc.argv, mode, args, tc.mode, tc.wantArgs)
		}
	}
}

// valueFlag takes the first table that has a spelling; that is only sound if every
// table that has it agrees on whether it takes one value or several.
func TestValueFlagSpellingsAgreeAcrossCommands(t *testing.T) {
	seen := map[string]flagSpec{}
	check := func(fs []flagSpec) {
		for _, f := range fs {
			for _, n := range f.names {
				if prev, ok := seen[n]; ok && (prev.value != f.value || prev.multi != f.multi) {
					t.Errorf("%s: value/multi %v/%v in one table, %v/%v in another", n, prev.value, prev.multi, f.value, f.multi)
				}
				seen[n] = f
			}
		}
	}
	check(globalFlags)
	names := map[string]bool{}
	for _, c := range commandFlags {
		check(c.flags)
		// commandFlagTable looks in the command's table before the global one: no
		// spelling may be in both, or the order would decide what it means.
		for _, f := range c.flags {
			for _, n := range f.names {
				if _, ok := findFlag(globalFlags, n); ok {
					t.Errorf("%s: %s is both a global option and one of the command's", c.name, n)
				}
			}
		}
		if names[c.name] {
			t.Errorf("%s has two tables", c.name)
		}
		names[c.name] = true
	}
	if f, ok := valueFlag("--resource"); !ok || !f.value {
		t.Errorf("valueFlag(--resource) = %+v, %v", f, ok)
	}
	if _, ok := valueFlag("--no-such-flag"); ok {
		t.Error("valueFlag found a spelling no table has")
	}
}
