package execcred

import (
	"github.com/entratool/entratool/core/launch"

	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/pkg/apis/clientauthentication"
	"k8s.io/client-go/pkg/apis/clientauthentication/install"
	clientauthv1 "k8s.io/client-go/pkg/apis/clientauthentication/v1"
	clientauthv1beta1 "k8s.io/client-go/pkg/apis/clientauthentication/v1beta1"
)

// execInfoJSON is what client-go puts in KUBERNETES_EXEC_INFO: json.Marshal of its own
// ExecCredential input object, built here with its types rather than typed by hand.
func execInfoJSON(t *testing.T, apiVersion string, interactive bool) string {
	t.Helper()
	var obj any
	switch apiVersion {
	case V1:
		obj = &clientauthv1.ExecCredential{
			TypeMeta: metav1.TypeMeta{Kind: "ExecCredential", APIVersion: V1},
			Spec: clientauthv1.ExecCredentialSpec{Interactive: interactive, Cluster: &clientauthv1.Cluster{
				Server: "https://aks.example:443", CertificateAuthorityData: []byte("-----BEGIN CERTIFICATE-----"),
				Config: runtime.RawExtension{Raw: []byte(`{"x":1}`)},
			}},
		}
	case V1beta1:
		obj = &clientauthv1beta1.ExecCredential{
			TypeMeta: metav1.TypeMeta{Kind: "ExecCredential", APIVersion: V1beta1},
			Spec:     clientauthv1beta1.ExecCredentialSpec{Interactive: interactive},
		}
	default:
		t.Fatalf("no client-go type for %s", apiVersion)
	}
	b, err := json.Marshal(obj)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseExecInfo(t *testing.T) {
	cases := []struct {
		name    string
		raw     string
		want    Info
		wantErr []string // substrings of the error
	}{
		{name: "unset", raw: "", want: Info{APIVersion: V1beta1}},
		{name: "empty", raw: "  \n", want: Info{APIVersion: V1beta1}},
		{name: "v1", raw: execInfoJSON(t, V1, false), want: Info{APIVersion: V1, Provided: true}},
		{name: "v1 interactive", raw: execInfoJSON(t, V1, true), want: Info{APIVersion: V1, Interactive: true, Provided: true}},
		{name: "v1beta1", raw: execInfoJSON(t, V1beta1, false), want: Info{APIVersion: V1beta1, Provided: true}},
		{name: "v1beta1 interactive", raw: execInfoJSON(t, V1beta1, true), want: Info{APIVersion: V1beta1, Interactive: true, Provided: true}},
		{name: "v1alpha1", raw: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1","spec":{}}`,
			wantErr: []string{ExecInfoEnv, `"client.authentication.k8s.io/v1alpha1"`, V1}},
		{name: "garbage", raw: "not json at all", wantErr: []string{ExecInfoEnv, `"not json at all"`, "invalid character"}},
		{name: "truncated", raw: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":fa`,
			wantErr: []string{ExecInfoEnv, "not an ExecCredential in JSON", "(96 bytes)"}},
		{name: "json null", raw: "null", wantErr: []string{"no apiVersion", `"null"`}},
		{name: "other kind", raw: `{"kind":"Pod","apiVersion":"v1"}`, wantErr: []string{`kind "Pod"`}},
		{name: "interactive not bool", raw: `{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":"yes"}}`, wantErr: []string{"not an ExecCredential"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ParseExecInfo(c.raw)
			if c.wantErr != nil {
				if err == nil {
					t.Fatalf("ParseExecInfo(%q) = %+v, want an error", c.raw, got)
				}
				for _, w := range c.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseExecInfo(%q): %v", c.raw, err)
			}
			if got != c.want {
				t.Errorf("ParseExecInfo(%q) = %+v, want %+v", c.raw, got, c.want)
			}
		})
	}
}

// TestMarshalMatchesClientGo proves the plain structs marshal byte for byte as
// client-go's own types do, for both versions, so the hot path can skip apimachinery.
func TestMarshalMatchesClientGo(t *testing.T) {
	exp := time.Date(2031, 5, 6, 7, 8, 9, 987654321, time.FixedZone("CEST", 2*3600))
	const tok = "eyJhbGciOiJSUzI1NiJ9.payload.sig" // shape only; never sent anywhere
	for _, c := range []struct {
		version string
		want    any
	}{
		{V1, &clientauthv1.ExecCredential{
			TypeMeta: metav1.TypeMeta{Kind: "ExecCredential", APIVersion: V1},
			Status:   &clientauthv1.ExecCredentialStatus{Token: tok, ExpirationTimestamp: &metav1.Time{Time: exp}},
		}},
		{V1beta1, &clientauthv1beta1.ExecCredential{
			TypeMeta: metav1.TypeMeta{Kind: "ExecCredential", APIVersion: V1beta1},
			Status:   &clientauthv1beta1.ExecCredentialStatus{Token: tok, ExpirationTimestamp: &metav1.Time{Time: exp}},
		}},
		{V1, &clientauthv1.ExecCredential{ // no expiry known
			TypeMeta: metav1.TypeMeta{Kind: "ExecCredential", APIVersion: V1},
			Status:   &clientauthv1.ExecCredentialStatus{Token: tok},
		}},
	} {
		st := reflectStatus(c.want)
		var e time.Time
		if st != nil {
			e = st.Time
		}
		got, err := Marshal(c.version, tok, e)
		if err != nil {
			t.Fatal(err)
		}
		want, err := json.Marshal(c.want)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", c.version, got, want)
		}
	}
}

