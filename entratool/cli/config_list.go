package cli

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/profile"
)

// listOptions are the inputs of config list.
type listOptions struct {
	configEnv
	Output string // table or json
}

type listJSON struct {
	DefaultProfile string             `json:"defaultProfile,omitempty"`
	Profiles       []*profile.Profile `json:"profiles"`
	// Environment is the env profile when it is the one in use without being named: no
	// profile is stored, and AZURE_CLIENT_ID and AZURE_TENANT_ID are set.
	Environment *profile.Profile `json:"environment,omitempty"`
}

func newConfigListCmd(a *App, runF func(context.Context, *listOptions) error) *cobra.Command {
	opts := &listOptions{}
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List profiles (* marks the default)",
		Args:    noArgs,
		RunE:    runE(a, opts, &opts.configEnv, nil, runF, runConfigList),
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output: table or json")
	return cmd
}

func runConfigList(_ context.Context, opts *listOptions) error {
	if err := checkTableJSON(opts.Output); err != nil {
		return err
	}
	_, cfg, err := opts.App.loadConfig()
	if err != nil {
		return err
	}
	// The env profile is listed only when it is what a bare command would use: named,
	// it is always there to use, and a list of it beside stored profiles would suggest
	// it is stored too.
	var env *profile.Profile
	if len(cfg.Names()) == 0 && profile.EnvAvailable(opts.App.Getenv) {
		env, _ = profile.FromEnv(opts.App.Getenv) // without a credential variable: not usable, not listed
	}
	if opts.Output == "json" {
		ps := cfg.Profiles
		if ps == nil {
			ps = []*profile.Profile{}
		}
		return writeJSON(opts.IO.Out, listJSON{DefaultProfile: cfg.DefaultProfile, Profiles: ps, Environment: env})
	}
	if len(cfg.Names()) == 0 && env == nil {
		opts.warn("No profiles yet: run 'entratool config create'")
		return nil
	}
	tw := tabwriter.NewWriter(opts.IO.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tNAME\tAUTH\tCLIENT ID\tTENANT ID\tSCOPE")
	for _, p := range cfg.Profiles {
		if p == nil {
			continue
		}
		mark := ""
		if p.Name == cfg.DefaultProfile {
			mark = "*"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, p.Name, p.MethodLabel(), p.ClientID, p.TenantID, p.Scope)
	}
	if env != nil {
		fmt.Fprintf(tw, "*\t%s (from the environment)\t%s\t%s\t%s\t%s\n", env.Name, env.MethodLabel(), env.ClientID, env.TenantID, env.TokenScope(""))
	}
	return tw.Flush()
}
