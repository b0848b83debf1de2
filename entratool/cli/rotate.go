package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// configRotateCmd switches a profile to a new certificate only after Entra ID has
// issued a token for it, keeping the old settings in a backup.
func (a *App) configRotateCmd() *cobra.Command {
	var newCert string
	var pwStdin bool
	var timeout time.Duration
	cmd := &cobra.Command{
		Use:   "rotate -p NAME --certificate NEW.pfx [--certificate-password-stdin]",
		Short: "Switch a profile to a new certificate after proving it works",
		Long: "Gets a token with the new certificate first; only when Entra ID accepts it does the profile switch.\n" +
			"The old profile is saved in $ENTRATOOL_HOME/backups/ and the old password kept as NAME/certificate-password-previous.\n" +
			"On any failure nothing changes and the exit code is non-zero.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if newCert == "" {
				return usageErr("missing --certificate NEW.pfx")
			}
			if a.profileName == "" && a.Getenv("ENTRATOOL_PROFILE") == "" {
				return usageErr("missing -p NAME: which profile to rotate")
			}
			p, _, err := a.loadProfile()
			if err != nil {
				return err
			}
			if p.CertificateStore != "" {
				return usageErr("profile %q keeps its key in the %q store; rotate with `config edit --thumbprint`", p.Name, p.CertificateStore)
			}
			abs, err := filepath.Abs(newCert)
			if err != nil {
				return err
			}
			var pw string
			switch {
			case pwStdin:
				if pw, err = readSecretStdin(a.In); err != nil {
					return err
				}
			case a.InTTY:
				if pw, err = a.promptSecret("Certificate password"); err != nil {
					return err
				}
			}
			return a.rotate(cmd.Context(), p, abs, pw, timeout)
		},
	}
	cmd.Flags().StringVar(&newCert, "certificate", "", "the new certificate (PFX/P12 or PEM)")
	cmd.Flags().BoolVar(&pwStdin, "certificate-password-stdin", false, "read the new certificate's password from stdin")
	cmd.Flags().Var(newTimeoutFlag(&timeout, 30*time.Second), "timeout", "give up on the test token after this long")
	return cmd
}

func (a *App) rotate(ctx context.Context, old *profile.Profile, path, pw string, timeout time.Duration) error {
	c, err := cert.Load(ctx, path, pw)
	if err != nil {
		return err
	}
	if err := cert.CheckValidity(c.Leaf, a.Now()); err != nil {
		return err
	}
	trial := *old
	trial.CertificatePath = path
	trial.UseCertificate = true
	h, err := a.home()
	if err != nil {
		return err
	}
	trialProvider, err := a.newProvider(&trial, true, memSecrets{secret.Key(trial.Name, secret.CertificatePassword): pw})
	if err != nil {
		return err
	}
	tctx, cancel := ctxTimeout(ctx, timeout)
	defer cancel()
	if _, err := trialProvider.Token(tctx, trialProvider.Scope(""), true); err != nil {
		return fmt.Errorf("the new certificate did not get a token, profile %q unchanged: %w", old.Name, err)
	}

	store, err := a.secretStore(old)
	if err != nil {
		return err
	}
	oldPw, oldPwErr := store.Get(ctx, secret.Key(old.Name, secret.CertificatePassword))
	backupDir := filepath.Join(h, "backups")
	if err := fsutil.EnsurePrivateDir(backupDir); err != nil {
		return err
	}
	backup := filepath.Join(backupDir, fmt.Sprintf("%s-%s.json", old.Name, a.Now().UTC().Format("20060102T150405Z")))
	data, err := json.MarshalIndent(old, "", "  ")
	if err != nil {
		return err
	}
	if err := fsutil.WriteFileAtomic(backup, append(data, '\n'), 0o600); err != nil {
		return err
	}
	if store.Name() != "env" {
		if oldPwErr == nil && oldPw != "" {
			if err := store.Set(ctx, secret.Key(old.Name, secret.CertificatePassword+"-previous"), oldPw); err != nil {
				return fmt.Errorf("keep the old password: %w (profile unchanged)", err)
			}
		}
		if pw != "" {
			if err := store.Set(ctx, secret.Key(old.Name, secret.CertificatePassword), pw); err != nil {
				return fmt.Errorf("store the new password: %w (profile unchanged)", err)
			}
		} else if err := store.Delete(ctx, secret.Key(old.Name, secret.CertificatePassword)); err != nil {
			return err
		}
	}
	st, err := a.profiles()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(cfg *profile.Config) error {
		p := cfg.Get(old.Name)
		if p == nil {
			return fmt.Errorf("profile %q disappeared while rotating", old.Name)
		}
		p.CertificatePath = path
		p.UseCertificate = true
		return nil
	})
	if err != nil {
		// Put the old password back so the profile on disk and its secret agree.
		if store.Name() != "env" && oldPwErr == nil {
			_ = store.Set(ctx, secret.Key(old.Name, secret.CertificatePassword), oldPw)
		}
		return err
	}
	fmt.Fprintf(a.Out, "✓ Profile '%s' now uses %s (thumbprint %s); backup: %s\n", old.Name, path, cert.ThumbprintSHA1(c.Leaf), backup)
	return nil
}

// memSecrets is a read-only in-memory secret store, for trying a secret before storing it.
type memSecrets map[string]string

func (m memSecrets) Name() string { return "memory" }
func (m memSecrets) Get(_ context.Context, key string) (string, error) {
	if v, ok := m[key]; ok {
		return v, nil
	}
	return "", fmt.Errorf("%s: %w", key, secret.ErrNotFound)
}
func (m memSecrets) Set(context.Context, string, string) error {
	return errors.New("memory store is read-only")
}
func (m memSecrets) Delete(context.Context, string) error { return nil }
