package cli

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/secret"
)

// Shell completion of flag values and profile names. It is registered here, over the
// built command tree and by flag name, so that a command's own file need not know about
// completion; a completion a command registers itself is kept.

// completionHelp is `completion`'s help: how to install the script in each shell.
const completionHelp = `Print a script that completes entratool's commands, flags, profile names and flag
values. Install it once for your shell, then start a new shell.

Bash (needs the bash-completion package):
  source <(entratool completion bash)                                     # this shell
  entratool completion bash > /etc/bash_completion.d/entratool           # everyone (as root)
  entratool completion bash > ~/.local/share/bash-completion/completions/entratool   # you

Zsh:
  entratool completion zsh > "${fpath[1]}/_entratool"
  # If completion is not on yet, first add to ~/.zshrc:  autoload -U compinit; compinit

Fish:
  entratool completion fish | source                                      # this shell
  entratool completion fish > ~/.config/fish/completions/entratool.fish  # every shell

PowerShell:
  entratool completion powershell | Out-String | Invoke-Expression        # this session
  # Every session: add that line to your profile script (the file $PROFILE names).`

func (a *App) completionCmd() *cobra.Command {
	return &cobra.Command{
		Use:       "completion bash|zsh|fish|powershell",
		Short:     "Print a shell completion script",
		Long:      completionHelp,
		Args:      exactArgs(1),
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		RunE: func(cmd *cobra.Command, args []string) error {
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(a.Out, true)
			case "zsh":
				return root.GenZshCompletion(a.Out)
			case "fish":
				return root.GenFishCompletion(a.Out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(a.Out)
			}
			return usageErr("unknown shell %q: use bash, zsh, fish or powershell", args[0])
		},
	}
}

// outputFormats returns the -o values of the command at path (below the root, e.g.
// "config list"), and whether its -o is known here at all: an -o that names a file is
// known with no values, and is left to the shell's file-name completion. A test fails
// for a command with -o this does not know.
func outputFormats(path string) (values []string, known bool) {
	switch path {
	case "get-token":
		return []string{"token", "json", "az", "env"}, true // launch.ValidOutput
	case "config list", "config show", "cert info", "keystore list":
		return []string{"table", "json"}, true // checkTableJSON
	case "cert check", "cert renew", "version":
		return []string{"text", "json"}, true // version: launch.ValidVersionOutput
	case "config export", "cert export-public":
		return nil, true // -o FILE
	}
	return nil, false
}

// shellNames are env --shell's values (envexport.Format's).
func shellNames() []string {
	return []string{"sh", "bash", "zsh", "fish", "powershell", "pwsh", "cmd", "dotenv", "github"}
}

// secretStoreNames are --secret-store's values.
func secretStoreNames() []string {
	return []string{secret.KindKeyring, secret.KindFile, secret.KindEnv}
}

// cloudNames are --cloud's values (profile's national clouds).
func cloudNames() []string { return []string{"public", "usgov", "china"} }

// profileArgument reports whether the command at path takes a profile name as its
// argument (as well as -p).
func profileArgument(path string) bool {
	switch path {
	case "config use", "config show", "config edit", "config delete", "config export":
		return true
	}
	return false
}

// pathBelowRoot is c's command path without the root's name.
func pathBelowRoot(c *cobra.Command) string {
	return strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" ")
}

// registerFlagCompletions gives every flag named here its values, on every command
// that has it.
func (a *App) registerFlagCompletions(root *cobra.Command) {
	eachCommand(root, func(c *cobra.Command) {
		completeFlag(c, "profile", a.completeProfiles)
		completeFlag(c, "shell", fixedCompletions(shellNames()))
		completeFlag(c, "secret-store", fixedCompletions(secretStoreNames()))
		completeFlag(c, "cloud", fixedCompletions(cloudNames()))
		completeFlag(c, "federated-token-source", fixedCompletions(federatedSources))
		if values, _ := outputFormats(pathBelowRoot(c)); len(values) > 0 {
			completeFlag(c, "output", fixedCompletions(values))
		}
	})
}

// completeProfileArgs completes the argument of a command that takes a profile name.
func (a *App) completeProfileArgs(c *cobra.Command) {
	if c.ValidArgsFunction != nil || len(c.ValidArgs) > 0 || !profileArgument(pathBelowRoot(c)) {
		return
	}
	c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		// One profile is all they take, and -p already named it.
		if len(args) > 0 || cmd.Flags().Changed("profile") {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		return a.completeProfiles(cmd, args, toComplete)
	}
}

// completeFlag registers fn for the flag name that c defines itself (an inherited flag
// is registered where it is defined), unless it has a completion already.
func completeFlag(c *cobra.Command, name string, fn cobra.CompletionFunc) {
	if c.Flags().Lookup(name) == nil && c.PersistentFlags().Lookup(name) == nil {
		return
	}
	if _, ok := c.GetFlagCompletionFunc(name); ok {
		return
	}
	// It cannot fail: the flag exists and has no completion yet.
	_ = c.RegisterFlagCompletionFunc(name, fn)
}

// fixedCompletions offers those of values that start with what is typed.
func fixedCompletions(values []string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return withPrefix(values, toComplete), cobra.ShellCompDirectiveNoFileComp
	}
}

// completeProfiles offers the names in profiles.json that start with what is typed. It
// runs on every Tab: it reads profiles.json alone (never a secret store or the
// keyring), and when that fails it offers nothing rather than print an error into the
// user's command line.
func (a *App) completeProfiles(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	_, cfg, err := a.loadConfig()
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return withPrefix(cfg.Names(), toComplete), cobra.ShellCompDirectiveNoFileComp
}

func withPrefix(values []string, prefix string) []cobra.Completion {
	var out []cobra.Completion
	for _, v := range values {
		if strings.HasPrefix(v, prefix) {
			out = append(out, v)
		}
	}
	return out
}
