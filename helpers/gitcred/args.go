package gitcred

import (
	"github.com/entratool/entratool/core/launch"

	"errors"
	"fmt"
	"strings"
	"time"
)

// Usage is the one-screen help of git-credential-entra.
const Usage = `usage: git-credential-entra [--profile NAME] [--bearer] [--timeout 30s] [--debug] get|store|erase|capability
       git-credential-entra --version

A git credential helper: git runs it with an action and the request on stdin. It answers
only https requests for the profile's gitHosts (default dev.azure.com, *.visualstudio.com)
with an Entra ID token for Azure DevOps; anything else gets no answer.
Set it up with: entratool git setup -p NAME --url https://dev.azure.com/ORG
`

// ErrHelp is returned by ParseArgs for -h/--help.
var ErrHelp = errors.New("help requested")

// ErrVersion is returned by ParseArgs for --version: the caller prints version.Line.
var ErrVersion = errors.New("version requested")

// Args are the helper's command line.
type Args struct {
	Profile string
	Bearer  bool
	Debug   bool
	Timeout time.Duration
	Action  string
}

// ParseArgs reads the command line git builds from the helper's configured value
// followed by the action.
func ParseArgs(args []string) (Args, error) {
	a := Args{Timeout: launch.DefaultTimeout}
	var positional []string
	for i := 0; i < len(args); i++ {
		arg := args[i]
		name, value, hasValue := strings.Cut(arg, "=")
		needValue := func() (string, error) {
			if hasValue {
				return value, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("%s needs a value", name)
			}
			i++
			return args[i], nil
		}
		switch {
		case arg == "--":
			positional = append(positional, args[i+1:]...)
			i = len(args)
		case name == "--profile" || name == "-p":
			v, err := needValue()
			if err != nil {
				return Args{}, err
			}
			if v == "" {
				return Args{}, errors.New("--profile needs a profile name")
			}
			a.Profile = v
		case name == "--timeout":
			v, err := needValue()
			if err != nil {
				return Args{}, err
			}
			d, err := launch.ParseTimeout(v)
			if err != nil {
				return Args{}, fmt.Errorf("invalid argument %q for --timeout: %w", v, err)
			}
			a.Timeout = d
		case arg == "--bearer":
			a.Bearer = true
		case arg == "--debug":
			a.Debug = true
		case arg == "-h" || arg == "--help":
			return Args{}, ErrHelp
		case arg == "--version":
			return Args{}, ErrVersion
		case strings.HasPrefix(arg, "-") && arg != "-":
			return Args{}, fmt.Errorf("unknown flag %s", name)
		default:
			positional = append(positional, arg)
		}
	}
	switch len(positional) {
	case 0:
		return Args{}, errors.New("no action: git runs the helper with get, store or erase")
	case 1:
		a.Action = positional[0]
		return a, nil
	default:
		return Args{}, fmt.Errorf("one action expected, got %d (%s)", len(positional), strings.Join(positional, " "))
	}
}
