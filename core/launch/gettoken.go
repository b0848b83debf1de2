package launch

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/entratool/entratool/core/profile"
)

// GetToken is `entratool get-token`'s command line, as the lean front's fast path and
// the engine's cobra command both read it: one grammar (GetTokenFlags) and one check of
// every value (the flags' Set functions, then Validate).
type GetToken struct {
	Profile      string
	Scope        string
	Resource     string // --resource R: scope R/.default (RequestScope)
	Output       string
	Timeout      time.Duration
	ForceRefresh bool
	Silent       bool
	Debug        bool
}

// NewGetToken is a command line with every default applied.
func NewGetToken() GetToken { return GetToken{Output: "token", Timeout: DefaultTimeout} }

// OutputFormats lists get-token's -o values.
const OutputFormats = "token, json, az or env"

// ValidOutput reports whether f is a get-token output format.
func ValidOutput(f string) bool { return f == "token" || f == "json" || f == "az" || f == "env" }

// Flag is one flag of get-token. cobra registers it (through pflag, which the fronts
// cannot link) and ParseGetToken reads it; both call Set, so a value means the same.
type Flag struct {
	Name, Short, Usage string
	Bool               bool // takes no value; --name=false is allowed
	// Root marks the flags every entratool command inherits (--profile, --debug).
	Root bool
	Set  func(o *GetToken, v string) error
	Get  func(o *GetToken) string
}

// Usage errors a flag's Set returns; pflag prefixes them with the flag and value.
var (
	errNotDuration     = errors.New("not a duration like 30s or 2m")
	errTimeoutPositive = errors.New("the timeout must be positive, like 30s (0 or less would never give up)")
	errEmptyResource   = errors.New("the resource must not be empty, like https://management.azure.com")
)

// ParseTimeout reads a --timeout value. It must be a positive duration: 0 or less
// would mean "never give up" and leave git, kubectl or docker hanging (SPEC §12).
func ParseTimeout(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, errNotDuration
	}
	if d <= 0 {
		return 0, errTimeoutPositive
	}
	return d, nil
}

func setBool(dst *bool, v string) error {
	b, err := strconv.ParseBool(v)
	if err != nil {
		return err
	}
	*dst = b
	return nil
}

// GetTokenFlags is the grammar of get-token, root flags included.
func GetTokenFlags() []Flag {
	return []Flag{
		{Name: "profile", Short: "p", Root: true, Usage: "profile name (default: $ENTRATOOL_PROFILE, then the default profile)",
			Set: func(o *GetToken, v string) error { o.Profile = v; return nil },
			Get: func(o *GetToken) string { return o.Profile }},
		{Name: "debug", Bool: true, Root: true, Usage: "debug log on stderr (secrets redacted); also ENTRATOOL_DEBUG=1",
			Set: func(o *GetToken, v string) error { return setBool(&o.Debug, v) },
			Get: func(o *GetToken) string { return strconv.FormatBool(o.Debug) }},
		{Name: "scope", Usage: "scope to request (default: the profile's scope)",
			Set: func(o *GetToken, v string) error { o.Scope = v; return nil },
			Get: func(o *GetToken) string { return o.Scope }},
		{Name: "resource", Usage: "resource to request a token for, as az takes it: R means scope R/.default",
			Set: func(o *GetToken, v string) error {
				if strings.TrimSpace(v) == "" {
					return errEmptyResource
				}
				o.Resource = v
				return nil
			},
			Get: func(o *GetToken) string { return o.Resource }},
		{Name: "timeout", Usage: "give up after this long (retries included)",
			Set: func(o *GetToken, v string) error {
				d, err := ParseTimeout(v)
				if err == nil {
					o.Timeout = d
				}
				return err
			},
			Get: func(o *GetToken) string { return o.Timeout.String() }},
		{Name: "force-refresh", Bool: true, Usage: "ignore the cache and ask Entra ID for a new token",
			Set: func(o *GetToken, v string) error { return setBool(&o.ForceRefresh, v) },
			Get: func(o *GetToken) string { return strconv.FormatBool(o.ForceRefresh) }},
		{Name: "output", Short: "o", Usage: "output: " + OutputFormats,
			Set: func(o *GetToken, v string) error { o.Output = v; return nil },
			Get: func(o *GetToken) string { return o.Output }},
		{Name: "silent", Bool: true, Usage: "no warnings or prompts on stderr (for scripts); errors are still reported",
			Set: func(o *GetToken, v string) error { return setBool(&o.Silent, v) },
			Get: func(o *GetToken) string { return strconv.FormatBool(o.Silent) }},
	}
}

