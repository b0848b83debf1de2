package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/token"
	"github.com/entratool/entratool/entratool/output"
	"github.com/entratool/entratool/helpers/envexport"
)

// tokenFlags are get-token's command line (launch.GetToken); env and exec take a part
// of it. The root's --profile and --debug are App's.
type tokenFlags = launch.GetToken

// bindTokenFlags registers get-token's own flags named in names (every one when none)
// on cmd, bound to o: the grammar and value checks of launch.GetTokenFlags, which the
// lean front's fast path reads too.
func bindTokenFlags(cmd *cobra.Command, o *tokenFlags, names ...string) {
	*o = launch.NewGetToken()
	for _, f := range launch.GetTokenFlags() {
		if f.Root || (len(names) > 0 && !slices.Contains(names, f.Name)) {
			continue
		}
		fl := cmd.Flags().VarPF(launch.FlagValue{F: f, O: o}, f.Name, f.Short, f.Usage)
		if f.Bool {
			fl.NoOptDefVal = "true"
		}
	}
}

// timeoutFlag is a --timeout value of another command, checked as get-token's is.
type timeoutFlag struct{ d *time.Duration }

func newTimeoutFlag(d *time.Duration, def time.Duration) timeoutFlag {
	*d = def
	return timeoutFlag{d}
}

func (f timeoutFlag) String() string {
	if f.d == nil {
		return ""
	}
	return f.d.String()
}

func (f timeoutFlag) Type() string { return "duration" }

func (f timeoutFlag) Set(s string) error {
	d, err := launch.ParseTimeout(s)
	if err == nil {
		*f.d = d
	}
	return err
}

// provider builds the token pipeline for p, prompting for missing secrets only when
// stdin is a terminal and the command is not silent.
func (a *App) provider(p *profile.Profile, silent bool) (*token.Provider, error) {
	return a.newProvider(p, silent, nil)
}

// newProvider is provider with an explicit secret store (nil → the profile's).
func (a *App) newProvider(p *profile.Profile, silent bool, secrets secret.Store) (*token.Provider, error) {
	h, err := a.home()
	if err != nil {
		return nil, err
	}
	o := token.Options{Home: h, Getenv: a.Getenv, Now: a.Now, Logger: a.logger, Warn: a.warn, Secrets: secrets, KeyStore: a.keyStoreHost()}
	if silent {
		// No warnings, and the day's certificate expiry warning is left for the next
		// command that shows it.
		o.Warn = nil
	}
	if a.InTTY && !silent && secrets == nil {
		o.Prompt = a.promptAndOfferToStore
	}
	return token.NewProvider(p, o), nil
}

// promptAndOfferToStore is the seed's password caching: "May prompt for certificate
// password" on first use, then no prompt on later uses.
func (a *App) promptAndOfferToStore(ctx context.Context, p *profile.Profile, kind string) (string, error) {
	label := "Certificate password"
	if kind == secret.ClientSecret {
		label = "Client secret"
	}
	v, err := a.promptSecret(fmt.Sprintf("%s for profile '%s'", label, p.Name))
	if err != nil {
		return "", err
	}
	store, err := a.secretStore(p)
	if err != nil || store.Name() == "env" {
		return v, nil
	}
	ans, err := a.prompt(fmt.Sprintf("Store it in the %s store for next time? [Y/n]", store.Name()))
	if err == nil && (ans == "" || ans == "y" || ans == "Y" || ans == "yes") {
		if err := store.Set(ctx, secret.Key(p.Name, kind), v); err != nil {
			a.warn(fmt.Sprintf("warning: could not store the secret: %v", err))
		}
	}
	return v, nil
}

