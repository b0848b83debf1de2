package azcli

import (
	"fmt"
	"strings"
)

// Commands the shim answers itself; every other az command goes to the real az.
const (
	CmdGetAccessToken = "account get-access-token"
	CmdAccountShow    = "account show"
	CmdAccountList    = "account list"
	CmdVersion        = "version"
	// CmdHelp is `az`, `az -h` or `az --help` with no command: the shim's own usage.
	CmdHelp = "help"
	// CmdVersionText is `az --version`, the human-readable version report.
	CmdVersionText = "--version"
)

// Command is one parsed `az` command line. Name is empty for commands the shim does
// not answer (they are passed to the real az with their arguments untouched).
type Command struct {
	Name         string
	Resource     string
	ResourceType string
	Scopes       []string
	Tenant       string
	Subscription string
	Output       string // lower-cased, validated; "json" when not given
	Query        string // a JMESPath expression, compiled by ParseArgs to check it
	Debug        bool
	Help         bool // -h/--help after a shim command: print its usage
}

// UsageError is a command line the shim refuses, as argparse would (exit 2).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usagef(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// outputChoices are az's --output values, in the order az lists them.
var outputChoices = []string{"json", "jsonc", "yaml", "yamlc", "table", "tsv", "none"}

// resourceTypeChoices are `--resource-type` values, in the order az lists them.
var resourceTypeChoices = []string{"oss-rdbms", "arm", "aad-graph", "ms-graph", "batch", "media", "data-lake"}

// flagSpec describes one option of a command, argparse style.
type flagSpec struct {
	names []string // long and short spellings
	value bool     // takes one value
	multi bool     // nargs='*': takes the values up to the next option
}

func (f flagSpec) display() string { return strings.Join(f.names, "/") }

// globalFlags are accepted by every command the shim answers (az's global arguments).
var globalFlags = []flagSpec{
	{names: []string{"--output", "-o"}, value: true},
	{names: []string{"--query"}, value: true},
	{names: []string{"--debug"}},
	{names: []string{"--verbose"}},
	{names: []string{"--only-show-errors"}},
	{names: []string{"--help", "-h"}},
}

// commandFlags are the options of each command the shim answers, besides the global
// ones. A table, not a map: the linker lays it out, where a map is built by package
// initialisation in every az call (SPEC §11: a hit is measured from exec).
var commandFlags = [...]struct {
	name  string
	flags []flagSpec
}{
	{CmdGetAccessToken, []flagSpec{
		{names: []string{"--resource"}, value: true},
		{names: []string{"--resource-type"}, value: true},
		{names: []string{"--scope"}, multi: true},
		{names: []string{"--tenant", "-t"}, value: true},
		{names: []string{"--subscription", "-s"}, value: true},
	}},
	{CmdAccountShow, []flagSpec{
		{names: []string{"--subscription", "-s"}, value: true},
		{names: []string{"--name", "-n"}, value: true},
	}},
	{CmdAccountList, []flagSpec{
		{names: []string{"--all"}},
		{names: []string{"--refresh"}},
	}},
	{CmdVersion, nil},
}

// flagsOf is name's own options (commandFlags).
func flagsOf(name string) []flagSpec {
	for _, c := range commandFlags {
		if c.name == name {
			return c.flags
		}
	}
	return nil
}

// valueFlag finds a spelling that takes a value in any shim command: while looking for
// the command words, their values must not be taken for words. It scans the tables
// rather than building a map at start-up: every az call parses a handful of arguments,
// and a map of every spelling cost each of them its package initialisation.
func valueFlag(name string) (flagSpec, bool) {
	if f, ok := findValueFlag(globalFlags, name); ok {
		return f, true
	}
	for _, c := range commandFlags {
		if f, ok := findValueFlag(c.flags, name); ok {
			return f, true
		}
	}
	return flagSpec{}, false
}

func findValueFlag(fs []flagSpec, name string) (flagSpec, bool) {
	for _, f := range fs {
		if f.value || f.multi {
			for _, n := range f.names {
				if n == name {
					return f, true
				}
			}
		}
	}
	return flagSpec{}, false
}

