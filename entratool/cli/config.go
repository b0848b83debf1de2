package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/token"
)

// DefaultScope is the scope a profile gets when none is given (the seed's answer).
const DefaultScope = profile.DefaultScope

func (a *App) configCmd() *cobra.Command {
	cmd := groupCmd("config", "Create, change and list profiles",
		"Profiles live in $ENTRATOOL_HOME/profiles.json (default ~/.entratool); their certificate passwords and\n"+
			"client secrets live in the secret store (keyring, file or env), never in profiles.json.")
	cmd.AddCommand(
		newConfigCreateCmd(a, nil),
		newConfigEditCmd(a, nil),
		newConfigListCmd(a, nil),
		newConfigShowCmd(a, nil),
		newConfigUseCmd(a, nil),
		newConfigDeleteCmd(a, nil),
		newConfigExportCmd(a, nil),
		newConfigImportCmd(a, nil),
		newConfigRotateCmd(a, nil),
	)
	return cmd
}

// groupCmd is a command that only holds subcommands: bare, it prints its help; with an
// unknown subcommand it is a usage error rather than cobra's silent help.
func groupCmd(use, short, long string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		// A word after a group is refused before this runs, with suggestions
		// (suggestSubcommands): all that is left is the group alone.
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
}

// configEnv is what a config command works with besides its flags: this run's streams
// with the decision whether it may prompt (IO), and the App for the environment, clock,
// entratool home, secret stores and debug log. Every run gets its own IO.
type configEnv struct {
	IO  *cmdIO
	App *App
}

// configEnv is a run's configEnv: the App's streams, prompting when stdin is a terminal.
func (a *App) configEnv() configEnv { return configEnv{IO: a.newIO(), App: a} }

func (e configEnv) warn(msg string) { e.IO.warn(msg) }

// validateName checks a profile name with the profile package's own rules.
func validateName(n string) error {
	var fe *profile.FieldError
	if err := (&profile.Profile{Name: n}).Validate(); errors.As(err, &fe) && fe.Field == "name" {
		return err
	}
	return nil
}

func checkClientID(s string) error {
	if !profile.ValidGUID(s) {
		return fmt.Errorf("client ID %q is not a GUID like 12345678-1234-1234-1234-123456789abc (the app registration's Application (client) ID)", s)
	}
	return nil
}

func checkTenantID(s string) error {
	if !profile.ValidTenant(s) {
		return fmt.Errorf("tenant ID %q is neither a GUID nor a domain like contoso.onmicrosoft.com (the Directory (tenant) ID)", s)
	}
	return nil
}

// absPath makes a certificate path absolute, expanding a leading ~/ that a shell would
// have expanded had the path not been typed at a prompt.
func absPath(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			p = filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", fmt.Errorf("certificate path %q: %w", p, err)
	}
	return abs, nil
}

// openCert opens a certificate the way a token request will, so that a profile is never
// saved with a certificate that cannot be used: the file, its password, the private key,
// the validity dates. Expiry within 30 days and loose file modes draw warnings.
func (e configEnv) openCert(path, password string) (*cert.Credential, error) {
	c, err := cert.Load(context.Background(), path, password)
	if err != nil {
		return nil, err
	}
	now := e.App.Now()
	if err := cert.CheckValidity(c.Leaf, now); err != nil {
		return nil, err
	}
	if w := cert.ExpiryWarning(c.Leaf, now, token.ExpiryWarningWindow); w != "" {
		e.warn(w)
	}
	if w := cert.PermissionWarning(path); w != "" {
		e.warn(w)
	}
	return c, nil
}

// checkScope warns about scopes the client-credentials grant will refuse.
func (e configEnv) checkScope(s string) {
	for _, one := range strings.Fields(s) {
		if !strings.HasSuffix(one, "/.default") {
			e.warn(fmt.Sprintf("warning: scope %q does not end in /.default; a service principal's tokens need RESOURCE/.default (e.g. %s)", one, DefaultScope))
			return
		}
	}
}

func (e configEnv) noteStoreOverride(kind string) {
	if env := e.App.Getenv("ENTRATOOL_SECRET_STORE"); env != "" && env != kind {
		e.warn(fmt.Sprintf("note: ENTRATOOL_SECRET_STORE=%s is set and takes precedence over the profile's secretStore", env))
	}
}

// storeFor opens the store a profile's secrets live in.
func (a *App) storeFor(p *profile.Profile) (secret.Store, error) {
	s, err := a.secretStore(p)
	if err != nil {
		return nil, fmt.Errorf("secret store: %w", err)
	}
	return s, nil
}

