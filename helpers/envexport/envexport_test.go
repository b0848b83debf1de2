package envexport

import (
	"os/exec"
	"strings"
	"testing"
)

// Awkward values every format must carry exactly (or refuse).
var awkward = []string{
	"plain", "", "it's", `back\slash`, `"double"`, "$HOME", "`cmd`", "a b\tc", "semi;colon", "star*", "ünïcödé", "new\nline",
}

func TestFormatRejectsBadInput(t *testing.T) {
	if _, err := Format("sh", []Var{{Name: "1BAD", Value: "x"}}); err == nil {
		t.Fatal("invalid name accepted")
	}
	if _, err := Format("sh", []Var{{Name: "A", Value: "x\x00y"}}); err == nil {
		t.Fatal("NUL accepted")
	}
	if _, err := Format("tcsh", nil); err == nil || !strings.Contains(err.Error(), "unknown shell") {
		t.Fatalf("err = %v", err)
	}
	if _, err := Format("cmd", []Var{{Name: "A", Value: "100%"}}); err == nil {
		t.Fatal("cmd accepted a value it cannot carry")
	}
}

// Each POSIX-family shell evaluates the output back to the exact values.
func TestShellsRoundTrip(t *testing.T) {
	for _, sh := range []string{"sh", "bash", "zsh", "fish"} {
		bin, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s not installed; skipped that shell", sh)
			continue
		}
		for _, v := range awkward {
			out, err := Format(sh, []Var{{Name: "ENTRA_TEST", Value: v}})
			if err != nil {
				t.Fatal(err)
			}
			script := out + `printf '%s' "$ENTRA_TEST"`
			if sh == "fish" {
				script = out + `printf '%s' "$ENTRA_TEST"`
			}
			got, err := exec.Command(bin, "-c", script).Output()
			if err != nil {
				t.Fatalf("%s on %q: %v\n%s", sh, v, err, out)
			}
			if string(got) != v {
				t.Fatalf("%s: %q came back as %q (script %q)", sh, v, got, out)
			}
		}
	}
}

func TestPowerShellAndCmdAndDotenvShapes(t *testing.T) {
	out, _ := Format("powershell", []Var{{Name: "A", Value: "it's"}})
	if out != "$Env:A = 'it''s'\n" {
		t.Fatalf("powershell %q", out)
	}
	out, _ = Format("cmd", []Var{{Name: "A", Value: "x&y|z"}})
	if out != "set \"A=x&y|z\"\r\n" {
		t.Fatalf("cmd %q", out)
	}
	out, _ = Format("dotenv", []Var{{Name: "A", Value: "eyJ0.eyJ1-_"}, {Name: "B", Value: `a "b" $c`}})
	if out != "A=eyJ0.eyJ1-_\nB=\"a \\\"b\\\" \\$c\"\n" {
		t.Fatalf("dotenv %q", out)
	}
	out, _ = Format("github", []Var{{Name: "A", Value: "one"}, {Name: "B", Value: "two\nlines"}})
	lines := strings.Split(out, "\n")
	if lines[0] != "A=one" || !strings.HasPrefix(lines[1], "B<<EOF_") || lines[2] != "two" || lines[3] != "lines" || lines[4] != strings.TrimPrefix(lines[1], "B<<") {
		t.Fatalf("github %q", out)
	}
}

func FuzzFormatSh(f *testing.F) {
	for _, v := range awkward {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, sh := range []string{"sh", "fish", "powershell", "cmd", "dotenv", "github"} {
			out, err := Format(sh, []Var{{Name: "X", Value: v}})
			if err != nil {
				continue
			}
			if sh == "sh" && !strings.HasPrefix(out, "export X='") {
				t.Fatalf("sh output %q", out)
			}
		}
	})
}
