package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// deleteOptions are the inputs of config delete.
type deleteOptions struct {
	configEnv
	ProfileFlag string   // the global -p
	Args        []string // [NAME]
}

func newConfigDeleteCmd(a *App, runF func(context.Context, *deleteOptions) error) *cobra.Command {
	opts := &deleteOptions{}
	return &cobra.Command{
		Use:     "delete -p NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a profile with its stored secrets and cached tokens",
		Args:    maxArgs(1),
		RunE:    runE(a, opts, &opts.configEnv, func(_ *cobra.Command, args []string) { opts.ProfileFlag, opts.Args = a.profileName, args }, runF, runConfigDelete),
	}
}

func runConfigDelete(ctx context.Context, opts *deleteOptions) error {
	name, err := selectName(opts.ProfileFlag, opts.Args)
	if err != nil {
		return err
	}
	if name == "" {
		// Never fall back on the default profile for a deletion.
		return usageErr("missing --profile: name the profile to delete (entratool config delete -p NAME)")
	}
	st, err := opts.App.profiles()
	if err != nil {
		return err
	}
	var gone *profile.Profile
	err = st.Update(ctx, func(c *profile.Config) error {
		gone = c.Get(name)
		if gone == nil && name == profile.EnvName {
			return refuseEnv(&profile.Profile{FromEnvironment: true}, "delete")
		}
		if gone == nil {
			return &profile.ResolveError{Err: profile.ErrProfileNotFound, Name: name, Source: "--profile", Path: st.Path(), Have: c.Names()}
		}
		c.Delete(name)
		return nil
	})
	if err != nil {
		return err
	}
	opts.deleteSecrets(ctx, gone)
	opts.forgetTokens(gone)
	fmt.Fprintf(opts.IO.Out, "✓ Profile '%s' deleted\n", name)
	return nil
}

// deleteSecrets removes a deleted profile's stored secrets; a failure only warns.
func (o *deleteOptions) deleteSecrets(ctx context.Context, gone *profile.Profile) {
	store, err := o.App.storeFor(gone)
	if err != nil {
		o.warn(fmt.Sprintf("warning: %v; its secrets may remain", err))
		return
	}
	if store.Name() == secret.KindEnv {
		return
	}
	for _, kind := range secretKinds() {
		if err := store.Delete(ctx, secret.Key(gone.Name, kind)); err != nil {
			o.warn(fmt.Sprintf("warning: could not remove the %s from the %s store: %v", secret.Words(kind), store.Name(), err))
		}
	}
}
