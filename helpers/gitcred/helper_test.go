package gitcred

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/internal/testkit"
)

const testClientID = testkit.ClientID

// countingTokens is a token pipeline that mints a distinct value per request and
// records what the helper asked of it.
type countingTokens struct {
	issued  int
	scopes  []string
	forgot  []string
	expires time.Time
	err     error
}

func (c *countingTokens) Token(ctx context.Context, scope string) (string, time.Time, error) {
	c.scopes = append(c.scopes, scope)
	if c.err != nil {
		return "", time.Time{}, c.err
	}
	c.issued++
	return fmt.Sprintf("tok-%d", c.issued), c.expires, nil
}

func (c *countingTokens) Forget(ctx context.Context, scope string) error {
	c.forgot = append(c.forgot, scope)
	return nil
}

type rig struct {
	h       *Helper
	tokens  *countingTokens
	profile Profile
	loads   int
	loadErr error
}

func newRig(bearer bool, hosts ...string) *rig {
	r := &rig{
		tokens:  &countingTokens{expires: time.Unix(1767225600, 0)},
		profile: Profile{Name: "git", ClientID: testClientID, Hosts: hosts},
	}
	r.h = &Helper{Bearer: bearer, Load: func(ctx context.Context) (Profile, Tokens, error) {
		r.loads++
		if r.loadErr != nil {
			return Profile{}, nil, r.loadErr
		}
		return r.profile, r.tokens, nil
	}}
	return r
}

func (r *rig) run(t *testing.T, action, in string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := r.h.Run(context.Background(), action, strings.NewReader(in), &out)
	return out.String(), err
}

const azureGet = "protocol=https\nhost=dev.azure.com\npath=org/project/_git/repo\n\n"

func TestGetAnswersWithClientIDAndToken(t *testing.T) {
	r := newRig(false)
	out, err := r.run(t, "get", azureGet)
	if err != nil {
		t.Fatal(err)
	}
	want := "username=" + testClientID + "\npassword=tok-1\npassword_expiry_utc=1767225600\n"
	if out != want {
		t.Fatalf("got %q, want %q", out, want)
	}
	if len(r.tokens.scopes) != 1 || r.tokens.scopes[0] != AzureDevOpsScope {
		t.Fatalf("scopes %q", r.tokens.scopes)
	}
}

func TestGetUsesGitScope(t *testing.T) {
	r := newRig(false)
	r.profile.Scope = "api://contoso-git/.default"
	if _, err := r.run(t, "get", azureGet); err != nil {
		t.Fatal(err)
	}
	if len(r.tokens.scopes) != 1 || r.tokens.scopes[0] != "api://contoso-git/.default" {
		t.Fatalf("scopes %q", r.tokens.scopes)
	}
}

// --bearer answers with authtype only when git offered the capability; otherwise git
// (< 2.46) would not understand it, and the Basic answer is given.
func TestBearer(t *testing.T) {
	offered := "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=dev.azure.com\n\n"
	cases := []struct {
		name   string
		bearer bool
		in     string
		want   string
	}{
		{"--bearer, capability offered", true, offered,
			"capability[]=authtype\nauthtype=Bearer\ncredential=tok-1\nephemeral=true\n"},
		{"--bearer, capability not offered", true, azureGet,
			"username=" + testClientID + "\npassword=tok-1\npassword_expiry_utc=1767225600\n"},
		{"--bearer, another capability only", true, "capability[]=state\nprotocol=https\nhost=dev.azure.com\n",
			"username=" + testClientID + "\npassword=tok-1\npassword_expiry_utc=1767225600\n"},
		{"no --bearer, capability offered", false, offered,
			"username=" + testClientID + "\npassword=tok-1\npassword_expiry_utc=1767225600\n"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := newRig(c.bearer).run(t, "get", c.in)
			if err != nil {
				t.Fatal(err)
			}
			if out != c.want {
				t.Fatalf("got %q, want %q", out, c.want)
			}
		})
	}
}

