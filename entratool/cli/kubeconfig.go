package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/helpers/execcred"
	"github.com/entratool/entratool/helpers/execcred/kubeconfig"
)

func (a *App) kubeconfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Wire kubectl-exec-entra into kubeconfig files (AKS)",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.kubeconfigConvertCmd())
	return cmd
}

// kubeOptions are the flags of `kubeconfig convert`.
type kubeOptions struct {
	kubeconfig  string
	context     string
	serverID    string
	serverIDSet bool
}

func (a *App) kubeconfigConvertCmd() *cobra.Command {
	var o kubeOptions
	cmd := &cobra.Command{
		Use:   "convert -p NAME [--kubeconfig FILE] [--context NAME] [--server-id ID]",
		Short: "Make AKS users in a kubeconfig get their tokens from kubectl-exec-entra",
		Long: "Rewrites kubeconfig users to run `kubectl-exec-entra --profile NAME --server-id ID` (exec API v1,\n" +
			"interactiveMode IfAvailable). Without --context it converts every user of the legacy azure\n" +
			"auth-provider and every kubelogin get-token user; with --context it converts that context's user,\n" +
			"whatever it was. The server id comes from --server-id, else the old entry (kubelogin --server-id,\n" +
			"auth-provider apiserver-id), else AKS's " + execcred.DefaultServerID + ".\n" +
			"Files come from --kubeconfig, else $KUBECONFIG (each user is rewritten in the file that defines it,\n" +
			"as kubectl merges them), else ~/.kube/config. Everything else in the files is kept; cached tokens\n" +
			"and other credentials of converted users are dropped, and no secret is written.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.serverIDSet = cmd.Flags().Changed("server-id")
			return a.runKubeConvert(cmd.Context(), &o)
		},
	}
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file to convert (default: $KUBECONFIG, then ~/.kube/config)")
	cmd.Flags().StringVar(&o.context, "context", "", "convert the user of this context, whatever it is")
	cmd.Flags().StringVar(&o.serverID, "server-id", "", "AKS server application id (default: the old entry's, else "+execcred.DefaultServerID+")")
	return cmd
}

// runKubeConvert rewrites the kubeconfig users for the resolved profile (the file
// format is helpers/execcred/kubeconfig's), then warns when kubectl could not find the
// plugin.
func (a *App) runKubeConvert(ctx context.Context, o *kubeOptions) error {
	p, _, err := a.loadProfile()
	if err != nil {
		return err
	}
	serverID := strings.TrimSpace(o.serverID)
	if o.serverIDSet && serverID == "" {
		return usageErr("--server-id is empty")
	}
	err = kubeconfig.Convert(ctx, kubeconfig.Options{
		Profile:    p.Name,
		Kubeconfig: o.kubeconfig,
		Context:    o.context,
		ServerID:   serverID,
		Getenv:     a.Getenv,
	}, a.Out)
	if err != nil {
		return kubeErr(err)
	}
	if !onPath(kubeconfig.Command, a.Getenv("PATH")) {
		a.warn(fmt.Sprintf("warning: %s is not on PATH; kubectl needs it there to run it", kubeconfig.Command))
	}
	return nil
}

// kubeErr gives a kubeconfig usage error entratool's usage exit code.
func kubeErr(err error) error {
	var ue *kubeconfig.UsageError
	if errors.As(err, &ue) {
		return &launch.ExitError{Code: ExitUsage, Err: err}
	}
	return err
}

// onPath reports whether name is an executable file in one of PATH's directories.
func onPath(name, path string) bool {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		candidates := []string{filepath.Join(dir, name)}
		if runtime.GOOS == "windows" {
			candidates = append(candidates, filepath.Join(dir, name+".exe"))
		}
		for _, c := range candidates {
			if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0) {
				return true
			}
		}
	}
	return false
}