// Validate is the check of the whole command line after its flags are read.
func (o GetToken) Validate() error {
	if !ValidOutput(o.Output) {
		return fmt.Errorf("unknown output %q: use %s", o.Output, OutputFormats)
	}
	if o.Scope != "" && o.Resource != "" {
		return errors.New("--scope and --resource cannot be used together: --resource R means --scope R/.default")
	}
	if err := profile.CheckScope(o.Scope); err != nil {
		return err
	}
	return nil
}

// RequestScope is the scope the command line asks for: --scope, or --resource's
// R/.default; "" means the profile's.
func (o GetToken) RequestScope() string {
	if o.Resource != "" {
		return profile.ResourceScope(o.Resource)
	}
	return o.Scope
}

// ErrNotParsed says ParseGetToken met what it leaves to cobra (help, "--", an argument).
var ErrNotParsed = errors.New("not a plain get-token command line")

// ParseGetToken reads the arguments after "get-token" as pflag does — --name=value,
// --name value, -xvalue, -x value, -x=value, bare booleans, the last value winning —
// and checks them with the same Set and Validate. Any error means the fast path must
// not answer; the engine then reports it in cobra's words.
func ParseGetToken(args []string) (GetToken, error) {
	o := NewGetToken()
	err := scanFlags(args, GetTokenFlags(), &o, func(int, string) (bool, error) {
		return false, ErrNotParsed // positional arguments, "--": cobra's usage error
	})
	if err != nil {
		return GetToken{}, err
	}
	if err := o.Validate(); err != nil {
		return GetToken{}, err
	}
	return o, nil
}

// scanFlags reads args as pflag does — --name=value, --name value, -xvalue, -x value,
// -x=value, bare booleans, the last value winning — setting each of flags on o.
// positional is called with every argument that is not a flag ("--" and "-" included)
// and its index; it returns stop to end the scan there, or an error. An unknown flag, a
// missing value or one Set refuses is an error.
func scanFlags(args []string, flags []Flag, o *GetToken, positional func(i int, a string) (stop bool, err error)) error {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" || a == "-" || !strings.HasPrefix(a, "-") {
			stop, err := positional(i, a)
			if err != nil || stop {
				return err
			}
			continue
		}
		name, long, value, hasValue := flagArg(a)
		f := lookupFlag(flags, long, name)
		if f == nil {
			return fmt.Errorf("unknown flag %q", a)
		}
		switch {
		case hasValue:
		case f.Bool:
			value = "true"
		case i+1 < len(args):
			i++
			value = args[i]
		default:
			return fmt.Errorf("flag needs an argument: %s", a)
		}
		if err := f.Set(o, value); err != nil {
			return fmt.Errorf("invalid argument %q for %s: %w", value, a, err)
		}
	}
	return nil
}

// flagArg splits a flag argument (a starts with "-" and is not "-" or "--") by pflag's
// rules: --name=value; one shorthand, where -x=v is v, -x= is "=" and -xv is v. (No
// entratool command has boolean shorthands to combine.)
func flagArg(a string) (name string, long bool, value string, hasValue bool) {
	if strings.HasPrefix(a, "--") {
		name, value, hasValue = strings.Cut(a[2:], "=")
		return name, true, value, hasValue
	}
	switch rest := a[2:]; {
	case len(rest) > 1 && rest[0] == '=':
		value, hasValue = rest[1:], true
	case rest != "":
		value, hasValue = rest, true
	}
	return a[1:2], false, value, hasValue
}

// lookupFlag finds a long name or a shorthand among flags.
func lookupFlag(flags []Flag, long bool, name string) *Flag {
	for i := range flags {
		if (long && flags[i].Name == name) || (!long && flags[i].Short != "" && flags[i].Short == name) {
			return &flags[i]
		}
	}
	return nil
}

// FlagValue is f bound to o as a pflag.Value (cobra's flags), without linking pflag:
// register it with VarPF and, for a Bool flag, NoOptDefVal "true".
type FlagValue struct {
	F Flag
	O *GetToken
}

func (v FlagValue) String() string {
	if v.O == nil {
		return ""
	}
	return v.F.Get(v.O)
}

func (v FlagValue) Set(s string) error { return v.F.Set(v.O, s) }

func (v FlagValue) Type() string {
	switch {
	case v.F.Bool:
		return "bool"
	case v.F.Name == "timeout":
		return "duration"
	}
	return "string"
}

// IsBoolFlag tells the standard flag package (and pflag's help) the flag takes no value.
func (v FlagValue) IsBoolFlag() bool { return v.F.Bool }
