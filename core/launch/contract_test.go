package launch

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestRequestRoundTrip(t *testing.T) {
	r := Request{Program: "git-credential-entra", Profile: "p", Scope: "s/.default", Timeout: 7 * time.Second, Debug: true}
	got, err := DecodeRequest(EncodeRequest(r))
	r.Version = ContractVersion
	if err != nil || got != r {
		t.Fatalf("%+v %v", got, err)
	}
	for _, bad := range []string{``, `{}`, `{"v":1}`, `{"v":2,"program":"x"}`, `{"v":1,"program":"x","extra":1}`, `{"v":1,"program":"x","timeout":-1}`, `[1]`} {
		if _, err := DecodeRequest(bad); err == nil {
			t.Errorf("%s: accepted", bad)
		}
	}
	// kubectl and the az shim name no bound: the engine still gets one.
	if (Request{}).bound() != DefaultTimeout || (Request{Timeout: time.Second}).bound() != time.Second {
		t.Error("a request without a timeout is not bounded by DefaultTimeout")
	}
	if _, err := DecodeRequest(`{"v":2,"program":"x"}`); err == nil || !strings.Contains(err.Error(), "install every entratool binary together") {
		t.Errorf("version skew: %v", err)
	}
}

// The one decoder, where there were three: git took a token without an expiry,
// kubectl one with expires_on 0, az required it; none checked the characters.
func TestDecodeResponse(t *testing.T) {
	now := time.Now()
	exp := now.Add(time.Hour).Unix()
	ok := func(tok string, ts int64) string {
		var b bytes.Buffer
		EncodeResponse(&b, Response{Token: &TokenJSON{AccessToken: tok, ExpiresOnTS: ts}, Warnings: []string{"certificate expires in 3 days"}})
		return b.String()
	}
	res, err := DecodeResponse([]byte(ok("a.b.c", exp)), now)
	if err != nil || res.Token.AccessToken != "a.b.c" || !res.Token.Expiry().Equal(time.Unix(exp, 0)) || len(res.Warnings) != 1 {
		t.Fatalf("good: %+v %v", res, err)
	}
	for name, b := range map[string]string{
		"no expiry":       ok("a.b.c", 0),
		"48 h+":           ok("a.b.c", now.Add(100*time.Hour).Unix()),
		"empty token":     ok("", exp),
		"line break":      ok("a.b\nc", exp),
		"not JSON":        "entratool: boom",
		"old version":     `{"v":0,"token":{"accessToken":"a","expires_on":1}}`,
		"neither":         `{"v":1}`,
		"both":            `{"v":1,"token":{"accessToken":"a.b.c","expires_on":` + strings.Repeat("9", 10) + `},"error":{"message":"x","code":1}}`,
		"an error":        `{"v":1,"error":{"message":"no profile 'x'","code":1}}`,
		"a silent error":  `{"v":1,"error":{"code":0}}`,
		"a usage error 2": `{"v":1,"error":{"message":"bad","code":2}}`,
	} {
		_, err := DecodeResponse([]byte(b), now)
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err = DecodeResponse([]byte(`{"v":1,"error":{"message":"bad scope","code":2}}`), now)
	var ee *ExitError
	if !errors.As(err, &ee) || ee.Code != 2 || ee.Error() != "bad scope" || ExitCode(err) != 2 {
		t.Fatalf("error: %#v", err)
	}
	_, err = DecodeResponse([]byte(`{"v":1,"error":{"code":0}}`), now)
	if ExitCode(err) != 1 || err.Error() == "" {
		t.Fatalf("silent error: %v (exit %d)", err, ExitCode(err))
	}
}

func TestReport(t *testing.T) {
	var b bytes.Buffer
	if code := Report(&b, "git-credential-entra", &ExitError{Code: 3, Err: errors.New("a\nb \x1b[31m")}); code != 3 || b.String() != "git-credential-entra: a b \\x1b[31m\n" {
		t.Fatalf("%d %q", code, b.String())
	}
	b.Reset()
	if code := Report(&b, "x", &ExitError{Code: 4}); code != 4 || b.Len() != 0 {
		t.Fatalf("already shown: %d %q", code, b.String())
	}
	b.Reset()
	if code := Report(&b, "x", errors.New("plain")); code != 1 || b.String() != "x: plain\n" {
		t.Fatalf("plain: %d %q", code, b.String())
	}
}

// fakeEngine puts a script named entratool-engine first on PATH. Token's plumbing —
// argv, empty stdin, the deadline, the program named in errors — is tested with it; the
// real engine is driven end to end in e2e.
func fakeEngine(t *testing.T, script string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, EngineName), []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

func TestTokenAsksTheEngine(t *testing.T) {
	if _, err := os.Stat("/bin/sh"); err != nil {
		t.Skip("no /bin/sh")
	}
	exp := time.Now().Add(time.Hour).Unix()
	// The engine gets --as=token and the request, and an empty stdin.
	fakeEngine(t, `[ "$1" = "--as=token" ] || exit 9
case "$2" in *'"program":"kubectl-exec-entra"'*'"scope":"s/.default"'*) ;; *) exit 8;; esac
[ -z "$(cat)" ] || exit 7
echo debug-line >&2
printf '%s' '{"v":1,"token":{"accessToken":"a.b.c","expires_on":`+strconv.FormatInt(exp, 10)+`},"warnings":["w"]}'`)
	var stderr bytes.Buffer
	res, err := Token(context.Background(), Request{Program: "kubectl-exec-entra", Scope: "s/.default"}, &stderr)
	if err != nil || res.Token.AccessToken != "a.b.c" || res.Token.ExpiresOnTS != exp || len(res.Warnings) != 1 || stderr.String() != "debug-line\n" {
		t.Fatalf("%+v %v %q", res, err, stderr.String())
	}

	fakeEngine(t, `printf '{"v":1,"error":{"message":"no profile '"'"'x'"'"'","code":1}}'; exit 1`)
	_, err = Token(context.Background(), Request{Program: "p"}, &stderr)
	if ExitCode(err) != 1 || err.Error() != "no profile 'x'" {
		t.Fatalf("error: %v", err)
	}

	fakeEngine(t, `exit 3`)
	if _, err = Token(context.Background(), Request{Program: "p"}, &stderr); err == nil || !strings.Contains(err.Error(), EngineName) {
		t.Fatalf("crash: %v", err)
	}

	// A hung engine is stopped: the request's bound plus a grace period.
	fakeEngine(t, `exec sleep 60`)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if _, err = Token(ctx, Request{Program: "p", Timeout: time.Second}, &stderr); err == nil {
		t.Fatal("hung engine: no error")
	}
}

// Errors about the engine itself name the program the user ran (git showed users
// "entratool: entratool-engine not found…" from git-credential-entra).
func TestDelegateNamesTheProgram(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var stderr bytes.Buffer
	if code := Delegate("docker-credential-entra", EntryDocker, []string{"get"}, []byte{}, &bytes.Buffer{}, &stderr); code != 1 ||
		!strings.HasPrefix(stderr.String(), "docker-credential-entra: "+EngineName+" not found") {
		t.Fatalf("%d %q", code, stderr.String())
	}
}
