// Package execcred is the client-go exec credential plugin protocol as kubectl-exec-entra
// speaks it: it reads KUBERNETES_EXEC_INFO, asks a token source for an Entra token for
// the AKS server application, and prints an ExecCredential of the version kubectl asked for.
//
// The output is marshalled from plain structs with the JSON shape of client-go's
// clientauthentication v1 and v1beta1 types (the tests prove the bytes are identical):
// importing those types initialises apimachinery, which costs more start-up time than
// the whole cache hit is allowed.
package execcred

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/jsonstr"
	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/core/version"
)

// API versions of client.authentication.k8s.io this plugin answers.
const (
	V1      = "client.authentication.k8s.io/v1"
	V1beta1 = "client.authentication.k8s.io/v1beta1"
)

// DefaultServerID is the application id of the AKS AAD server, the audience of every
// AKS cluster with Entra integration.
const DefaultServerID = "6dae42f8-4368-4678-94ff-3960e28e3630"

// ExecInfoEnv is the variable client-go passes the plugin's input in.
const ExecInfoEnv = "KUBERNETES_EXEC_INFO"

// Exit codes, as entratool's.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// Info is what KUBERNETES_EXEC_INFO told the plugin.
type Info struct {
	// APIVersion is the version to answer with: the one asked for, v1beta1 when unset.
	APIVersion string
	// Interactive is spec.interactive: whether stdin is the user's and may be prompted on.
	Interactive bool
	// Provided is false when the variable was unset or empty (run by hand, or by an old
	// client), so Interactive carries no information.
	Provided bool
}

// execInfo is the part of client-go's ExecCredential input the plugin reads.
type execInfo struct {
	Kind       string `json:"kind"`
	APIVersion string `json:"apiVersion"`
	Spec       struct {
		Interactive bool `json:"interactive"`
	} `json:"spec"`
}

// ParseExecInfo reads the value of KUBERNETES_EXEC_INFO. Unset or empty means v1beta1,
// as kubectl before 1.22 and kubelogin treat it; any other version, another kind, or
// malformed JSON is an error that names what it got.
func ParseExecInfo(raw string) (Info, error) {
	if strings.TrimSpace(raw) == "" {
		return Info{APIVersion: V1beta1}, nil
	}
	var in execInfo
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		return Info{}, fmt.Errorf("%s is not an ExecCredential in JSON (got %s): %w", ExecInfoEnv, excerpt(raw), err)
	}
	if in.Kind != "" && in.Kind != "ExecCredential" {
		return Info{}, fmt.Errorf("%s has kind %q, want ExecCredential", ExecInfoEnv, in.Kind)
	}
	switch in.APIVersion {
	case V1, V1beta1:
		return Info{APIVersion: in.APIVersion, Interactive: in.Spec.Interactive, Provided: true}, nil
	case "":
		return Info{}, fmt.Errorf("%s has no apiVersion (got %s): want %s or %s", ExecInfoEnv, excerpt(raw), V1, V1beta1)
	default:
		return Info{}, fmt.Errorf("%s asks for apiVersion %q, which kubectl-exec-entra does not speak: set apiVersion %s (or %s) in the kubeconfig's exec section", ExecInfoEnv, in.APIVersion, V1, V1beta1)
	}
}

