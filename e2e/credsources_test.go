package e2e

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/emulator"
)

// SPEC §14: the credential sources where no certificate should exist, driven through
// the real binaries against the emulator's OIDC issuer, CI ID-token endpoints and
// managed-identity endpoint.

const (
	ghSubject   = "repo:contoso/app:ref:refs/heads/main"
	aksSubject  = "system:serviceaccount:apps:web"
	azdoSubject = "sc://contoso/project/deploy"
)

// federatedWorld registers the app with a federated credential for each subject.
func federatedWorld(t *testing.T, subjects ...string) *world {
	t.Helper()
	w := newWorld(t)
	var fcs []emulator.FederatedCredential
	for _, s := range subjects {
		fcs = append(fcs, emulator.FederatedCredential{Issuer: w.emu.IssuerURL, Subject: s})
	}
	w.emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, FederatedCredentials: fcs})
	return w
}

// tokenFile writes an ID token for subject to a file, as AKS mounts it.
func (w *world) tokenFile(subject string) string {
	w.t.Helper()
	tok, err := w.emu.MintIDToken(subject, profile.DefaultFederatedAudience, time.Hour)
	if err != nil {
		w.t.Fatal(err)
	}
	path := filepath.Join(w.dir, "azure-identity-token")
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		w.t.Fatal(err)
	}
	return path
}

func (w *world) federatedProfile(name string, set func(*profile.Profile)) {
	w.t.Helper()
	p := &profile.Profile{Name: name, Scope: graph}
	p.SetMethod(profile.MethodFederated)
	set(p)
	w.saveProfile(p, "")
}

// A token file (AKS workload identity): a token the emulator's resources accept, a hit
// the second time, and the file re-read on a forced refresh (a token for a subject the
// app does not trust then fails with AADSTS70021, naming iss and sub).
func TestFederatedTokenFile(t *testing.T) {
	w := federatedWorld(t, aksSubject)
	file := w.tokenFile(aksSubject)
	// Through the CLI's flags, as a user makes it.
	w.mustRun("", "entratool", "config", "create", "--name", "wi", "--client-id", clientID, "--tenant-id", tenantID,
		"--authority-host", w.emu.URL, "--federated-token-file", file, "--default")
	// 32 cold processes: one token request between them.
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			if _, errOut, code := w.run("", "entratool", "get-token"); code != 0 {
				t.Errorf("exit %d: %s", code, errOut)
			}
		})
	}
	wg.Wait()
	if n := w.emu.Counts().TokenIssued; n != 1 {
		t.Fatalf("32 cold processes: %d tokens issued", n)
	}
	tok := w.mustRun("", "entratool", "get-token")
	if c := w.claims(tok, "https://graph.microsoft.com"); c.AppID != clientID {
		t.Fatalf("claims %+v", c)
	}
	if again := w.mustRun("", "entratool", "get-token"); again != tok || w.emu.Counts().TokenIssued != 1 {
		t.Fatal("second call was not a cache hit")
	}
	// The file rotates (AKS does): a forced refresh reads it again.
	other, err := w.emu.MintIDToken("system:serviceaccount:apps:other", profile.DefaultFederatedAudience, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, []byte(other), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := w.run("", "entratool", "get-token", "--force-refresh")
	if code != 1 || out != "" || !strings.Contains(errOut, "AADSTS70021") || !strings.Contains(errOut, "system:serviceaccount:apps:other") ||
		!strings.Contains(errOut, w.emu.IssuerURL) || strings.Contains(errOut, other) {
		t.Fatalf("wrong subject: exit %d, stdout %q, stderr %s", code, out, errOut)
	}
	w.tokenFile(aksSubject)
	w.claims(w.mustRun("", "entratool", "get-token", "--force-refresh"), "https://graph.microsoft.com")
}

