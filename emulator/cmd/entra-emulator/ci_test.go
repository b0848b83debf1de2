package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"
	mi "github.com/AzureAD/microsoft-authentication-library-for-go/apps/managedidentity"

	"github.com/entratool/entratool/internal/testkit"
)

// caClient trusts exactly the CA file the ready line names.
func caClient(t *testing.T, caFile string) *http.Client {
	t.Helper()
	pemData, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pemData) {
		t.Fatal("caFile holds no certificate")
	}
	return &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
}

func TestParseFederated(t *testing.T) {
	cases := []struct{ in, issuer, subject string }{
		{"local:system:serviceaccount:ns:sa", "local", "system:serviceaccount:ns:sa"},
		{"https://token.actions.githubusercontent.com:repo:contoso/app:ref:refs/heads/main", "https://token.actions.githubusercontent.com", "repo:contoso/app:ref:refs/heads/main"},
		{"https://127.0.0.1:8443:sub", "https://127.0.0.1:8443", "sub"},
		{"https://127.0.0.1:8443/oidc/x:sc://org/p/c", "https://127.0.0.1:8443/oidc/x", "sc://org/p/c"},
		{"https://vstoken.dev.azure.com/0b0b:sc://org/p/c", "https://vstoken.dev.azure.com/0b0b", "sc://org/p/c"},
		{"https://oidc.prod-aks.azure.com/t/u/:system:serviceaccount:default:wl", "https://oidc.prod-aks.azure.com/t/u/", "system:serviceaccount:default:wl"},
	}
	for _, c := range cases {
		iss, sub, err := parseFederated(c.in)
		if err != nil || iss != c.issuer || sub != c.subject {
			t.Errorf("parseFederated(%q) = %q, %q, %v; want %q, %q", c.in, iss, sub, err, c.issuer, c.subject)
		}
	}
	for _, bad := range []string{"local:", "https://issuer", "https://issuer/path", "http://issuer:sub", "issuer:sub", "https://:sub"} {
		if iss, sub, err := parseFederated(bad); err == nil {
			t.Errorf("parseFederated(%q) = %q, %q; want an error", bad, iss, sub)
		}
	}
}

// TestCredentialSources runs the command with every credential source and uses what the
// ready line announces as a CI job or an App Service app would: GitHub Actions and Azure
// Pipelines ID tokens exchanged through a federated credential with MSAL, and MSAL's
// managed identity client against the identity endpoint.
func TestCredentialSources(t *testing.T) {
	const (
		ghSub   = "repo:contoso/app:ref:refs/heads/main"
		scSub   = "sc://contoso/project/prod"
		conn    = "7f2b6a3e-1111-4222-8333-444455556666"
		uami    = "0e0e0e0e-1111-4222-8333-444455556666"
		fedApp  = "f1c0f1c0-1234-4234-8234-123456789abc"
		akSub   = "system:serviceaccount:default:workload"
		akAppID = "6dae42f8-4368-4678-94ff-3960e28e3630"
	)
	dir := t.TempDir()
	config := `[{"tenantId":"` + tenant + `","clientId":"` + fedApp + `","federated":[{"issuer":"local","subject":"` + akSub + `"}]}]`
	if err := os.WriteFile(filepath.Join(dir, "apps.json"), []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	env := func(name string) (string, bool) {
		if name == "AZDO_TOKEN" {
			return "system-access-token", true
		}
		return "", false
	}
	ctx, cancel := context.WithCancel(context.Background())
	var out, errOut testkit.Transcript
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{
			"--config", filepath.Join(dir, "apps.json"),
			"--federated", tenant + ":" + fedApp + ":local:" + ghSub,
			"--federated", tenant + ":" + fedApp + ":local:" + scSub,
			"--github-actions", ghSub,
			"--azure-pipelines", conn + "=" + scSub, "--azdo-access-token-env", "AZDO_TOKEN",
			"--managed-identity", "system", "--managed-identity", tenant + ":" + uami, "--identity-header", "the-header",
		}, &out, &errOut, env)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Error("run did not return")
		}
	})
	out.WaitFor("\n", 10*time.Second)
	var r Ready
	dec := json.NewDecoder(strings.NewReader(out.String()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("ready line %q: %v (stderr %s)", out.String(), err, errOut.String())
	}
	if r.GitHubTokenURL != r.IssuerURL+"/github/token?api-version=2.0" || len(r.GitHubRequestToken) < 32 ||
		r.AzDOOIDCURI != r.IssuerURL+"/azdo/oidctoken" || r.AzDOAccessToken != "" ||
		!strings.HasPrefix(r.IdentityEndpoint, "http://127.0.0.1:") || r.IdentityHeader != "the-header" ||
		len(r.ManagedIdentities) != 2 || !r.ManagedIdentities[0].System || r.ManagedIdentities[1] != (ReadyMIdent{TenantID: tenant, ClientID: uami}) ||
		len(r.Apps) != 1 || r.Apps[0].ClientID != fedApp {
		t.Fatalf("ready %+v", r)
	}
	httpClient := caClient(t, r.CAFile)
	fetch := func(method, u, auth, field string) string {
		t.Helper()
		req, _ := http.NewRequest(method, u, nil)
		req.Header.Set("Authorization", auth)
		resp, err := httpClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		var m map[string]string
		json.Unmarshal(body, &m)
		if resp.StatusCode != 200 || m[field] == "" {
			t.Fatalf("%s %s: %d %s", method, u, resp.StatusCode, body)
		}
		return m[field]
	}
	ghToken := fetch("GET", r.GitHubTokenURL+"&audience=api://AzureADTokenExchange", "bearer "+r.GitHubRequestToken, "value")
	azToken := fetch("POST", r.AzDOOIDCURI+"?api-version=7.1&serviceConnectionId="+conn, "Bearer system-access-token", "oidcToken")
	for name, tok := range map[string]string{"GitHub Actions": ghToken, "Azure Pipelines": azToken} {
		cred := confidential.NewCredFromAssertionCallback(func(context.Context, confidential.AssertionRequestOptions) (string, error) { return tok, nil })
		c, err := confidential.New(r.Authority+"/"+tenant, fedApp, cred, confidential.WithHTTPClient(httpClient), confidential.WithInstanceDiscovery(false))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.AcquireTokenByCredential(context.Background(), []string{akAppID + "/.default"}); err != nil {
			t.Fatalf("%s federated: %v", name, err)
		}
	}

	t.Setenv("IDENTITY_ENDPOINT", r.IdentityEndpoint)
	t.Setenv("IDENTITY_HEADER", r.IdentityHeader)
	for _, id := range []mi.ID{mi.SystemAssigned(), mi.UserAssignedClientID(uami)} {
		c, err := mi.New(id, mi.WithHTTPClient(httpClient), mi.WithRetryPolicyDisabled())
		if err != nil {
			t.Fatal(err)
		}
		// A resource unique to this run: MSAL's managed identity cache is per process.
		if _, err := c.AcquireToken(context.Background(), r.GraphURL); err != nil {
			t.Fatalf("managed identity %v: %v", id, err)
		}
	}
}
