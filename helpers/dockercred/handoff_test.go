package dockercred

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

type fixedBackend struct{ rt RefreshToken }

func (b fixedBackend) Profiles() ([]Profile, error) {
	return []Profile{{Name: "p", TenantID: "t", Registries: []string{"myreg.azurecr.io"}}}, nil
}
func (b fixedBackend) Account(context.Context, string) (Account, error) { return b, nil }
func (b fixedBackend) RefreshToken(context.Context, string, string) (RefreshToken, error) {
	return b.rt, nil
}
func (b fixedBackend) ForgetRefreshToken(context.Context, string, string) error { return nil }

// docker gets no secret that is not made of token characters or claims an absurd
// expiry: exit 1 and one escaped line naming the registry, as docker expects errors.
func TestGetRefusesHostileRefreshTokens(t *testing.T) {
	for _, rt := range []RefreshToken{
		{Token: `a.b.c","Username":"admin`, ExpiresOn: time.Now().Add(time.Hour)},
		{Token: "a.b.c\n", ExpiresOn: time.Now().Add(time.Hour)},
		{Token: "a.b.c", ExpiresOn: time.Now().AddDate(247, 0, 0)},
	} {
		var out bytes.Buffer
		code := Run(context.Background(), &Helper{Backend: fixedBackend{rt}}, []string{"get"}, strings.NewReader("myreg.azurecr.io"), &out)
		if code != ExitFailure || strings.Count(out.String(), "\n") != 1 || strings.Contains(out.String(), "Secret") || !strings.Contains(out.String(), "registry myreg.azurecr.io") {
			t.Fatalf("%q: exit %d, %q", rt.Token, code, out.String())
		}
	}
	var out bytes.Buffer
	good := RefreshToken{Token: "eyJ.eyJ.sig", ExpiresOn: time.Now().Add(3 * time.Hour)}
	if code := Run(context.Background(), &Helper{Backend: fixedBackend{good}}, []string{"get"}, strings.NewReader("myreg.azurecr.io"), &out); code != ExitOK || !strings.Contains(out.String(), `"Secret":"eyJ.eyJ.sig"`) {
		t.Fatalf("good token: %d %q", code, out.String())
	}
}