// isOption reports whether an argument is an option rather than a value, as argparse
// decides: a leading '-' unless it reads as a negative number.
func isOption(s string) bool {
	if len(s) < 2 || s[0] != '-' {
		return false
	}
	rest := s[1:]
	for _, c := range rest {
		if (c < '0' || c > '9') && c != '.' {
			return true
		}
	}
	return false
}

// splitOption splits "--name=value", "-o=json" and "-ojson" into the option's spelling
// and its attached value.
func splitOption(arg string, known func(string) bool) (name, value string, attached bool) {
	if i := strings.IndexByte(arg, '='); i > 0 {
		return arg[:i], arg[i+1:], true
	}
	if !strings.HasPrefix(arg, "--") && len(arg) > 2 && known(arg[:2]) {
		return arg[:2], arg[2:], true
	}
	return arg, "", false
}

// commandWords returns the positional words of an az command line, skipping options
// and the values of the options the shim knows to take one.
func commandWords(args []string) []string {
	var words []string
	known := func(n string) bool { _, ok := valueFlag(n); return ok }
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			words = append(words, args[i+1:]...)
			break
		}
		if !isOption(a) {
			words = append(words, a)
			continue
		}
		name, _, attached := splitOption(a, known)
		f, ok := valueFlag(name)
		if !ok || attached {
			continue
		}
		if f.multi {
			for i+1 < len(args) && !isOption(args[i+1]) && args[i+1] != "--" {
				i++
			}
			continue
		}
		if i+1 < len(args) && !isOption(args[i+1]) {
			i++
		}
	}
	return words
}

// ParseArgs parses an az command line (without the program name), compiling --query
// with compile (nil: CompileIdentifier, the built-in evaluator). A command the shim does
// not answer yields Name "" and no error; a shim command with bad arguments yields a
// *UsageError; a --query compile cannot evaluate, once every other argument has been
// checked, yields ErrNeedsEngine.
func ParseArgs(args []string, compile Compiler) (Command, error) {
	words := commandWords(args)
	if len(words) == 0 {
		return bareCommand(args), nil
	}
	name := shimCommandName(words)
	if name == "" {
		return Command{}, nil
	}
	c := Command{Name: name, Output: "json"}
	if err := c.parseOptions(args); err != nil {
		return Command{}, err
	}
	if err := c.validate(compile); err != nil {
		return Command{}, err
	}
	return c, nil
}

// shimCommandName returns the shim command the command words start with, or "" for a
// command the real az must answer.
func shimCommandName(words []string) string {
	switch {
	case len(words) >= 2 && words[0] == "account" &&
		(words[1] == "get-access-token" || words[1] == "show" || words[1] == "list"):
		return "account " + words[1]
	case len(words) >= 1 && words[0] == "version":
		return CmdVersion
	}
	return ""
}

// bareCommand reads a command line with no command words: `az`, `az -h`/`--help` and
// `az --version` are answered by the shim; anything else goes to the real az.
func bareCommand(args []string) Command {
	for _, a := range args {
		switch a {
		case "--version":
			return Command{Name: CmdVersionText, Output: "json"}
		case "-h", "--help":
			return Command{Name: CmdHelp, Output: "json"}
		}
	}
	if len(args) == 0 {
		return Command{Name: CmdHelp, Output: "json"}
	}
	return Command{}
}

// commandFlagTable finds the spellings the command accepts (its own options, then the
// global ones), and says which of them take a value. It scans the tables: a command line
// has a handful of options, and building a map of every spelling cost more than the
// scans.
func commandFlagTable(name string) (lookup func(string) (flagSpec, bool), known func(string) bool) {
	own := flagsOf(name)
	lookup = func(n string) (flagSpec, bool) {
		if f, ok := findFlag(own, n); ok {
			return f, true
		}
		return findFlag(globalFlags, n)
	}
	known = func(n string) bool { f, ok := lookup(n); return ok && (f.value || f.multi) }
	return lookup, known
}

func findFlag(fs []flagSpec, name string) (flagSpec, bool) {
	for _, f := range fs {
		for _, n := range f.names {
			if n == name {
				return f, true
			}
		}
	}
	return flagSpec{}, false
}

