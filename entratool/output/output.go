// Package output renders a token as `entratool get-token -o token|json|az|env` prints
// it. It is shared by the lean front (cache hits) and the full CLI, so both print the
// same bytes.
package output

import (
	"io"
	"os"
	"strconv"
	"time"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/localtime"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/helpers/azcli"
	"github.com/entratool/entratool/helpers/envexport"
)

// Check refuses a token that must not be printed or handed to a child process (SPEC
// §12): characters outside a JWT/base64url token, expired, or expiring more than 48 h
// from now. The error names the profile's authority.
func Check(t *tokencache.Token, p *profile.Profile) error {
	return tokencache.CheckServable(t, p.Authority(), time.Now())
}

// Write prints t for p in format f, after Check: a refused token prints nothing.
func Write(w io.Writer, f string, t *tokencache.Token, p *profile.Profile) error {
	if f == "" {
		f = "token"
	}
	if err := (launch.GetToken{Output: f}).Validate(); err != nil {
		return err
	}
	if err := Check(t, p); err != nil {
		return err
	}
	switch f {
	case "json":
		return termtext.WriteJSON(w, launch.NewTokenJSON(t))
	case "az":
		// expiresOn is local time as az (C, Python) prints it: POSIX TZ strings included.
		loc := localtime.FromTZ(os.Getenv("TZ"), time.Local).Location(t.ExpiresOn)
		return termtext.WriteJSON(w, azcli.NewAccessToken(t.AccessToken, t.ExpiresOn, t.TenantID, p.SubscriptionID, loc))
	case "env":
		s, err := envexport.Format("sh", Vars(t, p))
		if err != nil {
			return err
		}
		_, err = io.WriteString(w, s)
		return err
	default: // "token"
		// Not fmt.Fprintln: fmt copies the token into a buffer of its own that grows
		// twice, on every cache hit of get-token (whose w is buffered).
		if _, err := io.WriteString(w, t.AccessToken); err != nil {
			return err
		}
		_, err := io.WriteString(w, "\n")
		return err
	}
}

// Vars are the variables env and exec set. AZURE_CLIENT_SECRET is never among them:
// the SDKs' EnvironmentCredential would prefer it over a certificate.
func Vars(t *tokencache.Token, p *profile.Profile) []envexport.Var {
	return []envexport.Var{
		{Name: "ENTRA_ACCESS_TOKEN", Value: t.AccessToken},
		{Name: "ENTRA_TOKEN_EXPIRES_ON", Value: strconv.FormatInt(t.ExpiresOn.Unix(), 10)},
		{Name: "AZURE_TENANT_ID", Value: p.TenantID},
		{Name: "AZURE_CLIENT_ID", Value: p.ClientID},
	}
}
