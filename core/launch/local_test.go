package launch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/tokencache"
)

// expiringHome is a home with certificate profile "soon" whose remembered certificate
// expires in 10 days, and its token cached: every Token is a hit.
func expiringHome(t *testing.T) func(string) string {
	t.Helper()
	home := t.TempDir()
	pfx := filepath.Join(home, "soon.pfx")
	if err := os.WriteFile(pfx, []byte("pfx"), 0o600); err != nil {
		t.Fatal(err)
	}
	p := &profile.Profile{Name: "soon", ClientID: "11111111-1111-1111-1111-111111111111", TenantID: "22222222-2222-2222-2222-222222222222",
		UseCertificate: true, CertificatePath: pfx, Scope: profile.DefaultScope}
	if err := (&profile.Store{Home: home}).Update(context.Background(), func(c *profile.Config) error { c.Put(p); return nil }); err != nil {
		t.Fatal(err)
	}
	cacheDir := filepath.Join(home, "cache")
	info := tokencache.CertInfo{Thumbprint: "AB12", NotAfter: time.Now().AddDate(0, 0, 10), Subject: "CN=soon"}
	if err := (tokencache.CertMemo{Dir: tokencache.MemoDir(cacheDir)}).Store(pfx, info); err != nil {
		t.Fatal(err)
	}
	tok := &tokencache.Token{AccessToken: "eyJ0eXAiOiJKV1QifQ.e30.sig", TokenType: "Bearer", ExpiresOn: time.Now().Add(time.Hour), Scope: p.Scope}
	if err := (&tokencache.Cache{Dir: cacheDir}).Put(tokencache.KeyFor(p, p.Scope, "x5t:AB12"), tok); err != nil {
		t.Fatal(err)
	}
	return func(k string) string {
		if k == "ENTRATOOL_HOME" {
			return home
		}
		return ""
	}
}

// A hit carries the day's certificate warning as data, as the engine's answer does, so
// that every front shows it in its host tool's style; once a day.
func TestLocalTokenHitCarriesTheDailyExpiryWarning(t *testing.T) {
	getenv := expiringHome(t)
	var stderr bytes.Buffer
	for i, want := range []int{1, 0} {
		l, err := OpenLocal(getenv, "")
		if err != nil {
			t.Fatal(err)
		}
		res, err := l.Token(context.Background(), Request{Program: "test"}, &stderr)
		if err != nil {
			t.Fatalf("call %d: %v (not a hit)", i, err)
		}
		if len(res.Warnings) != want {
			t.Fatalf("call %d: warnings %q, want %d", i, res.Warnings, want)
		}
		if want == 1 && !strings.HasPrefix(res.Warnings[0], "certificate CN=soon of profile 'soon' expires on ") {
			t.Fatalf("warning %q", res.Warnings[0])
		}
	}
	if stderr.Len() != 0 {
		t.Fatalf("Token wrote to stderr itself: %q", stderr.String())
	}
}
