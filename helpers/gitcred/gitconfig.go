package gitcred

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/weburl"
)

// This file is the git-config half of `entratool git setup`: the credential.<url>
// entries that make git run git-credential-entra, written and removed with the real
// `git config`.

// HelperBinary is the helper program; git runs it for a credential.helper value
// starting with "entra" (as `git credential-entra`).
const HelperBinary = "git-credential-entra"

// UsageError is a request that cannot work as given (entratool exits 2 for it).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usageErr(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// CredentialURL checks a URL given to git setup and returns it as the credential.<url>
// key (scheme and host lower-case, no user, no default port, no trailing slash) and the
// host as gitHosts lists it. A URL that is not https, or not one the helper could
// answer for, is a *UsageError.
func CredentialURL(raw string) (key, host string, err error) {
	u, err := weburl.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" || u.Opaque != "" {
		return "", "", usageErr("--url %q is not a URL like https://dev.azure.com/ORG", raw)
	}
	if !strings.EqualFold(u.Scheme, "https") {
		return "", "", usageErr("--url %q must use https:// (git-credential-entra never sends a token in clear text)", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", "", usageErr("--url %q must not have a query or fragment", raw)
	}
	host, ok := HostKey(u.Host)
	if !ok {
		return "", "", usageErr("--url %q: %q is not a host name the helper can match", raw, u.Host)
	}
	// No user part: a key without one matches every user, which is what
	// https://ORG@dev.azure.com/ORG/... clone URLs need.
	return "https://" + host + strings.TrimRight(u.EscapedPath(), "/"), host, nil
}

// IsAzureDevOpsHost: dev.azure.com names the organization in the path, which git only
// passes to helpers with useHttpPath (ORG.visualstudio.com has it in the host).
func IsAzureDevOpsHost(host string) bool { return host == "dev.azure.com" }

// IsEntraHelper recognizes the credential.helper values setup writes (and hand-written
// ones).
func IsEntraHelper(v string) bool {
	return v == "entra" || strings.HasPrefix(v, "entra ") || strings.Contains(v, HelperBinary)
}

// HelperCommand is the credential.helper value for the profile: `entra --profile NAME`
// when git-credential-entra is on pathEnv (git runs it as `git credential-entra`), else
// its absolute path in exeDir (where entratool is installed; "" if unknown). git runs
// the value through the shell and recognizes an absolute path only by its first
// character, so a path that needs quoting takes the "!" (shell command) form.
func HelperCommand(profile, pathEnv, exeDir string) (string, error) {
	args := " --profile " + fsutil.ShellQuote(profile)
	if _, err := LookPath(HelperBinary, pathEnv); err == nil {
		return "entra" + args, nil
	}
	if exeDir == "" {
		return "", fmt.Errorf("%s is not on PATH and entratool cannot tell where it is installed: add its directory to PATH", HelperBinary)
	}
	path := filepath.Join(exeDir, HelperBinary)
	if !isExecutable(path) {
		return "", fmt.Errorf("%s is neither on PATH nor beside entratool in %s: install every entratool binary together (the release archive, package, or go install github.com/entratool/entratool/...@latest) or add its directory to PATH",
			HelperBinary, exeDir)
	}
	if fsutil.ShellQuote(path) == path {
		return path + args, nil
	}
	return "!" + fsutil.ShellQuote(path) + args, nil
}

