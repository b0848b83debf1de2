package dockercred

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/entratool/entratool/core/termtext"
)

// credentialStrings are the values the answer's fields are tried with: what docker and
// the helper put there, and every kind of byte encoding/json escapes.
var credentialStrings = []string{
	"", "myreg.azurecr.io", "https://MyReg.AzureCR.io:443/v2/team/app?x=1#f", NullUser,
	"eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJ4In0.c2ln-_+/=~",
	`quote " and \ backslash \"\\`, "<script>&amp;</script> a<b>c&d", "\x00\x01\b\f\n\r\t\x0b\x1b\x1f\x7f",
	"é ü 中文 🙂 ｍyreg", "\u2028 line \u2029 para \u2027\u202a", "bad \xff utf-8 \xc3", "\xed\xa0\x80 surrogate \xf4\x90\x80\x80",
	"\xef\xbf\xbd replacement", "trailing\\", strings.Repeat("A-z_0.9", 300),
}

func encodingJSONCredentials(t testing.TB, c credentials.Credentials) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(&c); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// onlyWrites is a writer that counts Write calls: the answer is written at once, as
// credentials.Get writes it.
type onlyWrites struct {
	bytes.Buffer
	writes int
}

func (w *onlyWrites) Write(p []byte) (int, error) { w.writes++; return w.Buffer.Write(p) }

func TestWriteCredentialsIsEncodingJSON(t *testing.T) {
	token := "eyJ.eyJ.sig"
	var cases []credentials.Credentials
	for _, s := range credentialStrings {
		cases = append(cases,
			credentials.Credentials{ServerURL: s, Username: NullUser, Secret: token},
			credentials.Credentials{ServerURL: "myreg.azurecr.io", Username: s, Secret: token},
			credentials.Credentials{ServerURL: "myreg.azurecr.io", Username: NullUser, Secret: s},
			credentials.Credentials{ServerURL: s, Username: s, Secret: s})
	}
	for _, c := range cases {
		var w onlyWrites
		if err := writeCredentials(&w, &c); err != nil {
			t.Fatal(err)
		}
		if want := encodingJSONCredentials(t, c); !bytes.Equal(w.Bytes(), want) || w.writes != 1 {
			t.Errorf("writeCredentials(%+q) = %s in %d writes, want %s", c, w.Bytes(), w.writes, want)
		}
	}
}

func FuzzWriteCredentials(f *testing.F) {
	for i, s := range credentialStrings {
		f.Add(s, credentialStrings[(i+1)%len(credentialStrings)], credentialStrings[(i+5)%len(credentialStrings)])
	}
	f.Fuzz(func(t *testing.T, serverURL, username, secret string) {
		c := credentials.Credentials{ServerURL: serverURL, Username: username, Secret: secret}
		var w bytes.Buffer
		w.WriteString("x")
		if err := writeCredentials(&w, &c); err != nil {
			t.Fatal(err)
		}
		if want := append([]byte("x"), encodingJSONCredentials(t, c)...); !bytes.Equal(w.Bytes(), want) {
			t.Fatalf("writeCredentials(%+q) = %s, want %s", c, w.Bytes(), want)
		}
	})
}

// answer is a credentials.Helper whose Get gives fixed values, and records the server
// URL it was asked for: credentials.Get and get must ask for the same one.
type answer struct {
	username, secret string
	err              error
	asked            []string
}

func (a *answer) Get(serverURL string) (string, string, error) {
	a.asked = append(a.asked, serverURL)
	return a.username, a.secret, a.err
}
func (a *answer) Add(*credentials.Credentials) error { panic("get stores nothing") }
func (a *answer) Delete(string) error                { panic("get erases nothing") }
func (a *answer) List() (map[string]string, error)   { panic("get lists nothing") }