// GitHub Actions' and Azure Pipelines' ID-token endpoints: a token, a cache hit, and 32
// cold processes making one Entra request and one ID-token request between them.
func TestFederatedCIEndpoints(t *testing.T) {
	for _, source := range []string{profile.SourceGitHubActions, profile.SourceAzurePipelines} {
		t.Run(source, func(t *testing.T) {
			w := federatedWorld(t, ghSubject, azdoSubject)
			switch source {
			case profile.SourceGitHubActions:
				w.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = w.emu.GitHubActions("gh-request-token", ghSubject)
				w.env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "gh-request-token"
			default:
				w.env["SYSTEM_OIDCREQUESTURI"] = w.emu.AzurePipelines("azdo-access-token", map[string]string{"conn-1": azdoSubject})
				w.env["SYSTEM_ACCESSTOKEN"] = "azdo-access-token"
			}
			w.federatedProfile("ci", func(p *profile.Profile) {
				p.FederatedTokenSource = source
				if source == profile.SourceAzurePipelines {
					p.ServiceConnectionID = "conn-1"
				}
			})
			const n = 32
			outs := make([]string, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					out, errOut, code := w.run("", "entratool", "get-token", "-p", "ci")
					if code != 0 {
						t.Errorf("process %d: exit %d: %s", i, code, errOut)
					}
					outs[i] = out
				})
			}
			wg.Wait()
			c := w.emu.Counts()
			if c.TokenIssued != 1 || c.IDToken != 1 {
				t.Fatalf("%d cold processes: %d tokens issued, %d ID tokens; want 1 and 1", n, c.TokenIssued, c.IDToken)
			}
			for _, o := range outs {
				if o != outs[0] {
					t.Fatal("processes printed different tokens")
				}
			}
			w.claims(outs[0], "https://graph.microsoft.com")
			w.mustRun("", "entratool", "get-token", "-p", "ci")
			if c := w.emu.Counts(); c.TokenIssued != 1 || c.IDToken != 1 {
				t.Errorf("the next call was not a hit: %+v", c)
			}
			// A subject the app does not trust: AADSTS70021 naming it, no token.
			const untrusted = "repo:evil/app:ref:refs/heads/main"
			if source == profile.SourceGitHubActions {
				w.env["ACTIONS_ID_TOKEN_REQUEST_URL"] = w.emu.GitHubActions("gh-request-token", untrusted)
			} else {
				w.env["SYSTEM_OIDCREQUESTURI"] = w.emu.AzurePipelines("azdo-access-token", map[string]string{"conn-1": untrusted})
			}
			out, errOut, code := w.run("", "entratool", "get-token", "-p", "ci", "--force-refresh")
			if code != 1 || out != "" || !strings.Contains(errOut, "AADSTS70021") || !strings.Contains(errOut, untrusted) {
				t.Errorf("untrusted subject: exit %d, stdout %q, stderr %s", code, out, errOut)
			}
		})
	}
}

// Managed identity in the App Service protocol, system- and user-assigned: tokens,
// cache hits, and kubectl-exec-entra serving one.
func TestManagedIdentity(t *testing.T) {
	w := newWorld(t)
	const userID = "0d5c3b6e-1111-4222-8333-944445555666"
	w.env["IDENTITY_ENDPOINT"] = w.emu.ManagedIdentity("mi-header",
		emulator.ManagedIdentity{System: true, TenantID: tenantID}, emulator.ManagedIdentity{ClientID: userID, TenantID: tenantID})
	w.env["IDENTITY_HEADER"] = "mi-header"
	sys := &profile.Profile{Name: "sys", TenantID: tenantID, Scope: graph}
	sys.SetMethod(profile.MethodManagedIdentity)
	w.saveProfile(sys, "")
	user := &profile.Profile{Name: "user", Scope: graph}
	user.SetMethod(profile.MethodManagedIdentity)
	user.ManagedIdentityClientID = userID
	w.saveProfile(user, "")

	sysTok := w.mustRun("", "entratool", "get-token", "-p", "sys")
	userTok := w.mustRun("", "entratool", "get-token", "-p", "user")
	if c := w.claims(userTok, "https://graph.microsoft.com"); c.AppID != userID {
		t.Errorf("user-assigned token for %s", c.AppID)
	}
	if c := w.claims(sysTok, "https://graph.microsoft.com"); c.AppID == userID {
		t.Error("the system-assigned profile got the user-assigned identity's token")
	}
	before := w.emu.Counts().ManagedIdentity
	if again := w.mustRun("", "entratool", "get-token", "-p", "user"); again != userTok || w.emu.Counts().ManagedIdentity != before {
		t.Error("second call was not a cache hit")
	}
	// kubectl's exec plugin, with the AKS server id as resource.
	out := w.mustRun("", "kubectl-exec-entra", "--profile", "user")
	if !strings.Contains(out, `"token":"`) {
		t.Fatalf("ExecCredential: %s", out)
	}
	// A cluster of its own: the token is for the AKS server application.
	if c := w.emu.Counts().ManagedIdentity; c != before+1 {
		t.Errorf("kubectl-exec-entra: %d identity requests, want 1", c-before)
	}
}