// parseOptions reads the options of a shim command into c. Arguments argparse would not
// match are gathered and refused together, as argparse reports them in one message.
func (c *Command) parseOptions(args []string) error {
	lookup, known := commandFlagTable(c.Name)
	var unrecognized []string
	positional := 0
	wantWords := strings.Count(c.Name, " ") + 1
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			unrecognized = append(unrecognized, args[i+1:]...)
			break
		}
		if !isOption(a) {
			if positional < wantWords {
				positional++
			} else {
				unrecognized = append(unrecognized, a)
			}
			continue
		}
		name, val, attached := splitOption(a, known)
		f, ok := lookup(name)
		if !ok {
			unrecognized = append(unrecognized, a)
			continue
		}
		next, err := c.takeOption(f, val, attached, args, i)
		if err != nil {
			return err
		}
		i = next
	}
	if len(unrecognized) > 0 {
		return usagef("unrecognized arguments: %s", strings.Join(unrecognized, " "))
	}
	return nil
}

// takeOption records option f found at args[i], with val when it was attached, and
// returns the index of the last argument it consumed.
func (c *Command) takeOption(f flagSpec, val string, attached bool, args []string, i int) (int, error) {
	switch {
	case f.multi:
		n := 0
		if attached {
			if err := checkValue(f, val); err != nil {
				return i, err
			}
			c.set(f, val)
			n++
		}
		for i+1 < len(args) && !isOption(args[i+1]) && args[i+1] != "--" {
			i++
			if err := checkValue(f, args[i]); err != nil {
				return i, err
			}
			c.set(f, args[i])
			n++
		}
		// argparse would take a bare --scope (nargs='*') as no scope, and az would
		// then get the ARM token: but a bare --scope is what `--scope $SCOPE` with
		// SCOPE unset sends, and a token for another resource than the one meant is
		// worse than an error.
		if n == 0 {
			return i, usagef("argument %s: expected at least one argument", f.display())
		}
	case f.value:
		if !attached {
			if i+1 >= len(args) || isOption(args[i+1]) {
				return i, usagef("argument %s: expected one argument", f.display())
			}
			i++
			val = args[i]
		}
		if err := checkValue(f, val); err != nil {
			return i, err
		}
		c.set(f, val)
	default:
		if attached {
			return i, usagef("argument %s: ignored explicit argument '%s'", f.display(), val)
		}
		c.set(f, "")
	}
	return i, nil
}

// set records one option; a repeated single-value option keeps its last value, as
// argparse does, while --scope accumulates.
func (c *Command) set(f flagSpec, v string) {
	switch f.names[0] {
	case "--output":
		c.Output = strings.ToLower(v)
	case "--query":
		c.Query = v
	case "--debug":
		c.Debug = true
	case "--help":
		c.Help = true
	case "--resource":
		c.Resource = v
	case "--resource-type":
		c.ResourceType = v
	case "--scope":
		c.Scopes = append(c.Scopes, v)
	case "--tenant":
		c.Tenant = v
	case "--subscription", "--name":
		c.Subscription = v
	}
}

// checkValue refuses an empty --scope, --resource or --resource-type: an unset shell
// variable (`--scope "$SCOPE"`), which the shim would otherwise read as "not given" and
// answer with the ARM token — a token for a resource the caller did not ask for.
func checkValue(f flagSpec, v string) error {
	switch name := f.names[0]; name {
	case "--scope", "--resource":
		if strings.TrimSpace(v) == "" {
			example := "https://management.azure.com/.default"
			if name == "--resource" {
				example = "https://management.azure.com"
			}
			return usagef("argument %s: empty value: give a %s such as %s, or leave %s out for an ARM token", name, name[2:], example, name)
		}
	case "--resource-type":
		if v == "" {
			return invalidResourceType(v)
		}
	}
	return nil
}

func invalidResourceType(v string) error {
	return usagef("'%s' is not a valid value for '--resource-type'. Allowed values: %s.", v, strings.Join(resourceTypeChoices, ", "))
}

