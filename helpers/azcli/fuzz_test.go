package azcli

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// FuzzParseArgs feeds arbitrary command lines (arguments separated by newlines) to the
// az and azd parsers: they never panic, refuse with one-line usage errors, and what
// they accept renders with the chosen --output and --query.
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"account\nget-access-token\n-o\njson\n--resource\nhttps://management.azure.com",
		"account\nget-access-token\n--scope\nhttps://management.azure.com/.default\n--tenant\n" + tenantA + "\n-o=json",
		"version\n-o=json",
		"account\nshow\n-o=json",
		"account\nlist\n--query\n[?isDefault].{id:id, t:tenantId}\n-o\ntsv",
		"account\nget-access-token\n--query\naccessToken\n-o\ntsv",
		"account\nget-access-token\n--scope\na\nb\n--scope=c\n-ojson",
		"account\nget-access-token\n--resource-type\nms-graph\n-t\nx\n-s\ny",
		"vm\nlist\n--query\n[0]",
		"--query\n\n--output",
		"account\nget-access-token\n--\n-x",
		"-\n--\n-1\n--tenant=\n-o=",
		"auth\ntoken\n-o\njson\n--no-prompt\n--scope\nhttps://graph.microsoft.com/.default\n--tenant-id\nt",
		"auth\ntoken\n--no-prompt=maybe\n-o",
		"account\nget-access-token\n--query\n{a: `\"}\"`, b: 'x}'}",
		"account\nget-access-token\n--scope\n",
		"account\nget-access-token\n--scope=\n-o\njson",
		"account\nget-access-token\n--resource\n \n--resource-type=",
		"auth\ntoken\n--scope=\n-o\njson",
	} {
		f.Add(s)
	}
	at := NewAccessToken("h.p.s", time.Unix(1704153600, 0), tenantA, subA, time.UTC)
	f.Fuzz(func(t *testing.T, line string) {
		var args []string
		if line != "" {
			args = strings.Split(line, "\n")
		}
		orig := append([]string(nil), args...)
		c, err := ParseArgs(args, jmesCompile)
		checkErr(t, err)
		if strings.Join(args, "\n") != strings.Join(orig, "\n") {
			t.Fatal("ParseArgs changed its arguments (they are passed through to the real az)")
		}
		if err == nil && c.Name != "" && c.Name != CmdHelp && c.Name != CmdVersionText {
			switch c.Output {
			case "json", "jsonc", "tsv", "none":
			default:
				t.Fatalf("accepted output %q", c.Output)
			}
			// An empty --scope or --resource never reaches Scope, which would read it
			// as "not given" and answer with the ARM token.
			for _, v := range c.Scopes {
				if strings.TrimSpace(v) == "" {
					t.Fatalf("accepted an empty --scope: %q", c.Scopes)
				}
			}
			if c.Resource != "" && strings.TrimSpace(c.Resource) == "" {
				t.Fatalf("accepted an empty --resource: %q", c.Resource)
			}
			if _, err := c.Scope(CloudPublic); err != nil && c.ResourceType == "" {
				checkErr(t, err)
			}
			var b bytes.Buffer
			if err := Write(&b, at, c.Output, c.Query, jmesCompile); err != nil {
				var ue *UsageError
				if errors.As(err, &ue) {
					t.Fatalf("a query ParseArgs accepted failed to compile: %v", err)
				}
			}
		}
		// The built-in evaluator parses the same command line the same way, except
		// that a --query it cannot answer, once every other argument is good, is the
		// engine's; what it accepts renders byte for byte as go-jmespath's.
		cb, errb := ParseArgs(args, nil)
		switch {
		case errors.Is(errb, ErrNeedsEngine):
			var ue *UsageError
			if (err != nil && !(errors.As(err, &ue) && strings.HasPrefix(err.Error(), "argument --query: "))) || isIdentifier(c.Query) {
				t.Fatalf("built-in: ErrNeedsEngine; full evaluator: %+v, %v", c, err)
			}
		case fmt.Sprint(errb) != fmt.Sprint(err) || !reflect.DeepEqual(cb, c):
			t.Fatalf("built-in: %+v, %v; full evaluator: %+v, %v", cb, errb, c, err)
		case err == nil && c.Name != "" && c.Name != CmdHelp && c.Name != CmdVersionText:
			var gb, wb bytes.Buffer
			gerr := Write(&gb, at, c.Output, c.Query, nil)
			werr := Write(&wb, at, c.Output, c.Query, jmesCompile)
			if gb.String() != wb.String() || fmt.Sprint(gerr) != fmt.Sprint(werr) {
				t.Fatalf("--query %q -o %s: built-in %q (%v), go-jmespath %q (%v)", c.Query, c.Output, gb.String(), gerr, wb.String(), werr)
			}
		}
		hashKeyOrder(line)
		d, err := ParseAzdArgs(args)
		checkErr(t, err)
		if err == nil && d.Name != "" && d.Output != "json" && d.Output != "none" {
			t.Fatalf("azd accepted output %q", d.Output)
		}
		for _, v := range d.Scopes {
			if err == nil && d.Name != "" && strings.TrimSpace(v) == "" {
				t.Fatalf("azd accepted an empty --scope: %q", d.Scopes)
			}
		}
	})
}

// checkErr: the parsers refuse only with usage errors (exit 2, as argparse and cobra).
func checkErr(t *testing.T, err error) {
	t.Helper()
	var ue *UsageError
	if err != nil && !errors.As(err, &ue) {
		t.Fatalf("not a usage error: %v", err)
	}
}
