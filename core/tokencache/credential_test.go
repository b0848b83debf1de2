package tokencache

import (
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
)

const (
	credClient = "11111111-2222-3333-4444-555555555555"
	credTenant = "contoso.onmicrosoft.com"
	credMI     = "99999999-8888-7777-6666-555555555555"
)

// SPEC §14: cache keys name the credential, and every kind is named from the profile
// alone (no file read), so that the fronts answer cache hits for every kind.
func TestCredentialIDNamesEveryKind(t *testing.T) {
	secretP := &profile.Profile{Name: "ci", ClientID: credClient, TenantID: credTenant}
	long := "/var/run/secrets/" + strings.Repeat("azure/", 40) + "token"
	for _, c := range []struct {
		name   string
		p      *profile.Profile
		want   string // exact, or a prefix when prefix is set
		prefix bool
	}{
		{"key-store certificate", &profile.Profile{Name: "k", ClientID: credClient, TenantID: credTenant, UseCertificate: true, CertificateStore: "pkcs11", CertificateThumbprint: "ab:cd"}, "x5t:ABCD", false},
		{"secret", secretP, "secret:" + credentialDigest(credClient+"\x00"+"ci/client-secret"), false},
		{"env secret", &profile.Profile{Name: profile.EnvName, ClientID: credClient, TenantID: credTenant, FromEnvironment: true}, "secret:" + credentialDigest(credClient+"\x00"+"$AZURE_CLIENT_SECRET"), false},
		{"github actions", &profile.Profile{Name: "gh", ClientID: credClient, TenantID: credTenant, AuthMethod: profile.MethodFederated, FederatedTokenSource: profile.SourceGitHubActions}, "fic:github-actions", false},
		{"github actions, own audience", &profile.Profile{Name: "gh", ClientID: credClient, TenantID: credTenant, AuthMethod: profile.MethodFederated, FederatedTokenSource: profile.SourceGitHubActions, FederatedAudience: "api://mine"}, "fic:github-actions aud=api://mine", false},
		{"azure pipelines", &profile.Profile{Name: "ado", ClientID: credClient, TenantID: credTenant, AuthMethod: profile.MethodFederated, FederatedTokenSource: profile.SourceAzurePipelines, ServiceConnectionID: "sc-1"}, "fic:azure-pipelines sc=sc-1", false},
		{"token file", &profile.Profile{Name: "aks", ClientID: credClient, TenantID: credTenant, AuthMethod: profile.MethodFederated, FederatedTokenFile: "/var/run/secrets/azure/tokens/azure-identity-token"}, "fic:file:/var/run/secrets/azure/tokens/azure-identity-token", false},
		{"long token file", &profile.Profile{Name: "aks", ClientID: credClient, TenantID: credTenant, AuthMethod: profile.MethodFederated, FederatedTokenFile: long}, "fic:file:#", true},
		{"system-assigned", &profile.Profile{Name: "vm", AuthMethod: profile.MethodManagedIdentity}, "mi:system", false},
		{"user-assigned", &profile.Profile{Name: "vm", AuthMethod: profile.MethodManagedIdentity, ManagedIdentityClientID: strings.ToUpper(credMI)}, "mi:" + credMI, false},
	} {
		dir := t.TempDir()
		id, info, ok := RememberedCredential(c.p, dir)
		if !ok || info != (CertInfo{}) {
			t.Errorf("%s: ok=%v info=%+v", c.name, ok, info)
			continue
		}
		if c.prefix && (!strings.HasPrefix(id, c.want) || len(id) > 80) || !c.prefix && id != c.want {
			t.Errorf("%s: CredentialID = %q, want %q", c.name, id, c.want)
		}
	}

	// A secret is named by client and slot: another profile of the same app, or the same
	// profile on another app, is another credential; the name is not the profile's text.
	other := *secretP
	other.Name = "ci2"
	moved := *secretP
	moved.ClientID = strings.Replace(credClient, "1", "f", 1)
	a, _ := CredentialID(secretP, t.TempDir())
	b, _ := CredentialID(&other, t.TempDir())
	m, _ := CredentialID(&moved, t.TempDir())
	upper := *secretP
	upper.ClientID = strings.ToUpper(credClient)
	u, _ := CredentialID(&upper, t.TempDir())
	if a == b || a == m || a != u || strings.Contains(a, "ci") {
		t.Fatalf("secret ids: %q %q %q %q", a, b, m, u)
	}
}

// A managed identity needs no clientId in the profile: its key names the identity.
func TestKeyForManagedIdentity(t *testing.T) {
	p := &profile.Profile{Name: "vm", AuthMethod: profile.MethodManagedIdentity, ManagedIdentityClientID: credMI}
	k := KeyFor(p, "https://vault.azure.net/.default", "mi:"+credMI)
	if k.ClientID != credMI || !k.OfApp(p) {
		t.Fatalf("key %+v", k)
	}
	sys := &profile.Profile{Name: "vm2", AuthMethod: profile.MethodManagedIdentity}
	if k.OfApp(sys) {
		t.Fatal("a user-assigned identity's token belongs to the system-assigned profile")
	}
}

// Only certificates draw the expiry warning and have a remembered certificate.
func TestNoCertificateForOtherMethods(t *testing.T) {
	for _, p := range []*profile.Profile{
		{Name: "s", ClientID: credClient, TenantID: credTenant},
		{Name: "f", ClientID: credClient, TenantID: credTenant, AuthMethod: profile.MethodFederated, FederatedTokenFile: "/x"},
		{Name: "m", AuthMethod: profile.MethodManagedIdentity},
	} {
		if _, ok := RememberedCert(p, t.TempDir()); ok {
			t.Errorf("%s: remembered certificate", p.Name)
		}
		if w := ExpiryWarningOf(p, CertInfo{Thumbprint: "AB", NotAfter: time.Now().Add(24 * time.Hour)}, t.TempDir(), time.Now()); w != "" {
			t.Errorf("%s: warning %q", p.Name, w)
		}
	}
}

// A cache hit for every kind, from the cache alone.
func TestLookupHitsForEveryKind(t *testing.T) {
	for _, p := range []*profile.Profile{
		{Name: "s", ClientID: credClient, TenantID: credTenant},
		{Name: "f", ClientID: credClient, TenantID: credTenant, AuthMethod: profile.MethodFederated, FederatedTokenFile: "/nonexistent/token"},
		{Name: "g", ClientID: credClient, TenantID: credTenant, AuthMethod: profile.MethodFederated, FederatedTokenSource: profile.SourceGitHubActions},
		{Name: "m", AuthMethod: profile.MethodManagedIdentity, ManagedIdentityClientID: credMI},
	} {
		c := &Cache{Dir: t.TempDir()}
		const scope = "https://management.azure.com/.default"
		id, _ := CredentialID(p, c.Dir)
		if err := c.Put(KeyFor(p, scope, id), &Token{AccessToken: "at", ExpiresOn: time.Now().Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		if tok, _, err := c.Lookup(p, scope); err != nil || tok.AccessToken != "at" {
			t.Errorf("%s: Lookup = %v, %v", p.Name, tok, err)
		}
	}
}
