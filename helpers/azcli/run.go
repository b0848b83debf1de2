package azcli

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/entratool/entratool/core/localtime"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
)

// Exit codes, as az's: 0 success, 1 failure, 2 usage error (argparse) or a command the
// shim does not cover with no real az to hand it to.
const (
	ExitOK      = 0
	ExitFailure = 1
	ExitUsage   = 2
)

// CLIVersion is the Azure CLI version the shim reports: past 2.30.0 (MSAL tokens, which
// Terraform's go-azure-sdk requires) and below 3.0.0 (which it refuses).
const CLIVersion = "2.77.0"

// Account is what the shim knows of the signed-in identity: the entratool profile.
type Account struct {
	Profile        string
	TenantID       string
	ClientID       string
	SubscriptionID string // "" → a tenant-level account, as `az login --allow-no-subscriptions` makes
	Authority      string
}

// Token is an access token and its expiry.
type Token struct {
	AccessToken string
	ExpiresOn   time.Time
}

// Source is entratool behind the shim: the profile, and tokens for it.
type Source interface {
	Account() (Account, error)
	Token(ctx context.Context, scope string) (Token, error)
}

// Env is the shim's process: arguments (without the program name), environment,
// streams, local time zone, and how to hand a command to the real az.
type Env struct {
	Args   []string
	Getenv func(string) string
	Stdout io.Writer
	Stderr io.Writer
	// Local is Go's local zone (time.Local in the binary). expiresOn is local time as az
	// (Python, so the C library) computes it from TZ, read through Getenv: Local where
	// Go reads TZ the same way (unset, a path, a zoneinfo name), else TZ as a POSIX
	// string such as "EST+5", which Go reads as UTC (localtime.FromTZ).
	Local *time.Location
	// Self returns the shim's own executable, resolved; the real az search skips it.
	// A function: only a pass-through needs it, and a cache hit should not pay for it.
	Self func() string
	// Exec runs the real program at path with args and extra environment entries and
	// returns its exit code (on Unix the binary replaces itself and never returns).
	Exec func(path string, args []string, extraEnv []string) int
	// Query compiles --query; nil is CompileIdentifier, the built-in evaluator of bare
	// identifiers. entratool-engine gives azjmes.Compile, the full JMESPath.
	Query Compiler
	// Engine runs the whole command line in entratool-engine (launch.EntryAz) and
	// returns its exit code: Run calls it, before reading a profile or writing
	// anything, for a --query Query cannot evaluate (ErrNeedsEngine). nil: such a
	// query is an error.
	Engine func() int
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

func (e Env) local() *time.Location {
	if e.Local == nil {
		return time.Local
	}
	return e.Local
}

// zone is the local time zone az would print expiresOn in.
func (e Env) zone() localtime.Zone { return localtime.FromTZ(e.getenv("TZ"), e.local()) }

// Run is `az`: it answers the token commands from src and hands anything else to the
// next real az on PATH. It returns the exit code.
func Run(ctx context.Context, env Env, src Source) int {
	c, err := ParseArgs(env.Args, env.Query)
	if errors.Is(err, ErrNeedsEngine) && env.Engine != nil {
		return env.Engine()
	}
	if err != nil {
		return fail(env.Stderr, err)
	}
	switch c.Name {
	case "":
		return passThrough(env, "az", "az "+strings.Join(commandWords(env.Args), " "))
	case CmdHelp:
		fmt.Fprint(env.Stdout, azUsage)
		return ExitOK
	case CmdVersionText:
		fmt.Fprintf(env.Stdout, "azure-cli                         %s\n\ncore                              %s\ntelemetry                          1.1.0\n\nThis is entratool's az shim (az-entra): it answers account get-access-token,\naccount show, account list and version for an entratool profile, and passes\nother commands to the Azure CLI if one is installed.\n", CLIVersion, CLIVersion)
		return ExitOK
	}
	if c.Help {
		fmt.Fprint(env.Stdout, azUsage)
		return ExitOK
	}
	var result any
	switch c.Name {
	case CmdVersion:
		result = versionInfo{AzureCLI: CLIVersion, AzureCLICore: CLIVersion, AzureCLITelemetry: "1.1.0", Extensions: map[string]string{}}
	case CmdAccountShow, CmdAccountList:
		acct, err := src.Account()
		if err != nil {
			return fail(env.Stderr, err)
		}
		sub := NewSubscription(acct)
		if c.Name == CmdAccountList {
			result = []listedSubscription{sub.listed()}
			break
		}
		if c.Subscription != "" && !sub.matches(c.Subscription) {
			return fail(env.Stderr, fmt.Errorf("Subscription '%s' not found. Check the spelling and casing and try again. (entratool profile '%s' has %s; set subscriptionId in the profile)", c.Subscription, acct.Profile, sub.ID))
		}
		result = sub
	case CmdGetAccessToken:
		at, err := getAccessToken(ctx, c, env, src)
		if err != nil {
			return fail(env.Stderr, err)
		}
		result = at
	}
	if err := Write(env.Stdout, result, c.Output, c.Query, env.Query); err != nil {
		return fail(env.Stderr, err)
	}
	return ExitOK
}

func getAccessToken(ctx context.Context, c Command, env Env, src Source) (AccessToken, error) {
	acct, err := src.Account()
	if err != nil {
		return AccessToken{}, err
	}
	scope, err := c.Scope(CloudFor(acct.Authority))
	if err != nil {
		return AccessToken{}, err
	}
	checkTID, err := checkTenant(c.Tenant, acct)
	if err != nil {
		return AccessToken{}, err
	}
	tok, err := src.Token(ctx, scope)
	if err != nil {
		return AccessToken{}, err
	}
	if err := checkToken(tok, acct); err != nil {
		return AccessToken{}, err
	}
	if checkTID && !strings.EqualFold(tenantOf(tok.AccessToken), c.Tenant) {
		return AccessToken{}, tenantError(c.Tenant, acct)
	}
	tenant := acct.TenantID
	if c.Tenant != "" {
		tenant = c.Tenant
	}
	sub := NewSubscription(acct)
	subscription := sub.ID
	if c.Subscription != "" && !sub.matches(c.Subscription) {
		// The token is the tenant's whatever the subscription: say what was asked for,
		// as az says the subscription it selected.
		subscription = c.Subscription
	}
	return NewAccessToken(tok.AccessToken, tok.ExpiresOn, tenant, subscription, env.zone().Location(tok.ExpiresOn)), nil
}

// checkTenant refuses a --tenant that is not the profile's. When the profile names its
// tenant by domain and --tenant is a GUID, the two can only be compared through the
// token's tid claim: it returns true to ask for that check.
func checkTenant(tenant string, acct Account) (bool, error) {
	switch {
	case tenant == "" || strings.EqualFold(tenant, acct.TenantID):
		return false, nil
	case profile.ValidGUID(tenant) && !profile.ValidGUID(acct.TenantID):
		return true, nil
	default:
		return false, tenantError(tenant, acct)
	}
}

func tenantError(tenant string, acct Account) error {
	return fmt.Errorf("tenant '%s' is not the tenant of entratool profile '%s' (%s): the az shim signs in only as that profile; set ENTRATOOL_PROFILE to a profile of tenant %s", tenant, acct.Profile, acct.TenantID, tenant)
}

// tenantOf reads the tid claim of an access token (the token came from Entra through
// entratool; this reads, it does not verify).
func tenantOf(tok string) string {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return ""
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return ""
	}
	var claims struct {
		TID string `json:"tid"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return ""
	}
	return claims.TID
}

// fail prints err as az does ("ERROR: …", one line) and returns its exit code. With no
// profile to sign in with, that line is az's own not-signed-in one, exactly, and
// entratool's hint follows on a second line.
func fail(stderr io.Writer, err error) int {
	if hint, ok := noProfile(err); ok {
		fmt.Fprintf(stderr, "ERROR: %s\n%s\n", azNotLoggedIn, oneLine(hint))
		return ExitFailure
	}
	fmt.Fprintf(stderr, "ERROR: %s\n", oneLine(err.Error()))
	var ue *UsageError
	if errors.As(err, &ue) {
		return ExitUsage
	}
	return ExitFailure
}

// oneLine is how errors reach stderr: one line, control characters escaped (they quote
// the engine's messages, which quote servers and certificates).
func oneLine(s string) string { return termtext.Line(s) }

// passThrough hands the command line, untouched, to the next real program on PATH, or
// explains the shim's scope and exits 2.
func passThrough(env Env, name, what string) int {
	self := ""
	if env.Self != nil {
		self = env.Self()
	}
	skip := SkipList(self, env.getenv(SeenEnv))
	path, ok := FindNext(env.getenv("PATH"), name, skip)
	if !ok || env.Exec == nil {
		what = strings.TrimSpace(what)
		cover := "account get-access-token, account show, account list and version"
		if name == "azd" {
			cover = "auth token"
		}
		fmt.Fprintf(env.Stderr, "ERROR: '%s' is not covered by entratool's az shim, which answers only %s (for the Azure SDKs, Terraform and scripts), and no other %s was found on PATH to pass it to. Install the real %s for other commands.\n",
			what, cover, name, map[string]string{"az": "Azure CLI", "azd": "Azure Developer CLI"}[name])
		return ExitUsage
	}
	seen := strings.Join(skip, string(os.PathListSeparator))
	return env.Exec(path, env.Args, []string{SeenEnv + "=" + seen})
}

const azUsage = `az (entratool's az shim, az-entra)

Answers the Azure CLI's token commands for an entratool profile (ENTRATOOL_PROFILE,
else the default profile), so that the Azure SDKs' AzureCLICredential, Terraform's
use_cli and scripts get tokens without 'az login':

  az account get-access-token [--resource R | --scope S | --resource-type T]
                              [--tenant/-t T] [--subscription/-s S]
  az account show [--subscription/-s S]
  az account list
  az version
  azd auth token --scope S [--tenant-id T] -o json        (as azd)

Global arguments: --output/-o json|jsonc|tsv|none, --query JMESPATH, --debug.
Any other command is passed to the next real az on PATH, if there is one.
Install the links with: entratool az-shim install --dir DIR
`

// RunAzd is `azd`: it answers `auth token` from src and hands anything else to the next
// real azd on PATH.
func RunAzd(ctx context.Context, env Env, src Source) int {
	c, err := ParseAzdArgs(env.Args)
	if err != nil {
		return failAzd(env.Stderr, "json", err)
	}
	if c.Name == "" {
		return passThrough(env, "azd", "azd "+strings.Join(env.Args, " "))
	}
	if c.Help {
		fmt.Fprint(env.Stdout, azdUsage)
		return ExitOK
	}
	acct, err := src.Account()
	if err != nil {
		return failAzd(env.Stderr, c.Output, err)
	}
	if c.Claims != "" {
		return failAzd(env.Stderr, c.Output, errors.New("a claims challenge (--claims) cannot be met with a service principal's certificate: the resource demands conditions (such as MFA) an app token cannot satisfy"))
	}
	scope, err := oneScope(c.Scopes)
	if err != nil {
		return failAzd(env.Stderr, c.Output, err)
	}
	if scope == "" {
		scope = ScopeFor(CloudFor(acct.Authority).ARMResource())
	}
	checkTID, err := checkTenant(c.TenantID, acct)
	if err != nil {
		return failAzd(env.Stderr, c.Output, err)
	}
	tok, err := src.Token(ctx, scope)
	if err != nil {
		return failAzd(env.Stderr, c.Output, err)
	}
	if err := checkToken(tok, acct); err != nil {
		return failAzd(env.Stderr, c.Output, err)
	}
	if checkTID && !strings.EqualFold(tenantOf(tok.AccessToken), c.TenantID) {
		return failAzd(env.Stderr, c.Output, tenantError(c.TenantID, acct))
	}
	if c.Output == "none" {
		return ExitOK
	}
	b, err := json.MarshalIndent(NewAzdToken(tok.AccessToken, tok.ExpiresOn), "", "  ")
	if err != nil {
		return failAzd(env.Stderr, c.Output, err)
	}
	if _, err := env.Stdout.Write(append(b, '\n')); err != nil {
		return failAzd(env.Stderr, c.Output, err)
	}
	return ExitOK
}

// failAzd reports an error as azd does: with -o json, JSON lines on stderr (the legacy
// consoleMessage shape, then the {"error"} shape newer azd writes and the SDKs read
// first); otherwise "ERROR: …". azd exits 1 for usage errors too.
func failAzd(stderr io.Writer, output string, err error) int {
	msg := oneLine(err.Error())
	if hint, ok := noProfile(err); ok {
		msg = azdNotLoggedIn + ". " + oneLine(hint)
	}
	if output != "json" {
		fmt.Fprintf(stderr, "ERROR: %s\n", msg)
		return ExitFailure
	}
	legacy, _ := json.Marshal(map[string]any{
		"type":      "consoleMessage",
		"timestamp": time.Now().UTC().Format(time.RFC3339Nano),
		"data":      map[string]string{"message": "ERROR: " + msg},
	})
	current, _ := json.Marshal(map[string]string{"error": msg})
	fmt.Fprintf(stderr, "%s\n%s\n", legacy, current)
	return ExitFailure
}

const azdUsage = `azd (entratool's az shim, az-entra, acting as azd)

Answers the Azure Developer CLI's token command for an entratool profile, as the
Azure SDKs' AzureDeveloperCLICredential runs it:

  azd auth token [--scope S]... [--tenant-id T] [--no-prompt] [-o json|none]

Any other command is passed to the next real azd on PATH, if there is one.
`
