package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/profile"
)

// useOptions are the inputs of config use.
type useOptions struct {
	configEnv
	Name string // the profile to make the default
}

func newConfigUseCmd(a *App, runF func(context.Context, *useOptions) error) *cobra.Command {
	opts := &useOptions{}
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Make NAME the default profile",
		Args:  exactArgs(1),
		RunE:  runE(a, opts, &opts.configEnv, func(_ *cobra.Command, args []string) { opts.Name = args[0] }, runF, runConfigUse),
	}
}

func runConfigUse(ctx context.Context, opts *useOptions) error {
	st, err := opts.App.profiles()
	if err != nil {
		return err
	}
	name := opts.Name
	err = st.Update(ctx, func(c *profile.Config) error {
		if c.Get(name) == nil && name == profile.EnvName {
			// -p env and ENTRATOOL_PROFILE=env select it; a default must be stored.
			return refuseEnv(&profile.Profile{FromEnvironment: true}, "make the default")
		}
		if c.Get(name) == nil {
			return &profile.ResolveError{Err: profile.ErrProfileNotFound, Name: name, Source: "--profile", Path: st.Path(), Have: c.Names()}
		}
		c.DefaultProfile = name
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "✓ Default profile is now '%s'\n", name)
	return nil
}
