package envexport

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// hostile are values written to break out of each format's quoting: every quote a
// shell knows (PowerShell's four typographic single quotes included), expansions,
// escapes, line breaks, and lines that look like further assignments.
var hostile = []string{
	"'", "''", `\'`, `'\''`, "it's", "a'b'c", "'$(touch pwned)'",
	"\u2018", "\u2019", "\u201a", "\u201b", "x\u2019;touch pwned;\u2019", "\u2018\u2019\u201a\u201b'",
	"'\u2019", "\u2019'", "\u201b\u201b",
	`"`, `\"`, `\`, `\\`, `a\`, "$HOME", "${HOME}", "$(touch pwned)", "`touch pwned`", "\\`touch pwned\\`",
	"\\$HOME", "$$", "%PATH%", "!PATH!", "^&|<>()", "#not a comment", " leading and trailing ",
	"\x1b[31mred", "tab\there", "new\nline", "trailing newline\n", "\nEVIL=1\n", "cr\rcr", "crlf\r\n",
	"EOF\nEVIL=1", "\u201c\u201d\u201e smart doubles", "ünïcödé 東京 👩‍💻",
}

// psSingleQuoted reads a PowerShell verbatim (single-quoted) string at the start of s,
// by the language specification (§2.3.5.2): it opens and closes with any
// single-quote-character — ' U+2018 U+2019 U+201A U+201B — and inside it two
// single-quote-characters in a row stand for one (the tokenizer keeps the second);
// nothing else is special. It returns the value and the text after the closing quote.
func psSingleQuoted(s string) (value, rest string, err error) {
	isQ := func(r rune) bool { return r == '\'' || r >= '\u2018' && r <= '\u201b' }
	rs := []rune(s)
	if len(rs) == 0 || !isQ(rs[0]) {
		return "", "", errors.New("no opening single quote")
	}
	var b strings.Builder
	for i := 1; i < len(rs); i++ {
		if isQ(rs[i]) {
			if i+1 < len(rs) && isQ(rs[i+1]) {
				b.WriteRune(rs[i+1])
				i++
				continue
			}
			return b.String(), string(rs[i+1:]), nil
		}
		b.WriteRune(rs[i])
	}
	return "", "", errors.New("string not closed")
}

func TestPowerShellQuotesEverySingleQuote(t *testing.T) {
	for _, v := range append(hostile, awkward...) {
		out, err := Format("powershell", []Var{{Name: "ENTRA_TEST", Value: v}})
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		stmt, ok := strings.CutPrefix(out, "$Env:ENTRA_TEST = ")
		if !ok || !strings.HasSuffix(stmt, "\n") {
			t.Fatalf("%q: statement %q", v, out)
		}
		got, rest, err := psSingleQuoted(strings.TrimSuffix(stmt, "\n"))
		if err != nil || rest != "" || got != v {
			t.Fatalf("%q: PowerShell reads %q then %q (%v) from %q", v, got, rest, err, out)
		}
	}
}

// parseDotenv reads one NAME=VALUE line the way the dotenv readers with escapes and
// expansion do (Ruby dotenv, godotenv, docker compose): an unquoted value is taken as
// it is; in a double-quoted value \n and \r are line breaks, a backslash before any
// other character stands for that character, and a $ not escaped starts an expansion —
// which a value we wrote must never contain.
func parseDotenv(t *testing.T, line string) (string, string) {
	t.Helper()
	name, v, ok := strings.Cut(line, "=")
	if !ok {
		t.Fatalf("no = in %q", line)
	}
	if !strings.HasPrefix(v, `"`) {
		if strings.ContainsAny(v, " \t\"'`$\\#") {
			t.Fatalf("unquoted value needs quoting: %q", line)
		}
		return name, v
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			i++
			if i == len(v) {
				t.Fatalf("dangling backslash in %q", line)
			}
			switch v[i] {
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			default:
				b.WriteByte(v[i])
			}
		case '"':
			if i != len(v)-1 {
				t.Fatalf("text after the closing quote in %q", line)
			}
			return name, b.String()
		case '$', '`':
			t.Fatalf("unescaped %c (expansion) in %q", c, line)
		case '\n', '\r':
			t.Fatalf("raw line break in %q", line)
		default:
			b.WriteByte(c)
		}
	}
	t.Fatalf("value not closed in %q", line)
	return "", ""
}