// LookPath is exec.LookPath over the list pathEnv (an empty entry is the current
// directory).
func LookPath(name, pathEnv string) (string, error) {
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

// GitConfig runs the real `git config` on one config file (--global or --local).
type GitConfig struct {
	git   string
	scope string // "global" or "local"
	env   []string
}

// gitConfigVars decide which config files git reads.
var gitConfigVars = []string{"HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL", "GIT_CONFIG_SYSTEM", "GIT_CONFIG_NOSYSTEM", "GIT_DIR", "GIT_WORK_TREE", "PATH"}

// OpenGitConfig finds git and prepares runs on the user's config file, or with local
// the config of the repository in the current directory. getenv's values of the
// variables that decide which config files git reads (and of PATH) win over the
// process's; git is looked up on getenv's PATH, else the process's.
func OpenGitConfig(local bool, getenv func(string) string) (*GitConfig, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	pathEnv := getenv("PATH")
	if pathEnv == "" {
		pathEnv = os.Getenv("PATH")
	}
	git, err := LookPath("git", pathEnv)
	if err != nil {
		return nil, errors.New("git is not installed (or not on PATH): install git first")
	}
	env := os.Environ()
	for _, k := range gitConfigVars {
		if v := getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	scope := "global"
	if local {
		scope = "local"
	}
	return &GitConfig{git: git, scope: scope, env: env}, nil
}

// Scope is "global" or "local", as messages name the file.
func (g *GitConfig) Scope() string { return g.scope }

// gitConfigNotFound is git config's exit code for "no such key" (and for no match).
const gitConfigNotFound = 1

// exec runs git config on this config file.
func (g *GitConfig) exec(ctx context.Context, args ...string) (string, int, error) {
	return g.execIn(ctx, "--"+g.scope, args...)
}

// execIn runs git config with scope ("--global", "--local", or "" for every file git
// reads from here).
func (g *GitConfig) execIn(ctx context.Context, scope string, args ...string) (string, int, error) {
	full := []string{"config"}
	if scope != "" {
		full = append(full, scope)
	}
	cmd := exec.CommandContext(ctx, g.git, append(full, args...)...)
	cmd.Env = g.env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode(), g.fail(scope, args, ee.ExitCode(), errb.String())
	}
	if err != nil {
		return "", -1, fmt.Errorf("git config: %w", err)
	}
	return out.String(), 0, nil
}

func (g *GitConfig) fail(scope string, args []string, code int, stderr string) error {
	msg := strings.TrimSpace(stderr)
	msg = strings.TrimPrefix(msg, "fatal: ")
	if msg == "" {
		msg = fmt.Sprintf("exit status %d", code)
	}
	if scope == "--local" && strings.Contains(msg, "inside a git repository") {
		return usageErr("--local needs the current directory to be inside a git repository (git said: %s)", oneLine(msg))
	}
	if scope != "" {
		scope += " "
	}
	return fmt.Errorf("git config %s%s: %s", scope, args[0], oneLine(msg))
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(strings.TrimSpace(s), "\n", " ")), " ")
}

func (g *GitConfig) run(ctx context.Context, args ...string) error {
	_, _, err := g.exec(ctx, args...)
	return err
}

// GetAll returns every value of key in this config file, in order; none is not an
// error.
func (g *GitConfig) GetAll(ctx context.Context, key string) ([]string, error) {
	return g.getAllIn(ctx, "--"+g.scope, key)
}

// getAllIn is GetAll in scope (see execIn).
func (g *GitConfig) getAllIn(ctx context.Context, scope, key string) ([]string, error) {
	out, code, err := g.execIn(ctx, scope, "--null", "--get-all", key)
	if code == gitConfigNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return splitNull(out), nil
}

// EntraHosts lists the hosts of the credential.<url>.helper entries of this config file
// that run git-credential-entra for the profile.
func (g *GitConfig) EntraHosts(ctx context.Context, profile string) ([]string, error) {
	return g.entraHosts(ctx, "--"+g.scope, profile)
}

// AllEntraHosts is EntraHosts over every config file git reads from the current
// directory (system, global, and the repository's when in one), whichever one this
// GitConfig writes: a URL wired in any of them still needs the host in gitHosts. The
// config files of other repositories are out of sight.
func (g *GitConfig) AllEntraHosts(ctx context.Context, profile string) ([]string, error) {
	return g.entraHosts(ctx, "", profile)
}