// The env profile: implicit with no stored profile, explicit (-p env) beside stored
// ones, for the secret, certificate and federated-file variants, in get-token and
// kubectl-exec-entra; a stored profile cannot be named env.
func TestEnvProfile(t *testing.T) {
	w := newWorld(t)
	cf := w.newCert("envcert", "cert-pw")
	w.emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID, Certificates: []*x509.Certificate{cf.leaf},
		FederatedCredentials: []emulator.FederatedCredential{{Issuer: w.emu.IssuerURL, Subject: aksSubject}}, Secrets: []string{"the-secret"}})
	file := w.tokenFile(aksSubject)
	base := map[string]string{"AZURE_TENANT_ID": tenantID, "AZURE_CLIENT_ID": clientID, "AZURE_AUTHORITY_HOST": w.emu.URL}
	for k, v := range base {
		w.env[k] = v
	}
	variants := map[string]map[string]string{
		"secret":      {"AZURE_CLIENT_SECRET": "the-secret"},
		"certificate": {"AZURE_CLIENT_CERTIFICATE_PATH": cf.pfx, "AZURE_CLIENT_CERTIFICATE_PASSWORD": "cert-pw"},
		"federated":   {"AZURE_FEDERATED_TOKEN_FILE": file},
	}
	for name, vars := range variants {
		t.Run(name, func(t *testing.T) {
			for k, v := range vars {
				w.env[k] = v
			}
			defer func() {
				for k := range vars {
					delete(w.env, k)
				}
			}()
			// Implicit: no profiles.json at all.
			w.claims(w.mustRun("", "entratool", "get-token", "--force-refresh"), "https://graph.microsoft.com")
			w.claims(w.mustRun("", "entratool", "get-token", "-p", "env"), "https://graph.microsoft.com")
			if out := w.mustRun("", "kubectl-exec-entra", "--profile", "env"); !strings.Contains(out, `"token":"`) {
				t.Fatalf("kubectl-exec-entra: %s", out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(w.home, "profiles.json")); err == nil {
		t.Error("the env profile was written to profiles.json")
	}
	// Explicit beside stored profiles; the environment is not used implicitly then.
	w.env["AZURE_CLIENT_SECRET"] = "the-secret"
	for _, n := range []string{"stored", "other"} {
		p := &profile.Profile{Name: n, Scope: graph}
		p.SetMethod(profile.MethodSecret)
		w.saveProfile(p, "the-secret")
	}
	w.claims(w.mustRun("", "entratool", "get-token", "-p", "env"), "https://graph.microsoft.com")
	_, errOut, code := w.run("x", "entratool", "config", "create", "--name", "env", "--client-id", clientID, "--tenant-id", tenantID, "--client-secret-stdin")
	if code != 2 || !strings.Contains(errOut, "reserved") {
		t.Errorf("config create --name env: exit %d: %s", code, errOut)
	}
}

// git through a federated profile, with the real git; docker through a managed
// identity, with go-containerregistry's default keychain.
func TestCredentialSourcesThroughHostTools(t *testing.T) {
	t.Run("git federated", func(t *testing.T) {
		g := newGitWorld(t)
		g.emu.RegisterApp(emulator.App{TenantID: tenantID, ClientID: clientID,
			FederatedCredentials: []emulator.FederatedCredential{{Issuer: g.emu.IssuerURL, Subject: aksSubject}}})
		file := g.tokenFile(aksSubject)
		g.federatedProfile("wi", func(p *profile.Profile) { p.FederatedTokenFile = file })
		g.mustRun("", "entratool", "git", "setup", "-p", "wi", "--url", g.gs.URL+"/org")
		g.mustGit(g.dir, "clone", "--quiet", g.repo, "fed")
		if got := g.accepted(); len(got) != 1 {
			t.Fatalf("git server accepted %d tokens", len(got))
		}
	})
	t.Run("docker managed identity", func(t *testing.T) {
		w, reg, _ := acrWorld(t)
		w.env["IDENTITY_ENDPOINT"] = w.emu.ManagedIdentity("h", emulator.ManagedIdentity{System: true, TenantID: tenantID})
		w.env["IDENTITY_HEADER"] = "h"
		p := &profile.Profile{Name: "vm", TenantID: tenantID, Scope: graph}
		p.SetMethod(profile.MethodManagedIdentity)
		w.saveProfile(p, "")
		w.mustRun("", "entratool", "docker", "setup", "-p", "vm", "--registry", reg.Host)
		for k, v := range w.env {
			t.Setenv(k, v)
		}
		img, err := random.Image(256, 1)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := name.ParseReference(reg.Host + "/contoso/mi:1")
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		t.Setenv("ENTRATOOL_PROFILE", "")
		tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: w.emu.CAPool}}
		opts := []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain), remote.WithContext(ctx), remote.WithTransport(tr)}
		if err := remote.Write(ref, img, opts...); err != nil {
			t.Fatalf("push with the managed identity: %v", err)
		}
		if _, err := remote.Image(ref, opts...); err != nil {
			t.Fatalf("pull: %v", err)
		}
		if c := w.emu.Counts(); c.ManagedIdentity != 1 {
			t.Errorf("%d managed-identity requests, want 1", c.ManagedIdentity)
		}
	})
}
