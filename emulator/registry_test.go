package emulator

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// entraToken gets an access token for scope from the emulator with the fixture's secret.
func (f *fixture) entraToken(t *testing.T, scope string) string {
	t.Helper()
	form := secretForm(secret)
	form.Set("scope", scope)
	r := f.post(t, tenantID, form, nil)
	tok, _ := r.body["access_token"].(string)
	if r.status != http.StatusOK || tok == "" {
		t.Fatalf("token for %s: %d %s", scope, r.status, r.raw)
	}
	return tok
}

type regReply struct {
	status int
	header http.Header
	body   map[string]any
}

func (rr regReply) message() string {
	errs, _ := rr.body["errors"].([]any)
	if len(errs) == 0 {
		return ""
	}
	m, _ := errs[0].(map[string]any)
	s, _ := m["message"].(string)
	return s
}

func (f *fixture) regDo(t *testing.T, req *http.Request) regReply {
	t.Helper()
	resp, err := f.e.HTTPClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	rr := regReply{status: resp.StatusCode, header: resp.Header}
	json.Unmarshal(raw, &rr.body)
	return rr
}

func (f *fixture) regPost(t *testing.T, u string, form url.Values) regReply {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return f.regDo(t, req)
}

func exchangeForm(host, at string) url.Values {
	return url.Values{"grant_type": {"access_token"}, "service": {host}, "tenant": {tenantID}, "access_token": {at}}
}

// jwtClaims decodes a JWT's payload without checking it, as a client of the registry can.
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func startRegistry(t *testing.T, f *fixture, o RegistryOptions) *Registry {
	t.Helper()
	r, err := f.e.StartRegistry(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func TestRegistryChallengeNamesRealmOnItsOwnHost(t *testing.T) {
	f := newFixture(t, Options{})
	r := startRegistry(t, f, RegistryOptions{})
	req, _ := http.NewRequest(http.MethodGet, r.URL+"/v2/", nil)
	rr := f.regDo(t, req)
	want := `Bearer realm="https://` + r.Host + `/oauth2/token",service="` + r.Host + `"`
	if rr.status != http.StatusUnauthorized || rr.header.Get("WWW-Authenticate") != want {
		t.Fatalf("GET /v2/: %d %q, want 401 %q", rr.status, rr.header.Get("WWW-Authenticate"), want)
	}
	req, _ = http.NewRequest(http.MethodGet, r.URL+"/v2/team/app/manifests/v1", nil)
	rr = f.regDo(t, req)
	if got := rr.header.Get("WWW-Authenticate"); !strings.HasSuffix(got, `,scope="repository:team/app:pull"`) {
		t.Fatalf("repository challenge %q names no scope", got)
	}
	if c := r.Counts(); c.Challenges != 2 || c.API != 0 {
		t.Fatalf("counts %+v", c)
	}
}

func TestRegistryExchangeAndTokenGrants(t *testing.T) {
	f := newFixture(t, Options{})
	r := startRegistry(t, f, RegistryOptions{})
	at := f.entraToken(t, ACRResource+"/.default")
	rr := f.regPost(t, r.URL+"/oauth2/exchange", exchangeForm(r.Host, at))
	rt, _ := rr.body["refresh_token"].(string)
	if rr.status != http.StatusOK || rt == "" {
		t.Fatalf("exchange: %d %v", rr.status, rr.body)
	}
	c := jwtClaims(t, rt)
	exp := time.Unix(int64(c["exp"].(float64)), 0)
	if d := time.Until(exp); d < 3*time.Hour-time.Minute || d > 3*time.Hour+time.Minute {
		t.Fatalf("refresh token exp in %v, want about 3h", d)
	}
	if c["aud"] != r.Host || c["tenant"] != tenantID {
		t.Fatalf("refresh token claims %v", c)
	}

	// GET with Basic, as go-containerregistry and docker send a username and password.
	u := r.URL + "/oauth2/token?" + url.Values{"service": {r.Host}, "scope": {"repository:team/app:pull"}}.Encode()
	req, _ := http.NewRequest(http.MethodGet, u, nil)
	req.SetBasicAuth(ACRRefreshUser, rt)
	rr = f.regDo(t, req)
	pullTok, _ := rr.body["access_token"].(string)
	if rr.status != http.StatusOK || pullTok == "" {
		t.Fatalf("GET token: %d %v", rr.status, rr.body)
	}
	// POST refresh_token grant, as docker sends an identity token.
	rr = f.regPost(t, r.URL+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt},
		"service": {r.Host}, "scope": {"repository:team/app:pull,push"}})
	pushTok, _ := rr.body["access_token"].(string)
	if rr.status != http.StatusOK || pushTok == "" {
		t.Fatalf("POST token: %d %v", rr.status, rr.body)
	}

	get := func(tok, method, path string) int {
		req, _ := http.NewRequest(method, r.URL+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		return f.regDo(t, req).status
	}
	if s := get(pullTok, http.MethodGet, "/v2/"); s != http.StatusOK {
		t.Fatalf("/v2/ with access token: %d", s)
	}
	if s := get(pullTok, http.MethodPost, "/v2/team/app/blobs/uploads/"); s != http.StatusUnauthorized {
		t.Fatalf("push with a pull token: %d, want 401", s)
	}
	if s := get(pushTok, http.MethodPost, "/v2/team/app/blobs/uploads/"); s != http.StatusAccepted {
		t.Fatalf("push with a push token: %d, want 202", s)
	}
	if s := get(pullTok, http.MethodGet, "/v2/other/manifests/v1"); s != http.StatusUnauthorized {
		t.Fatalf("pull of another repository: %d, want 401", s)
	}
	// A refresh token is not an access token, nor the other way round.
	if s := get(rt, http.MethodGet, "/v2/"); s != http.StatusUnauthorized {
		t.Fatalf("/v2/ with a refresh token: %d, want 401", s)
	}
	rr = f.regPost(t, r.URL+"/oauth2/token", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {pullTok}, "service": {r.Host}})
	if rr.status != http.StatusUnauthorized {
		t.Fatalf("access token as refresh token: %d", rr.status)
	}
	if c := r.Counts(); c.Exchange != 1 || c.ExchangeIssued != 1 || c.Token != 3 || c.TokenIssued != 2 {
		t.Fatalf("counts %+v", c)
	}
}

