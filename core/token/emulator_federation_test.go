package token

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/internal/testkit"
)

const (
	emuSubject     = "system:serviceaccount:default:workload"
	emuGHSubject   = "repo:contoso/app:ref:refs/heads/main"
	emuADOSubject  = "sc://contoso/project/deploy"
	emuConnection  = "5a3f0c1e-7b2d-4c8e-9f10-1a2b3c4d5e6f"
	emuGHReqToken  = "gh-request-token-emu"
	emuADOJobToken = "ado-job-token-emu"
)

// startFederationEmulator is an authority whose app trusts the emulator's own issuer
// for the three subjects the tests present.
func startFederationEmulator(t *testing.T) *emulator.Emulator {
	t.Helper()
	emu, err := emulator.Start(emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	emu.RegisterApp(emulator.App{TenantID: testkit.TenantID, ClientID: testkit.ClientID, FederatedCredentials: []emulator.FederatedCredential{
		{Issuer: emu.IssuerURL, Subject: emuSubject},
		{Issuer: emu.IssuerURL, Subject: emuGHSubject},
		{Issuer: emu.IssuerURL, Subject: emuADOSubject},
	}})
	return emu
}

func emuFederatedProvider(t *testing.T, emu *emulator.Emulator, home string, env map[string]string, edit func(*profile.Profile)) *Provider {
	t.Helper()
	p := &profile.Profile{Name: "wi", ClientID: testkit.ClientID, TenantID: testkit.TenantID, AuthorityHost: emu.URL}
	p.SetMethod(profile.MethodFederated)
	edit(p)
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	return NewProvider(p, Options{Home: home, Getenv: func(k string) string { return env[k] }, HTTPClient: emu.HTTPClient()})
}

// Every federated source, end to end against the emulator's issuer and token endpoint.
func TestFederatedSourcesAgainstEmulator(t *testing.T) {
	emu := startFederationEmulator(t)
	file := filepath.Join(t.TempDir(), "token")
	idt, err := emu.MintIDToken(emuSubject, profile.DefaultFederatedAudience, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(file, []byte(idt), 0o600)
	ghURL := emu.GitHubActions(emuGHReqToken, emuGHSubject)
	adoURI := emu.AzurePipelines(emuADOJobToken, map[string]string{emuConnection: emuADOSubject})
	env := map[string]string{EnvGitHubRequestURL: ghURL, EnvGitHubRequestToken: emuGHReqToken,
		EnvPipelinesOIDCURI: adoURI, EnvPipelinesAccessToken: emuADOJobToken}
	for name, edit := range map[string]func(*profile.Profile){
		"file":           func(p *profile.Profile) { p.FederatedTokenFile = file },
		"github-actions": func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceGitHubActions },
		"azure-pipelines": func(p *profile.Profile) {
			p.FederatedTokenSource, p.ServiceConnectionID = profile.SourceAzurePipelines, emuConnection
		},
	} {
		emu.ResetCounts()
		pr := emuFederatedProvider(t, emu, t.TempDir(), env, edit)
		tok, err := pr.Token(context.Background(), testScope, false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c := emu.Counts()
		wantID := 1
		if name == "file" {
			wantID = 0
		}
		if tok.AccessToken == "" || c.TokenIssued != 1 || c.IDToken != wantID {
			t.Fatalf("%s: token %q, counts %+v", name, tok.AccessToken, c)
		}
	}
}

// A subject the app does not trust: AADSTS70021, with the token's issuer and subject.
func TestFederatedMismatchAgainstEmulator(t *testing.T) {
	emu := startFederationEmulator(t)
	const wrong = "repo:contoso/app:pull_request"
	env := map[string]string{EnvGitHubRequestURL: emu.GitHubActions(emuGHReqToken, wrong), EnvGitHubRequestToken: emuGHReqToken}
	pr := emuFederatedProvider(t, emu, t.TempDir(), env, func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceGitHubActions })
	_, err := pr.Token(context.Background(), testScope, false)
	var ee *EntraError
	if !errors.As(err, &ee) || ee.Code != emulator.CodeNoMatchingFederatedRecord {
		t.Fatalf("err %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, emu.IssuerURL) || !strings.Contains(msg, wrong) || !strings.Contains(msg, "Federated credentials") || strings.Contains(msg, "\n") {
		t.Fatalf("message %q", msg)
	}
}

// 32 cold processes: one token request and one ID token request between them.
func TestFederatedSingleFlightAgainstEmulator(t *testing.T) {
	emu := startFederationEmulator(t)
	env := map[string]string{EnvGitHubRequestURL: emu.GitHubActions(emuGHReqToken, emuGHSubject), EnvGitHubRequestToken: emuGHReqToken}
	home := t.TempDir()
	emu.ResetCounts()
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		pr := emuFederatedProvider(t, emu, home, env, func(p *profile.Profile) { p.FederatedTokenSource = profile.SourceGitHubActions })
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := pr.Token(context.Background(), testScope, false); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if c := emu.Counts(); c.Token != 1 || c.IDToken != 1 {
		t.Fatalf("counts %+v", c)
	}
}

// A managed identity through MSAL's App Service source, against the emulator's endpoint.
func TestManagedIdentityAgainstEmulator(t *testing.T) {
	emu, err := emulator.Start(emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	const header = "emu-identity-header"
	endpoint := emu.ManagedIdentity(header,
		emulator.ManagedIdentity{System: true, TenantID: testkit.TenantID},
		emulator.ManagedIdentity{ClientID: miClientID, TenantID: testkit.TenantID})
	for _, k := range []string{"IDENTITY_SERVER_THUMBPRINT", "MSI_ENDPOINT", "MSI_SECRET", "IMDS_ENDPOINT"} {
		t.Setenv(k, "")
	}
	t.Setenv("IDENTITY_ENDPOINT", endpoint)
	t.Setenv("IDENTITY_HEADER", header)
	for _, id := range []string{"", miClientID} {
		emu.ResetCounts()
		pr := miProvider(t, id)
		tok, err := pr.Token(context.Background(), miVaultScope, false)
		if err != nil {
			t.Fatalf("%q: %v", id, err)
		}
		if _, err := pr.Token(context.Background(), miVaultScope, false); err != nil {
			t.Fatal(err)
		}
		if c := emu.Counts(); c.ManagedIdentity != 1 || tok.AccessToken == "" {
			t.Fatalf("%q: counts %+v", id, c)
		}
	}
	// An identity the resource does not have: the endpoint's words, one line.
	_, err = miProvider(t, "00000000-0000-4000-8000-000000000001").Token(context.Background(), miVaultScope, false)
	var me *ManagedIdentityError
	if !errors.As(err, &me) || me.Status != 400 || !strings.Contains(err.Error(), "App Service") || strings.Contains(err.Error(), header) {
		t.Fatalf("unknown identity: %v", err)
	}
}