// fetchToken resolves f.Profile (else ENTRATOOL_PROFILE, else the default) and returns
// a token for the flags.
func (a *App) fetchToken(ctx context.Context, f *tokenFlags) (*token.Token, *profile.Profile, error) {
	p, _, err := a.loadNamedProfile(f.Profile)
	if err != nil {
		return nil, nil, err
	}
	pr, err := a.provider(p, f.Silent)
	if err != nil {
		return nil, nil, err
	}
	ctx, cancel := ctxTimeout(ctx, f.Timeout)
	defer cancel()
	t, err := pr.Token(ctx, pr.Scope(f.RequestScope()), f.ForceRefresh)
	if err != nil {
		return nil, p, err
	}
	// get-token, env and exec print the token or hand it to a child: never one that
	// breaks SPEC §12's rules, whichever path it came by.
	if err := output.Check(t, p); err != nil {
		return nil, p, err
	}
	return t, p, nil
}

func (a *App) getTokenCmd() *cobra.Command {
	var f tokenFlags
	cmd := &cobra.Command{
		Use:   "get-token",
		Short: "Print an access token for the profile",
		Long: "Print an access token for the profile. Served from the shared cache while it has more than 5 minutes left;\n" +
			"otherwise one process asks Entra ID and the others wait for its answer.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := f.Validate(); err != nil {
				return usageErr("%v", err)
			}
			f.Profile = a.profileName
			t, p, err := a.fetchToken(cmd.Context(), &f)
			if err != nil {
				return err
			}
			return a.printToken(f.Output, t, p)
		},
	}
	bindTokenFlags(cmd, &f)
	return cmd
}

func (a *App) printToken(format string, t *token.Token, p *profile.Profile) error {
	return output.Write(a.Out, format, t, p)
}

func writeJSON(w io.Writer, v any) error { return termtext.WriteJSON(w, v) }

// tokenVars are the variables env and exec set.
func tokenVars(t *token.Token, p *profile.Profile) []envexport.Var { return output.Vars(t, p) }

// envOptions are the inputs of env. The profile is the App's -p, as for get-token
// (fetchToken).
type envOptions struct {
	configEnv
	Token launch.GetToken // -p, --scope, --timeout, --force-refresh
	Shell string          // --shell: the syntax of the exports
}

func newEnvCmd(a *App, runF func(context.Context, *envOptions) error) *cobra.Command {
	opts := &envOptions{}
	cmd := &cobra.Command{
		Use:   "env",
		Short: "Print shell exports of a token and the profile's ids",
		Long:  "Print exports of ENTRA_ACCESS_TOKEN, ENTRA_TOKEN_EXPIRES_ON, AZURE_TENANT_ID and AZURE_CLIENT_ID, quoted for the shell:\n  eval \"$(entratool env)\"                        # sh, bash, zsh\n  entratool env --shell fish | source\n  entratool env --shell powershell | Invoke-Expression\n  entratool env --shell github >> \"$GITHUB_ENV\"",
		Args:  noArgs,
		RunE:  runE(a, opts, &opts.configEnv, func(*cobra.Command, []string) { opts.Token.Profile = a.profileName }, runF, runEnv),
	}
	bindTokenFlags(cmd, &opts.Token, "scope", "resource", "timeout", "force-refresh")
	cmd.Flags().StringVar(&opts.Shell, "shell", "sh", "sh, bash, zsh, fish, powershell, cmd, dotenv or github")
	return cmd
}

// runEnv prints the token variables as exports for the shell.
func runEnv(ctx context.Context, opts *envOptions) error {
	if _, err := envexport.Format(opts.Shell, nil); err != nil {
		return usageErr("%v", err)
	}
	if err := opts.Token.Validate(); err != nil {
		return usageErr("%v", err)
	}
	t, p, err := opts.App.fetchToken(ctx, &opts.Token)
	if err != nil {
		return err
	}
	s, err := envexport.Format(opts.Shell, tokenVars(t, p))
	if err != nil {
		return err
	}
	_, err = fmt.Fprint(opts.IO.Out, s)
	return err
}

// execOptions are the inputs of exec. The profile is the App's -p, as for get-token
// (fetchToken).
type execOptions struct {
	configEnv
	Token         launch.GetToken // -p, --scope, --timeout, --force-refresh
	PassSecretEnv bool            // --pass-secret-env
	Args          []string        // CMD [ARGS...]
	Environ       []string        // the environment the command inherits (os.Environ())
}