func TestRegistryExchangeRefusals(t *testing.T) {
	f := newFixture(t, Options{})
	r := startRegistry(t, f, RegistryOptions{})
	other := startRegistry(t, f, RegistryOptions{TenantID: "11111111-2222-3333-4444-555555555555"})
	acr := f.entraToken(t, ACRResource+"/.default")
	graphTok := f.entraToken(t, graph)
	cases := []struct {
		name   string
		reg    *Registry
		form   url.Values
		status int
		msg    string
	}{
		{"graph audience", r, exchangeForm(r.Host, graphTok), 401, "aud"},
		{"not a token", r, exchangeForm(r.Host, "not-a-jwt"), 401, "access token rejected"},
		{"wrong service", r, exchangeForm("other.azurecr.io", acr), 400, "is not this registry"},
		{"wrong tenant parameter", r, func() url.Values {
			v := exchangeForm(r.Host, acr)
			v.Set("tenant", "11111111-2222-3333-4444-555555555555")
			return v
		}(), 401, "does not match"},
		{"foreign registry tenant", other, exchangeForm(other.Host, acr), 401, "not the registry's tenant"},
		{"grant type", r, func() url.Values { v := exchangeForm(r.Host, acr); v.Set("grant_type", "password"); return v }(), 400, "grant_type"},
		{"no token", r, func() url.Values { v := exchangeForm(r.Host, acr); v.Del("access_token"); return v }(), 400, "missing"},
	}
	for _, c := range cases {
		rr := f.regPost(t, c.reg.URL+"/oauth2/exchange", c.form)
		if rr.status != c.status || !strings.Contains(rr.message(), c.msg) {
			t.Errorf("%s: %d %q, want %d containing %q", c.name, rr.status, rr.message(), c.status, c.msg)
		}
		if strings.Contains(rr.message(), acr) {
			t.Errorf("%s: the error quotes the token", c.name)
		}
	}
	r.SetAADDisabled(true)
	if rr := f.regPost(t, r.URL+"/oauth2/exchange", exchangeForm(r.Host, acr)); rr.status != 401 || !strings.Contains(rr.message(), "disabled") {
		t.Fatalf("AAD disabled: %d %q", rr.status, rr.message())
	}
	r.SetAADDisabled(false)
	if rr := f.regPost(t, r.URL+"/oauth2/exchange", exchangeForm(r.Host, acr)); rr.status != 200 {
		t.Fatalf("AAD enabled again: %d %q", rr.status, rr.message())
	}
	if c := r.Counts(); c.Exchange != len(cases)+1 || c.ExchangeIssued != 1 {
		t.Fatalf("counts %+v", c)
	}
}