// validate checks the values of c's options; the query comes last, so that a query
// only the engine can evaluate (ErrNeedsEngine) means every other argument is good.
func (c *Command) validate(compile Compiler) error {
	if !contains(outputChoices, c.Output) {
		return usagef("argument --output/-o: invalid choice: '%s' (choose from %s)", c.Output, quoteList(outputChoices))
	}
	switch c.Output {
	case "yaml", "yamlc", "table":
		return usagef("output format '%s' is not supported by entratool's az shim: use json, jsonc, tsv or none", c.Output)
	}
	if c.ResourceType != "" && !contains(resourceTypeChoices, c.ResourceType) {
		return invalidResourceType(c.ResourceType)
	}
	if c.Query != "" {
		if _, err := compileQuery(compile, c.Query); err != nil {
			return err
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, v := range list {
		q[i] = "'" + v + "'"
	}
	return strings.Join(q, ", ")
}

// AzdCommand is one parsed `azd` command line; Name is "auth token" or "" (not answered
// by the shim).
type AzdCommand struct {
	Name     string
	Scopes   []string
	TenantID string
	Claims   string
	Output   string // "json" (default) or "none"
	Debug    bool
	Help     bool
}

// CmdAzdToken is the azd command the Azure SDKs' AzureDeveloperCLICredential runs.
const CmdAzdToken = "auth token"

// ParseAzdArgs parses an azd command line (cobra style: --flag value, --flag=value,
// -o json, -ojson).
func ParseAzdArgs(args []string) (AzdCommand, error) {
	type spec struct {
		dest  string
		value bool
	}
	flags := map[string]spec{
		"--scope": {"scope", true}, "--tenant-id": {"tenant", true}, "--claims": {"claims", true},
		"--output": {"output", true}, "-o": {"output", true},
		"--cwd": {"", true}, "-C": {"", true}, "--environment": {"", true}, "-e": {"", true},
		"--no-prompt": {"noprompt", false}, "--debug": {"debug", false}, "--docs": {"", false},
		"--help": {"help", false}, "-h": {"help", false},
	}
	known := func(n string) bool { f, ok := flags[n]; return ok && f.value }
	var words []string
	c := AzdCommand{Output: "json"}
	var unknown []string
	emptyScope := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			words = append(words, args[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			words = append(words, a)
			continue
		}
		name, val, attached := splitOption(a, known)
		f, ok := flags[name]
		if !ok {
			unknown = append(unknown, name)
			continue
		}
		if f.value && !attached {
			if i+1 >= len(args) {
				return AzdCommand{}, usagef("flag needs an argument: %s", name)
			}
			i++
			val = args[i]
		}
		if !f.value && attached {
			switch strings.ToLower(val) {
			case "true", "1":
			case "false", "0":
				continue
			default:
				return AzdCommand{}, usagef("invalid argument %q for %q flag", val, name)
			}
		}
		switch f.dest {
		case "scope":
			if strings.TrimSpace(val) == "" {
				emptyScope = true
			}
			c.Scopes = append(c.Scopes, val)
		case "tenant":
			c.TenantID = val
		case "claims":
			c.Claims = val
		case "output":
			c.Output = strings.ToLower(val)
		case "debug":
			c.Debug = true
		case "help":
			c.Help = true
		}
	}
	if len(words) < 2 || words[0] != "auth" || words[1] != "token" {
		return AzdCommand{}, nil
	}
	c.Name = CmdAzdToken
	if len(words) > 2 {
		return AzdCommand{}, usagef("unknown command %q for \"azd auth token\"", words[2])
	}
	if len(unknown) > 0 {
		return AzdCommand{}, usagef("unknown flag: %s", unknown[0])
	}
	if c.Output != "json" && c.Output != "none" {
		return AzdCommand{}, usagef("unsupported format '%s'; supported formats are json and none", c.Output)
	}
	// As for az: an empty --scope is an unset variable, not a request for ARM.
	if emptyScope {
		return AzdCommand{}, usagef("flag --scope: empty value: give a scope such as https://management.azure.com/.default, or leave --scope out for an ARM token")
	}
	return c, nil
}