func reflectStatus(obj any) *metav1.Time {
	switch o := obj.(type) {
	case *clientauthv1.ExecCredential:
		return o.Status.ExpirationTimestamp
	case *clientauthv1beta1.ExecCredential:
		return o.Status.ExpirationTimestamp
	}
	return nil
}

// TestOutputDecodesAsClientGoDoes runs the plugin's output through the decoder client-go's
// exec authenticator uses (the clientauthentication scheme) and converts it to the
// internal type it reads the token from.
func TestOutputDecodesAsClientGoDoes(t *testing.T) {
	scheme := runtime.NewScheme()
	install.Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	exp := time.Now().Add(time.Hour).Truncate(time.Second)
	for _, v := range []string{V1, V1beta1} {
		out, err := Marshal(v, "tok-"+v, exp)
		if err != nil {
			t.Fatal(err)
		}
		obj, gvk, err := codecs.UniversalDecoder(clientauthentication.SchemeGroupVersion).Decode(out, nil, nil)
		if err != nil {
			t.Fatalf("%s: client-go cannot decode %s: %v", v, out, err)
		}
		if gvk.GroupVersion().String() != v || gvk.Kind != "ExecCredential" {
			t.Errorf("decoded as %v", gvk)
		}
		cred, ok := obj.(*clientauthentication.ExecCredential)
		if !ok {
			t.Fatalf("decoded to %T", obj)
		}
		if cred.Status == nil || cred.Status.Token != "tok-"+v || !cred.Status.ExpirationTimestamp.Time.Equal(exp) {
			t.Errorf("%s: decoded status %+v", v, cred.Status)
		}
	}
}

func TestMarshalRefuses(t *testing.T) {
	if _, err := Marshal("client.authentication.k8s.io/v1alpha1", "t", time.Now()); err == nil {
		t.Error("v1alpha1 accepted")
	}
	if _, err := Marshal(V1, "", time.Now()); err == nil {
		t.Error("empty token accepted")
	}
}

func TestParseArgs(t *testing.T) {
	aks := DefaultServerID + "/.default"
	cases := []struct {
		args    []string
		want    Args
		wantErr string
	}{
		{args: nil, want: Args{Scope: aks}},
		{args: []string{"--profile", "prod"}, want: Args{Profile: "prod", Scope: aks}},
		{args: []string{"--profile=prod", "--server-id", "11111111-2222-3333-4444-555555555555"}, want: Args{Profile: "prod", Scope: "11111111-2222-3333-4444-555555555555/.default"}},
		{args: []string{"--server-id", "api://my-aks/"}, want: Args{Scope: "api://my-aks/.default"}},
		{args: []string{"--server-id", aks}, want: Args{Scope: aks}},
		{args: []string{"-p", "x", "--scope", "https://management.azure.com/.default"}, want: Args{Profile: "x", Scope: "https://management.azure.com/.default"}},
		{args: []string{"--server-id", "a", "--scope", "b/.default"}, wantErr: "alternatives"},
		{args: []string{"get-token"}, wantErr: `unexpected argument "get-token"`},
		{args: []string{"--login", "spn"}, wantErr: "flag provided but not defined: -login"},
		{args: []string{"--profile"}, wantErr: "flag needs an argument"},
	}
	for _, c := range cases {
		var stderr bytes.Buffer
		got, err := ParseArgs(c.args, &stderr)
		if c.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Errorf("ParseArgs(%q) = %+v, %v; want error containing %q", c.args, got, err, c.wantErr)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("ParseArgs(%q) = %+v, %v; want %+v", c.args, got, err, c.want)
		}
	}
}

