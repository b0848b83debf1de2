package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/helpers/gitcred"
)

const gitHelperBinary = "git-credential-entra"

func (a *App) gitCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "git",
		Short: "Wire git-credential-entra into git (Azure Repos over HTTPS)",
		Args:  noArgs,
	}
	cmd.AddCommand(a.gitSetupCmd())
	return cmd
}

type gitSetupFlags struct {
	url    string
	global bool
	local  bool
	remove bool
}

func (a *App) gitSetupCmd() *cobra.Command {
	var f gitSetupFlags
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
			if f.global && f.local {
				return usageErr("--global and --local exclude each other")
			}
			return a.gitSetup(cmd.Context(), f)
		},
	}
	cmd.Flags().StringVar(&f.url, "url", "", "URL git credentials are for, e.g. https://dev.azure.com/ORG")
	cmd.Flags().BoolVar(&f.global, "global", false, "write to the user's git config (the default)")
	cmd.Flags().BoolVar(&f.local, "local", false, "write to the config of the repository in the current directory")
	cmd.Flags().BoolVar(&f.remove, "remove", false, "undo what setup wrote for URL")
	return cmd
}

// gitURL checks a URL given to git setup and returns it as the credential.<url> key
// (scheme and host lower-case, no user, no default port, no trailing slash) and the
// host as gitHosts lists it.
func gitURL(raw string) (key, host string, err error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", "", usageErr("--url %q is not a URL like https://dev.azure.com/ORG", raw)
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "", "", usageErr("--url %q must use https:// (git-credential-entra never sends a token in clear text)", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "", usageErr("--url %q must not have a query or fragment", raw)
	}
	host, ok := gitcred.HostKey(u.Host)
	if !ok {
		return "", "", usageErr("--url %q: %q is not a host name the helper can match", raw, u.Host)
	}
	// No user part: a key without one matches every user, which is what
	// https://ORG@dev.azure.com/ORG/... clone URLs need.
	return "https://" + host + strings.TrimRight(u.EscapedPath(), "/"), host, nil
}

func (a *App) gitSetup(ctx context.Context, f gitSetupFlags) error {
	raw, err := a.need(f.url, "url", "URL (e.g. https://dev.azure.com/ORG)")
	if err != nil {
		return err
	}
	key, host, err := gitURL(raw)
	if err != nil {
		return err
	}
	p, _, err := a.loadProfile()
	// A deleted profile must not keep its git wiring from being removed.
	if err != nil && !(f.remove && errors.Is(err, profile.ErrProfileNotFound)) {
		return err
	}
	g, err := a.newGitConfig(f.local)
	if err != nil {
		return err
	}
	if f.remove {
		return a.gitRemove(ctx, g, p, key, host)
	}
	helper, err := a.helperCommand(p.Name, exeDir())
	if err != nil {
		return err
	}

	helperKey := "credential." + key + ".helper"
	have, err := g.getAll(ctx, helperKey)
	if err != nil {
		return err
	}
	want := []string{"", helper}
	if slices.Equal(have, want) {
		fmt.Fprintf(a.Out, "✓ %s already uses %s (%s git config, unchanged)\n", key, helper, g.scope)
	} else {
		if len(have) > 0 {
			if err := g.run(ctx, "--unset-all", helperKey); err != nil {
				return err
			}
		}
		for _, v := range want {
			if err := g.run(ctx, "--add", helperKey, v); err != nil {
				return err
			}
		}
		fmt.Fprintf(a.Out, "✓ %s: credential helper %s (%s git config)\n", key, helper, g.scope)
		if others := slices.DeleteFunc(slices.Clone(have), func(v string) bool { return v == "" || v == helper }); len(others) > 0 {
			fmt.Fprintf(a.Err, "note: replaced the helpers configured for %s before: %s\n", key, strings.Join(others, ", "))
		}
	}

	if isAzureDevOpsHost(host) {
		pathKey := "credential." + key + ".useHttpPath"
		have, err := g.getAll(ctx, pathKey)
		if err != nil {
			return err
		}
		if !slices.Equal(have, []string{"true"}) {
			if err := g.run(ctx, "--replace-all", pathKey, "true"); err != nil {
				return err
			}
			fmt.Fprintf(a.Out, "✓ %s: useHttpPath true (dev.azure.com keeps the organization in the path)\n", key)
		}
	}
	return a.addGitHost(ctx, p, host)
}

