package gitcred

import (
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want Request
	}{
		{
			name: "what git 2.39 sends for an https remote with useHttpPath",
			in:   "protocol=https\nhost=dev.azure.com\npath=org/project/_git/repo\n\n",
			want: Request{Protocol: "https", Host: "dev.azure.com", Path: "org/project/_git/repo"},
		},
		{
			name: "what git 2.46 sends: capabilities first, wwwauth in header order",
			in: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=dev.azure.com\n" +
				"wwwauth[]=Bearer authorization_uri=\"https://login.microsoftonline.com/x\"\nwwwauth[]=Basic realm=\"https://dev.azure.com/\"\n\n",
			want: Request{Protocol: "https", Host: "dev.azure.com", Capabilities: []string{"authtype", "state"},
				WWWAuth: []string{`Bearer authorization_uri="https://login.microsoftonline.com/x"`, `Basic realm="https://dev.azure.com/"`}},
		},
		{
			name: "CRLF line ends, as strbuf_getline drops them",
			in:   "protocol=https\r\nhost=myorg.visualstudio.com:443\r\n\r\n",
			want: Request{Protocol: "https", Host: "myorg.visualstudio.com:443"},
		},
		{
			name: "end of input without a blank line or final newline",
			in:   "protocol=https\nhost=dev.azure.com",
			want: Request{Protocol: "https", Host: "dev.azure.com"},
		},
		{
			name: "unknown keys ignored; keys are case-sensitive and exact",
			in:   "Host=evil.example\n host=evil.example\nhost =evil.example\nfuture_key=1\n=novalue\nprotocol=https\nhost=dev.azure.com\n",
			want: Request{Protocol: "https", Host: "dev.azure.com"},
		},
		{
			name: "the value is everything after the first '='",
			in:   "username=a=b\npassword==x==\n",
			want: Request{Username: "a=b", Password: "=x=="},
		},
		{
			name: "a repeated single-valued key: the last one wins",
			in:   "host=evil.example\nhost=dev.azure.com\n",
			want: Request{Host: "dev.azure.com"},
		},
		{
			name: "an empty key[]= value resets the list",
			in:   "capability[]=authtype\ncapability[]=\ncapability[]=state\nwwwauth[]=Basic\nwwwauth[]=\n",
			want: Request{Capabilities: []string{"state"}},
		},
		{
			name: "all the other attributes",
			in: "username=u\npassword=p\npassword_expiry_utc=1700000000\noauth_refresh_token=r\nauthtype=Bearer\n" +
				"credential=c\nephemeral=1\nstate[]=helper:x\n",
			want: Request{Username: "u", Password: "p", PasswordExpiryUTC: "1700000000", OAuthRefreshToken: "r",
				AuthType: "Bearer", Credential: "c", Ephemeral: true, State: []string{"helper:x"}},
		},
		{
			name: "url= replaces the request with its parts",
			in:   "capability[]=authtype\nhost=evil.example\nurl=https://me:pw@dev.azure.com/org/project/_git/repo\n",
			want: Request{Protocol: "https", Host: "dev.azure.com", Path: "org/project/_git/repo", Username: "me", Password: "pw"},
		},
		{
			name: "empty input is an empty request",
			in:   "",
			want: Request{},
		},
		{
			name: "a lone CR line ends the request",
			in:   "host=dev.azure.com\n\r\nhost=evil.example\n",
			want: Request{Host: "dev.azure.com"},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(*got, c.want) {
				t.Fatalf("got  %+v\nwant %+v", *got, c.want)
			}
		})
	}
}

func TestParseEphemeralBooleans(t *testing.T) {
	for v, want := range map[string]bool{"true": true, "TRUE": true, "yes": true, "on": true, "1": true, "2": true,
		"false": false, "no": false, "off": false, "0": false, "": false, "maybe": false} {
		got, err := Parse(strings.NewReader("ephemeral=" + v + "\n"))
		if err != nil {
			t.Fatal(err)
		}
		if got.Ephemeral != want {
			t.Errorf("ephemeral=%q → %v, want %v", v, got.Ephemeral, want)
		}
	}
}

// A blank line ends the request; what follows stays unread for the caller.
func TestParseStopsAtBlankLine(t *testing.T) {
	r := strings.NewReader("host=dev.azure.com\n\nhost=evil.example\n")
	req, err := Parse(io.LimitReader(r, 1<<20))
	if err != nil {
		t.Fatal(err)
	}
	if req.Host != "dev.azure.com" {
		t.Fatalf("host %q", req.Host)
	}
}

func TestParseRefuses(t *testing.T) {
	secret := "hunter2-do-not-print"
	cases := []struct {
		name, in string
		line     int
	}{
		{"a line without '=' fails the request, as in git", "protocol=https\npassword " + secret + "\nhost=dev.azure.com\n", 2},
		{"NUL in a value", "protocol=https\nhost=dev.azure.com\x00.evil.example\n", 2},
		{"NUL in a key", "ho\x00st=" + secret + "\n", 1},
		{"a line longer than git allows", "protocol=https\npath=" + strings.Repeat("a", MaxLine) + "\n", 2},
		{"url with an encoded newline", "url=https://dev.azure.com/a%0Apassword=" + secret + "\n", 1},
		{"url that is not one", "url=" + secret + "\n", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Parse(strings.NewReader(c.in))
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("want a LineError, got %v", err)
			}
			if le.Line != c.line {
				t.Fatalf("line %d, want %d (%v)", le.Line, c.line, err)
			}
			if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "aaaa") {
				t.Fatalf("error quotes the input: %v", err)
			}
		})
	}
}

func TestParseTooManyLines(t *testing.T) {
	_, err := Parse(strings.NewReader(strings.Repeat("wwwauth[]=x\n", maxLines+1)))
	if err == nil || !strings.Contains(err.Error(), "more than") {
		t.Fatalf("want a refusal, got %v", err)
	}
}

func TestResponseMarshal(t *testing.T) {
	exp := time.Unix(1767225600, 0)
	cases := []struct {
		name string
		r    Response
		want string
	}{
		{"basic", Response{Username: "cid", Password: "tok", PasswordExpiry: exp},
			"username=cid\npassword=tok\npassword_expiry_utc=1767225600\n"},
		{"bearer", Response{Capabilities: []string{"authtype"}, AuthType: "Bearer", Credential: "tok", Ephemeral: true},
			"capability[]=authtype\nauthtype=Bearer\ncredential=tok\nephemeral=true\n"},
		{"nothing", Response{}, ""},
	}
	for _, c := range cases {
		b, err := c.r.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if string(b) != c.want {
			t.Errorf("%s: got %q, want %q", c.name, b, c.want)
		}
	}
	for _, bad := range []Response{{Password: "a\nhost=evil"}, {Username: "a\x00"}, {Capabilities: []string{"x\ny"}}} {
		if b, err := bad.Marshal(); err == nil || b != nil {
			t.Errorf("%+v: want an error and no bytes, got %q, %v", bad, b, err)
		} else if strings.Contains(err.Error(), "evil") {
			t.Errorf("error quotes the value: %v", err)
		}
	}
}
