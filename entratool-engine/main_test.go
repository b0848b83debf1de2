package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/entratool/cli"
	"github.com/entratool/entratool/helpers/azcli"
)

func engine(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	home := t.TempDir()
	var out, errb bytes.Buffer
	env := map[string]string{"ENTRATOOL_HOME": home}
	code := run(context.Background(), args, cli.Streams{In: strings.NewReader(""), Out: &out, Err: &errb}, func(k string) string { return env[k] })
	return out.String(), errb.String(), code
}

// Only the named entry points exist; a request the engine cannot read is answered with
// a typed error, never half understood.
func TestEntryPoints(t *testing.T) {
	if _, errOut, code := engine(t, "--as=nope"); code != 2 || !strings.Contains(errOut, `unknown entry point "nope"`) {
		t.Errorf("unknown entry: %d %q", code, errOut)
	}
	for _, args := range [][]string{
		{"--as=token"},
		{"--as=token", `{"v":1,"program":"x"}`, "extra"},
		{"--as=token", `{"v":99,"program":"x"}`},
		{"--as=token", `{"v":1,"program":"x","unknown":true}`},
	} {
		out, _, code := engine(t, args...)
		_, err := launch.DecodeResponse([]byte(out), time.Now())
		if code != 2 || launch.ExitCode(err) != 2 {
			t.Errorf("%q: exit %d, response %q (%v)", args, code, out, err)
		}
	}
	// A well-formed request for a profile that does not exist: the CLI's own message,
	// as data, with exit 1.
	out, errOut, code := engine(t, "--as=token", launch.EncodeRequest(launch.Request{Program: "git-credential-entra", Profile: "missing"}))
	_, err := launch.DecodeResponse([]byte(out), time.Now())
	if code != 1 || launch.ExitCode(err) != 1 || errOut != "" || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing profile: exit %d, response %q, stderr %q (%v)", code, out, errOut, err)
	}
	// Without --as the engine is entratool.
	if out, _, code := engine(t, "version"); code != 0 || out == "" {
		t.Errorf("version: %d %q", code, out)
	}
}

// Run by itself the engine names itself; behind the entratool front (--as=entratool) it
// answers as entratool, as `entratool --version` must.
func TestVersion(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--version"}, version.Line(launch.EngineName)},
		{[]string{launch.AsFlag + launch.EntryCLI, "--version"}, version.Line("entratool")},
	} {
		out, errOut, code := engine(t, tc.args...)
		if code != 0 || out != tc.want+"\n" || errOut != "" {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want %q", tc.args, code, out, errOut, tc.want)
		}
	}
}

// The az entry point (launch.EntryAz) is az-entra's command line after its mode,
// answered with the full JMESPath evaluator; without a mode it is refused.
func TestAzEntry(t *testing.T) {
	as := launch.AsFlag + launch.EntryAz
	for _, args := range [][]string{{as}, {as, "account", "show"}, {as, "AZ", "version"}} {
		if out, errOut, code := engine(t, args...); code != 2 || out != "" || !strings.Contains(errOut, "takes the mode (az or azd)") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	for _, tc := range []struct {
		args     []string
		code     int
		out, err string
	}{
		{[]string{as, "az", "version", "--query", `"azure-cli"`, "-o", "tsv"}, 0, azcli.CLIVersion + "\n", ""},
		{[]string{as, "az", "version", "--query", "keys(@) | sort(@) | [0]"}, 0, "\"azure-cli\"\n", ""},
		{[]string{as, "az", "account", "show", "--query", "[["}, 2, "", "ERROR: argument --query: invalid jmespath_type value: '[['\n"},
		{[]string{as, "az", "account", "show", "--query", "user.name"}, 1, "", "ERROR: Please run 'az login' to setup account.\n"},
		{[]string{as, "azd", "auth", "token", "--scope", "https://a/.default", "-o", "none"}, 1, "", "ERROR: "},
	} {
		out, errOut, code := engine(t, tc.args...)
		if code != tc.code || out != tc.out || !strings.HasPrefix(errOut, tc.err) || (tc.err == "" && errOut != "") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want exit %d, stdout %q, stderr %q…", tc.args, code, out, errOut, tc.code, tc.out, tc.err)
		}
	}
}