// dotenv: values double-quoted with backslash, ", $ and backtick escaped and line
// breaks as \n and \r, read back by the dotenv rules above, by sh (`set -a; . FILE`,
// for the values without line breaks, whose double-quote rules are the same for \ " $
// and `), and by python-dotenv where its rules agree (it has no escape for $ or `).
func TestDotenvRoundTrips(t *testing.T) {
	values := append(append([]string{}, hostile...), awkward...)
	values = append(values, "eyJ0eXAi.eyJhdWQi.sig-_~+/=")
	var all []Var
	for i, v := range values {
		out, err := Format("dotenv", []Var{{Name: "ENTRA_TEST", Value: v}})
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "\n") {
			t.Fatalf("%q: not one line: %q", v, out)
		}
		if name, got := parseDotenv(t, strings.TrimSuffix(out, "\n")); name != "ENTRA_TEST" || got != v {
			t.Fatalf("%q read back as %s=%q from %q", v, name, got, out)
		}
		all = append(all, Var{Name: "V" + string(rune('A'+i/26)) + string(rune('A'+i%26)), Value: v})
	}
	file, err := Format("dotenv", all)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, ".env")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}

	if sh, err := exec.LookPath("sh"); err == nil {
		for _, v := range all {
			if strings.ContainsAny(v.Value, "\r\n") {
				continue
			}
			cmd := exec.Command(sh, "-c", `set -a; . ./.env; printf '%s' "$`+v.Name+`"`)
			cmd.Dir = dir
			got, err := cmd.Output()
			if err != nil || string(got) != v.Value {
				t.Fatalf("sh sourcing .env: %q came back as %q (%v)", v.Value, got, err)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			t.Fatal("sourcing the .env ran a command")
		}
	}

	// python-dotenv keeps \$ and \` as they are (it has no escape for either: a different
	// dialect) and cannot parse a double-quoted value that ends in an escaped backslash;
	// the values where its rules are the spec's go through it too.
	py, err := exec.LookPath("python3")
	if err != nil || exec.Command(py, "-c", "import dotenv").Run() != nil {
		t.Log("python-dotenv not installed: skipped")
		return
	}
	var agreed []Var
	for _, v := range all {
		if !strings.ContainsAny(v.Value, "$`") && !strings.HasSuffix(v.Value, `\`) {
			agreed = append(agreed, v)
		}
	}
	pyFile, err := Format("dotenv", agreed)
	if err != nil {
		t.Fatal(err)
	}
	pyPath := filepath.Join(dir, "py.env")
	if err := os.WriteFile(pyPath, []byte(pyFile), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", `import sys
from dotenv import dotenv_values
for k, v in dotenv_values(sys.argv[1], interpolate=False).items():
    sys.stdout.write(k + "\t" + v.encode("unicode_escape").decode("ascii") + "\n")`, pyPath)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("python-dotenv: %v", err)
	}
	got := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), "\t")
		got[k] = v
	}
	for _, v := range agreed {
		if want := pyEscape(v.Value); got[v.Name] != want {
			t.Errorf("python-dotenv reads %q as %q", v.Value, got[v.Name])
		}
	}
	t.Logf("python-dotenv agreed on %d values", len(agreed))
}

// pyEscape is Python's str.encode("unicode_escape").decode("ascii").
func pyEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r >= 0x7f && r < 0x100:
			b.WriteString(`\x` + hex2(int(r)))
		case r >= 0x100 && r < 0x10000:
			b.WriteString(`\u` + hex2(int(r)>>8) + hex2(int(r)&0xff))
		case r >= 0x10000:
			b.WriteString(`\U000` + strings.TrimPrefix(hex2(int(r)>>16), "0") + hex2(int(r)>>8&0xff) + hex2(int(r)&0xff))
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hex2(n int) string {
	const digits = "0123456789abcdef"
	return string([]byte{digits[n>>4&0xf], digits[n&0xf]})
}

// The real shells evaluate the hostile values back exactly, and run nothing.
func TestShellsRoundTripHostile(t *testing.T) {
	ran := 0
	for _, sh := range []string{"sh", "bash", "zsh", "fish"} {
		bin, err := exec.LookPath(sh)
		if err != nil {
			t.Logf("%s not installed; skipped that shell", sh)
			continue
		}
		ran++
		dir := t.TempDir()
		for _, v := range hostile {
			out, err := Format(sh, []Var{{Name: "ENTRA_TEST", Value: v}})
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "-c", out+`printf '%s' "$ENTRA_TEST"`)
			cmd.Dir = dir
			got, err := cmd.Output()
			if err != nil || string(got) != v {
				t.Fatalf("%s: %q came back as %q (%v) from %q", sh, v, got, err, out)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
			t.Fatalf("%s ran a command from a value", sh)
		}
	}
	if ran == 0 {
		t.Skip("no shell installed")
	}
}

// githubEnv reads a $GITHUB_ENV file as the Actions runner does (FileCommandManager,
// SetEnvFileCommand): lines split at \n (and, on Windows runners, at \r\n); NAME=VALUE,
// or NAME<<DELIMITER with the value running up to a line equal to the delimiter, its
// last line break excluded.
func githubEnv(t *testing.T, text string, windows bool) map[string]string {
	t.Helper()
	idx := 0
	readLine := func() (line, newline string, ok bool) {
		if idx >= len(text) {
			return "", "", false
		}
		start := idx
		lf := strings.IndexByte(text[idx:], '\n')
		if lf < 0 {
			idx = len(text)
			return text[start:], "", true
		}
		lf += idx
		if windows {
			if crlf := strings.Index(text[idx:], "\r\n"); crlf >= 0 && crlf+idx < lf {
				idx = crlf + idx + 2
				return text[start : idx-2], "\r\n", true
			}
		}
		idx = lf + 1
		return text[start:lf], "\n", true
	}
	vars := map[string]string{}
	for {
		line, _, ok := readLine()
		if !ok {
			return vars
		}
		if line == "" {
			continue
		}
		eq, hd := strings.Index(line, "="), strings.Index(line, "<<")
		switch {
		case eq >= 0 && (hd < 0 || eq < hd):
			vars[line[:eq]] = line[eq+1:]
		case hd >= 0:
			name, delim := line[:hd], line[hd+2:]
			start, end := idx, idx
			for {
				l, nl, ok := readLine()
				if !ok {
					t.Fatalf("delimiter %q not found in %q", delim, text)
				}
				if l == delim {
					break
				}
				end = idx - len(nl)
			}
			vars[name] = text[start:max(end, start)]
		default:
			t.Fatalf("invalid line %q", line)
		}
	}
}

// A value holding line breaks, lines like NAME=VALUE or NAME<<X, or delimiter-like
// text sets exactly its own variable, on Linux and Windows runners; a value the format
// cannot carry on both (a trailing \r) is refused.
func TestGitHubEnvCannotInjectVariables(t *testing.T) {
	values := append(append([]string{}, hostile...), "EOF_1\nEVIL=1\nEOF_1", "x\nEOF\nEVIL=1", "A<<B\nEVIL=1\nB", "\n", "\n\n")
	for _, v := range values {
		out, err := Format("github", []Var{{Name: "ENTRA_TEST", Value: v}, {Name: "AFTER", Value: "after"}})
		if strings.HasSuffix(v, "\r") {
			if err == nil {
				t.Fatalf("%q: accepted, but a Windows runner drops a trailing \\r", v)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		for _, windows := range []bool{false, true} {
			got := githubEnv(t, out, windows)
			if len(got) != 2 || got["ENTRA_TEST"] != v || got["AFTER"] != "after" {
				t.Fatalf("%q (windows %v): runner reads %q from %q", v, windows, got, out)
			}
		}
	}
	if _, err := Format("github", []Var{{Name: "A", Value: "ends in cr\r"}}); err == nil {
		t.Fatal("trailing \\r accepted")
	}
}

// cmd.exe: a value it would cut short, expand or run is refused, and Ctrl-Z (read as a
// line break in batch files) with the other control characters.
func TestCmdRefusesWhatItCannotCarry(t *testing.T) {
	for _, v := range []string{`"`, "%PATH%", "!PATH!", "a^b", "a\nb", "a\rb", "a\x1ab", "a\x1bb", "a\x00b"} {
		if out, err := Format("cmd", []Var{{Name: "A", Value: v}}); err == nil {
			t.Errorf("%q accepted: %q", v, out)
		}
	}
	for _, v := range []string{"x&y|z<>()", "it's", "tab\there", "\u2019", "eyJ0.eyJ1-_~+/="} {
		out, err := Format("cmd", []Var{{Name: "A", Value: v}})
		if err != nil || out != "set \"A="+v+"\"\r\n" {
			t.Errorf("%q: %q %v", v, out, err)
		}
	}
}

// FuzzQuoting: whatever the value, the PowerShell, dotenv and $GITHUB_ENV readers above
// read back exactly it, or the format refuses it.
func FuzzQuoting(f *testing.F) {
	for _, v := range hostile {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if out, err := Format("powershell", []Var{{Name: "X", Value: v}}); err == nil {
			got, rest, perr := psSingleQuoted(strings.TrimSuffix(strings.TrimPrefix(out, "$Env:X = "), "\n"))
			if perr != nil || rest != "" || got != string([]rune(v)) {
				t.Fatalf("powershell: %q read as %q + %q (%v)", v, got, rest, perr)
			}
		}
		if out, err := Format("dotenv", []Var{{Name: "X", Value: v}}); err == nil {
			if _, got := parseDotenv(t, strings.TrimSuffix(out, "\n")); got != v {
				t.Fatalf("dotenv: %q read as %q", v, got)
			}
		}
		if out, err := Format("github", []Var{{Name: "X", Value: v}, {Name: "Y", Value: "y"}}); err == nil {
			for _, windows := range []bool{false, true} {
				if got := githubEnv(t, out, windows); len(got) != 2 || got["X"] != v || got["Y"] != "y" {
					t.Fatalf("github (windows %v): %q read as %q", windows, v, got)
				}
			}
		}
	})
}