// stdins are what docker (or anyone) may send a get: line endings, blanks, a URL over
// several lines (credentials.Get joins them), a line too long for its scanner.
var stdins = []string{
	"myreg.azurecr.io", "myreg.azurecr.io\n", "  MyReg.AzureCR.io:443 \r\n", "https://myreg.azurecr.io/v2/\n\n",
	"myreg.azure\ncr.io\n", "myreg.azure\r\ncr.io\r", "myreg.azurecr.io\r", "a\rb\r\n", "myreg.azurecr.io\x00",
	"", "\n", " \t\r\n \v\f\u0085", "\r\r\n\r", "docker.io\n", "\xffmyreg.azurecr.io", "myreg.azurecr.io\u2028",
	`"<myreg>&"\` + "\n", strings.Repeat("x", bufio64K-1) + "\n", strings.Repeat("x", bufio64K+1) + "\n",
}

const bufio64K = 64 * 1024 // bufio.MaxScanTokenSize

// compareGet fails unless get and credentials.Get, each with a helper from mk, write the
// same bytes, return the same error, and ask an *answer for the same server URLs.
func compareGet(t *testing.T, in string, mk func() credentials.Helper) {
	t.Helper()
	var got, want bytes.Buffer
	hGot, hWant := mk(), mk()
	gotErr := get(hGot, credentials.ActionGet, strings.NewReader(in), &got)
	wantErr := credentials.Get(hWant, strings.NewReader(in), &want)
	if !bytes.Equal(got.Bytes(), want.Bytes()) {
		t.Fatalf("get(%q) wrote %q, credentials.Get %q", in, got.Bytes(), want.Bytes())
	}
	if fmt.Sprintf("%T %v", gotErr, gotErr) != fmt.Sprintf("%T %v", wantErr, wantErr) ||
		credentials.IsErrCredentialsNotFound(gotErr) != credentials.IsErrCredentialsNotFound(wantErr) ||
		credentials.IsCredentialsMissingServerURL(gotErr) != credentials.IsCredentialsMissingServerURL(wantErr) {
		t.Fatalf("get(%q) error %T %v, credentials.Get %T %v", in, gotErr, gotErr, wantErr, wantErr)
	}
	if a, ok := hGot.(*answer); ok {
		if b := hWant.(*answer); fmt.Sprintf("%q", a.asked) != fmt.Sprintf("%q", b.asked) {
			t.Fatalf("get(%q) asked for %q, credentials.Get for %q", in, a.asked, b.asked)
		}
	}
}

// get reads what credentials.Get reads and answers what it answers, errors included:
// through the real session (profiles, the hand-off checks, not-found), and with every
// kind of value in the answer.
func TestGetIsCredentialsGet(t *testing.T) {
	good := RefreshToken{Token: "eyJ.eyJ.sig", ExpiresOn: time.Now().Add(3 * time.Hour)}
	bad := RefreshToken{Token: `a.b.c","Username":"admin`, ExpiresOn: time.Now().Add(time.Hour)}
	errs := []error{nil, credentials.NewErrCredentialsNotFound(), fmt.Errorf("profile p: %w", context.DeadlineExceeded)}
	for _, in := range stdins {
		for _, rt := range []RefreshToken{good, bad} {
			compareGet(t, in, func() credentials.Helper { return (&Helper{Backend: fixedBackend{rt}}).For(context.Background()) })
		}
		for _, s := range credentialStrings {
			for _, err := range errs {
				compareGet(t, in, func() credentials.Helper { return &answer{username: s, secret: "s3cr3t" + s, err: err} })
			}
		}
	}
}

// Through Run, a hit, a miss and no URL look to docker as they did through
// credentials.HandleCommand: the JSON line and exit 0, or the error line and exit 1.
func TestRunGetAnswersAsHandleCommand(t *testing.T) {
	good := RefreshToken{Token: "eyJ.eyJ.sig", ExpiresOn: time.Now().Add(3 * time.Hour)}
	h := &Helper{Backend: fixedBackend{good}}
	for _, in := range stdins {
		var got, want bytes.Buffer
		code := Run(context.Background(), h, []string{"get"}, strings.NewReader(in), &got)
		wantCode := ExitOK
		if err := credentials.HandleCommand(h.For(context.Background()), "get", strings.NewReader(in), &want); err != nil {
			fmt.Fprintln(&want, termtext.Line(err.Error()))
			wantCode = ExitFailure
		}
		if code != wantCode || got.String() != want.String() {
			t.Errorf("get %q: exit %d %q, want %d %q", in, code, got.String(), wantCode, want.String())
		}
	}
}

func FuzzGet(f *testing.F) {
	for i, in := range stdins {
		f.Add(in, credentialStrings[i%len(credentialStrings)], credentialStrings[(i+3)%len(credentialStrings)], i%3 == 0)
	}
	f.Fuzz(func(t *testing.T, in, username, secret string, notFound bool) {
		var err error
		if notFound {
			err = credentials.NewErrCredentialsNotFound()
		}
		compareGet(t, in, func() credentials.Helper { return &answer{username: username, secret: secret, err: err} })
	})
}