func newExecCmd(a *App, runF func(context.Context, *execOptions) error) *cobra.Command {
	opts := &execOptions{}
	cmd := &cobra.Command{
		Use:   "exec [flags] -- CMD [ARGS...]",
		Short: "Run a command with the token variables set",
		Long:  "Run CMD with ENTRA_ACCESS_TOKEN, ENTRA_TOKEN_EXPIRES_ON, AZURE_TENANT_ID and AZURE_CLIENT_ID set. Its exit code is entratool's; SIGINT and SIGTERM are passed on to it.",
		Args:  func(_ *cobra.Command, args []string) error { return execNeedsCommand(args) },
		RunE: runE(a, opts, &opts.configEnv, func(_ *cobra.Command, args []string) {
			opts.Token.Profile, opts.Args, opts.Environ = a.profileName, args, os.Environ()
		}, runF, runExec),
	}
	cmd.Flags().SetInterspersed(false)
	bindTokenFlags(cmd, &opts.Token, "scope", "resource", "timeout", "force-refresh")
	cmd.Flags().BoolVar(&opts.PassSecretEnv, "pass-secret-env", false, "also pass ENTRATOOL_CERT_PASSWORD and ENTRATOOL_CLIENT_SECRET to the command (by default it gets the token, not the secrets)")
	return cmd
}

func execNeedsCommand(args []string) error {
	if len(args) == 0 {
		return usageErr("exec needs a command: entratool exec -- CMD [ARGS...]")
	}
	return nil
}

// runExec runs the command with the token variables set; its exit code is the run's.
func runExec(ctx context.Context, opts *execOptions) error {
	if err := execNeedsCommand(opts.Args); err != nil {
		return err
	}
	if err := opts.Token.Validate(); err != nil {
		return usageErr("%v", err)
	}
	t, p, err := opts.App.fetchToken(ctx, &opts.Token)
	if err != nil {
		return err
	}
	return runChild(opts.IO, opts.Args, childEnv(opts.Environ, opts.PassSecretEnv), tokenVars(t, p))
}

// childEnv is the environment exec gives its command: the child needs the token, not
// the secrets it was minted with (SPEC §12), unless the user asks for them.
func childEnv(environ []string, passSecrets bool) []string {
	if passSecrets {
		return environ
	}
	env := make([]string, 0, len(environ))
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if secret.IsSecretEnv(name) {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// runChild runs argv on streams with env plus extra variables, forwarding
// SIGINT/SIGTERM, and returns a launch.ExitError carrying the child's exit code.
func runChild(streams *cmdIO, argv []string, env []string, vars []envexport.Var) error {
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return withCode(127, fmt.Errorf("%s: command not found", argv[0]))
	}
	c := exec.Command(path, argv[1:]...)
	c.Stdin, c.Stdout, c.Stderr = streams.In, streams.Out, streams.Err
	c.Env = env
	for _, v := range vars {
		c.Env = append(c.Env, v.Name+"="+v.Value)
	}
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigs)
	if err := c.Start(); err != nil {
		return withCode(126, fmt.Errorf("%s: %w", argv[0], err))
	}
	done := make(chan struct{})
	go forwardSignals(c.Process, sigs, done)
	err = c.Wait()
	close(done)
	return childExit(err)
}

// forwardSignals passes the signals on sigs to p until done is closed.
func forwardSignals(p *os.Process, sigs <-chan os.Signal, done <-chan struct{}) {
	for {
		select {
		case s := <-sigs:
			_ = p.Signal(s)
		case <-done:
			return
		}
	}
}

// childExit is the child's end as entratool's: its exit code, 128+N for a signal N.
func childExit(err error) error {
	if err == nil {
		return nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code := ee.ExitCode()
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		return &launch.ExitError{Code: code}
	}
	return err
}
