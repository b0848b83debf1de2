package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/helpers/azcli"
)

func (a *App) azShimCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "az-shim",
		Short: "Install az and azd shims for the Azure SDKs, Terraform and scripts",
		Long: "The az shim (az-entra) answers `az account get-access-token`, `az account show`, `az account list`,\n" +
			"`az version` and `azd auth token` for the profile named by ENTRATOOL_PROFILE (else the default profile),\n" +
			"so AzureCLICredential, AzureDeveloperCLICredential, DefaultAzureCredential and Terraform's use_cli get\n" +
			"Entra ID tokens without `az login`. Other az commands go to the real Azure CLI if it is installed.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.azShimInstallCmd(), a.azShimUninstallCmd())
	return cmd
}

func (a *App) azShimInstallCmd() *cobra.Command {
	var dir, binary string
	var force bool
	cmd := &cobra.Command{
		Use:   "install --dir DIR",
		Short: "Link DIR/az and DIR/azd to az-entra",
		Long: "Link DIR/az and DIR/azd to the az-entra binary (az.cmd and azd.cmd wrappers on Windows), then put DIR\n" +
			"first on PATH. Use an absolute DIR: the Azure SDKs run az from /bin, where a relative PATH entry finds nothing.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return usageErr("az-shim install needs --dir DIR: the directory to put the az and azd links in (e.g. ~/.entratool/bin)")
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return usageErr("--dir %s: %v", dir, err)
			}
			target, err := a.azEntraBinary(binary)
			if err != nil {
				return err
			}
			done, err := azcli.Install(abs, target, force, runtime.GOOS)
			for _, d := range done {
				fmt.Fprintf(a.Out, "✓ %s -> %s (%s)\n", d.Path, d.Target, d.Status)
			}
			if err != nil {
				return err
			}
			a.pathAdvice(abs)
			return nil
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory for the az and azd links (created if missing)")
	cmd.Flags().StringVar(&binary, "binary", "", "az-entra binary to link to (default: next to entratool, else on PATH)")
	cmd.Flags().BoolVar(&force, "force", false, "replace an existing az or azd in DIR that is not a shim")
	return cmd
}

func (a *App) azShimUninstallCmd() *cobra.Command {
	var dir string
	cmd := &cobra.Command{
		Use:   "uninstall --dir DIR",
		Short: "Remove the az and azd links from DIR (only if they point at az-entra)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if dir == "" {
				return usageErr("az-shim uninstall needs --dir DIR")
			}
			abs, err := filepath.Abs(dir)
			if err != nil {
				return usageErr("--dir %s: %v", dir, err)
			}
			removed, err := azcli.Uninstall(abs, runtime.GOOS)
			for _, r := range removed {
				fmt.Fprintf(a.Out, "✓ removed %s\n", r)
			}
			if err == nil && len(removed) == 0 {
				fmt.Fprintf(a.Out, "no az shim in %s\n", abs)
			}
			return err
		},
	}
	cmd.Flags().StringVar(&dir, "dir", "", "directory the links were installed in")
	return cmd
}

// azEntraBinary finds the binary the links point at: --binary, else az-entra beside
// the running entratool (make build and release archives put them together), else
// az-entra on PATH. The result is absolute and has its links resolved, so the shim
// keeps working from any working directory.
func (a *App) azEntraBinary(flag string) (string, error) {
	name := azcli.BinaryName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	var cands []string
	if flag != "" {
		cands = []string{flag}
	} else {
		if exe, err := os.Executable(); err == nil {
			if r, err := filepath.EvalSymlinks(exe); err == nil {
				exe = r
			}
			cands = append(cands, filepath.Join(filepath.Dir(exe), name))
		}
		for _, d := range filepath.SplitList(a.Getenv("PATH")) {
			if d != "" && filepath.IsAbs(d) {
				cands = append(cands, filepath.Join(d, name))
			}
		}
	}
	for _, c := range cands {
		abs, err := filepath.Abs(c)
		if err != nil {
			continue
		}
		if r, err := filepath.EvalSymlinks(abs); err == nil {
			abs = r
		}
		fi, err := os.Stat(abs)
		if err == nil && fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0) {
			return abs, nil
		}
		if flag != "" {
			return "", usageErr("--binary %s is not an executable file", flag)
		}
	}
	return "", withCode(ExitFailure, errors.New("az-entra not found next to entratool or on PATH: build it (make build) or pass --binary PATH"))
}

// pathAdvice says how to put dir first on PATH, unless it already is.
func (a *App) pathAdvice(dir string) {
	entries := filepath.SplitList(a.Getenv("PATH"))
	if len(entries) > 0 && filepath.Clean(entries[0]) == dir {
		fmt.Fprintf(a.Out, "%s is first on PATH: az and azd now answer with entratool's tokens\n", dir)
		return
	}
	for _, e := range entries {
		if filepath.Clean(e) == dir {
			fmt.Fprintf(a.Out, "%s is on PATH but not first: an az in an earlier PATH entry would take precedence\n", dir)
			return
		}
	}
	switch runtime.GOOS {
	case "windows":
		fmt.Fprintf(a.Out, "Put it first on PATH:\n  $env:Path = \"%s;$env:Path\"\n", dir)
	default:
		fmt.Fprintf(a.Out, "Put it first on PATH (an absolute path: the Azure SDKs run az from /bin):\n  export PATH=\"%s:$PATH\"\n", strings.ReplaceAll(dir, `"`, `\"`))
	}
}