// isAzureDevOpsHost: dev.azure.com names the organization in the path, which git only
// passes to helpers with useHttpPath (ORG.visualstudio.com has it in the host).
func isAzureDevOpsHost(host string) bool { return host == "dev.azure.com" }

// addGitHost adds host to the profile's gitHosts unless the list already matches it.
// An empty list means the defaults; they are written out with host, so that adding a
// host does not take dev.azure.com and *.visualstudio.com away.
func (a *App) addGitHost(ctx context.Context, p *profile.Profile, host string) error {
	if gitcred.Allowed(p.GitHosts, "https", host) {
		return nil
	}
	st, err := a.profiles()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(c *profile.Config) error {
		q := c.Get(p.Name)
		if q == nil {
			return fmt.Errorf("profile %q disappeared from %s while git setup ran", p.Name, c.Path)
		}
		if gitcred.Allowed(q.GitHosts, "https", host) {
			return nil
		}
		if len(q.GitHosts) == 0 {
			q.GitHosts = gitcred.DefaultHosts()
		}
		q.GitHosts = append(q.GitHosts, host)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "✓ profile %s: %s added to gitHosts\n", p.Name, host)
	return nil
}

func (a *App) gitRemove(ctx context.Context, g *gitConfig, p *profile.Profile, key, host string) error {
	helperKey := "credential." + key + ".helper"
	have, err := g.getAll(ctx, helperKey)
	if err != nil {
		return err
	}
	if !slices.ContainsFunc(have, isEntraHelper) {
		fmt.Fprintf(a.Out, "✓ %s has no entra credential helper in the %s git config (nothing to remove)\n", key, g.scope)
		return nil
	}
	if err := g.run(ctx, "--unset-all", helperKey); err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "✓ %s: credential helper removed (%s git config)\n", key, g.scope)
	if isAzureDevOpsHost(host) {
		pathKey := "credential." + key + ".useHttpPath"
		if v, err := g.getAll(ctx, pathKey); err != nil {
			return err
		} else if len(v) > 0 {
			if err := g.run(ctx, "--unset-all", pathKey); err != nil {
				return err
			}
		}
	}
	if p == nil {
		return nil
	}
	// Another URL on the same host may still use this profile (two organizations on
	// dev.azure.com); then the host stays listed.
	still, err := g.entraURLs(ctx, p.Name)
	if err != nil {
		return err
	}
	if slices.Contains(still, host) {
		return nil
	}
	return a.removeGitHost(ctx, p, host)
}

