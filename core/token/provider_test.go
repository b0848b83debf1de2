package token

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

func TestForgetAllDropsTheAppsTokensAndDerivedCredentials(t *testing.T) {
	p := &profile.Profile{Name: "p", ClientID: "c", TenantID: "t", AuthorityHost: "https://login.example"}
	pr := NewProvider(p, Options{Home: t.TempDir(), Getenv: func(string) string { return "" }})
	c := pr.Cache()
	tok := &Token{AccessToken: "x", ExpiresOn: time.Now().Add(time.Hour)}
	mine := []Key{
		{Authority: "https://login.example", TenantID: "t", ClientID: "c", Scope: "a", Credential: "x5t:1"},
		{Authority: "https://login.example/", TenantID: "T", ClientID: "C", Scope: "b", Credential: "x5t:2"},
		{Kind: "acr-refresh", Authority: "myreg.azurecr.io", TenantID: "t", ClientID: "c", Scope: "s", Credential: "x5t:1"},
	}
	others := []Key{
		{Authority: "https://login.example", TenantID: "t", ClientID: "other", Scope: "a", Credential: "x5t:1"},
		{Authority: "https://login.other", TenantID: "t", ClientID: "c", Scope: "a", Credential: "x5t:1"},
		{Kind: "acr-refresh", Authority: "myreg.azurecr.io", TenantID: "t", ClientID: "other", Scope: "s", Credential: "x5t:1"},
	}
	for _, k := range append(append([]Key{}, mine...), others...) {
		if err := c.Put(k, tok); err != nil {
			t.Fatal(err)
		}
	}
	n, err := pr.ForgetAll()
	if err != nil || n != len(mine) {
		t.Fatalf("ForgetAll = %d, %v; want %d", n, err, len(mine))
	}
	for _, k := range others {
		if _, ok := c.Get(k); !ok {
			t.Fatalf("%+v was removed", k)
		}
	}
}

// SPEC §12: the home's certs directory is entratool's; a certificate there that others
// can write (or another user owns) is refused before it is opened.
func TestProviderRefusesLooseCertificateInHome(t *testing.T) {
	home := t.TempDir()
	certs := filepath.Join(home, "certs")
	if err := os.Mkdir(certs, 0o700); err != nil {
		t.Fatal(err)
	}
	c, err := cert.Create(cert.CreateOptions{Subject: "CN=loose", Days: 30, KeySize: 2048})
	if err != nil {
		t.Fatal(err)
	}
	pfx := filepath.Join(certs, "c.pfx")
	if err := cert.WritePFX(pfx, c, ""); err != nil {
		t.Fatal(err)
	}
	os.Chmod(pfx, 0o666)
	p := &profile.Profile{Name: "p", ClientID: "c", TenantID: "t", UseCertificate: true, CertificatePath: pfx, AuthorityHost: "https://127.0.0.1:1"}
	pr := NewProvider(p, Options{Home: home, Getenv: func(string) string { return "" }, Secrets: secret.NewEnv(func(string) string { return "" })})
	_, err = pr.Token(context.Background(), "s", false)
	if !errors.Is(err, fsutil.ErrUntrusted) || !strings.Contains(err.Error(), "refusing "+pfx+": it is writable by group and others (mode 0666)") {
		t.Fatalf("Token = %v", err)
	}
	os.Chmod(pfx, 0o600)
	os.Chmod(certs, 0o777)
	_, err = pr.Token(context.Background(), "s", false)
	if !errors.Is(err, fsutil.ErrUntrusted) || !strings.Contains(err.Error(), "refusing "+certs) {
		t.Fatalf("Token with a 0777 certs dir = %v", err)
	}
}
