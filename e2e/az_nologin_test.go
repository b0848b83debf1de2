package e2e

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"

	"github.com/entratool/entratool/core/profile"
)

// With the shims on PATH and no profile to sign in with, the Go SDK's CLI credentials
// fail as they do when nobody ran `az login` / `azd auth login`: their errors carry az's
// and azd's own not-signed-in phrases (what Python's DefaultAzureCredential and older Go
// ones test to move on to their next credential) and entratool's hint, and
// DefaultAzureCredential reports every developer credential unavailable rather than an
// authentication failure. No token is asked for.
func TestAzShimNoLogin(t *testing.T) {
	_ = time.Local.String()
	w := newAzWorld(t, &profile.Profile{Name: "az", Scope: graph})
	w.setProcessEnv(t)
	ctx := context.Background()
	opts := policy.TokenRequestOptions{Scopes: []string{graph}}
	for _, tc := range []struct {
		name, key, value, hint string
	}{
		{"unknown ENTRATOOL_PROFILE", "ENTRATOOL_PROFILE", "nope", `ENTRATOOL_PROFILE names "nope"`},
		{"no profiles.json", "ENTRATOOL_HOME", t.TempDir(), "entratool config create"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			t.Setenv(tc.key, tc.value)
			w.emu.ResetCounts()

			cli, err := azidentity.NewAzureCLICredential(nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = cli.GetToken(ctx, opts)
			if err == nil || !strings.Contains(err.Error(), "ERROR: Please run 'az login' to setup account.") || !strings.Contains(err.Error(), tc.hint) {
				t.Fatalf("AzureCLICredential: %v", err)
			}

			azd, err := azidentity.NewAzureDeveloperCLICredential(nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = azd.GetToken(ctx, opts)
			if err == nil || !strings.Contains(err.Error(), "azd auth login") || !strings.Contains(err.Error(), tc.hint) {
				t.Fatalf("AzureDeveloperCLICredential: %v", err)
			}

			// The developer chain: az, azd, then PowerShell (not on PATH).
			t.Setenv("AZURE_TOKEN_CREDENTIALS", "dev")
			dac, err := azidentity.NewDefaultAzureCredential(nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = dac.GetToken(ctx, opts)
			var failed *azidentity.AuthenticationFailedError
			if err == nil || errors.As(err, &failed) || !strings.Contains(err.Error(), "az login") || !strings.Contains(err.Error(), "azd auth login") {
				t.Fatalf("DefaultAzureCredential: %v", err)
			}
			if c := w.emu.Counts(); c.Total != 0 {
				t.Fatalf("%d requests to the authority with no profile", c.Total)
			}
		})
	}
}