func (g *GitConfig) entraHosts(ctx context.Context, scope, profile string) ([]string, error) {
	out, code, err := g.execIn(ctx, scope, "--null", "--get-regexp", `^credential\..*\.helper$`)
	if code == gitConfigNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	arg := "--profile " + fsutil.ShellQuote(profile)
	var hosts []string
	for _, kv := range splitNull(out) {
		// With --null each entry is "key\nvalue".
		k, v, _ := strings.Cut(kv, "\n")
		if !IsEntraHelper(v) || !(strings.HasSuffix(v, " "+arg) || strings.Contains(v, " "+arg+" ")) {
			continue
		}
		u := strings.TrimSuffix(strings.TrimPrefix(k, "credential."), ".helper")
		if _, host, err := CredentialURL(u); err == nil {
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

// Setup makes git ask helper (a HelperCommand value) for credentials for key and host
// (from CredentialURL): credential.<key>.helper is an empty entry (so that no other
// helper answers) then helper, and for dev.azure.com credential.<key>.useHttpPath is
// true. Entries already so are left alone. One line per change (or for nothing to
// change) goes to out; a note naming the helpers it replaced goes to notes.
func (g *GitConfig) Setup(ctx context.Context, key, host, helper string, out, notes io.Writer) error {
	if err := g.setHelper(ctx, key, helper, out, notes); err != nil {
		return err
	}
	if IsAzureDevOpsHost(host) {
		return g.setUseHTTPPath(ctx, key, out)
	}
	return nil
}

func (g *GitConfig) setHelper(ctx context.Context, key, helper string, out, notes io.Writer) error {
	helperKey := "credential." + key + ".helper"
	have, err := g.GetAll(ctx, helperKey)
	if err != nil {
		return err
	}
	want := []string{"", helper}
	if slices.Equal(have, want) {
		fmt.Fprintf(out, "✓ %s already uses %s (%s git config, unchanged)\n", key, helper, g.scope)
		return nil
	}
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
	fmt.Fprintf(out, "✓ %s: credential helper %s (%s git config)\n", key, helper, g.scope)
	if others := slices.DeleteFunc(slices.Clone(have), func(v string) bool { return v == "" || v == helper }); len(others) > 0 {
		fmt.Fprintf(notes, "note: replaced the helpers configured for %s before: %s\n", key, strings.Join(others, ", "))
	}
	return nil
}

func (g *GitConfig) setUseHTTPPath(ctx context.Context, key string, out io.Writer) error {
	pathKey := "credential." + key + ".useHttpPath"
	have, err := g.GetAll(ctx, pathKey)
	if err != nil {
		return err
	}
	if slices.Equal(have, []string{"true"}) {
		return nil
	}
	if err := g.run(ctx, "--replace-all", pathKey, "true"); err != nil {
		return err
	}
	fmt.Fprintf(out, "✓ %s: useHttpPath true (dev.azure.com keeps the organization in the path)\n", key)
	return nil
}

// Remove undoes Setup for key and host: when credential.<key>.helper has an entra
// helper, all its entries go, and for dev.azure.com credential.<key>.useHttpPath. It
// reports on out, and whether there was anything to remove.
func (g *GitConfig) Remove(ctx context.Context, key, host string, out io.Writer) (removed bool, err error) {
	helperKey := "credential." + key + ".helper"
	have, err := g.GetAll(ctx, helperKey)
	if err != nil {
		return false, err
	}
	if !slices.ContainsFunc(have, IsEntraHelper) {
		fmt.Fprintf(out, "✓ %s has no entra credential helper in the %s git config (nothing to remove)\n", key, g.scope)
		return false, nil
	}
	if err := g.run(ctx, "--unset-all", helperKey); err != nil {
		return false, err
	}
	fmt.Fprintf(out, "✓ %s: credential helper removed (%s git config)\n", key, g.scope)
	if !IsAzureDevOpsHost(host) {
		return true, nil
	}
	pathKey := "credential." + key + ".useHttpPath"
	if v, err := g.GetAll(ctx, pathKey); err != nil {
		return true, err
	} else if len(v) > 0 {
		if err := g.run(ctx, "--unset-all", pathKey); err != nil {
			return true, err
		}
	}
	return true, nil
}

// addedHostKey is where setup records the hosts it added to the profile's gitHosts: a
// key of entratool's own section, in the config file that holds the credential.<url>
// entries, so that --remove takes out of gitHosts exactly what setup put in and leaves
// the defaults and the hosts the user listed. git ignores sections it does not know.
func addedHostKey(profile string) string { return "entratool." + profile + ".addedGitHost" }

// writableScopes are the config files setup writes to, and so may hold its records.
func writableScopes() []string { return []string{"--global", "--local"} }

// AddedHost reports whether a config file git reads from here records that setup added
// host (a HostKey) to the profile's gitHosts: the user's or the current repository's,
// whichever of them this GitConfig writes.
func (g *GitConfig) AddedHost(ctx context.Context, profile, host string) (bool, error) {
	have, err := g.getAllIn(ctx, "", addedHostKey(profile))
	if err != nil {
		return false, err
	}
	return ListsHost(have, host), nil
}

// RecordAddedHost records in this config file, beside the credential.<url> entries
// that need it, that setup added host (a HostKey) to the profile's gitHosts.
func (g *GitConfig) RecordAddedHost(ctx context.Context, profile, host string) error {
	have, err := g.GetAll(ctx, addedHostKey(profile))
	if err != nil || ListsHost(have, host) {
		return err
	}
	return g.run(ctx, "--add", addedHostKey(profile), host)
}

// ForgetAddedHost drops the records of RecordAddedHost for host from the user's config
// and, when the current directory is in a repository, from the repository's: setup
// may have written the record to either, whichever this GitConfig writes.
func (g *GitConfig) ForgetAddedHost(ctx context.Context, profile, host string) error {
	key := addedHostKey(profile)
	for _, scope := range writableScopes() {
		have, err := g.getAllIn(ctx, scope, key)
		var ue *UsageError
		if scope == "--local" && errors.As(err, &ue) {
			continue // not in a repository: no local config to clean
		}
		if err != nil {
			return err
		}
		for _, v := range slices.Compact(slices.Sorted(slices.Values(have))) {
			if k, _ := HostKey(v); k != host {
				continue
			}
			// git matches values by extended regular expression: the value itself,
			// quoted and anchored, is that one value only.
			if _, _, err := g.execIn(ctx, scope, "--unset-all", key, "^"+quoteERE(v)+"$"); err != nil {
				return err
			}
		}
	}
	return nil
}

// WithHost is a profile's gitHosts with host added, unless they already match it
// (changed false). An empty list means DefaultHosts; they are written out with host, so
// that adding a host does not take dev.azure.com and *.visualstudio.com away.
func WithHost(hosts []string, host string) (out []string, changed bool) {
	if Allowed(hosts, "https", host) {
		return hosts, false
	}
	if len(hosts) == 0 {
		hosts = DefaultHosts()
	}
	return append(slices.Clip(hosts), host), true
}

// ListsHost reports whether gitHosts name host (a HostKey) itself, not by a pattern.
func ListsHost(hosts []string, host string) bool {
	return slices.ContainsFunc(hosts, func(h string) bool { k, _ := HostKey(h); return k == host })
}

// WithoutHost is a profile's gitHosts without the entries naming host (changed false if
// none does). Back to exactly the defaults is what an empty list says, so that is nil.
func WithoutHost(hosts []string, host string) (out []string, changed bool) {
	if !ListsHost(hosts, host) {
		return hosts, false
	}
	out = slices.DeleteFunc(slices.Clone(hosts), func(h string) bool { k, _ := HostKey(h); return k == host })
	if slices.Equal(out, DefaultHosts()) {
		out = nil
	}
	return out, true
}

// quoteERE escapes the metacharacters of a POSIX extended regular expression, so that
// s matches only itself. (regexp.QuoteMeta quotes the same set, but linking regexp
// into git-credential-entra costs every cache hit its package initialisation.)
func quoteERE(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(`\.+*?()|[]{}^$`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
