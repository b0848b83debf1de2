package cli

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// A stored secret never follows a profile to another authority, tenant or app (SPEC
// §12): config edit and config import unbind it before the profile moves.

// secretKinds are the secrets a profile can have stored.
func secretKinds() []string { return []string{secret.CertificatePassword, secret.ClientSecret} }

// identityText says where a profile signs in, for messages.
func identityText(p *profile.Profile) string {
	return fmt.Sprintf("%s (tenant %s, client %s)", p.Authority(), p.TenantID, p.ClientID)
}

// unbindSecrets deletes the stored secrets of profile old.Name from the stores that old
// and cur use, because cur signs in at another authority, tenant or app than old and a
// secret never follows a profile there (SPEC §12). It runs before cur is written: when a
// store cannot delete (a locked or unreachable keyring), the command fails with nothing
// written, rather than leave the old secret bound to the new authority. A warning names
// what was deleted, except the kinds in replaced, which this command stores anew. It
// returns the names of the stores it cleaned.
func (e configEnv) unbindSecrets(ctx context.Context, old, cur *profile.Profile, replaced map[string]bool) (map[string]bool, error) {
	cleaned := map[string]bool{}
	var gone []string
	for _, p := range []*profile.Profile{old, cur} {
		store, err := e.App.storeFor(p)
		if err != nil {
			return nil, err
		}
		if cleaned[store.Name()] {
			continue
		}
		cleaned[store.Name()] = true
		if store.Name() == secret.KindEnv {
			continue // it stores nothing
		}
		for _, kind := range secretKinds() {
			key := secret.Key(old.Name, kind)
			v, err := store.Get(ctx, key)
			if errors.Is(err, secret.ErrNotFound) {
				continue
			}
			if err == nil {
				err = store.Delete(ctx, key)
			}
			if err != nil {
				fix := "make the keyring reachable (unlock it)"
				if store.Name() == secret.KindFile {
					fix = "repair secrets.json in the entratool home"
				}
				return nil, fmt.Errorf("profile '%s' would sign in at %s, so its stored secrets must be deleted first, and the %s store could not: %w; "+
					"profile '%s' was not changed: %s and run the command again",
					old.Name, identityText(cur), store.Name(), err, old.Name, fix)
			}
			if v != "" && !replaced[kind] && !slices.Contains(gone, kind) {
				gone = append(gone, kind)
			}
		}
	}
	if len(gone) > 0 {
		what := strings.ReplaceAll(strings.Join(gone, " and "), "-", " ")
		e.warn(fmt.Sprintf("warning: profile '%s' now signs in at %s: its stored %s was deleted, since a secret never follows a profile to another authority, tenant or app; set it again with 'entratool config edit -p %s'",
			old.Name, identityText(cur), what, old.Name))
	}
	return cleaned, nil
}

// checkUnbound runs under the profiles lock, on the profile as it is now: if the change
// moves it to another identity, the stores its secrets can be in must be among those
// unbindSecrets cleaned. Another process may have changed the profile since.
func (e configEnv) checkUnbound(before, after *profile.Profile, cleaned map[string]bool) error {
	if !profile.IdentityChanged(before, after) {
		return nil
	}
	for _, p := range []*profile.Profile{before, after} {
		if !cleaned[secret.Choose(p.SecretStore, e.App.Getenv)] {
			return fmt.Errorf("profile '%s' was changed by another command meanwhile; nothing was saved: run the command again", before.Name)
		}
	}
	return nil
}
