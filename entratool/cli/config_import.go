package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/profile"
)

// importOptions are the inputs of config import.
type importOptions struct {
	configEnv
	File  string // the file to import; "-" reads IO.In
	Force bool   // replace existing profiles of the same name
}

func newConfigImportCmd(a *App, runF func(context.Context, *importOptions) error) *cobra.Command {
	opts := &importOptions{}
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Add the profiles of FILE (as config export writes it; - reads stdin)",
		Long: "Add the profiles in FILE: what 'config export' writes, a single profile object, or {\"profiles\": [...]}.\n" +
			"An existing profile of the same name is replaced only with --force. Secrets are not imported: fields that\n" +
			"hold one (clientSecret, certificatePassword, password, pin, any key containing secret or password) are\n" +
			"dropped with a warning; set secrets with 'entratool config edit -p NAME'. A replaced profile whose\n" +
			"authority, tenant or client changes loses its stored secret, which never follows it elsewhere.",
		Args: exactArgs(1),
		RunE: runE(a, opts, &opts.configEnv, func(_ *cobra.Command, args []string) { opts.File = args[0] }, runF, runConfigImport),
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace existing profiles of the same name")
	return cmd
}

// runConfigImport reads and checks the file, unbinds the stored secrets of replaced
// profiles that move to another identity, then writes all the profiles at once.
func runConfigImport(ctx context.Context, opts *importOptions) error {
	st, cfg, err := opts.App.loadConfig()
	if err != nil {
		return err
	}
	in, dropped, err := opts.read()
	if err != nil {
		return err
	}
	if err := opts.checkClashes(cfg, in); err != nil {
		return err
	}
	if len(dropped) > 0 {
		opts.warn(fmt.Sprintf("warning: secrets are never imported into profiles.json; dropped %s: set the secret with '%s'",
			droppedNames(dropped), editHint(dropped)))
	}
	unbound, err := opts.unbindReplaced(ctx, cfg, in)
	if err != nil {
		return err
	}
	replaced, err := opts.write(ctx, st, in, unbound)
	if err != nil {
		return err
	}
	for _, old := range replaced {
		opts.forgetTokens(old)
	}
	for _, p := range in.Profiles {
		if p.Method() == profile.MethodCertificate && p.CertificatePath != "" {
			if _, err := os.Stat(p.CertificatePath); err != nil {
				opts.warn(fmt.Sprintf("warning: profile '%s': certificate not found: %s", p.Name, p.CertificatePath))
			}
		}
		fmt.Fprintf(opts.IO.Out, "✓ Profile '%s' imported\n", p.Name)
	}
	return nil
}

// read parses the file (or stdin) and validates its profiles; secret-bearing fields
// come back dropped.
func (o *importOptions) read() (*profile.Config, []profile.Dropped, error) {
	file := o.File
	var data []byte
	var err error
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(o.IO.In, 16<<20))
		file = "stdin"
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("import: %w", err)
	}
	in, dropped, err := profile.ParseImport(file, data)
	if err != nil {
		return nil, nil, err
	}
	if len(in.Names()) == 0 {
		return nil, nil, fmt.Errorf("%s holds no profiles", file)
	}
	if err := in.Validate(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", file, err)
	}
	if in.Get(profile.EnvName) != nil {
		// It could never be used: -p env always means the AZURE_* variables.
		return nil, nil, fmt.Errorf("%s: profile '%s': %s: rename it in the file", file, profile.EnvName, envReserved)
	}
	return in, dropped, nil
}

// checkClashes refuses to replace existing profiles without --force.
func (o *importOptions) checkClashes(cfg, in *profile.Config) error {
	var clash []string
	for _, n := range in.Names() {
		if cfg.Get(n) != nil {
			clash = append(clash, n)
		}
	}
	if len(clash) > 0 && !o.Force {
		file := o.File
		if file == "-" {
			file = "stdin"
		}
		return fmt.Errorf("profile(s) %s already exist: pass --force to replace them, or rename them in %s", strings.Join(clash, ", "), file)
	}
	return nil
}

// unbindReplaced deletes the stored secrets of each replaced profile that signs in
// elsewhere, before anything is written, so that a failure leaves the old profile and
// its secret together (SPEC §12). It returns the stores cleaned, by profile.
func (o *importOptions) unbindReplaced(ctx context.Context, cfg, in *profile.Config) (map[string]map[string]bool, error) {
	unbound := map[string]map[string]bool{}
	for _, p := range in.Profiles {
		old := cfg.Get(p.Name)
		if !profile.IdentityChanged(old, p) {
			continue
		}
		stores, err := o.unbindSecrets(ctx, old, p, nil)
		if err != nil {
			return nil, err
		}
		unbound[p.Name] = stores
	}
	return unbound, nil
}

// write puts every imported profile into profiles.json under one lock, and returns the
// profiles it replaced.
func (o *importOptions) write(ctx context.Context, st *profile.Store, in *profile.Config, unbound map[string]map[string]bool) ([]*profile.Profile, error) {
	var replaced []*profile.Profile
	err := st.Update(ctx, func(c *profile.Config) error {
		replaced = replaced[:0]
		for _, p := range in.Profiles {
			if old := c.Get(p.Name); old != nil {
				if !o.Force {
					return fmt.Errorf("profile '%s' already exists: pass --force to replace it", p.Name)
				}
				if err := o.checkUnbound(old, p, unbound[p.Name]); err != nil {
					return err
				}
				replaced = append(replaced, old)
			}
			c.Put(p)
		}
		if c.DefaultProfile == "" && in.DefaultProfile != "" {
			c.DefaultProfile = in.DefaultProfile
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return replaced, nil
}

// editHint is the command that sets a profile's secret again.
func editHint(dropped []profile.Dropped) string {
	if len(dropped) == 1 {
		return "entratool config edit -p " + dropped[0].Profile
	}
	return "entratool config edit -p NAME"
}
