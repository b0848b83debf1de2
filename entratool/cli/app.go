// Package cli is the entratool command line. Commands receive their streams and
// environment through App, so every command is tested in-process with buffers.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/token"
	"github.com/entratool/entratool/core/version"
)

// Streams are the process's standard streams. InTTY says whether stdin is a terminal,
// which decides whether a missing value is prompted for or is a usage error.
type Streams struct {
	In    io.Reader
	Out   io.Writer
	Err   io.Writer
	InTTY bool
}

// StdStreams returns the real standard streams.
func StdStreams() Streams {
	return Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, InTTY: term.IsTerminal(int(os.Stdin.Fd()))}
}

// App holds what every command needs: streams, environment, clock and global flags.
type App struct {
	Streams
	Getenv func(string) string
	Now    func() time.Time

	profileName string
	debug       bool
	logger      *slog.Logger
	// onWarn, when set, receives warnings instead of stderr (the engine's token entry
	// point returns them as data).
	onWarn func(string)
}

// Exit codes (SPEC §4).
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// usageErr makes a usage error (exit 2).
func usageErr(format string, args ...any) error {
	return &launch.ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// withCode wraps err with an exit code; a nil err says nothing more (code 0 is success).
func withCode(code int, err error) error {
	return &launch.ExitError{Code: code, Err: err}
}

// Run executes entratool with args and returns the process exit code.
func Run(ctx context.Context, s Streams, args []string, getenv func(string) string) int {
	a := &App{Streams: s, Getenv: getenv, Now: time.Now}
	root := a.rootCmd()
	if len(args) > 0 && (args[0] == cobra.ShellCompRequestCmd || args[0] == cobra.ShellCompNoDescRequestCmd) {
		// Only when the shell asks: cobra keeps flag completion functions in a
		// process-wide map, which would otherwise hold every run's command tree.
		a.registerFlagCompletions(root)
	}
	root.SetArgs(args)
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	code := exitCode(err)
	if msg := err.Error(); msg != "" {
		// Errors quote certificate subjects and servers' words: escaped, so that they
		// can neither forge lines nor drive the terminal.
		fmt.Fprintf(s.Err, "entratool: %s\n", termtext.Line(msg))
	}
	var unknown *unknownCommandError
	if errors.As(err, &unknown) && len(unknown.Suggestions) > 0 {
		// cobra's layout: the names on lines of their own, to be copied.
		fmt.Fprintln(s.Err, "Did you mean this?")
		for _, name := range unknown.Suggestions {
			fmt.Fprintf(s.Err, "\t%s\n", name)
		}
	}
	a.debugIDs("entratool", err)
	return code
}

// startDebug turns the debug log on when --debug or ENTRATOOL_DEBUG asks for it.
func (a *App) startDebug() {
	if launch.DebugEnabled(a.Getenv) {
		a.debug = true
	}
	if a.debug {
		a.logger = slog.New(slog.NewTextHandler(a.Err, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
}

// debugIDs prints, with the debug log on, the request and correlation ids of an Entra
// ID error: what Microsoft support asks for.
func (a *App) debugIDs(program string, err error) {
	var ent *token.EntraError
	if a.debug && errors.As(err, &ent) {
		fmt.Fprintf(a.Err, "%s: debug: %s\n", termtext.Escape(program), ent.DebugIDs())
	}
}

// exitCode is the exit code err ends entratool with (SPEC §4).
func exitCode(err error) int {
	var ee *launch.ExitError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &ee):
		return ee.Code
	case isCobraUsageError(err):
		return ExitUsage
	}
	return ExitFailure
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.Join(strings.Fields(strings.ReplaceAll(s, "\n", " ")), " ")
}

// cobra reports bad flags and unknown commands as plain errors; these prefixes are its.
func isCobraUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "flag needs an argument", "invalid argument", "accepts ", "requires at least", "requires at most", "required flag", "if any flags in the group", "bad flag syntax"} {
		if strings.HasPrefix(msg, p) || strings.Contains(msg, "\n"+p) {
			return true
		}
	}
	return false
}

func (a *App) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:              "entratool",
		Short:            "Entra ID tokens for service principals with X.509 certificates",
		Long:             "entratool gets Microsoft Entra ID access tokens for a service principal authenticated with an X.509 certificate (or a client secret), for people, scripts, and the git, kubectl, docker and az helpers.",
		SilenceUsage:     true,
		SilenceErrors:    true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) { a.startDebug() },
	}
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageErr("%v", err) })
	// --profile and --debug as launch.GetTokenFlags defines them for the fast path too.
	for _, f := range launch.GetTokenFlags() {
		switch {
		case f.Root && f.Bool:
			root.PersistentFlags().BoolVarP(&a.debug, f.Name, f.Short, false, f.Usage)
		case f.Root:
			root.PersistentFlags().StringVarP(&a.profileName, f.Name, f.Short, "", f.Usage)
		}
	}
	// --version as cobra answers it, in version.Line's words: the entratool front answers
	// a bare --version itself, and this says the same for every other spelling. No -v,
	// since no other binary answers it.
	root.Version = version.Current()
	root.Flags().Bool("version", false, "print the version and exit")
	root.SetVersionTemplate(templateText(version.Line("entratool") + "\n"))
	root.CompletionOptions.DisableDefaultCmd = true
	root.AddCommand(a.commands()...)
	eachCommand(root, suggestSubcommands)
	eachCommand(root, a.completeProfileArgs)
	return root
}

