package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
)

// exportOptions are the inputs of config export.
type exportOptions struct {
	configEnv
	ProfileFlag string   // the global -p
	Args        []string // [NAME]
	Output      string   // file to write; "" or "-" is stdout
}

func newConfigExportCmd(a *App, runF func(context.Context, *exportOptions) error) *cobra.Command {
	opts := &exportOptions{}
	cmd := &cobra.Command{
		Use:   "export [-p NAME] [-o FILE]",
		Short: "Write a profile as JSON (never its secrets), to FILE or stdout",
		Example: "  entratool config export -p production-service -o backup-production-service.json\n" +
			"  entratool config import backup-production-service.json --force",
		Args: maxArgs(1),
		RunE: runE(a, opts, &opts.configEnv, func(_ *cobra.Command, args []string) { opts.ProfileFlag, opts.Args = a.profileName, args }, runF, runConfigExport),
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "", "file to write (default stdout; the file is made 0600)")
	return cmd
}

func runConfigExport(_ context.Context, opts *exportOptions) error {
	_, cfg, err := opts.App.loadConfig()
	if err != nil {
		return err
	}
	p, err := resolveProfile(cfg, opts.ProfileFlag, opts.Args, opts.App.Getenv)
	if err != nil {
		return err
	}
	// Its settings are the AZURE_* variables: an export would be a stored copy of them.
	if err := refuseEnv(p, "export"); err != nil {
		return err
	}
	data, dropped := profile.Export(p)
	if len(dropped) > 0 {
		// Someone wrote a secret into profiles.json by hand; it stays there, but an
		// export is made to be copied around (SPEC §12).
		opts.warn("note: secrets are never exported; left out: " + droppedNames(dropped))
	}
	if out := opts.Output; out != "" && out != "-" {
		if err := fsutil.WriteFileAtomic(out, data, 0o600); err != nil {
			return fmt.Errorf("export profile '%s': %w", p.Name, err)
		}
		fmt.Fprintf(opts.IO.Out, "✓ Profile '%s' exported to %s\n", p.Name, out)
		return nil
	}
	_, err = opts.IO.Out.Write(data)
	return err
}

// droppedNames lists secret-bearing fields by profile, for one warning line: names only,
// never values.
func droppedNames(dropped []profile.Dropped) string {
	parts := make([]string, 0, len(dropped))
	for _, d := range dropped {
		parts = append(parts, fmt.Sprintf("%s (profile '%s')", strings.Join(d.Fields, ", "), d.Profile))
	}
	return strings.Join(parts, "; ")
}
