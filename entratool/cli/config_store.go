package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// A headless box (SSH, CI, a container) has no D-Bus session and so no keyring. config
// create and config edit find that out before they ask for a secret — not after seven
// questions — and, on a terminal, offer the stores that work there.

// storeUsable checks, before the secret of kind is asked for, that the store p's
// secrets go to can keep it. A keyring that does not answer (within its 3 s bound) is
// reported in plain words. On a terminal, when nobody chose the keyring explicitly
// (chosen: a --secret-store flag or ENTRATOOL_SECRET_STORE), the file and env stores
// are offered and the answer is returned as the store kind to use; otherwise the error
// names them. "" means p's store is fine as it is.
func (e configEnv) storeUsable(ctx context.Context, p *profile.Profile, kind string, chosen bool) (string, error) {
	store, err := e.App.storeFor(p)
	if err != nil {
		return "", err
	}
	if store.Name() != secret.KindKeyring {
		return "", nil
	}
	cerr := secret.Check(ctx, store)
	if cerr == nil {
		return "", nil
	}
	if !errors.Is(cerr, secret.ErrKeyringUnreachable) {
		return "", cerr
	}
	home, _ := e.App.home()
	fileText := fmt.Sprintf("secrets.json in %s, readable only by you", home)
	envText := fmt.Sprintf("nothing stored: set %s whenever the profile is used", secret.EnvVar(kind))
	if !e.IO.CanPrompt || chosen {
		how := "choose --secret-store file (" + fileText + ") or --secret-store env (" + envText + ")"
		if e.App.Getenv("ENTRATOOL_SECRET_STORE") == secret.KindKeyring {
			how = "unset ENTRATOOL_SECRET_STORE=keyring, or set it to file or env"
		}
		return "", withCode(ExitFailure, fmt.Errorf("cannot keep the %s of profile '%s' in the keyring: %v; %s",
			secret.Words(kind), p.Name, cerr, how))
	}
	fmt.Fprintf(e.IO.Err, "The keyring cannot be used: %s.\nWhere should the %s be kept?\n1. File (%s)\n2. Environment (%s)\n",
		strings.TrimPrefix(cerr.Error(), secret.ErrKeyringUnreachable.Error()+": "), secret.Words(kind), fileText, envText)
	for {
		s, err := e.IO.prompt("Select")
		if err != nil {
			return "", err
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "1", "file":
			return secret.KindFile, nil
		case "2", "env", "environment":
			return secret.KindEnv, nil
		}
		e.warn("  Answer 1 or 2.")
	}
}
