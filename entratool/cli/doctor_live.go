package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/token"
)

// The AADSTS codes doctor --live turns into a precise diagnosis (SPEC §4).
const (
	aadstsTenantNotFound   = 90002
	aadstsAppNotFound      = 700016
	aadstsInvalidSignature = 700027
)

// checkToken gets a new token for p from the authority — get-token's path with
// --force-refresh, so that the authority really answers (a cached token proves only
// that it once did) — and says what came back. thumbprint is p's certificate's SHA-1
// thumbprint ("" when unknown), for comparing with the portal when Entra refuses it.
func (d *doctor) checkToken(ctx context.Context, p *profile.Profile, thumbprint string) {
	f := launch.NewGetToken()
	f.Profile, f.ForceRefresh, f.Silent, f.Timeout = p.Name, true, true, d.opts.Timeout
	authority := p.Authority() + "/" + p.TenantID
	scope := p.TokenScope("")
	t, _, err := d.opts.App.fetchToken(ctx, &f)
	if err != nil {
		what, fix := whyNoToken(p, thumbprint, err)
		d.bad(fix, "profile %s: no token for %s from %s: %s", p.Name, scope, authority, what)
		return
	}
	left := strings.TrimSuffix(t.ExpiresOn.Sub(d.opts.App.Now()).Round(time.Minute).String(), "0s") // 1h0m, 59m
	d.ok("profile %s: token for %s from %s (expires %s, in %s)", p.Name, t.Scope, authority, t.ExpiresOn.UTC().Format(time.RFC3339), left)
}

// whyNoToken says in a few words why the token request failed, and what to do about
// it: precisely for the refusals a new setup meets (unknown tenant, app not in the
// tenant, certificate not uploaded) and for an authority that cannot be reached; in
// core/token's words otherwise.
func whyNoToken(p *profile.Profile, thumbprint string, err error) (what, fix string) {
	edit := "`entratool config edit -p " + p.Name + "`"
	var ee *token.EntraError
	var ue *token.UnreachableError
	switch {
	case errors.As(err, &ee) && ee.Code == aadstsTenantNotFound:
		return fmt.Sprintf("tenant %s not found at %s (AADSTS%d)", p.TenantID, p.Authority(), ee.Code),
			"check tenantId (the Directory (tenant) ID, or a verified domain of the tenant) and that the profile's cloud or authorityHost is that tenant's: " + edit
	case errors.As(err, &ee) && ee.Code == aadstsAppNotFound:
		return fmt.Sprintf("app %s not found in tenant %s (AADSTS%d)", p.ClientID, p.TenantID, ee.Code),
			"check clientId (the app registration's Application (client) ID) and tenantId, or have an admin of the tenant consent to the app: " + edit
	case errors.As(err, &ee) && ee.Code == aadstsInvalidSignature && thumbprint != "":
		return fmt.Sprintf("Entra ID does not accept the certificate with thumbprint %s (AADSTS%d: not uploaded to the app registration, expired there, or another one)", thumbprint, ee.Code),
			fmt.Sprintf("compare %s with the thumbprints under the app registration's Certificates & secrets; if it is not there, upload the certificate: `entratool cert export-public -p %s -o %s.cer`", thumbprint, p.Name, p.Name)
	case errors.As(err, &ee) && ee.Code != 0:
		fix = ee.Hint
		if fix == "" {
			fix = "see the AADSTS code's description, and run `entratool get-token -p " + p.Name + " --force-refresh --debug` for the request and correlation ids"
		}
		return fmt.Sprintf("Entra ID refused: AADSTS%d: %s", ee.Code, ee.Description), fix
	case errors.As(err, &ue):
		// core/token's message names the host and ends with what to check for that kind
		// of failure (network, DNS or TLS).
		what, fix, _ = strings.Cut(ue.Error(), " — ")
		if fix == "" {
			fix = "check the profile's authorityHost or cloud: " + edit
		}
		return what, fix
	}
	what, fix, _ = strings.Cut(err.Error(), " — ")
	if fix == "" {
		fix = "run `entratool get-token -p " + p.Name + " --force-refresh --debug` for the details"
	}
	return what, fix
}
