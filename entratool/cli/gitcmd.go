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
			"sees the organization. The URL's host is added to the profile's gitHosts unless they cover it already\n" +
			"(the defaults cover dev.azure.com and *.visualstudio.com), and the git config records that setup added it.\n" +
			"Running it again changes nothing. --remove undoes it: the credential.URL entries go, and the host leaves\n" +
			"gitHosts only if setup added it and no other URL in the git configs still uses it with the profile.\n\n" +
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
	p, _, loadErr := a.loadProfile()
	// A deleted profile must not keep its git wiring from being removed.
	if loadErr != nil && !(o.remove && errors.Is(loadErr, profile.ErrProfileNotFound)) {
		return loadErr
	}
	if p != nil && p.FromEnvironment && !o.remove {
		if _, notListed := gitcred.WithHost(p.GitHosts, host); notListed {
			// Its gitHosts are ENTRATOOL_GIT_HOSTS: setup cannot add the host to them.
			return usageErr("profile '%s' does not allow %s: add it to %s (its gitHosts come from the environment)", p.Name, host, profile.EnvGitHosts)
		}
	}
	g, err := gitcred.OpenGitConfig(o.local, a.Getenv)
	if err != nil {
		return err
	}
	if o.remove {
		return gitErr(a.runGitRemove(ctx, g, p, removedProfileName(p, loadErr, a.profileName), key, host))
	}
	return gitErr(a.runGitAdd(ctx, g, p, key, host))
}

// removedProfileName is the name of the profile --remove is for: p's, or when it was
// deleted the name that was not found.
func removedProfileName(p *profile.Profile, loadErr error, flag string) string {
	if p != nil {
		return p.Name
	}
	var re *profile.ResolveError
	if errors.As(loadErr, &re) && re.Name != "" {
		return re.Name
	}
	return flag
}

// runGitAdd wires the helper for key into g, then lists host in the profile's gitHosts
// if they do not cover it yet, and records in g that setup added it (see runGitRemove).
func (a *App) runGitAdd(ctx context.Context, g *gitcred.GitConfig, p *profile.Profile, key, host string) error {
	helper, err := gitcred.HelperCommand(p.Name, a.searchPath(), exeDir())
	if err != nil {
		return err
	}
	// Read before this setup wires the URL: see below.
	wired, err := g.AllEntraHosts(ctx, p.Name)
	if err != nil {
		return err
	}
	if err := g.Setup(ctx, key, host, helper, a.Out, a.Err); err != nil {
		return err
	}
	added, err := a.addGitHost(ctx, p, host)
	switch {
	case err != nil:
		return err
	case added:
		// Only after profiles.json says so: a record without the host could later take
		// out a host the user lists by hand.
		return g.RecordAddedHost(ctx, p.Name, host)
	case !slices.Contains(wired, host):
		// The host was listed while no URL on it used the profile: a record of setup
		// having added it is a leftover (of a profile deleted and made again under
		// this name, or of wiring removed by hand). The host is the user's now.
		return g.ForgetAddedHost(ctx, p.Name, host)
	}
	return nil
}

// runGitRemove removes the helper for key from g; then host leaves the profile's
// gitHosts only if setup had added it (g records that) and no URL in any git config
// read from here still wires host to the profile. The defaults and hosts the user
// listed stay: taking dev.azure.com out would cut off every other organization. p is
// nil when the profile was deleted since; name is its name all the same.
func (a *App) runGitRemove(ctx context.Context, g *gitcred.GitConfig, p *profile.Profile, name, key, host string) error {
	if _, err := g.Remove(ctx, key, host, a.Out); err != nil || name == "" {
		return err
	}
	still, err := g.AllEntraHosts(ctx, name)
	if err != nil || slices.Contains(still, host) {
		return err
	}
	added, err := g.AddedHost(ctx, name, host)
	if err != nil || !added {
		return err
	}
	if p != nil {
		if err := a.removeGitHost(ctx, p, host); err != nil {
			return err
		}
	}
	return g.ForgetAddedHost(ctx, name, host)
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
// (see gitcred.WithHost); added reports whether profiles.json now lists it because of
// this call, as decided under the store's lock.
func (a *App) addGitHost(ctx context.Context, p *profile.Profile, host string) (added bool, err error) {
	if _, changed := gitcred.WithHost(p.GitHosts, host); !changed {
		return false, nil
	}
	st, err := a.profiles()
	if err != nil {
		return false, err
	}
	_, err = st.UpdateProfile(ctx, p.Name, func(q *profile.Profile) error {
		q.GitHosts, added = gitcred.WithHost(q.GitHosts, host)
		return nil
	})
	if err != nil || !added {
		return false, err
	}
	fmt.Fprintf(a.Out, "✓ profile %s: %s added to gitHosts\n", p.Name, host)
	return true, nil
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
