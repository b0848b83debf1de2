package azjmes_test

import (
	"bytes"
	"context"
	"errors"
	"testing"
	"time"

	"github.com/entratool/entratool/helpers/azcli"
	"github.com/entratool/entratool/helpers/azcli/azjmes"
	"github.com/entratool/entratool/internal/testkit"
)

type source struct{}

func (source) Account() (azcli.Account, error) {
	return azcli.Account{Profile: "prod", TenantID: testkit.TenantID, ClientID: testkit.ClientID, Authority: "https://login.microsoftonline.com"}, nil
}

func (source) Token(context.Context, string) (azcli.Token, error) {
	return azcli.Token{}, errors.New("no token here")
}

func run(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	env := azcli.Env{
		Args: args, Getenv: func(string) string { return "" }, Stdout: &out, Stderr: &errb, Local: time.UTC,
		Query:  azjmes.Compile,
		Engine: func() int { panic("the full evaluator handed a query on") },
	}
	code = azcli.Run(context.Background(), env, source{})
	return code, out.String(), errb.String()
}

// The engine's evaluator answers what the front hands it: any JMESPath, az's usage
// error for anything else, never ErrNeedsEngine.
func TestCompile(t *testing.T) {
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{"account", "list", "--query", "[0].user.name", "-o", "tsv"}, 0, testkit.ClientID + "\n", ""},
		{[]string{"account", "show", "--query", "{u: user.type, t: tenantId}", "-o", "tsv"}, 0, "servicePrincipal\t" + testkit.TenantID + "\n", ""},
		{[]string{"account", "list", "--query", "length(@)"}, 0, "1\n", ""},
		{[]string{"version", "--query", `"azure-cli"`, "-o", "tsv"}, 0, azcli.CLIVersion + "\n", ""},
		{[]string{"account", "show", "--query", "tenantId"}, 0, "\"" + testkit.TenantID + "\"\n", ""},
		{[]string{"account", "show", "--query", "[["}, 2, "", "ERROR: argument --query: invalid jmespath_type value: '[['\n"},
		{[]string{"account", "show", "--query", "abs(name)"}, 1, "", ""},
	} {
		code, out, errOut := run(tc.args...)
		if code != tc.code || out != tc.out || (tc.err != "" && errOut != tc.err) || (code == 0 && errOut != "") {
			t.Errorf("az %q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr %q", tc.args, code, out, errOut, tc.code, tc.out, tc.err)
		}
	}
	for _, q := range []string{"[[", "", "a.", "accessToken", "[0].x"} {
		if _, err := azjmes.Compile(q); errors.Is(err, azcli.ErrNeedsEngine) {
			t.Errorf("Compile(%q): ErrNeedsEngine", q)
		}
	}
}
