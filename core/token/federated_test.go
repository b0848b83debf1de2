package token

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/internal/testkit"
)

const testScope = "https://graph.microsoft.com/.default"

// fakeJWT is an unsigned token with the claims a workload's OIDC issuer would put in it.
func fakeJWT(iss, sub string) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." +
		enc(map[string]any{"iss": iss, "sub": sub, "aud": profile.DefaultFederatedAudience, "exp": time.Now().Add(time.Hour).Unix()}) + ".c2ln"
}

// assertionAuthority is a tenant whose token endpoint accepts any client assertion of
// the jwt-bearer type and records it; answer, when set, replaces the token answer.
type assertionAuthority struct {
	*tenantServer
	mu         sync.Mutex
	assertions []string
	forms      []url.Values
	tokens     atomic.Int32
	answer     func(w http.ResponseWriter) bool
}

func newAssertionAuthority(t *testing.T) *assertionAuthority {
	a := &assertionAuthority{}
	a.tenantServer = newTenantServer(t, nil, func(w http.ResponseWriter, r *http.Request) {
		a.tokens.Add(1)
		r.ParseForm()
		a.mu.Lock()
		a.assertions = append(a.assertions, r.PostForm.Get("client_assertion"))
		a.forms = append(a.forms, r.PostForm)
		a.mu.Unlock()
		if a.answer != nil && a.answer(w) {
			return
		}
		if r.PostForm.Get("client_assertion") == "" && r.PostForm.Get("client_secret") == "" {
			http.Error(w, `{"error":"invalid_client"}`, http.StatusBadRequest)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"token_type":"Bearer","expires_in":3599,"access_token":"at-%d"}`, a.tokens.Load())
	})
	return a
}

func (a *assertionAuthority) last() (string, url.Values) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.assertions) == 0 {
		return "", nil
	}
	return a.assertions[len(a.assertions)-1], a.forms[len(a.forms)-1]
}

// federatedProvider wires the real pipeline for a federated profile against a.
func federatedProvider(t *testing.T, a *assertionAuthority, home string, env map[string]string, edit func(p *profile.Profile)) *Provider {
	t.Helper()
	p := &profile.Profile{Name: "wi", ClientID: testkit.ClientID, TenantID: testkit.TenantID, AuthorityHost: a.URL}
	p.SetMethod(profile.MethodFederated)
	edit(p)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return NewProvider(p, Options{Home: home, Getenv: func(k string) string { return env[k] },
		HTTPClient: NewHTTPClient(HTTPOptions{Base: a.Client().Transport})})
}

// AKS rotates the projected token: the file is read at every fetch, a cache hit does
// not read it, and what is sent is the file's trimmed content.
func TestFederatedTokenFileIsReadAtEveryFetch(t *testing.T) {
	a := newAssertionAuthority(t)
	file := filepath.Join(t.TempDir(), "azure-identity-token")
	first, second := fakeJWT("https://oidc.aks.example/1", "system:serviceaccount:ns:a"), fakeJWT("https://oidc.aks.example/1", "system:serviceaccount:ns:b")
	os.WriteFile(file, []byte(first+"\n"), 0o644)
	pr := federatedProvider(t, a, t.TempDir(), nil, func(p *profile.Profile) { p.FederatedTokenFile = file })
	ctx := context.Background()

	tok, credID, err := pr.TokenWithCredential(ctx, testScope, false)
	if err != nil {
		t.Fatal(err)
	}
	got, form := a.last()
	if got != first || form.Get("client_assertion_type") != "urn:ietf:params:oauth:client-assertion-type:jwt-bearer" || credID != "fic:file:"+file {
		t.Fatalf("assertion %q, type %q, credential %q", got, form.Get("client_assertion_type"), credID)
	}
	if tok.ClientID != testkit.ClientID || tok.TenantID != testkit.TenantID {
		t.Fatalf("token %+v", tok)
	}
	// A hit needs no file.
	os.Remove(file)
	if tok2, err := pr.Token(ctx, testScope, false); err != nil || tok2.AccessToken != tok.AccessToken || a.tokens.Load() != 1 {
		t.Fatalf("cache hit: %v, %v after %d token requests", tok2, err, a.tokens.Load())
	}
	// The rotated file is what the next fetch sends.
	os.WriteFile(file, []byte("  "+second+"\r\n"), 0o644)
	if _, err := pr.Token(ctx, testScope, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := a.last(); got != second {
		t.Fatalf("after rotation sent %q", got)
	}
}

// A token file that cannot be used is one line naming the file, and never its content;
// no token request is made.
func TestFederatedTokenFileFaults(t *testing.T) {
	dir := t.TempDir()
	const bad = "eyJhbGciOiJSUzI1NiJ9.e30.sig\x1b]0;x"
	os.WriteFile(filepath.Join(dir, "empty"), []byte(" \n"), 0o644)
	os.WriteFile(filepath.Join(dir, "bad"), []byte(bad), 0o644)
	os.WriteFile(filepath.Join(dir, "huge"), []byte(strings.Repeat("a", 1<<20)), 0o644)
	for _, c := range []struct{ file, want string }{
		{filepath.Join(dir, "missing"), "does not exist"},
		{filepath.Join(dir, "empty"), "is empty"},
		{filepath.Join(dir, "bad"), "not a JWT"},
		{filepath.Join(dir, "huge"), "larger than"},
		{dir, "not a regular file"},
	} {
		a := newAssertionAuthority(t)
		pr := federatedProvider(t, a, t.TempDir(), nil, func(p *profile.Profile) { p.FederatedTokenFile = c.file })
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		start := time.Now()
		_, err := pr.Token(ctx, testScope, false)
		cancel()
		if err == nil {
			t.Fatalf("%s: no error", c.file)
		}
		msg := err.Error()
		if !strings.Contains(msg, c.file) || !strings.Contains(msg, c.want) || strings.Contains(msg, "\n") || strings.Contains(msg, "sig") || time.Since(start) > 2*time.Second {
			t.Errorf("%s: %q after %v", c.file, msg, time.Since(start))
		}
		if n := a.tokens.Load(); n != 0 {
			t.Errorf("%s: %d token requests", c.file, n)
		}
	}
}

// githubIDTokenServer is GitHub's ID token endpoint: GET with the request token, the
// audience in the query, the token in "value".
type githubIDTokenServer struct {
	*httptest.Server
	hits      atomic.Int32
	audiences chan string
	fail      func(w http.ResponseWriter, n int32) bool
	token     string
}

const ghRequestToken = "ghs_RequestTokenNeverPrinted"

func newGitHubIDTokenServer(t *testing.T, token string) *githubIDTokenServer {
	g := &githubIDTokenServer{audiences: make(chan string, 100), token: token}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := g.hits.Add(1)
		if r.Method != http.MethodGet || r.Header.Get("Authorization") != "bearer "+ghRequestToken || r.URL.Query().Get("api-version") != "2.0" {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		g.audiences <- r.URL.Query().Get("audience")
		if g.fail != nil && g.fail(w, n) {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"count": 1, "value": g.token})
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *githubIDTokenServer) env() map[string]string {
	return map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": g.URL + "/_apis/token?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": ghRequestToken}
}

func TestGitHubActionsToken(t *testing.T) {
	idt := fakeJWT("https://token.actions.githubusercontent.com", "repo:octo/app:ref:refs/heads/main")
	g := newGitHubIDTokenServer(t, idt)
	a := newAssertionAuthority(t)
	for _, aud := range []string{"", "api://custom"} {
		pr := federatedProvider(t, a, t.TempDir(), g.env(), func(p *profile.Profile) {
			p.FederatedTokenSource, p.FederatedAudience = profile.SourceGitHubActions, aud
		})
		if _, err := pr.Token(context.Background(), testScope, false); err != nil {
			t.Fatal(err)
		}
		want := aud
		if want == "" {
			want = profile.DefaultFederatedAudience
		}
		if got := <-g.audiences; got != want {
			t.Fatalf("audience %q, want %q", got, want)
		}
		if got, _ := a.last(); got != idt {
			t.Fatalf("assertion %q", got)
		}
	}
}

// Without the variables GitHub sets for `permissions: id-token: write`, one line says so.
func TestGitHubActionsWithoutPermission(t *testing.T) {
	a := newAssertionAuthority(t)
	pr := federatedProvider(t, a, t.TempDir(), nil, func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceGitHubActions })
	_, err := pr.Token(context.Background(), testScope, false)
	if err == nil || !strings.Contains(err.Error(), "ACTIONS_ID_TOKEN_REQUEST_URL") || !strings.Contains(err.Error(), "id-token: write") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("err %v", err)
	}
	if a.tokens.Load() != 0 {
		t.Fatal("a token request was made")
	}
}

// The ID token request follows the retry rules: 5xx retried, 401 not; errors name the
// endpoint and never carry the request token or the ID token.
func TestGitHubActionsRetriesAndErrors(t *testing.T) {
	idt := fakeJWT("https://token.actions.githubusercontent.com", "repo:octo/app:ref:refs/heads/main")
	g := newGitHubIDTokenServer(t, idt)
	g.fail = func(w http.ResponseWriter, n int32) bool {
		if n == 1 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return true
		}
		return false
	}
	a := newAssertionAuthority(t)
	pr := federatedProvider(t, a, t.TempDir(), g.env(), func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceGitHubActions })
	if _, err := pr.Token(context.Background(), testScope, false); err != nil || g.hits.Load() != 2 {
		t.Fatalf("%v after %d ID token requests", err, g.hits.Load())
	}

	env := g.env()
	env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "wrong"
	g.hits.Store(0)
	pr = federatedProvider(t, a, t.TempDir(), env, func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceGitHubActions })
	_, err := pr.Token(context.Background(), testScope, false)
	var hs HTTPStatusError
	if err == nil || !errors.As(err, &hs) || hs.HTTPStatus() != 401 || g.hits.Load() != 1 {
		t.Fatalf("%v after %d requests", err, g.hits.Load())
	}
	msg := err.Error()
	if !strings.Contains(msg, "GitHub Actions") || !strings.Contains(msg, "HTTP 401") || !strings.Contains(msg, "Bad credentials") || strings.Contains(msg, "wrong") || strings.Contains(msg, "\n") {
		t.Fatalf("message %q", msg)
	}

	// A token that is not a JWT's characters is refused without printing it.
	g.fail, g.token = nil, "evil\x1b[2J token"
	pr = federatedProvider(t, a, t.TempDir(), g.env(), func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceGitHubActions })
	before := a.tokens.Load()
	_, err = pr.Token(context.Background(), testScope, false)
	if err == nil || strings.Contains(err.Error(), "evil") || !strings.Contains(err.Error(), "GitHub Actions") || a.tokens.Load() != before {
		t.Fatalf("bad ID token: %v", err)
	}
}

// A redirect from the ID token endpoint is never followed (the request token would go
// with it).
func TestGitHubActionsRefusesRedirects(t *testing.T) {
	var stolen atomic.Int32
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { stolen.Add(1) }))
	defer target.Close()
	from := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target.URL+"/x", http.StatusTemporaryRedirect)
	}))
	defer from.Close()
	a := newAssertionAuthority(t)
	env := map[string]string{"ACTIONS_ID_TOKEN_REQUEST_URL": from.URL + "/?api-version=2.0", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": ghRequestToken}
	pr := federatedProvider(t, a, t.TempDir(), env, func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceGitHubActions })
	_, err := pr.Token(context.Background(), testScope, false)
	var re *RedirectError
	if !errors.As(err, &re) || stolen.Load() != 0 || !strings.Contains(err.Error(), "ACTIONS_ID_TOKEN_REQUEST_URL") {
		t.Fatalf("err %v, %d requests to the target", err, stolen.Load())
	}
}

func TestAzurePipelinesToken(t *testing.T) {
	idt := fakeJWT("https://vstoken.dev.azure.com/org", "sc://org/proj/conn")
	var got sync.Map
	ado := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Method != http.MethodPost || r.Header.Get("Authorization") != "Bearer ado-access-token" ||
			r.Header.Get("Content-Type") != "application/json" || q.Get("api-version") != "7.1" {
			http.Error(w, "no", http.StatusUnauthorized)
			return
		}
		got.Store("sc", q.Get("serviceConnectionId"))
		json.NewEncoder(w).Encode(map[string]string{"oidcToken": idt})
	}))
	defer ado.Close()
	a := newAssertionAuthority(t)
	env := map[string]string{"SYSTEM_OIDCREQUESTURI": ado.URL + "/org/proj/_apis/distributedtask/hubs/build/plans/p/jobs/j/oidctoken", "SYSTEM_ACCESSTOKEN": "ado-access-token",
		"AZURESUBSCRIPTION_SERVICE_CONNECTION_ID": "from-env"}
	for _, c := range []struct{ profileID, want string }{{"from-profile", "from-profile"}, {"", "from-env"}} {
		pr := federatedProvider(t, a, t.TempDir(), env, func(p *profile.Profile) {
			p.FederatedTokenSource, p.ServiceConnectionID = profile.SourceAzurePipelines, c.profileID
		})
		if _, err := pr.Token(context.Background(), testScope, false); err != nil {
			t.Fatal(err)
		}
		if sc, _ := got.Load("sc"); sc != c.want {
			t.Fatalf("serviceConnectionId %v, want %s", sc, c.want)
		}
		if as, _ := a.last(); as != idt {
			t.Fatalf("assertion %q", as)
		}
	}
	// Missing variables are named.
	delete(env, "SYSTEM_ACCESSTOKEN")
	delete(env, "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID")
	pr := federatedProvider(t, a, t.TempDir(), env, func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceAzurePipelines })
	_, err := pr.Token(context.Background(), testScope, false)
	if err == nil || !strings.Contains(err.Error(), "SYSTEM_ACCESSTOKEN") || !strings.Contains(err.Error(), "AZURESUBSCRIPTION_SERVICE_CONNECTION_ID") {
		t.Fatalf("err %v", err)
	}
}

// AADSTS70021: the error names the presented token's issuer and subject (never the
// token) and says where to compare them.
func TestNoMatchingFederatedCredentialHint(t *testing.T) {
	idt := fakeJWT("https://token.actions.githubusercontent.com", "repo:octo/app:pull_request")
	g := newGitHubIDTokenServer(t, idt)
	a := newAssertionAuthority(t)
	a.answer = func(w http.ResponseWriter) bool {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error":"invalid_client","error_description":"AADSTS70021: No matching federated identity record found for presented assertion. Trace ID: x","error_codes":[70021]}`)
		return true
	}
	pr := federatedProvider(t, a, t.TempDir(), g.env(), func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceGitHubActions })
	_, err := pr.Token(context.Background(), testScope, false)
	var ee *EntraError
	if !errors.As(err, &ee) || ee.Code != 70021 {
		t.Fatalf("err %v", err)
	}
	msg := err.Error()
	for _, want := range []string{"https://token.actions.githubusercontent.com", "repo:octo/app:pull_request", "Federated credentials"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if strings.Contains(msg, idt) || strings.Contains(msg, "c2ln") || strings.Contains(msg, "\n") {
		t.Fatalf("message %q", msg)
	}
	if g.hits.Load() != 1 || a.tokens.Load() != 1 {
		t.Fatalf("a refusal was retried: %d ID token and %d token requests", g.hits.Load(), a.tokens.Load())
	}
}