func TestRegistryRefreshTokenExpires(t *testing.T) {
	now := time.Now()
	clock := func() time.Time { return now }
	f := newFixture(t, Options{Now: func() time.Time { return clock() }})
	r := startRegistry(t, f, RegistryOptions{RefreshTokenLifetime: 10 * time.Minute})
	rr := f.regPost(t, r.URL+"/oauth2/exchange", exchangeForm(r.Host, f.entraToken(t, ACRResource+"/.default")))
	rt, _ := rr.body["refresh_token"].(string)
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}, "service": {r.Host}, "scope": {"repository:a:pull"}}
	if rr := f.regPost(t, r.URL+"/oauth2/token", form); rr.status != 200 {
		t.Fatalf("fresh refresh token: %d %v", rr.status, rr.body)
	}
	later := now.Add(11 * time.Minute)
	clock = func() time.Time { return later }
	if rr := f.regPost(t, r.URL+"/oauth2/token", form); rr.status != 401 || !strings.Contains(rr.message(), "expired") {
		t.Fatalf("expired refresh token: %d %q", rr.status, rr.message())
	}
}

// go-containerregistry, the client crane and ko are built on, pushes and pulls through
// the registry with the null-GUID user and a refresh token, and is refused without one.
func TestRegistryWithGoContainerRegistry(t *testing.T) {
	f := newFixture(t, Options{})
	r := startRegistry(t, f, RegistryOptions{})
	rr := f.regPost(t, r.URL+"/oauth2/exchange", exchangeForm(r.Host, f.entraToken(t, ACRResource+"/.default")))
	rt, _ := rr.body["refresh_token"].(string)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: f.e.CAPool}}
	ref, err := name.ParseReference(r.Host + "/team/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(512, 2)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	err = remote.Write(ref, img, remote.WithAuth(authn.Anonymous), remote.WithTransport(tr), remote.WithContext(ctx))
	var terr *transport.Error
	if !errors.As(err, &terr) || terr.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonymous push: %v, want 401", err)
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: ACRRefreshUser, Password: rt})
	if err := remote.Write(ref, img, remote.WithAuth(auth), remote.WithTransport(tr), remote.WithContext(ctx)); err != nil {
		t.Fatalf("push: %v", err)
	}
	got, err := remote.Image(ref, remote.WithAuth(authn.FromConfig(authn.AuthConfig{IdentityToken: rt})), remote.WithTransport(tr))
	if err != nil {
		t.Fatalf("pull: %v", err)
	}
	want, _ := img.Digest()
	have, err := got.Digest()
	if err != nil || have != want {
		t.Fatalf("pulled digest %v (%v), pushed %v", have, err, want)
	}
	if c := r.Counts(); c.TokenIssued < 2 || c.API == 0 {
		t.Fatalf("counts %+v", c)
	}
}

func TestParseRegistryScope(t *testing.T) {
	for _, c := range []struct {
		in      string
		typ     string
		name    string
		actions string
		ok      bool
	}{
		{"repository:team/app:pull,push", "repository", "team/app", "pull,push", true},
		{"registry:catalog:*", "registry", "catalog", "*", true},
		{"repository:app:", "", "", "", false},
		{"repository::pull", "", "", "", false},
		{"pull", "", "", "", false},
		{"repository:app:pull,,push", "", "", "", false},
	} {
		typ, n, acts, ok := parseRegistryScope(c.in)
		if ok != c.ok || typ != c.typ || n != c.name || strings.Join(acts, ",") != c.actions {
			t.Errorf("%q: %q %q %v %v", c.in, typ, n, acts, ok)
		}
	}
}
