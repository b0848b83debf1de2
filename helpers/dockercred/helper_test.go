package dockercred

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/docker/docker-credential-helpers/credentials"

	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/helpers/dockercred/acr"
	"github.com/entratool/entratool/internal/testkit"
)

const (
	tenantID     = testkit.TenantID
	clientID     = testkit.ClientID
	clientSecret = "test-secret-value"
)

// fixture is the emulator's Entra ID with an app (client secret) and an ACR registry.
type fixture struct {
	emu *emulator.Emulator
	reg *emulator.Registry
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	emu, err := emulator.Start(emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Secrets: []string{clientSecret}})
	reg, err := emu.StartRegistry(emulator.RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: emu, reg: reg}
}

// entraToken asks the emulator for a token with the client credentials grant: a real
// token endpoint answer, which the registry validates like any other.
func (f *fixture) entraToken(ctx context.Context, scope string) (string, error) {
	form := url.Values{"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {clientSecret}, "scope": {scope}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.emu.TokenEndpoint(tenantID), strings.NewReader(form.Encode()))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := f.emu.HTTPClient().Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
		Error       string `json:"error_description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", errors.New(body.Error)
	}
	return body.AccessToken, nil
}

// memBackend keeps profiles in memory and counts what the helper opens, so that the
// tests can tell that a registry nobody lists costs nothing beyond the profile list.
type memBackend struct {
	f        *fixture
	profiles []Profile
	margin   time.Duration

	mu        sync.Mutex
	loads     int
	accounts  int
	access    int
	exchanges int
	cache     map[string]RefreshToken
}

func (b *memBackend) Profiles() ([]Profile, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.loads++
	return b.profiles, nil
}

func (b *memBackend) Account(ctx context.Context, name string) (Account, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.accounts++
	if b.cache == nil {
		b.cache = map[string]RefreshToken{}
	}
	return &memAccount{b: b, profile: name}, nil
}

type memAccount struct {
	b       *memBackend
	profile string
}

// RefreshToken keeps refresh tokens in memory and makes new ones as the engine does:
// an Entra token from the emulator, traded at the registry's /oauth2/exchange.
func (a *memAccount) RefreshToken(ctx context.Context, registry, scope string) (RefreshToken, error) {
	k := a.profile + "|" + registry + "|" + scope
	a.b.mu.Lock()
	rt, ok := a.b.cache[k]
	tenant := ""
	for _, p := range a.b.profiles {
		if p.Name == a.profile {
			tenant = p.TenantID
		}
	}
	a.b.mu.Unlock()
	if ok && time.Until(rt.ExpiresOn) > a.b.margin {
		return rt, nil
	}
	a.b.mu.Lock()
	a.b.access++
	a.b.mu.Unlock()
	at, err := a.b.f.entraToken(ctx, scope)
	if err != nil {
		return RefreshToken{}, fmt.Errorf("Entra ID token for %s: %w", scope, err)
	}
	r, err := acr.Exchange(ctx, a.b.f.emu.HTTPClient(), registry, tenant, at)
	if err != nil {
		return RefreshToken{}, err
	}
	rt = RefreshToken{Token: r.Token, ExpiresOn: r.ExpiresOn}
	a.b.mu.Lock()
	a.b.exchanges++
	a.b.cache[k] = rt
	a.b.mu.Unlock()
	return rt, nil
}

func (a *memAccount) ForgetRefreshToken(ctx context.Context, registry, scope string) error {
	a.b.mu.Lock()
	defer a.b.mu.Unlock()
	delete(a.b.cache, a.profile+"|"+registry+"|"+scope)
	return nil
}

func (f *fixture) helper(b *memBackend, env map[string]string) *Helper {
	b.f = f
	if b.margin == 0 {
		b.margin = 5 * time.Minute
	}
	return &Helper{
		Backend: b,
		Getenv:  func(k string) string { return env[k] },
		Version: func() string { return "v1.2.3-test" },
	}
}

// handle runs one action through docker-credential-helpers' own HandleCommand.
func handle(t *testing.T, h *Helper, action, stdin string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := credentials.HandleCommand(h.For(context.Background()), action, strings.NewReader(stdin), &out)
	return out.String(), err
}

func TestGetThroughHandleCommand(t *testing.T) {
	f := newFixture(t)
	b := &memBackend{profiles: []Profile{{Name: "ci", TenantID: tenantID, Registries: []string{"myreg.azurecr.io", f.reg.Host}}}}
	h := f.helper(b, nil)

	out, err := handle(t, h, "get", f.reg.Host+"\n")
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	var c credentials.Credentials
	if err := json.Unmarshal([]byte(out), &c); err != nil {
		t.Fatalf("get printed %q: %v", out, err)
	}
	if c.ServerURL != f.reg.Host || c.Username != NullUser || c.Secret == "" {
		t.Fatalf("credentials %+v", c)
	}
	exp, ok := acr.JWTExpiry(c.Secret)
	if !ok || time.Until(exp) < 170*time.Minute {
		t.Fatalf("refresh token expiry %v %v, want about 3h ahead", exp, ok)
	}
	if rc := f.reg.Counts(); rc.Exchange != 1 || rc.ExchangeIssued != 1 {
		t.Fatalf("registry counts %+v", rc)
	}

	// The answer is a refresh token the registry honours: it buys an access token.
	form := url.Values{"grant_type": {"refresh_token"}, "refresh_token": {c.Secret}, "service": {f.reg.Host}, "scope": {"repository:app:pull"}}
	resp, err := f.emu.HTTPClient().PostForm(f.reg.URL+"/oauth2/token", form)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("registry refused the helper's refresh token: %d", resp.StatusCode)
	}

	// Every spelling of the same registry is served from the cache: no Entra token, no exchange.
	for _, in := range []string{"https://" + f.reg.Host + "/v2/", f.reg.Host + "/team/app", strings.ToUpper("https://" + f.reg.Host)} {
		out, err := handle(t, h, "get", in)
		if err != nil {
			t.Fatalf("get %q: %v", in, err)
		}
		var again credentials.Credentials
		json.Unmarshal([]byte(out), &again)
		if again.Secret != c.Secret || again.ServerURL != in {
			t.Fatalf("get %q: %+v", in, again)
		}
	}
	if b.exchanges != 1 || b.access != 1 || f.reg.Counts().Exchange != 1 {
		t.Fatalf("cached gets made requests: exchanges %d, entra %d, registry %+v", b.exchanges, b.access, f.reg.Counts())
	}

	// erase (docker logout) forgets it; the next get exchanges again.
	if _, err := handle(t, h, "erase", f.reg.Host); err != nil {
		t.Fatalf("erase: %v", err)
	}
	if _, err := handle(t, h, "get", f.reg.Host); err != nil {
		t.Fatalf("get after erase: %v", err)
	}
	if b.exchanges != 2 || f.reg.Counts().Exchange != 2 {
		t.Fatalf("get after erase did not exchange: %d", b.exchanges)
	}
}

func TestUnservedRegistriesCostNothing(t *testing.T) {
	f := newFixture(t)
	b := &memBackend{profiles: []Profile{{Name: "ci", TenantID: tenantID, Registries: []string{"myreg.azurecr.io"}}}}
	h := f.helper(b, nil)
	for _, in := range []string{"index.docker.io", "https://index.docker.io/v1/", "myreg.azurecr.io.evil.com", "evil-myreg.azurecr.io",
		"myreg.azurecr.io:5000", "http://myreg.azurecr.io", "ghcr.io/owner/image", "not a host", "https://user@myreg.azurecr.io/"} {
		for _, action := range []string{"get", "erase"} {
			_, err := handle(t, h, action, in)
			if !credentials.IsErrCredentialsNotFound(err) || err.Error() != "credentials not found in native keychain" {
				t.Errorf("%s %q: %v, want credentials not found", action, in, err)
			}
		}
	}
	if b.accounts != 0 || b.access != 0 || f.reg.Counts().Exchange != 0 {
		t.Fatalf("unserved registries opened %d accounts, %d token requests, registry %+v", b.accounts, b.access, f.reg.Counts())
	}
}

// Run is the process: stdout carries answers and errors, exit 1 on error.
func TestRunAsDockerSeesIt(t *testing.T) {
	f := newFixture(t)
	b := &memBackend{profiles: []Profile{
		{Name: "a", TenantID: tenantID, Registries: []string{"myreg.azurecr.io", f.reg.Host}},
		{Name: "b", TenantID: tenantID, Registries: []string{"other.azurecr.io:5000"}},
	}}
	h := f.helper(b, nil)
	run := func(stdin string, args ...string) (string, int) {
		var out bytes.Buffer
		code := Run(context.Background(), h, args, strings.NewReader(stdin), &out)
		return out.String(), code
	}
	if out, code := run("docker.io\n", "get"); code != 1 || out != "credentials not found in native keychain\n" {
		t.Fatalf("unserved get: %d %q", code, out)
	}
	if out, code := run("", "get"); code != 1 || strings.TrimSpace(out) != "no credentials server URL" {
		t.Fatalf("empty get: %d %q", code, out)
	}
	out, code := run("", "list")
	var list map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &list) != nil {
		t.Fatalf("list: %d %q", code, out)
	}
	want := map[string]string{"myreg.azurecr.io": NullUser, f.reg.Host: NullUser, "other.azurecr.io:5000": NullUser}
	if fmt.Sprint(list) != fmt.Sprint(want) {
		t.Fatalf("list %v, want %v", list, want)
	}
	out, code = run(`{"ServerURL":"myreg.azurecr.io","Username":"u","Secret":"p"}`, "store")
	if code != 1 || !strings.Contains(out, "does not store credentials") || strings.Count(out, "\n") != 1 || strings.Contains(out, `"p"`) {
		t.Fatalf("store: %d %q", code, out)
	}
	if out, code := run("", "version"); code != 0 || out != "docker-credential-entra (github.com/entratool/entratool) v1.2.3-test\n" {
		t.Fatalf("version: %d %q", code, out)
	}
	if out, code := run(""); code != 1 || strings.TrimSpace(out) != Usage {
		t.Fatalf("no action: %d %q", code, out)
	}
	if out, code := run("", "fetch"); code != 1 || !strings.Contains(out, `unknown action "fetch"`) {
		t.Fatalf("unknown action: %d %q", code, out)
	}
	out, code = run(f.reg.Host, "get")
	if code != 0 || !strings.Contains(out, `"Username":"`+NullUser+`"`) {
		t.Fatalf("served get: %d %q", code, out)
	}
}

func TestEntratoolProfileLimitsTheHelper(t *testing.T) {
	f := newFixture(t)
	b := &memBackend{profiles: []Profile{
		{Name: "first", TenantID: tenantID, Registries: []string{"shared.azurecr.io"}},
		{Name: "second", TenantID: tenantID, Registries: []string{"shared.azurecr.io", "only2.azurecr.io"}},
	}}
	s := f.helper(b, nil).For(context.Background()).(*session)
	if _, p, err := s.resolve("shared.azurecr.io"); err != nil || p.Name != "first" {
		t.Fatalf("first match: %v %v", p, err)
	}
	s = f.helper(b, map[string]string{"ENTRATOOL_PROFILE": "second"}).For(context.Background()).(*session)
	if _, p, err := s.resolve("shared.azurecr.io"); err != nil || p.Name != "second" {
		t.Fatalf("ENTRATOOL_PROFILE=second: %v %v", p, err)
	}
	s = f.helper(b, map[string]string{"ENTRATOOL_PROFILE": "first"}).For(context.Background()).(*session)
	if _, _, err := s.resolve("only2.azurecr.io"); !credentials.IsErrCredentialsNotFound(err) {
		t.Fatalf("registry of another profile with ENTRATOOL_PROFILE=first: %v", err)
	}
	s = f.helper(b, map[string]string{"ENTRATOOL_PROFILE": "nope"}).For(context.Background()).(*session)
	if _, _, err := s.resolve("shared.azurecr.io"); err == nil || !strings.Contains(err.Error(), `ENTRATOOL_PROFILE names profile "nope"`) {
		t.Fatalf("unknown ENTRATOOL_PROFILE: %v", err)
	}
}

// The registry's refusals come back as one line that says what to check.
func TestGetErrorsAreOneClearLine(t *testing.T) {
	f := newFixture(t)
	closed, err := f.emu.StartRegistry(emulator.RegistryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	closedHost := closed.Host
	closed.Close()
	authority := strings.TrimPrefix(f.emu.URL, "https://")
	b := &memBackend{profiles: []Profile{
		{Name: "ok", TenantID: tenantID, Registries: []string{f.reg.Host}},
		{Name: "down", TenantID: tenantID, Registries: []string{closedHost}},
		{Name: "notacr", TenantID: tenantID, Registries: []string{authority}},
		{Name: "graph", TenantID: tenantID, Registries: []string{"placeholder"}, Scope: "https://graph.microsoft.com/.default"},
	}}
	h := f.helper(b, nil)
	f.reg.SetAADDisabled(true)
	if _, err := handle(t, h, "get", f.reg.Host); err == nil || !strings.Contains(err.Error(), "refused the Entra ID token (401 UNAUTHORIZED: Azure AD authentication is disabled") ||
		!strings.Contains(err.Error(), "profile ok, registry "+f.reg.Host) {
		t.Fatalf("AAD disabled: %v", err)
	}
	f.reg.SetAADDisabled(false)
	if _, err := handle(t, h, "get", closedHost); err == nil || !strings.Contains(err.Error(), "registry "+closedHost+" unreachable") {
		t.Fatalf("unreachable: %v", err)
	}
	if _, err := handle(t, h, "get", authority); err == nil || !strings.Contains(err.Error(), "no Azure Container Registry token exchange (404") {
		t.Fatalf("not an ACR: %v", err)
	}
	// A token for the wrong audience (acrScope pointing elsewhere) is refused by the registry.
	b.profiles[3].Registries = []string{f.reg.Host}
	b.profiles = b.profiles[3:]
	_, err = handle(t, h, "get", f.reg.Host)
	if err == nil || !strings.Contains(err.Error(), "refused the Entra ID token (401") || !strings.Contains(err.Error(), "acrScope") {
		t.Fatalf("wrong audience: %v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Fatalf("multi-line error: %q", err)
	}
}