// templateText is a text/template that prints s as it is, whatever braces it holds.
func templateText(s string) string { return "{{" + strconv.Quote(s) + "}}" }

// eachCommand calls fn for c and every command below it.
func eachCommand(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		eachCommand(sub, fn)
	}
}

// unknownCommandError is a word that names none of Path's subcommands. Its message is
// one line; Run prints the Suggestions (close subcommand names) after it, one a line.
type unknownCommandError struct {
	Word, Path  string
	Suggestions []string
}

func (e *unknownCommandError) Error() string {
	if len(e.Suggestions) > 0 {
		return fmt.Sprintf("unknown command %q for %q", e.Word, e.Path)
	}
	return fmt.Sprintf("unknown command %q for %q (see '%s --help')", e.Word, e.Path, e.Path)
}

// suggestSubcommands makes a command that holds subcommands refuse an argument as a
// mistyped subcommand: a usage error with cobra's "Did you mean this?" suggestions. On
// its own cobra suggests only at the root (and with the suggestions inside the error
// text), and a group below it that cannot run shows its help with exit 0 for any word.
// A group given no argument runs as before: its own Args and RunE, else its help.
func suggestSubcommands(c *cobra.Command) {
	if !c.HasSubCommands() {
		return
	}
	check := c.Args
	c.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return &launch.ExitError{Code: ExitUsage, Err: &unknownCommandError{Word: args[0], Path: cmd.CommandPath(), Suggestions: suggestionsFor(cmd, args[0])}}
		}
		if check != nil {
			return check(cmd, args)
		}
		return nil
	}
	if !c.Runnable() {
		// cobra shows the help of a command that cannot run before it looks at the
		// arguments; runnable, it checks them first.
		c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
	}
}

// suggestionsFor is cobra's choice of subcommands (within edit distance 2, or starting
// with word) narrowed to the closest ones, a prefix being closest: "lst" is list, not
// list and use.
func suggestionsFor(c *cobra.Command, word string) []string {
	if c.DisableSuggestions {
		return nil
	}
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	var best []string
	bestDist := -1
	for _, name := range c.SuggestionsFor(word) {
		d := 0
		if !strings.HasPrefix(strings.ToLower(name), strings.ToLower(word)) {
			d = editDistance(strings.ToLower(word), strings.ToLower(name))
		}
		switch {
		case bestDist < 0 || d < bestDist:
			best, bestDist = []string{name}, d
		case d == bestDist && !slices.Contains(best, name):
			best = append(best, name)
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, in bytes (command names are
// ASCII).
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// commands lists the top-level commands.
func (a *App) commands() []*cobra.Command {
	return []*cobra.Command{
		a.getTokenCmd(),
		a.configCmd(),
		a.certCmd(),
		newEnvCmd(a, nil),
		newExecCmd(a, nil),
		newDoctorCmd(a, nil),
		a.keyStoreCmd(),
		a.dockerCmd(),
		a.kubeconfigCmd(),
		a.gitCmd(),
		a.azShimCmd(),
		a.versionCmd(),
		a.completionCmd(),
	}
}

// home resolves ENTRATOOL_HOME.
func (a *App) home() (string, error) { return profile.Home(a.Getenv) }

// profiles opens the profile store.
func (a *App) profiles() (*profile.Store, error) {
	h, err := a.home()
	if err != nil {
		return nil, err
	}
	return &profile.Store{Home: h}, nil
}

// loadProfile loads profiles.json and resolves -p / ENTRATOOL_PROFILE / default.
func (a *App) loadProfile() (*profile.Profile, *profile.Config, error) {
	return a.loadNamedProfile(a.profileName)
}

// loadNamedProfile is loadProfile with the -p value given (a run's options carry it).
func (a *App) loadNamedProfile(flag string) (*profile.Profile, *profile.Config, error) {
	_, cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	p, err := cfg.Resolve(flag, a.Getenv)
	if err != nil {
		return nil, cfg, err
	}
	return p, cfg, nil
}

// secretStore opens the secret store a profile uses; the env profile's is the
// environment's AZURE_* variables.
func (a *App) secretStore(p *profile.Profile) (secret.Store, error) {
	if p.FromEnvironment {
		return azureEnvSecrets{getenv: a.Getenv}, nil
	}
	h, err := a.home()
	if err != nil {
		return nil, err
	}
	return secret.Open(secret.Choose(p.SecretStore, a.Getenv), h, a.Getenv)
}

// warn prints a one-line warning on stderr, control characters escaped (warnings quote
// certificate subjects and servers' errors).
func (a *App) warn(msg string) {
	if a.onWarn != nil {
		a.onWarn(msg)
		return
	}
	fmt.Fprintln(a.Err, termtext.Escape(msg))
}

// debugf logs at debug level when --debug is on.
func (a *App) debugf(msg string, args ...any) {
	if a.logger != nil {
		a.logger.Debug(msg, args...)
	}
}

// ctxTimeout bounds ctx by d (0 → no bound).
func ctxTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, d)
}
