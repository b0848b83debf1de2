package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/helpers/gitcred"
)

func (a *App) gitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "git",
		Short: "Wire git-credential-entra into git (Azure Repos over HTTPS)",
		Args:  noArgs,
	}
	cmd.AddCommand(a.gitSetupCmd())
	return cmd
}

// gitOptions are the flags of `git setup`.
type gitOptions struct {
	url    string
	global bool
	local  bool
	remove bool
}

func (a *App) gitSetupCmd() *cobra.Command {
	var o gitOptions
	cmd := &cobra.Command{
		Use:   "setup -p NAME --url URL [--global|--local] [--remove]",
		Short: "Make git use the profile's tokens for a URL",
		Long: "Make git ask git-credential-entra for credentials for URL and everything under it:\n" +
			"credential.URL.helper is set to an empty value (so that no other helper answers for URL) and then\n" +
			"`entra --profile NAME`; for dev.azure.com also credential.URL.useHttpPath true, so that the helper\n" +
			"sees the organization. The URL's host is added to the profile's gitHosts. Running it again\n" +
			"changes nothing; --remove undoes it.\n\n" +
			"Example: entratool git setup -p build-agent --url https://dev.azure.com/contoso",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.runGitSetup(cmd.Context(), &o)
		},
	}
	cmd.Flags().StringVar(&o.url, "url", "", "URL git credentials are for, e.g. https://dev.azure.com/ORG")
	cmd.Flags().BoolVar(&o.global, "global", false, "write to the user's git config (the default)")
	cmd.Flags().BoolVar(&o.local, "local", false, "write to the config of the repository in the current directory")
	cmd.Flags().BoolVar(&o.remove, "remove", false, "undo what setup wrote for URL")
	return cmd
}

// runGitSetup wires (or with --remove unwires) git-credential-entra for the URL in the
// chosen git config (helpers/gitcred edits it), then the profile's gitHosts.
func (a *App) runGitSetup(ctx context.Context, o *gitOptions) error {
	if o.global && o.local {
		return usageErr("--global and --local exclude each other")
	}
	raw, err := a.need(o.url, "url", "URL (e.g. https://dev.azure.com/ORG)")
	if err != nil {
		return err
	}
	key, host, err := gitcred.CredentialURL(raw)
	if err != nil {
		return gitErr(err)
	}
	p, _, err := a.loadProfile()
	// A deleted profile must not keep its git wiring from being removed.
	if err != nil && !(o.remove && errors.Is(err, profile.ErrProfileNotFound)) {
		return err
	}
	g, err := gitcred.OpenGitConfig(o.local, a.Getenv)
	if err != nil {
		return err
	}
	if o.remove {
		return a.runGitRemove(ctx, g, p, key, host)
	}
	helper, err := gitcred.HelperCommand(p.Name, a.searchPath(), exeDir())
	if err != nil {
		return err
	}
	if err := g.Setup(ctx, key, host, helper, a.Out, a.Err); err != nil {
		return gitErr(err)
	}
	return a.addGitHost(ctx, p, host)
}

// runGitRemove removes the helper for key from g, then host from the profile's
// gitHosts (p is nil when the profile was deleted since).
func (a *App) runGitRemove(ctx context.Context, g *gitcred.GitConfig, p *profile.Profile, key, host string) error {
	removed, err := g.Remove(ctx, key, host, a.Out)
	if err != nil || !removed || p == nil {
		return gitErr(err)
	}
	// Another URL on the same host may still use this profile (two organizations on
	// dev.azure.com); then the host stays listed.
	still, err := g.EntraHosts(ctx, p.Name)
	if err != nil {
		return gitErr(err)
	}
	if slices.Contains(still, host) {
		return nil
	}
	return a.removeGitHost(ctx, p, host)
}

// gitErr gives a gitcred usage error entratool's usage exit code.
func gitErr(err error) error {
	var ue *gitcred.UsageError
	if errors.As(err, &ue) {
		return &launch.ExitError{Code: ExitUsage, Err: err}
	}
	return err
}

// addGitHost adds host to the profile's gitHosts unless the list already matches it
// (see gitcred.WithHost).
func (a *App) addGitHost(ctx context.Context, p *profile.Profile, host string) error {
	if _, changed := gitcred.WithHost(p.GitHosts, host); !changed {
		return nil
	}
	st, err := a.profiles()
	if err != nil {
		return err
	}
	_, err = st.UpdateProfile(ctx, p.Name, func(q *profile.Profile) error {
		q.GitHosts, _ = gitcred.WithHost(q.GitHosts, host)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "✓ profile %s: %s added to gitHosts\n", p.Name, host)
	return nil
}

// removeGitHost takes host out of the profile's gitHosts (see gitcred.WithoutHost).
func (a *App) removeGitHost(ctx context.Context, p *profile.Profile, host string) error {
	if !gitcred.ListsHost(p.GitHosts, host) {
		return nil
	}
	st, err := a.profiles()
	if err != nil {
		return err
	}
	// A profile deleted meanwhile lists no host any more: nothing to drop there.
	_, err = st.UpdateProfile(ctx, p.Name, func(q *profile.Profile) error {
		q.GitHosts, _ = gitcred.WithoutHost(q.GitHosts, host)
		return nil
	})
	if err != nil && !errors.Is(err, profile.ErrProfileDeleted) {
		return err
	}
	fmt.Fprintf(a.Out, "✓ profile %s: %s removed from gitHosts\n", p.Name, host)
	return nil
}

// searchPath is the App's PATH, else the process's.
func (a *App) searchPath() string {
	if p := a.Getenv("PATH"); p != "" {
		return p
	}
	return os.Getenv("PATH")
}

// exeDir is the directory of the running entratool, symlinks resolved; "" if unknown.
func exeDir() string {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return ""
	}
	return filepath.Dir(exe)
}
