package cli

import (
	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/launch"
)

// versionCmd is `entratool version`. The entratool front answers it itself
// (launch.ParseVersion reads the same command lines this command runs), so that it works
// with no engine, and says so; here it is the engine's answer to anything the front
// leaves to cobra, and `entratool-engine version`'s.
func (a *App) versionCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit, build date and Go version",
		Long: `Print this build's version, commit, build date (the commit's time, UTC), and the Go
version and platform it was built with, then the entratool-engine it runs and that
engine's version. An engine that is missing or of another version is a warning on
stderr (install every entratool binary from the same release); the exit status is 0
all the same.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !launch.ValidVersionOutput(output) {
				return usageErr("unknown output %q: use %s", output, launch.VersionOutputs)
			}
			return launch.WriteVersion(cmd.Context(), "entratool", output, a.Out, a.Err)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output: "+launch.VersionOutputs)
	return cmd
}

// noArgs and exactArgs make cobra's argument checks usage errors (exit 2).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageErr("%s takes no arguments, got %q", cmd.CommandPath(), args[0])
	}
	return nil
}

func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErr("%s needs %d argument(s), got %d (see --help)", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

func maxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return usageErr("%s takes at most %d argument(s), got %d (see --help)", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}
