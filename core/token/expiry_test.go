package token

import (
	"context"
	"crypto/x509"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/confidential"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/emulator"
	"github.com/entratool/entratool/internal/testkit"
)

// expiringWorld is an emulator that accepts a certificate expiring in 10 days, the
// certificate, and options for a provider (a shared cache; no secret store).
func expiringWorld(t *testing.T) (*emulator.Emulator, *cert.Credential, string, Options) {
	t.Helper()
	emu, err := emulator.Start(emulator.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { emu.Close() })
	c, err := cert.Create(cert.CreateOptions{Subject: "CN=soon", Days: 10, KeySize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	emu.RegisterApp(emulator.App{TenantID: testkit.TenantID, ClientID: testkit.ClientID, Certificates: []*x509.Certificate{c.Leaf}})
	dir := t.TempDir()
	pfx := filepath.Join(dir, "soon.pfx")
	if err := cert.WritePFX(pfx, c, ""); err != nil {
		t.Fatal(err)
	}
	o := Options{Home: filepath.Join(dir, "home"), Getenv: func(string) string { return "" }, Secrets: secret.NewEnv(func(string) string { return "" }), HTTPClient: emu.HTTPClient()}
	return emu, c, pfx, o
}

func (o Options) collecting(warned *[]string) Options {
	o.Warn = func(m string) { *warned = append(*warned, m) }
	return o
}

// The provider's certificate warning is SPEC §13's: once a day per profile whether the
// token came from the cache or from Entra, not on every miss; and the certificate's
// expiry is remembered beside its thumbprint for the fronts' hits.
func TestProviderWarnsOnceADay(t *testing.T) {
	emu, c, pfx, o := expiringWorld(t)
	p := &profile.Profile{Name: "p", ClientID: testkit.ClientID, TenantID: testkit.TenantID, AuthorityHost: emu.URL,
		UseCertificate: true, CertificatePath: pfx, Scope: "https://graph.microsoft.com/.default"}
	ctx := context.Background()
	want := "warning: certificate CN=soon of profile 'p' expires on " + c.Leaf.NotAfter.UTC().Format(time.DateOnly) +
		" (10 days): renew it with 'entratool cert renew -p p'"

	var warned []string
	if _, err := NewProvider(p, o.collecting(&warned)).Token(ctx, p.Scope, false); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || warned[0] != want {
		t.Fatalf("first token: warnings %q\nwant %q", warned, want)
	}
	info, ok := tokencache.RememberedCert(p, CacheDir(o.Home, o.Getenv))
	if !ok || !info.NotAfter.Equal(c.Leaf.NotAfter) || info.Subject != "CN=soon" || info.Thumbprint != cert.ThumbprintSHA1(c.Leaf) {
		t.Fatalf("remembered %+v, %v", info, ok)
	}
	// The same day: neither a hit nor a miss (another scope, a forced refresh) warns.
	warned = nil
	pr := NewProvider(p, o.collecting(&warned))
	for _, force := range []bool{false, true} {
		if _, err := pr.Token(ctx, p.Scope, force); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := pr.Token(ctx, "https://management.azure.com/.default", false); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 0 {
		t.Fatalf("warned again the same day: %q", warned)
	}
	// Tomorrow: a silent command (no Warn) neither warns nor uses up the day's warning;
	// the next one warns, on a hit.
	tomorrow := func() time.Time { return time.Now().Add(24 * time.Hour) }
	silent := o
	silent.Now = tomorrow
	if _, err := NewProvider(p, silent).Token(ctx, p.Scope, false); err != nil {
		t.Fatal(err)
	}
	loud := o.collecting(&warned)
	loud.Now = tomorrow
	if _, err := NewProvider(p, loud).Token(ctx, p.Scope, false); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.Contains(warned[0], "of profile 'p' expires on ") {
		t.Fatalf("tomorrow: warnings %q", warned)
	}
}

// A memo written before expiry dates were remembered is upgraded by the next miss.
func TestProviderUpgradesOldMemo(t *testing.T) {
	emu, c, pfx, o := expiringWorld(t)
	p := &profile.Profile{Name: "p", ClientID: testkit.ClientID, TenantID: testkit.TenantID, AuthorityHost: emu.URL,
		UseCertificate: true, CertificatePath: pfx}
	cacheDir := CacheDir(o.Home, o.Getenv)
	memo := tokencache.CertMemo{Dir: tokencache.MemoDir(cacheDir)}
	if err := memo.Store(pfx, tokencache.CertInfo{Thumbprint: cert.ThumbprintSHA1(c.Leaf)}); err != nil {
		t.Fatal(err)
	}
	var warned []string
	if _, err := NewProvider(p, o.collecting(&warned)).Token(context.Background(), "s/.default", false); err != nil {
		t.Fatal(err)
	}
	if info, ok := memo.Lookup(pfx); !ok || !info.NotAfter.Equal(c.Leaf.NotAfter) {
		t.Fatalf("memo after a miss: %+v, %v", info, ok)
	}
	if len(warned) != 1 {
		t.Fatalf("warnings %q", warned)
	}
}

// fakeKeyStore signs with a certificate it holds, as a key-store plugin would.
type fakeKeyStore struct{ c *cert.Credential }

func (f fakeKeyStore) Credential(ctx context.Context, p *profile.Profile, pin string) (confidential.Credential, *x509.Certificate, func(), error) {
	cred, err := confidential.NewCredFromCert(f.c.Chain, f.c.Key)
	return cred, f.c.Leaf, nil, err
}

// Key-store profiles: the plugin's certificate is remembered by its thumbprint when it is
// read on a miss, so that hits (which never start the plugin) can warn too.
func TestProviderRemembersKeyStoreCertificate(t *testing.T) {
	emu, c, _, o := expiringWorld(t)
	p := &profile.Profile{Name: "hsm", ClientID: testkit.ClientID, TenantID: testkit.TenantID, AuthorityHost: emu.URL,
		UseCertificate: true, CertificateStore: "fake", CertificateThumbprint: strings.ToLower(cert.ThumbprintSHA1(c.Leaf))}
	o.KeyStore = fakeKeyStore{c}
	var warned []string
	if _, err := NewProvider(p, o.collecting(&warned)).Token(context.Background(), "s/.default", false); err != nil {
		t.Fatal(err)
	}
	if len(warned) != 1 || !strings.HasPrefix(warned[0], "warning: certificate CN=soon of profile 'hsm' expires on ") {
		t.Fatalf("warnings %q", warned)
	}
	info, ok := tokencache.RememberedCert(p, CacheDir(o.Home, o.Getenv))
	if !ok || !info.NotAfter.Equal(c.Leaf.NotAfter) || info.Subject != "CN=soon" {
		t.Fatalf("remembered %+v, %v", info, ok)
	}
}
