package azcli

import (
	"strings"
	"testing"
)

// An empty --scope or --resource is what `--scope "$SCOPE"` with SCOPE unset sends: a
// usage error (exit 2, one line), never the ARM token the shim gives when neither is
// asked for. It is refused before the profile is looked up, as argparse refuses it
// before az does anything.
func TestEmptyScopeIsUsageError(t *testing.T) {
	cases := [][]string{
		{"--scope", ""},
		{"--scope="},
		{"--scope", " "},
		{"--scope", "https://graph.microsoft.com/.default", ""},
		{"--scope", "https://graph.microsoft.com/.default", "--scope="},
		{"--scope"},
		{"--scope", "-o", "json"},
		{"--resource", ""},
		{"--resource="},
		{"--resource", "\t"},
		{"--resource-type="},
		{"--resource-type", ""},
	}
	for _, extra := range cases {
		args := append([]string{"account", "get-access-token"}, extra...)
		name := strings.Join(args, " ")
		if _, err := ParseArgs(args, jmesCompile); err == nil {
			t.Errorf("ParseArgs(%q) accepted it", args)
		} else {
			checkErr(t, err)
		}
		src := newSource()
		r := runAz(t, src, Env{}, args...)
		if r.code != ExitUsage || r.out != "" || !strings.HasPrefix(r.err, "ERROR: ") || strings.Count(r.err, "\n") != 1 {
			t.Errorf("az %s: exit %d, stdout %q, stderr %q; want exit 2 and one line", name, r.code, r.out, r.err)
		}
		if len(src.scopes) != 0 {
			t.Errorf("az %s asked for a token: %q", name, src.scopes)
		}
		// Before the profile: with none, still the usage error.
		src.err = errNoProfileForTest(t)
		if r := runAz(t, src, Env{}, args...); r.code != ExitUsage || strings.Contains(r.err, "az login") {
			t.Errorf("az %s, no profile: exit %d, stderr %q", name, r.code, r.err)
		}
	}
	// The message says which option and what to do.
	r := runAz(t, newSource(), Env{}, "account", "get-access-token", "--scope", "")
	if !strings.Contains(r.err, "--scope") || !strings.Contains(r.err, "empty") {
		t.Errorf("--scope '': %q", r.err)
	}
	r = runAz(t, newSource(), Env{}, "account", "get-access-token", "--resource=")
	if !strings.Contains(r.err, "--resource") || !strings.Contains(r.err, "empty") {
		t.Errorf("--resource=: %q", r.err)
	}

	// A pass-through command's empty values are the real az's business.
	if c, err := ParseArgs([]string{"group", "list", "--scope", ""}, nil); err != nil || c.Name != "" {
		t.Errorf("pass-through: %+v %v", c, err)
	}

	// azd: the same, in azd's way (exit 1).
	for _, extra := range [][]string{{"--scope", ""}, {"--scope="}, {"--scope", " "}, {"--scope", "https://a/.default", "--scope", ""}} {
		args := append([]string{"auth", "token", "-o", "json"}, extra...)
		src := newSource()
		r := runAzd(t, src, Env{}, args...)
		if r.code != ExitFailure || r.out != "" || !strings.Contains(r.err, "--scope") || len(src.scopes) != 0 {
			t.Errorf("azd %s: exit %d, stdout %q, stderr %q, scopes %q", strings.Join(args, " "), r.code, r.out, r.err, src.scopes)
		}
	}
	if c, err := ParseAzdArgs([]string{"up", "--scope", ""}); err != nil || c.Name != "" {
		t.Errorf("azd pass-through: %+v %v", c, err)
	}
}