// 32 cold processes (each its own provider and lock file handle) make one token request
// and one ID token request between them: the external token is fetched inside the lock.
func TestFederatedSingleFlight(t *testing.T) {
	idt := fakeJWT("https://token.actions.githubusercontent.com", "repo:octo/app:ref:refs/heads/main")
	g := newGitHubIDTokenServer(t, idt)
	a := newAssertionAuthority(t)
	home := t.TempDir()
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	tokens := make(chan string, n)
	for i := 0; i < n; i++ {
		pr := federatedProvider(t, a, home, g.env(), func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceGitHubActions })
		wg.Add(1)
		go func() {
			defer wg.Done()
			tok, err := pr.Token(context.Background(), testScope, false)
			if err != nil {
				errs <- err
				return
			}
			tokens <- tok.AccessToken
		}()
	}
	wg.Wait()
	close(errs)
	close(tokens)
	for err := range errs {
		t.Fatal(err)
	}
	for tok := range tokens {
		if tok != "at-1" {
			t.Fatalf("token %q", tok)
		}
	}
	if a.tokens.Load() != 1 || g.hits.Load() != 1 {
		t.Fatalf("%d token requests, %d ID token requests", a.tokens.Load(), g.hits.Load())
	}
}

// The env profile's secrets are the environment's: never the store's, never prompted.
func TestEnvProfileSecretFromEnvironment(t *testing.T) {
	a := newAssertionAuthority(t)
	env := map[string]string{profile.EnvAzureTenantID: testkit.TenantID, profile.EnvAzureClientID: testkit.ClientID,
		profile.EnvAzureClientSecret: "From-The-Environment", profile.EnvAzureAuthorityHost: a.URL,
		"ENTRATOOL_SECRET_STORE": "env", secret.EnvClientSecret: "From-The-Store"}
	getenv := func(k string) string { return env[k] }
	p, err := profile.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	prompted := false
	pr := NewProvider(p, Options{Home: t.TempDir(), Getenv: getenv, HTTPClient: NewHTTPClient(HTTPOptions{Base: a.Client().Transport}),
		Prompt: func(context.Context, *profile.Profile, string) (string, error) { prompted = true; return "typed", nil }})
	if _, err := pr.Token(context.Background(), testScope, false); err != nil {
		t.Fatal(err)
	}
	if _, form := a.last(); form.Get("client_secret") != "From-The-Environment" || prompted {
		t.Fatalf("client_secret %q, prompted %v", form.Get("client_secret"), prompted)
	}
}

