package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
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
	cmd.AddCommand(newAzShimInstallCmd(a, nil), newAzShimUninstallCmd(a, nil))
	return cmd
}

// azShimInstallOptions are the inputs of az-shim install.
type azShimInstallOptions struct {
	configEnv
	Dir    string // --dir: where the az and azd links go
	Binary string // --binary: az-entra to link to; "" finds it (azEntraBinary)
	Force  bool   // --force: replace an az or azd that is not a shim
}

func newAzShimInstallCmd(a *App, runF func(context.Context, *azShimInstallOptions) error) *cobra.Command {
	opts := &azShimInstallOptions{}
	cmd := &cobra.Command{
		Use:   "install --dir DIR",
		Short: "Link DIR/az and DIR/azd to az-entra",
		Long: "Link DIR/az and DIR/azd to the az-entra binary (az.cmd and azd.cmd wrappers on Windows), then put DIR\n" +
			"first on PATH. Use an absolute DIR: the Azure SDKs run az from /bin, where a relative PATH entry finds nothing.",
		Args: noArgs,
		RunE: runE(a, opts, &opts.configEnv, nil, runF, runAzShimInstall),
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "directory for the az and azd links (created if missing)")
	cmd.Flags().StringVar(&opts.Binary, "binary", "", "az-entra binary to link to (default: next to entratool, else on PATH)")
	cmd.Flags().BoolVar(&opts.Force, "force", false, "replace an existing az or azd in DIR that is not a shim")
	return cmd
}

// runAzShimInstall links DIR/az and DIR/azd to az-entra, then says how to put DIR
// first on PATH.
func runAzShimInstall(_ context.Context, opts *azShimInstallOptions) error {
	if opts.Dir == "" {
		return usageErr("az-shim install needs --dir DIR: the directory to put the az and azd links in (e.g. ~/.entratool/bin)")
	}
	abs, err := azShimDir(opts.Dir)
	if err != nil {
		return err
	}
	target, err := azEntraBinary(opts.Binary, opts.App.Getenv)
	if err != nil {
		return err
	}
	done, err := azcli.Install(abs, target, opts.Force, runtime.GOOS)
	for _, d := range done {
		fmt.Fprintf(opts.IO.Out, "✓ %s -> %s (%s)\n", d.Path, d.Target, d.Status)
	}
	if err != nil {
		return err
	}
	pathAdvice(opts.IO.Out, opts.App.Getenv("PATH"), abs)
	return nil
}

// azShimUninstallOptions are the inputs of az-shim uninstall.
type azShimUninstallOptions struct {
	configEnv
	Dir string // --dir the links were installed in
}

func newAzShimUninstallCmd(a *App, runF func(context.Context, *azShimUninstallOptions) error) *cobra.Command {
	opts := &azShimUninstallOptions{}
	cmd := &cobra.Command{
		Use:   "uninstall --dir DIR",
		Short: "Remove the az and azd links from DIR (only if they point at az-entra)",
		Args:  noArgs,
		RunE:  runE(a, opts, &opts.configEnv, nil, runF, runAzShimUninstall),
	}
	cmd.Flags().StringVar(&opts.Dir, "dir", "", "directory the links were installed in")
	return cmd
}

// runAzShimUninstall removes DIR's az and azd when they are az-entra's.
func runAzShimUninstall(_ context.Context, opts *azShimUninstallOptions) error {
	if opts.Dir == "" {
		return usageErr("az-shim uninstall needs --dir DIR")
	}
	abs, err := azShimDir(opts.Dir)
	if err != nil {
		return err
	}
	removed, err := azcli.Uninstall(abs, runtime.GOOS)
	for _, r := range removed {
		fmt.Fprintf(opts.IO.Out, "✓ removed %s\n", r)
	}
	if err == nil && len(removed) == 0 {
		fmt.Fprintf(opts.IO.Out, "no az shim in %s\n", abs)
	}
	return err
}

// azShimDir is --dir made absolute.
func azShimDir(dir string) (string, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return "", usageErr("--dir %s: %v", dir, err)
	}
	return abs, nil
}

// azEntraBinary finds the binary the links point at: --binary, else az-entra beside
// the running entratool (make build and release archives put them together), else
// az-entra on PATH. The result is absolute and has its links resolved, so the shim
// keeps working from any working directory.
func azEntraBinary(flag string, getenv func(string) string) (string, error) {
	for _, c := range azEntraCandidates(flag, getenv) {
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

// azEntraCandidates are the paths azEntraBinary tries, in order.
func azEntraCandidates(flag string, getenv func(string) string) []string {
	if flag != "" {
		return []string{flag}
	}
	name := azcli.BinaryName
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	var cands []string
	if exe, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(exe); err == nil {
			exe = r
		}
		cands = append(cands, filepath.Join(filepath.Dir(exe), name))
	}
	for _, d := range filepath.SplitList(getenv("PATH")) {
		if d != "" && filepath.IsAbs(d) {
			cands = append(cands, filepath.Join(d, name))
		}
	}
	return cands
}

// pathAdvice says on w how to put dir first on the PATH pathList, unless it already is.
func pathAdvice(w io.Writer, pathList, dir string) {
	entries := filepath.SplitList(pathList)
	if len(entries) > 0 && filepath.Clean(entries[0]) == dir {
		fmt.Fprintf(w, "%s is first on PATH: az and azd now answer with entratool's tokens\n", dir)
		return
	}
	for _, e := range entries {
		if filepath.Clean(e) == dir {
			fmt.Fprintf(w, "%s is on PATH but not first: an az in an earlier PATH entry would take precedence\n", dir)
			return
		}
	}
	switch runtime.GOOS {
	case "windows":
		fmt.Fprintf(w, "Put it first on PATH:\n  $env:Path = \"%s;$env:Path\"\n", dir)
	default:
		fmt.Fprintf(w, "Put it first on PATH (an absolute path: the Azure SDKs run az from /bin):\n  export PATH=\"%s:$PATH\"\n", strings.ReplaceAll(dir, `"`, `\"`))
	}
}