// excerpt quotes the start of an input for an error message: enough to recognise it,
// short enough that a cluster's CA data or extension config is not dumped on stderr.
func excerpt(s string) string {
	const max = 40
	if len(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%q… (%d bytes)", s[:max], len(s))
}

// Marshal renders the ExecCredential for a token, in apiVersion (V1 or V1beta1), as
// client-go's json.Marshal of the same object would. A zero expiry is omitted, which
// client-go reads as "use until the server refuses it".
func Marshal(apiVersion, token string, expires time.Time) ([]byte, error) {
	if apiVersion != V1 && apiVersion != V1beta1 {
		return nil, fmt.Errorf("unsupported ExecCredential apiVersion %q", apiVersion)
	}
	if token == "" {
		return nil, errors.New("no token to put in the ExecCredential")
	}
	var stamp string
	if !expires.IsZero() {
		stamp = expires.UTC().Format(time.RFC3339)
	}
	return appendExecCredential(make([]byte, 0, max(fsutil.SmallBuffer, len(token)+160)), apiVersion, token, stamp), nil
}

// appendExecCredential writes the JSON shape of clientauthentication v1/v1beta1
// ExecCredential — TypeMeta's kind and apiVersion first, spec always present, status
// fields omitted when empty — exactly as json.Marshal of that type writes it
// (TestMarshalIsJSONMarshal), without its reflection: kubectl runs the plugin
// for every request it authenticates, and building encoding/json's encoder for the type
// was most of a cache hit's own instructions.
func appendExecCredential(b []byte, apiVersion, token, stamp string) []byte {
	b = append(b, `{"kind":"ExecCredential","apiVersion":`...)
	b = jsonstr.Append(b, apiVersion, true)
	b = append(b, `,"spec":{"interactive":false},"status":{`...)
	if stamp != "" {
		b = jsonstr.Append(append(b, `"expirationTimestamp":`...), stamp, true)
		b = append(b, ',')
	}
	b = jsonstr.Append(append(b, `"token":`...), token, true)
	return append(b, "}}"...)
}

// Args are the plugin's command line.
type Args struct {
	Profile string
	Scope   string // resolved: --scope, else --server-id + "/.default"
}

// ScopeFor turns an AKS server application id (or app id URI) into its .default scope.
func ScopeFor(serverID string) string {
	if strings.HasSuffix(serverID, "/.default") {
		return serverID
	}
	return strings.TrimRight(serverID, "/") + "/.default"
}

const usage = `usage: kubectl-exec-entra [--profile NAME] [--server-id ID | --scope SCOPE]
       kubectl-exec-entra --version

A client-go exec credential plugin: prints an ExecCredential with an Entra ID token for
the AKS server application (default server id ` + DefaultServerID + `).
Wire it into a kubeconfig with: entratool kubeconfig convert -p NAME
`

// ParseArgs returns flag.ErrHelp for -h/--help, after the usage was printed. (Not under
// a name of this package's: a variable set from another package's is set by package
// init, on every start.)

// errVersion is returned by ParseArgs for --version, beside any other flags: Run then
// prints version.Line and nothing more.
var errVersion = errors.New("version requested")

// ParseArgs parses the command line; usage text for -h goes to stderr.
func ParseArgs(args []string, stderr io.Writer) (Args, error) {
	fs := flag.NewFlagSet("kubectl-exec-entra", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var a Args
	var serverID, scope string
	fs.StringVar(&a.Profile, "profile", "", "")
	fs.StringVar(&a.Profile, "p", "", "")
	fs.StringVar(&serverID, "server-id", "", "")
	fs.StringVar(&scope, "scope", "", "")
	showVersion := fs.Bool("version", false, "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stderr, usage)
			return Args{}, flag.ErrHelp
		}
		return Args{}, err
	}
	if *showVersion {
		return Args{}, errVersion
	}
	if fs.NArg() > 0 {
		return Args{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case serverID != "" && scope != "":
		return Args{}, errors.New("--server-id and --scope are alternatives: give one")
	case scope != "":
		a.Scope = scope
	case serverID != "":
		a.Scope = ScopeFor(serverID)
	default:
		a.Scope = ScopeFor(DefaultServerID)
	}
	return a, nil
}

// Request is what the plugin asks its token source for.
type Request struct {
	Profile string // "" → ENTRATOOL_PROFILE, then the default profile
	Scope   string
	// Interactive allows prompting (on stderr, reading stdin) for a missing secret.
	Interactive bool
}

// Credential is a token and when it expires.
type Credential struct {
	Token     string
	ExpiresOn time.Time
	// Issuer is the authority that issued Token, for the error when it is refused ("" →
	// "the authority").
	Issuer string
}

// Source mints tokens; the main wires entratool's token pipeline behind it.
type Source interface {
	Credential(ctx context.Context, r Request) (Credential, error)
}

// Env is the plugin's process: arguments, environment and streams.
type Env struct {
	Args   []string
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	// StdinTTY says stdin is a terminal; it decides interactivity when
	// KUBERNETES_EXEC_INFO is absent (the plugin was run by hand).
	StdinTTY bool
}

// Run is the whole plugin: it returns the process exit code. Errors are one line on
// stderr; stdout carries the ExecCredential and nothing else.
func Run(ctx context.Context, env Env, src Source) int {
	fail := func(code int, err error) int {
		launch.Report(env.Stderr, "kubectl-exec-entra", err)
		return code
	}
	args, err := ParseArgs(env.Args, env.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	if errors.Is(err, errVersion) {
		fmt.Fprintln(env.Stdout, version.Line("kubectl-exec-entra"))
		return ExitOK
	}
	if err != nil {
		// One line, as every error: kubectl shows the plugin's stderr as it is.
		return fail(ExitUsage, fmt.Errorf("%w (see kubectl-exec-entra --help)", err))
	}
	info, err := ParseExecInfo(env.Getenv(ExecInfoEnv))
	if err != nil {
		return fail(ExitFailure, err)
	}
	interactive := info.Interactive
	if !info.Provided {
		interactive = env.StdinTTY
	}
	c, err := src.Credential(ctx, Request{Profile: args.Profile, Scope: args.Scope, Interactive: interactive})
	if err != nil {
		// The engine's exit code when it failed (SPEC §4), else 1.
		return fail(launch.ExitCode(err), err)
	}
	if err := tokencache.CheckHandOff(c.Token, c.ExpiresOn, c.Issuer, time.Now()); err != nil {
		return fail(ExitFailure, err)
	}
	out, err := Marshal(info.APIVersion, c.Token, c.ExpiresOn)
	if err != nil {
		return fail(ExitFailure, err)
	}
	if _, err := env.Stdout.Write(append(out, '\n')); err != nil {
		return fail(ExitFailure, fmt.Errorf("write ExecCredential: %w", err))
	}
	return ExitOK
}
