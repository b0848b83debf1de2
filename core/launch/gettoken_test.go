package launch

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// pflagParse reads args as cobra does: pflag with the flags of GetTokenFlags bound
// through FlagValue, then Validate.
func pflagParse(args []string) (GetToken, error) {
	o := NewGetToken()
	fs := pflag.NewFlagSet("get-token", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	for _, f := range GetTokenFlags() {
		fl := fs.VarPF(FlagValue{F: f, O: &o}, f.Name, f.Short, f.Usage)
		if f.Bool {
			fl.NoOptDefVal = "true"
		}
	}
	if err := fs.Parse(args); err != nil {
		return GetToken{}, err
	}
	if fs.NArg() > 0 {
		return GetToken{}, errors.New("positional")
	}
	return o, o.Validate()
}

var grammarCases = [][]string{
	{},
	{"-p", "prod"}, {"-pprod"}, {"-p=prod"}, {"-p="}, {"--profile", "prod"}, {"--profile=prod"}, {"--profile="},
	{"--profile", "-o"}, {"-p", "--scope"},
	{"--scope", "https://x/.default", "-o", "json"}, {"-ojson"}, {"-o=az"}, {"--output", "env"}, {"-o", "yaml"}, {"-o="},
	{"--timeout", "5s"}, {"--timeout=1m"}, {"--timeout", "banana"}, {"--timeout", "0"}, {"--timeout=-1s"}, {"--timeout"},
	{"--silent"}, {"--silent=false"}, {"--silent=banana"}, {"--silent", "x"},
	{"--debug"}, {"--debug=0"}, {"--debug=true"}, {"--force-refresh"}, {"--force-refresh=f"},
	{"--nope"}, {"-x"}, {"-h"}, {"--help"}, {"--"}, {"-"}, {"extra"}, {"-p", "a", "extra"}, {"--=x"}, {"---profile=x"},
	{"-p", "a", "-p", "b"}, {"--timeout", "5s", "--timeout", "7s"}, {"-o", "json", "-o", "token"},
	{"--resource", "https://management.azure.com"}, {"--resource="}, {"--resource", ""}, {"--resource"},
	{"--resource", "https://management.azure.com", "--scope", "https://x/.default"},
	{"--scope", "https://management.azure.com"}, {"--scope=api://app"}, {"--scope", "https://graph.microsoft.com/User.Read"},
}

// Whatever ParseGetToken accepts, cobra's pflag accepts with the same meaning; what it
// refuses the fast path leaves to the engine, so refusing more is safe, answering
// differently is not.
func TestParseGetTokenAgreesWithPflag(t *testing.T) {
	for _, args := range grammarCases {
		checkAgainstPflag(t, args)
	}
	// The refusals the drift bugs were about.
	for _, args := range [][]string{{"--timeout", "banana"}, {"--timeout", "0"}, {"-o", "yaml"}, {"--silent=banana"}} {
		if _, err := ParseGetToken(args); err == nil {
			t.Errorf("%q: accepted", args)
		}
	}
}

// A bare resource URI as --scope costs a round trip to Entra and an AADSTS70011: it is
// refused here with the fix; --resource R means R/.default, as az takes it.
func TestScopeAndResource(t *testing.T) {
	o, err := ParseGetToken([]string{"--resource", "https://management.core.windows.net/"})
	if err != nil || o.RequestScope() != "https://management.core.windows.net//.default" {
		t.Errorf("--resource: %+v, %v", o, err)
	}
	o, err = ParseGetToken([]string{"--scope", "https://vault.azure.net/.default"})
	if err != nil || o.RequestScope() != "https://vault.azure.net/.default" {
		t.Errorf("--scope: %+v, %v", o, err)
	}
	for args, want := range map[string]string{
		"--scope https://management.azure.com": "did you mean https://management.azure.com/.default?",
		"--resource=":                          "the resource must not be empty",
		"--resource R --scope S/.default":      "--scope and --resource cannot be used together",
	} {
		if _, err := ParseGetToken(strings.Fields(args + " ")); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", args, err, want)
		}
	}
}

func checkAgainstPflag(t *testing.T, args []string) {
	t.Helper()
	got, err := ParseGetToken(args)
	want, werr := pflagParse(args)
	if err == nil && werr != nil {
		t.Errorf("%q: fast path accepts %+v, cobra refuses: %v", args, got, werr)
	}
	if err == nil && werr == nil && got != want {
		t.Errorf("%q: fast path reads %+v, cobra %+v", args, got, want)
	}
	// Refusing what cobra accepts costs only speed, but plain command lines must be fast.
	if err != nil && werr == nil && !errors.Is(err, ErrNotParsed) && !strings.HasPrefix(strings.Join(args, " "), "-h") {
		t.Errorf("%q: fast path refuses (%v) what cobra accepts", args, err)
	}
}

func FuzzParseGetToken(f *testing.F) {
	for _, c := range grammarCases {
		f.Add(strings.Join(c, "\x00"))
	}
	f.Fuzz(func(t *testing.T, s string) {
		var args []string
		if s != "" {
			args = strings.Split(s, "\x00")
		}
		got, err := ParseGetToken(args)
		want, werr := pflagParse(args)
		if err == nil && (werr != nil || got != want) {
			t.Fatalf("%q: fast path %+v, cobra %+v %v", args, got, want, werr)
		}
	})
}

func TestDebugEnabled(t *testing.T) {
	for v, want := range map[string]bool{"": false, "0": false, "false": false, "FALSE": false, "no": false, "1": true, "true": true, "TRUE": true, "t": true, " 1 ": true} {
		if got := DebugEnabled(func(string) string { return v }); got != want {
			t.Errorf("ENTRATOOL_DEBUG=%q: %v, want %v", v, got, want)
		}
	}
}
