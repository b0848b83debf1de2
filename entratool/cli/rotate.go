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

// rotateOptions are the inputs of config rotate.
type rotateOptions struct {
	configEnv
	ProfileFlag   string // the global -p
	Certificate   string // the new certificate
	PasswordStdin bool   // its password comes on IO.In
	Timeout       time.Duration
}

// newConfigRotateCmd switches a profile to a new certificate only after Entra ID has
// issued a token for it, keeping the old settings in a backup.
func newConfigRotateCmd(a *App, runF func(context.Context, *rotateOptions) error) *cobra.Command {
	opts := &rotateOptions{}
	cmd := &cobra.Command{
		Use:   "rotate -p NAME --certificate NEW.pfx [--certificate-password-stdin]",
		Short: "Switch a profile to a new certificate after proving it works",
		Long: "Gets a token with the new certificate first; only when Entra ID accepts it does the profile switch.\n" +
			"The old profile is saved in $ENTRATOOL_HOME/backups/ and the old password kept as NAME/certificate-password-previous.\n" +
			"On any failure nothing changes and the exit code is non-zero.",
		Args: noArgs,
		RunE: runE(a, opts, &opts.configEnv, func(_ *cobra.Command, _ []string) { opts.ProfileFlag = a.profileName }, runF, runConfigRotate),
	}
	cmd.Flags().StringVar(&opts.Certificate, "certificate", "", "the new certificate (PFX/P12 or PEM)")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "certificate-password-stdin", false, "read the new certificate's password from stdin")
	cmd.Flags().Var(newTimeoutFlag(&opts.Timeout, 30*time.Second), "timeout", "give up on the test token after this long")
	return cmd
}

func runConfigRotate(ctx context.Context, opts *rotateOptions) error {
	if opts.Certificate == "" {
		return usageErr("missing --certificate NEW.pfx")
	}
	if opts.ProfileFlag == "" && opts.App.Getenv("ENTRATOOL_PROFILE") == "" {
		return usageErr("missing -p NAME: which profile to rotate")
	}
	_, cfg, err := opts.App.loadConfig()
	if err != nil {
		return err
	}
	p, err := cfg.Resolve(opts.ProfileFlag, opts.App.Getenv)
	if err != nil {
		return err
	}
	if err := refuseEnv(p, "rotate"); err != nil {
		return err
	}
	if m := p.Method(); m == profile.MethodFederated || m == profile.MethodManagedIdentity {
		// rotate proves a new certificate with the profile's app; these may have none.
		return usageErr("%s to rotate: switch it to a certificate with 'entratool config edit -p %s --certificate PATH'", noCertificate(p), p.Name)
	}
	if p.CertificateStore != "" {
		return usageErr("profile %q keeps its key in the %q store; rotate with `config edit --thumbprint`", p.Name, p.CertificateStore)
	}
	abs, err := filepath.Abs(opts.Certificate)
	if err != nil {
		return err
	}
	var pw string
	switch {
	case opts.PasswordStdin:
		if pw, err = readSecretStdin(opts.IO.In); err != nil {
			return err
		}
	case opts.IO.CanPrompt:
		if pw, err = opts.IO.promptSecret("Certificate password"); err != nil {
			return err
		}
	}
	return opts.rotate(ctx, p, abs, pw)
}

// rotate proves the new certificate with a token, then backs up the profile, swaps the
// stored password and switches the profile.
func (o *rotateOptions) rotate(ctx context.Context, old *profile.Profile, path, pw string) error {
	a := o.App
	c, err := cert.Load(ctx, path, pw)
	if err != nil {
		return err
	}
	if err := cert.CheckValidity(c.Leaf, a.Now()); err != nil {
		return err
	}
	trial := old.Clone()
	trial.SetMethod(profile.MethodCertificate)
	trial.CertificatePath = path
	h, err := a.home()
	if err != nil {
		return err
	}
	trialProvider, err := a.newProvider(trial, true, memSecrets{secret.Key(trial.Name, secret.CertificatePassword): pw})
	if err != nil {
		return err
	}
	tctx, cancel := ctxTimeout(ctx, o.Timeout)
	defer cancel()
	if _, err := trialProvider.Token(tctx, trialProvider.Scope(""), true); err != nil {
		return fmt.Errorf("the new certificate did not get a token, profile %q unchanged: %w", old.Name, err)
	}

	store, err := a.secretStore(old)
	if err != nil {
		return err
	}
	oldPw, oldPwErr := store.Get(ctx, secret.Key(old.Name, secret.CertificatePassword))
	backup, err := o.backup(h, old)
	if err != nil {
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
	_, err = st.UpdateProfile(ctx, old.Name, func(p *profile.Profile) error {
		p.SetMethod(profile.MethodCertificate)
		p.CertificatePath = path
		return nil
	})
	if err != nil {
		// Put the old password back so the profile on disk and its secret agree.
		if store.Name() != "env" && oldPwErr == nil {
			_ = store.Set(ctx, secret.Key(old.Name, secret.CertificatePassword), oldPw)
		}
		return err
	}
	fmt.Fprintf(o.IO.Out, "✓ Profile '%s' now uses %s (thumbprint %s); backup: %s\n", old.Name, path, cert.ThumbprintSHA1(c.Leaf), backup)
	return nil
}

// backup writes the profile to HOME/backups/NAME-TIME.json and returns the file's path.
func (o *rotateOptions) backup(h string, old *profile.Profile) (string, error) {
	backupDir := filepath.Join(h, "backups")
	if err := fsutil.EnsurePrivateDir(backupDir); err != nil {
		return "", err
	}
	backup := filepath.Join(backupDir, fmt.Sprintf("%s-%s.json", old.Name, o.App.Now().UTC().Format("20060102T150405Z")))
	data, err := json.MarshalIndent(old, "", "  ")
	if err != nil {
		return "", err
	}
	if err := fsutil.WriteFileAtomic(backup, append(data, '\n'), 0o600); err != nil {
		return "", err
	}
	return backup, nil
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