// storedSecret returns a profile's stored secret of kind, "" when none is stored.
func (a *App) storedSecret(ctx context.Context, p *profile.Profile, kind string) (string, error) {
	st, err := a.storeFor(p)
	if err != nil {
		return "", err
	}
	v, err := st.Get(ctx, secret.Key(p.Name, kind))
	if errors.Is(err, secret.ErrNotFound) {
		return "", nil
	}
	return v, err
}

// forgetTokens drops every cached token of p's app; a failure only warns, since a stale
// token expires on its own.
func (e configEnv) forgetTokens(p *profile.Profile) {
	h, err := e.App.home()
	if err != nil {
		return
	}
	o := token.Options{Home: h, Getenv: e.App.Getenv, Now: e.App.Now, Warn: e.warn}
	if _, err := token.NewProvider(p, o).ForgetAll(); err != nil {
		e.warn(fmt.Sprintf("warning: could not clear the cached tokens of profile '%s': %v", p.Name, err))
	}
}

// selectName is the profile a command names with -p (flag) or a positional argument.
func selectName(flag string, args []string) (string, error) {
	if len(args) == 1 {
		if flag != "" && flag != args[0] {
			return "", usageErr("the profile is named twice (--profile %q and %q): give one", flag, args[0])
		}
		return args[0], nil
	}
	return flag, nil
}

// resolveProfile picks the profile from -p (flag), an argument, ENTRATOOL_PROFILE or the
// default. Having several profiles and nothing to choose between them is a usage error
// (exit 2).
func resolveProfile(cfg *profile.Config, flag string, args []string, getenv func(string) string) (*profile.Profile, error) {
	name, err := selectName(flag, args)
	if err != nil {
		return nil, err
	}
	p, err := cfg.Resolve(name, getenv)
	var re *profile.ResolveError
	if errors.As(err, &re) && errors.Is(err, profile.ErrNoProfile) && len(re.Have) > 0 {
		return nil, usageErr("%v", err)
	}
	return p, err
}

// resolve is resolveProfile with the global -p.
func (a *App) resolve(cfg *profile.Config, args []string) (*profile.Profile, error) {
	return resolveProfile(cfg, a.profileName, args, a.Getenv)
}

// loadConfig reads profiles.json; a file that does not parse fails every command with
// its line and column.
func (a *App) loadConfig() (*profile.Store, *profile.Config, error) {
	st, err := a.profiles()
	if err != nil {
		return nil, nil, err
	}
	cfg, err := st.Load()
	if err != nil {
		return nil, nil, err
	}
	return st, cfg, nil
}

// checkTableJSON checks an -o value of the commands that print a table or JSON.
func checkTableJSON(output string) error {
	switch output {
	case "table", "json":
		return nil
	}
	return usageErr("unknown output %q: use table or json", output)
}

// envReserved says why the name env cannot be given to a stored profile (SPEC §14).
const envReserved = "env is reserved for the profile built from AZURE_* variables"

// refuseEnv refuses the env profile to a command that changes profiles.json or the
// secret store (verb says what it would have done): the env profile is rebuilt from the
// environment on every use, so there is nothing stored to change.
func refuseEnv(p *profile.Profile, verb string) error {
	if p != nil && p.FromEnvironment {
		return usageErr("profile '%s' is not stored, there is nothing to %s: %s (change those variables instead)", profile.EnvName, verb, envReserved)
	}
	return nil
}

// noCertificate is the error of a certificate command given a profile that signs in
// otherwise; "" for a certificate profile.
func noCertificate(p *profile.Profile) string {
	switch p.Method() {
	case profile.MethodSecret:
		return fmt.Sprintf("profile '%s' uses a client secret: there is no certificate", p.Name)
	case profile.MethodFederated:
		return fmt.Sprintf("profile '%s' uses a federated token: there is no certificate", p.Name)
	case profile.MethodManagedIdentity:
		return fmt.Sprintf("profile '%s' uses a managed identity: there is no certificate", p.Name)
	}
	return ""
}

// storesSecret reports whether p's method keeps a secret in a secret store (a
// certificate password or PIN, or a client secret): federated and managed-identity
// profiles keep none, so no store is ever opened for them.
func storesSecret(p *profile.Profile) bool {
	m := p.Method()
	return m == profile.MethodCertificate || m == profile.MethodSecret
}

// runE is a config command's RunE: the run's configEnv, then fill copies the command
// line into opts, then runF — a test's, when given — or run does the work.
func runE[O any](a *App, opts *O, env *configEnv, fill func(*cobra.Command, []string), runF, run func(context.Context, *O) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		*env = a.configEnv()
		if fill != nil {
			fill(cmd, args)
		}
		if runF == nil {
			runF = run
		}
		return runF(cmd.Context(), opts)
	}
}