// Requests that are not this helper's: nothing on stdout, no token asked for, and for
// anything but https not even the profile read.
func TestGetRefusesWithoutAToken(t *testing.T) {
	cases := []struct {
		name      string
		hosts     []string
		in        string
		wantLoads int
	}{
		{"http", nil, "protocol=http\nhost=dev.azure.com\n", 0},
		{"no protocol", nil, "host=dev.azure.com\n", 0},
		{"ssh", nil, "protocol=ssh\nhost=dev.azure.com\n", 0},
		{"suffix attack", nil, "protocol=https\nhost=dev.azure.com.evil.com\n", 1},
		{"label prefix", nil, "protocol=https\nhost=evil-dev.azure.com\n", 1},
		{"github", nil, "protocol=https\nhost=github.com\n", 1},
		{"no host", nil, "protocol=https\n", 1},
		{"listed elsewhere only", []string{"127.0.0.1:8443"}, azureGet, 1},
		{"wrong port", []string{"127.0.0.1:8443"}, "protocol=https\nhost=127.0.0.1:8444\n", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(true, c.hosts...)
			out, err := r.run(t, "get", c.in)
			if err != nil || out != "" {
				t.Fatalf("want silence, got %q, %v", out, err)
			}
			if r.loads != c.wantLoads || len(r.tokens.scopes) != 0 {
				t.Fatalf("loads %d (want %d), token requests %d", r.loads, c.wantLoads, len(r.tokens.scopes))
			}
		})
	}
}

func TestGetListedHostWithPort(t *testing.T) {
	r := newRig(false, "127.0.0.1:8443")
	out, err := r.run(t, "get", "protocol=https\nhost=127.0.0.1:8443\n")
	if err != nil || !strings.Contains(out, "password=tok-1\n") {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestGetWithoutProfile(t *testing.T) {
	loadErr := errors.New("no profiles yet: run 'entratool config create'")
	// A default Azure DevOps host: the user meant this helper, so say why it cannot answer.
	r := newRig(false)
	r.loadErr = loadErr
	out, err := r.run(t, "get", azureGet)
	if !errors.Is(err, loadErr) || out != "" {
		t.Fatalf("got %q, %v", out, err)
	}
	// Any other host: not ours to comment on.
	out, err = r.run(t, "get", "protocol=https\nhost=github.com\n")
	if err != nil || out != "" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestGetTokenFailure(t *testing.T) {
	r := newRig(false)
	r.tokens.err = errors.New("AADSTS700027: invalid signature")
	out, err := r.run(t, "get", azureGet)
	if err == nil || out != "" {
		t.Fatalf("got %q, %v", out, err)
	}
	if !strings.Contains(err.Error(), "AADSTS700027") || !strings.Contains(err.Error(), "profile git") {
		t.Fatalf("error %v", err)
	}
}

func TestGetMalformedInput(t *testing.T) {
	r := newRig(false)
	out, err := r.run(t, "get", "protocol=https\nhost dev.azure.com\n")
	if err == nil || out != "" || r.loads != 0 {
		t.Fatalf("got %q, %v, loads %d", out, err, r.loads)
	}
}

func TestErase(t *testing.T) {
	r := newRig(false)
	out, err := r.run(t, "erase", "protocol=https\nhost=dev.azure.com\nusername="+testClientID+"\npassword=tok-1\n\n")
	if err != nil || out != "" {
		t.Fatalf("got %q, %v", out, err)
	}
	if len(r.tokens.forgot) != 1 || r.tokens.forgot[0] != AzureDevOpsScope {
		t.Fatalf("forgot %q", r.tokens.forgot)
	}
	// Another host's rejected credential is none of ours.
	r = newRig(false)
	if _, err := r.run(t, "erase", "protocol=https\nhost=github.com\nusername=x\npassword=y\n"); err != nil {
		t.Fatal(err)
	}
	if len(r.tokens.forgot) != 0 {
		t.Fatalf("forgot %q for github.com", r.tokens.forgot)
	}
}

func TestStoreAndUnknownActions(t *testing.T) {
	for _, action := range []string{"store", "list", "approve", "", "GET"} {
		r := newRig(true)
		out, err := r.run(t, action, "protocol=https\nhost=dev.azure.com\nusername=u\npassword=p\n\n")
		if err != nil || out != "" || r.loads != 0 {
			t.Errorf("%q: got %q, %v, loads %d", action, out, err, r.loads)
		}
	}
}

func TestCapability(t *testing.T) {
	for bearer, want := range map[bool]string{true: "version 0\ncapability authtype\n", false: "version 0\n"} {
		out, err := newRig(bearer).run(t, "capability", "")
		if err != nil || out != want {
			t.Errorf("bearer %v: got %q, %v; want %q", bearer, out, err, want)
		}
	}
}