// recordingSource is a Source that answers with a fixed credential (or error) and
// remembers the requests, to check what Run asks for.
type recordingSource struct {
	cred Credential
	err  error
	reqs []Request
}

func (s *recordingSource) Credential(ctx context.Context, r Request) (Credential, error) {
	s.reqs = append(s.reqs, r)
	return s.cred, s.err
}

func runPlugin(t *testing.T, src Source, execInfo string, tty bool, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	env := Env{Args: args, Getenv: func(k string) string {
		if k == ExecInfoEnv {
			return execInfo
		}
		return ""
	}, Stdout: &out, Stderr: &errb, StdinTTY: tty}
	code := Run(context.Background(), env, src)
	return code, out.String(), errb.String()
}

func TestRun(t *testing.T) {
	exp := time.Now().Add(50 * time.Minute).UTC().Truncate(time.Second)
	src := &recordingSource{cred: Credential{Token: "header.payload.signature", ExpiresOn: exp}}

	t.Run("v1 answers v1, never interactive when kubectl says so", func(t *testing.T) {
		src.reqs = nil
		code, out, errOut := runPlugin(t, src, execInfoJSON(t, V1, false), true, "--profile", "prod")
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var got clientauthv1.ExecCredential
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		if got.APIVersion != V1 || got.Kind != "ExecCredential" || got.Status.Token != "header.payload.signature" || !got.Status.ExpirationTimestamp.Time.Equal(exp) {
			t.Errorf("output %s", out)
		}
		want := Request{Profile: "prod", Scope: DefaultServerID + "/.default", Interactive: false}
		if len(src.reqs) != 1 || src.reqs[0] != want {
			t.Errorf("requests %+v, want %+v", src.reqs, want)
		}
		if errOut != "" {
			t.Errorf("stderr %q", errOut)
		}
	})
	t.Run("interactive passes through", func(t *testing.T) {
		src.reqs = nil
		if code, _, errOut := runPlugin(t, src, execInfoJSON(t, V1beta1, true), false); code != 0 {
			t.Fatal(errOut)
		}
		if !src.reqs[0].Interactive {
			t.Error("spec.interactive=true not passed on")
		}
	})
	t.Run("unset: v1beta1, interactive only on a terminal", func(t *testing.T) {
		for _, tty := range []bool{false, true} {
			src.reqs = nil
			code, out, errOut := runPlugin(t, src, "", tty)
			if code != 0 {
				t.Fatal(errOut)
			}
			if !strings.Contains(out, `"apiVersion":"`+V1beta1+`"`) {
				t.Errorf("output %s", out)
			}
			if src.reqs[0].Interactive != tty {
				t.Errorf("tty=%v: interactive %v", tty, src.reqs[0].Interactive)
			}
		}
	})
	t.Run("bad exec info: exit 1, no source call, stdout empty", func(t *testing.T) {
		src.reqs = nil
		code, out, errOut := runPlugin(t, src, `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1alpha1"}`, false)
		if code != ExitFailure || out != "" || len(src.reqs) != 0 || !strings.Contains(errOut, "v1alpha1") {
			t.Errorf("exit %d, stdout %q, stderr %q, %d requests", code, out, errOut, len(src.reqs))
		}
	})
	t.Run("usage error: exit 2", func(t *testing.T) {
		for _, bad := range [][]string{{"--server-id", "a", "--scope", "b"}, {"--bogus"}} {
			code, out, errOut := runPlugin(t, src, "", false, bad...)
			if code != ExitUsage || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasSuffix(errOut, "(see kubectl-exec-entra --help)\n") {
				t.Errorf("%q: exit %d, stdout %q, stderr %q", bad, code, out, errOut)
			}
		}
	})
	t.Run("help: exit 0", func(t *testing.T) {
		code, out, errOut := runPlugin(t, src, "", false, "--help")
		if code != 0 || out != "" || !strings.Contains(errOut, "entratool kubeconfig convert") {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
	t.Run("engine error: its exit code, its message on one line", func(t *testing.T) {
		for _, c := range []int{1, 2, 0} {
			code, out, errOut := runPlugin(t, &recordingSource{err: &launch.ExitError{Code: c, Err: errors.New("no profile 'x'")}}, "", false)
			if code != max(c, 1) || out != "" || errOut != "kubectl-exec-entra: no profile 'x'\n" {
				t.Errorf("engine exit %d: exit %d, stdout %q, stderr %q", c, code, out, errOut)
			}
			code, _, errOut = runPlugin(t, &recordingSource{err: &launch.ExitError{Code: c}}, "", false)
			if code != max(c, 1) || errOut != "" {
				t.Errorf("already shown, exit %d: exit %d, stderr %q", c, code, errOut)
			}
		}
	})
	t.Run("source error: one line, exit 1", func(t *testing.T) {
		failing := &recordingSource{err: errors.New("certificate not found: /x.pfx\n(profile prod)")}
		code, out, errOut := runPlugin(t, failing, "", false)
		if code != ExitFailure || out != "" || errOut != "kubectl-exec-entra: certificate not found: /x.pfx (profile prod)\n" {
			t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
		}
	})
}

// TestExecInfoRoundTrip feeds Run what client-go really sends for each version and
// checks the answer carries the same version, so kubectl accepts it.
func TestExecInfoRoundTrip(t *testing.T) {
	src := &recordingSource{cred: Credential{Token: "a.b.c", ExpiresOn: time.Now().Add(time.Hour)}}
	for _, v := range []string{V1, V1beta1} {
		_, out, _ := runPlugin(t, src, execInfoJSON(t, v, false), false)
		var tm metav1.TypeMeta
		if err := json.Unmarshal([]byte(out), &tm); err != nil || tm.APIVersion != v {
			t.Errorf("asked %s, answered %s (%v)", v, out, err)
		}
	}
}

// execCredential is the JSON shape of clientauthentication v1/v1beta1 ExecCredential,
// for comparison: TypeMeta's kind and apiVersion first, spec always present, status
// fields omitted when empty.
type execCredential struct {
	Kind       string  `json:"kind,omitempty"`
	APIVersion string  `json:"apiVersion,omitempty"`
	Spec       spec    `json:"spec,omitempty"`
	Status     *status `json:"status,omitempty"`
}

type spec struct {
	Interactive bool `json:"interactive"`
}

type status struct {
	// metav1.Time: RFC 3339 in UTC, whole seconds.
	ExpirationTimestamp string `json:"expirationTimestamp,omitempty"`
	Token               string `json:"token,omitempty"`
}

// Marshal writes exactly what json.Marshal writes for the execCredential type, which is
// client-go's shape, with and without an expiry, and for odd strings.
func TestMarshalIsJSONMarshal(t *testing.T) {
	for _, c := range []struct{ api, token, stamp string }{
		{V1, "eyJ0.eyJ1.c2ln-_+/=", "2026-12-03T17:00:00Z"},
		{V1beta1, "tok", ""},
		{V1, "a\"b\\c<d>&e\x01\u2028é\xff", "x"},
	} {
		st := &status{Token: c.token, ExpirationTimestamp: c.stamp}
		want, err := json.Marshal(execCredential{Kind: "ExecCredential", APIVersion: c.api, Status: st})
		if err != nil {
			t.Fatal(err)
		}
		if got := appendExecCredential(nil, c.api, c.token, c.stamp); !bytes.Equal(got, want) {
			t.Errorf("%+v:\ngot  %s\nwant %s", c, got, want)
		}
	}
	exp := time.Date(2026, 12, 3, 18, 0, 0, 0, time.FixedZone("x", 3600))
	got, err := Marshal(V1, "tok", exp)
	want, _ := json.Marshal(execCredential{Kind: "ExecCredential", APIVersion: V1, Status: &status{Token: "tok", ExpirationTimestamp: "2026-12-03T17:00:00Z"}})
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("Marshal = %s, %v; want %s", got, err, want)
	}
}