// The env profile's certificate password is AZURE_CLIENT_CERTIFICATE_PASSWORD, and
// AZURE_CLIENT_SEND_CERTIFICATE_CHAIN puts the chain in the assertion (x5c).
func TestEnvProfileCertificateFromEnvironment(t *testing.T) {
	a := newAssertionAuthority(t)
	c, err := cert.Create(cert.CreateOptions{Subject: "CN=env", Days: 60, KeySize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	pfx := filepath.Join(t.TempDir(), "c.pfx")
	if err := cert.WritePFX(pfx, c, "Pfx-Pass-1"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{profile.EnvAzureTenantID: testkit.TenantID, profile.EnvAzureClientID: testkit.ClientID,
		profile.EnvAzureCertPath: pfx, profile.EnvAzureCertPassword: "Pfx-Pass-1", profile.EnvAzureSendChain: "true",
		profile.EnvAzureAuthorityHost: a.URL, "ENTRATOOL_SECRET_STORE": "env", secret.EnvCertPassword: "wrong"}
	getenv := func(k string) string { return env[k] }
	p, err := profile.FromEnv(getenv)
	if err != nil {
		t.Fatal(err)
	}
	pr := NewProvider(p, Options{Home: t.TempDir(), Getenv: getenv, HTTPClient: NewHTTPClient(HTTPOptions{Base: a.Client().Transport})})
	if _, err := pr.Token(context.Background(), testScope, false); err != nil {
		t.Fatal(err)
	}
	as, _ := a.last()
	hdr, err := base64.RawURLEncoding.DecodeString(strings.Split(as, ".")[0])
	if err != nil || !strings.Contains(string(hdr), `"x5c"`) {
		t.Fatalf("assertion header %s, %v", hdr, err)
	}
	// A wrong password in the environment is not prompted for.
	env[profile.EnvAzureCertPassword] = "nope"
	pr = NewProvider(p, Options{Home: t.TempDir(), Getenv: getenv, HTTPClient: NewHTTPClient(HTTPOptions{Base: a.Client().Transport}),
		Prompt: func(context.Context, *profile.Profile, string) (string, error) { t.Fatal("prompted"); return "", nil }})
	if _, err := pr.Token(context.Background(), testScope, false); err == nil || !strings.Contains(err.Error(), profile.EnvAzureCertPassword) {
		t.Fatalf("wrong password: %v", err)
	}
}

// The fronts spell the client secret's slot without core/secret: it must stay the one
// the secret store uses.
func TestClientSecretSlotIsTheStoreKey(t *testing.T) {
	p := &profile.Profile{Name: "prod"}
	if got, want := tokencache.ClientSecretSlot(p), secret.Key(p.Name, secret.ClientSecret); got != want {
		t.Fatalf("slot %q, store key %q", got, want)
	}
}
