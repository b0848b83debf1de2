package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/emulator"
)

// hostileAnswer is a 200 token response with the given expires_in (omitted when "")
// and access token, as a hostile or broken authority might send it.
func hostileAnswer(expiresIn, accessToken string) string {
	b := `{"token_type":"Bearer",`
	if expiresIn != "" {
		b += `"expires_in":` + expiresIn + `,"ext_expires_in":` + expiresIn + `,`
	}
	return b + `"access_token":"` + accessToken + `"}`
}

// A JWT-shaped value of token characters only: the character cases below differ from
// it by one hostile character.
const shapedToken = "eyJ0eXAiOiJKV1QifQ.eyJhdWQiOiJ4In0.c2lnbmF0dXJl"

// hostileAnswers are token answers that must never be printed, cached or handed on.
var hostileAnswers = []struct{ name, body string }{
	{"expires_in 99999999999", hostileAnswer("99999999999", shapedToken)},
	{"expires_in 0", hostileAnswer("0", shapedToken)},
	{"expires_in -100", hostileAnswer("-100", shapedToken)},
	{"expires_in 59", hostileAnswer("59", shapedToken)},
	{"expires_in 172801", hostileAnswer("172801", shapedToken)},
	{"expires_in missing", hostileAnswer("", shapedToken)},
	{"single quote", hostileAnswer("3599", shapedToken+`';touch pwned;'`)},
	{"double quote", hostileAnswer("3599", shapedToken+`\";touch pwned;\"`)},
	{"command substitution", hostileAnswer("3599", shapedToken+`$(touch pwned)`)},
	{"U+2019", hostileAnswer("3599", shapedToken+"\u2019;touch pwned;\u2019")},
	{"space", hostileAnswer("3599", shapedToken+` x`)},
	{"newline", hostileAnswer("3599", shapedToken+`\nexport EVIL=1`)},
}

// checkRefusal asserts a refused token: exit 1, nothing on stdout, one clean line on
// stderr naming the authority.
func checkRefusal(t *testing.T, w *world, what, out, errOut string, code int) {
	t.Helper()
	if code != 1 || out != "" {
		t.Fatalf("%s: exit %d, stdout %q (stderr %q)", what, code, out, errOut)
	}
	checkOneLine(t, what, errOut)
	if !strings.Contains(errOut, w.emu.URL) {
		t.Fatalf("%s: stderr does not name the authority %s: %q", what, w.emu.URL, errOut)
	}
	for _, b := range []byte(strings.TrimSuffix(errOut, "\n")) {
		if b < 0x20 {
			t.Fatalf("%s: raw control byte 0x%02x on stderr: %q", what, b, errOut)
		}
	}
}

// TestHostileServerTokenAnswers: get-token refuses each answer with exit 1 naming the
// authority, prints nothing, and caches nothing — the next call asks the authority again
// and gets a real token.
func TestHostileServerTokenAnswers(t *testing.T) {
	w, _ := faultWorld(t)
	tokens := filepath.Join(w.home, "cache", "tokens")
	for _, c := range hostileAnswers {
		os.RemoveAll(tokens)
		before := w.emu.Counts().Token
		w.emu.QueueFaults(emulator.Fault{Body: c.body})
		out, errOut, code := w.timedRun(10*time.Second, "", "entratool", "get-token", "--timeout", "5s")
		checkRefusal(t, w, c.name, out, errOut, code)
		t.Logf("%s: %s", c.name, strings.TrimSpace(errOut))

		out, errOut, code = w.run("", "entratool", "get-token", "--timeout", "5s")
		if code != 0 {
			t.Fatalf("%s: the next call: exit %d: %s", c.name, code, errOut)
		}
		w.claims(out, "https://graph.microsoft.com")
		if n := w.emu.Counts().Token - before; n != 2 {
			t.Fatalf("%s: %d token requests for the refused call and the next, want 2: the refused token was cached", c.name, n)
		}
	}
	if _, err := os.Stat(filepath.Join(w.dir, "pwned")); err == nil {
		t.Fatal("a hostile token ran a command")
	}
}

// A normal answer shaped like the hostile ones (expires_in 3599, a token made of token
// characters) is served, and with the lifetime the authority gave.
func TestHostileServerNormalAnswerStillWorks(t *testing.T) {
	w, _ := faultWorld(t)
	w.emu.QueueFaults(emulator.Fault{Body: hostileAnswer("3599", shapedToken)})
	start := time.Now()
	out := w.mustRun("", "entratool", "get-token", "-o", "json")
	if !strings.Contains(out, `"accessToken": "`+shapedToken+`"`) {
		t.Fatalf("get-token: %s", out)
	}
	for _, format := range []string{"token", "env", "az"} {
		if o := w.mustRun("", "entratool", "get-token", "-o", format); !strings.Contains(o, shapedToken) {
			t.Fatalf("-o %s from the cache: %q", format, o)
		}
	}
	exp := w.mustRun("", "entratool", "get-token", "-o", "json")
	i := strings.Index(exp, `"expires_on": `)
	if i < 0 {
		t.Fatalf("no expires_on: %s", exp)
	}
	var epoch int64
	for _, c := range exp[i+len(`"expires_on": `):] {
		if c < '0' || c > '9' {
			break
		}
		epoch = epoch*10 + int64(c-'0')
	}
	if got := time.Unix(epoch, 0).Sub(start); got < 3590*time.Second || got > 3600*time.Second {
		t.Fatalf("expires_on is %v after the request, want about 3599 s", got)
	}
}

// The helpers run by kubectl, git and the Azure SDKs refuse the same answers: nothing on
// stdout for the host tool, the engine's one line naming the authority on stderr.
func TestHostileServerHelpersRefuse(t *testing.T) {
	w, _ := faultWorld(t)
	tokens := filepath.Join(w.home, "cache", "tokens")
	for _, c := range []struct{ name, body string }{hostileAnswers[0], hostileAnswers[1], hostileAnswers[6], hostileAnswers[9]} {
		os.RemoveAll(tokens)
		w.emu.QueueFaults(emulator.Fault{Body: c.body})
		out, errOut, code := w.run("", "kubectl-exec-entra", "--profile", "p")
		checkRefusal(t, w, "kubectl-exec-entra, "+c.name, out, errOut, code)

		os.RemoveAll(tokens)
		w.emu.QueueFaults(emulator.Fault{Body: c.body})
		out, errOut, code = w.run("protocol=https\nhost=dev.azure.com\npath=org/project/_git/repo\n\n", "git-credential-entra", "--profile", "p", "get")
		checkRefusal(t, w, "git-credential-entra, "+c.name, out, errOut, code)

		os.RemoveAll(tokens)
		w.emu.QueueFaults(emulator.Fault{Body: c.body})
		out, errOut, code = w.run("", "az-entra", "account", "get-access-token", "-o", "json")
		checkRefusal(t, w, "az-entra, "+c.name, out, errOut, code)
		if !strings.HasPrefix(errOut, "ERROR: ") {
			t.Fatalf("az-entra, %s: %q", c.name, errOut)
		}

		os.RemoveAll(tokens)
		w.emu.QueueFaults(emulator.Fault{Body: c.body})
		out, errOut, code = w.run("", "entratool", "env", "--shell", "powershell")
		checkRefusal(t, w, "env, "+c.name, out, errOut, code)
	}
}