func (a *App) removeGitHost(ctx context.Context, p *profile.Profile, host string) error {
	listed := func(hosts []string) bool {
		return slices.ContainsFunc(hosts, func(h string) bool { k, _ := gitcred.HostKey(h); return k == host })
	}
	if !listed(p.GitHosts) {
		return nil
	}
	st, err := a.profiles()
	if err != nil {
		return err
	}
	err = st.Update(ctx, func(c *profile.Config) error {
		q := c.Get(p.Name)
		if q == nil || !listed(q.GitHosts) {
			return nil
		}
		q.GitHosts = slices.DeleteFunc(q.GitHosts, func(h string) bool { k, _ := gitcred.HostKey(h); return k == host })
		// Back to exactly the defaults is what an empty list says (setup wrote them out).
		if slices.Equal(q.GitHosts, gitcred.DefaultHosts()) {
			q.GitHosts = nil
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "✓ profile %s: %s removed from gitHosts\n", p.Name, host)
	return nil
}

// isEntraHelper recognizes the helper values setup writes (and hand-written ones).
func isEntraHelper(v string) bool {
	return v == "entra" || strings.HasPrefix(v, "entra ") || strings.Contains(v, gitHelperBinary)
}

// helperCommand is the credential.helper value for the profile: `entra --profile NAME`
// when git-credential-entra is on PATH (git runs it as `git credential-entra`), else its
// absolute path in exeDir (where entratool is installed). git runs the value through
// the shell and recognizes an absolute path only by its first character, so a path that
// needs quoting takes the "!" (shell command) form.
func (a *App) helperCommand(name, exeDir string) (string, error) {
	args := " --profile " + fsutil.ShellQuote(name)
	if _, err := a.lookPath(gitHelperBinary); err == nil {
		return "entra" + args, nil
	}
	if exeDir == "" {
		return "", fmt.Errorf("%s is not on PATH and entratool cannot tell where it is installed: add its directory to PATH", gitHelperBinary)
	}
	path := filepath.Join(exeDir, gitHelperBinary)
	if !isExecutable(path) {
		return "", fmt.Errorf("%s is neither on PATH nor beside entratool in %s: install it there (make build puts both in ./bin) or add its directory to PATH",
			gitHelperBinary, exeDir)
	}
	if fsutil.ShellQuote(path) == path {
		return path + args, nil
	}
	return "!" + fsutil.ShellQuote(path) + args, nil
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

// lookPath is exec.LookPath over the App's PATH.
func (a *App) lookPath(name string) (string, error) {
	pathEnv := a.Getenv("PATH")
	if pathEnv == "" {
		pathEnv = os.Getenv("PATH")
	}
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if isExecutable(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, exec.ErrNotFound)
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0
}

// gitConfig runs the real `git config` on one config file (--global or --local).
type gitConfig struct {
	git   string
	scope string // "global" or "local"
	env   []string
}

func (a *App) newGitConfig(local bool) (*gitConfig, error) {
	git, err := a.lookPath("git")
	if err != nil {
		return nil, errors.New("git is not installed (or not on PATH): install git first")
	}
	// The variables that decide which config files git reads: the App's values win over
	// the process's (they differ in tests).
	env := os.Environ()
	for _, k := range []string{"HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM", "GIT_DIR", "GIT_WORK_TREE", "PATH"} {
		if v := a.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	scope := "global"
	if local {
		scope = "local"
	}
	return &gitConfig{git: git, scope: scope, env: env}, nil
}

// gitConfigNotFound is git config's exit code for "no such key" (and for no match).
const gitConfigNotFound = 1

func (g *gitConfig) exec(ctx context.Context, args ...string) (string, int, error) {
	cmd := exec.CommandContext(ctx, g.git, append([]string{"config", "--" + g.scope}, args...)...)
	cmd.Env = g.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode(), g.fail(args, ee.ExitCode(), errb.String())
	}
	if err != nil {
		return "", -1, fmt.Errorf("git config: %w", err)
	}
	return out.String(), 0, nil
}

func (g *gitConfig) fail(args []string, code int, stderr string) error {
	msg := strings.TrimSpace(stderr)
	msg = strings.TrimPrefix(msg, "fatal: ")
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", code)
	}
	if g.scope == "local" && strings.Contains(msg, "inside a git repository") {
		return usageErr("--local needs the current directory to be inside a git repository (git said: %s)", oneLine(msg))
	}
	return fmt.Errorf("git config --%s %s: %s", g.scope, args[0], oneLine(msg))
}

func (g *gitConfig) run(ctx context.Context, args ...string) error {
	_, _, err := g.exec(ctx, args...)
	return err
}

// getAll returns every value of key in this config file, in order; none is not an error.
func (g *gitConfig) getAll(ctx context.Context, key string) ([]string, error) {
	out, code, err := g.exec(ctx, "--null", "--get-all", key)
	if code == gitConfigNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return splitNull(out), nil
}

// entraURLs lists the hosts of the credential.<url>.helper entries of this config file
// that run git-credential-entra for the profile.
func (g *gitConfig) entraURLs(ctx context.Context, name string) ([]string, error) {
	out, code, err := g.exec(ctx, "--null", "--get-regexp", `^credential\..*\.helper$`)
	if code == gitConfigNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var hosts []string
	for _, kv := range splitNull(out) {
		// With --null each entry is "key\nvalue".
		k, v, _ := strings.Cut(kv, "\n")
		arg := "--profile " + fsutil.ShellQuote(name)
		if !isEntraHelper(v) || !(strings.HasSuffix(v, " "+arg) || strings.Contains(v, " "+arg+" ")) {
			continue
		}
		u := strings.TrimSuffix(strings.TrimPrefix(k, "credential."), ".helper")
		if _, host, err := gitURL(u); err == nil {
			hosts = append(hosts, host)
		}
	}
	return hosts, nil
}

func splitNull(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(s, "\x00"), "\x00")
}
