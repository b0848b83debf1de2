// Command entra-emulator runs the local Entra ID token service (package emulator) until
// SIGINT or SIGTERM, for `make demo` and for tests in other languages or processes.
//
//	entra-emulator --app TENANT:CLIENT:cert.pem[:OBJECT_ID] [--secret-app TENANT:CLIENT:ENV_VAR]
//	               [--config apps.json] [--domain TENANT:contoso.onmicrosoft.com]
//	               [--addr 127.0.0.1:0] [--graph-addr 127.0.0.1:0] [--dir DIR]
//	               [--token-lifetime 1h] [--graph-propagation-delay 0s]
//	               [--federated TENANT:CLIENT:ISSUER|local:SUBJECT]
//	               [--github-actions SUBJECT [--github-request-token-env VAR]]
//	               [--azure-pipelines CONNECTION_ID=SUBJECT [--azdo-access-token-env VAR]]
//	               [--managed-identity [TENANT:]CLIENT_ID|system [--identity-header H]]
//	               [--ready-file F] [--verbose]
//	entra-emulator --version
//
// On start it prints one JSON line and writes the same to --ready-file atomically:
//
//	{"authority":…,"caFile":…,"pid":…,"graphURL":…,"issuerURL":…,
//	 "apps":[{"tenantId":…,"clientId":…,"objectId":…},…], …}
//
// issuerURL is a local OIDC issuer; --federated gives an app a federated credential
// trusting it ("local") or another https issuer. --github-actions and --azure-pipelines
// serve a CI job's ID-token endpoint from the issuer (githubTokenURL +
// githubRequestToken are ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN; azdoOIDCURI +
// azdoAccessToken are SYSTEM_OIDCREQUESTURI and SYSTEM_ACCESSTOKEN). --managed-identity
// serves App Service's managed identity protocol at identityEndpoint with
// identityHeader (IDENTITY_ENDPOINT, IDENTITY_HEADER). A request token, access token or
// identity header not given is made up and announced; one read from the environment is
// not announced.
//
// graphURL serves Microsoft Graph's addKey, removeKey and GET /v1.0/applications/{id}
// for the apps, which are found there by their application object id. An app's object
// id is the optional fourth --app field (or "objectId" in --config); without one it is
// derived from tenant and client id, the same in every run, and "apps" tells it.
// Secrets are read from the environment variable a --secret-app names, never from argv.
package main

import (
	"bytes"
	"context"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/jsonpos"
	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/emulator"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv))
}

// usageError marks errors in the command line or its files: exit code 2.
type usageError struct{ err error }

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

func usagef(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// Ready is the line printed on start (and written to --ready-file).
type Ready struct {
	Authority string `json:"authority"`
	CAFile    string `json:"caFile"`
	PID       int    `json:"pid"`
	// Test servers trusting the authority's tokens, when asked for.
	GitURL       string `json:"gitURL,omitempty"`
	GitHost      string `json:"gitHost,omitempty"`
	KubeURL      string `json:"kubeURL,omitempty"`
	RegistryHost string `json:"registryHost,omitempty"`
	// GraphURL is the emulated Microsoft Graph (a profile's graphEndpoint).
	GraphURL string `json:"graphURL"`
	// IssuerURL is the local OIDC issuer ("local" in --federated).
	IssuerURL string `json:"issuerURL"`
	// Apps are the registered apps, in the order first named, with their object ids.
	Apps []ReadyApp `json:"apps"`

	// CI ID-token endpoints, when asked for. A token is announced only when the
	// emulator made it up (no --…-env flag).
	GitHubTokenURL     string `json:"githubTokenURL,omitempty"`
	GitHubRequestToken string `json:"githubRequestToken,omitempty"`
	AzDOOIDCURI        string `json:"azdoOIDCURI,omitempty"`
	AzDOAccessToken    string `json:"azdoAccessToken,omitempty"`
	// Managed identity (App Service protocol), when asked for.
	IdentityEndpoint  string        `json:"identityEndpoint,omitempty"`
	IdentityHeader    string        `json:"identityHeader,omitempty"`
	ManagedIdentities []ReadyMIdent `json:"managedIdentities,omitempty"`
}

// ReadyMIdent is one managed identity as the ready line names it.
type ReadyMIdent struct {
	TenantID string `json:"tenantId"`
	ClientID string `json:"clientId"`
	System   bool   `json:"system,omitempty"`
}

// ReadyApp is one app registration as the ready line names it.
type ReadyApp struct {
	TenantID string `json:"tenantId"`
	ClientID string `json:"clientId"`
	ObjectID string `json:"objectId"` // the application object id Graph's /applications/{id} takes
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	f, code, ok := parseFlags(args, stderr)
	if !ok {
		return code
	}
	if f.version {
		fmt.Fprintln(stdout, version.Line("entra-emulator"))
		return 0
	}
	regs, tenantDomains, err := collect(f.apps, f.secretApps, f.domains, f.federated, f.configFile, lookupEnv)
	var ci ciSetup
	if err == nil {
		ci, err = parseCI(f, regs, lookupEnv)
	}
	if err != nil {
		fmt.Fprintf(stderr, "entra-emulator: %v\n", err)
		return 2
	}
	if f.lifetime < time.Second {
		fmt.Fprintf(stderr, "entra-emulator: --token-lifetime %s is shorter than a second\n", f.lifetime)
		return 2
	}
	if f.propagation < 0 {
		fmt.Fprintf(stderr, "entra-emulator: --graph-propagation-delay %s is negative\n", f.propagation)
		return 2
	}

	e, err := startAuthority(f, stderr, regs, tenantDomains)
	if err != nil {
		fmt.Fprintf(stderr, "entra-emulator: %v\n", err)
		return 1
	}
	defer e.Close()
	ready := Ready{Authority: e.URL, CAFile: e.CAFile, PID: os.Getpid(), GraphURL: e.GraphURL, IssuerURL: e.IssuerURL, Apps: []ReadyApp{}}
	for _, a := range regs {
		ready.Apps = append(ready.Apps, ReadyApp{TenantID: a.TenantID, ClientID: a.ClientID, ObjectID: e.ApplicationObjectID(a.TenantID, a.ClientID)})
	}
	ci.configure(e, &ready)
	if err := startServers(ctx, e, f, &ready); err != nil {
		fmt.Fprintf(stderr, "entra-emulator: %v\n", err)
		return 1
	}
	if err := announce(ready, f.readyFile, stdout); err != nil {
		fmt.Fprintf(stderr, "entra-emulator: %v\n", err)
		return 1
	}
	<-ctx.Done()
	if err := e.Close(); err != nil {
		fmt.Fprintf(stderr, "entra-emulator: close: %v\n", err)
		return 1
	}
	return 0
}

// cmdFlags are entra-emulator's command-line flags.
type cmdFlags struct {
	addr, graphAddr, dir, configFile, readyFile string
	lifetime, propagation                       time.Duration
	verbose                                     bool
	apps, secretApps, domains                   listFlag
	gitRepos                                    listFlag
	kube, registry                              bool
	federated, azurePipelines, managedIDs       listFlag
	githubSubject, githubTokenEnv               string
	azdoTokenEnv, identityHeader                string
	version                                     bool // print version.Line and start nothing
}

// parseFlags reads the command line. When it must not go on (refused, or only asked for
// help, which the flag package has printed), ok is false and code is the exit code.
func parseFlags(args []string, stderr io.Writer) (f cmdFlags, code int, ok bool) {
	fs := flag.NewFlagSet("entra-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.addr, "addr", "127.0.0.1:0", "listen address")
	fs.StringVar(&f.graphAddr, "graph-addr", "", "listen address of the Microsoft Graph emulation (default: --addr's host, a free port)")
	fs.DurationVar(&f.propagation, "graph-propagation-delay", 0, "how long a key added through Graph is refused by the token endpoint (AADSTS700027), as a new key propagates in Entra")
	fs.StringVar(&f.dir, "dir", "", "directory for ca.pem (default: a temporary directory removed on exit)")
	fs.DurationVar(&f.lifetime, "token-lifetime", time.Hour, "lifetime of issued access tokens")
	fs.Var(&f.apps, "app", "TENANT:CLIENT:CERTFILE[:OBJECT_ID] app registration with a PEM or DER public certificate and, optionally, its application object id (a GUID; derived when absent) (repeatable)")
	fs.Var(&f.secretApps, "secret-app", "TENANT:CLIENT:SECRET_ENV_VAR app registration with the client secret in that environment variable (repeatable)")
	fs.Var(&f.domains, "domain", "TENANT:DOMAIN another name for a tenant, e.g. contoso.onmicrosoft.com (repeatable)")
	fs.StringVar(&f.configFile, "config", "", `JSON file: [{"tenantId":…,"clientId":…,"objectId":…,"certificates":["path.cer"],"secretEnv":"VAR","domains":[…]}]`)
	fs.StringVar(&f.readyFile, "ready-file", "", "also write the start-up JSON to this file, atomically")
	fs.BoolVar(&f.verbose, "verbose", false, "log every request to stderr (never bodies)")
	fs.Var(&f.gitRepos, "git-repo", "serve a git repository NAME over HTTPS for Azure DevOps tokens (repeatable; starts the git server)")
	fs.BoolVar(&f.kube, "kube", false, "serve a Kubernetes API that takes AKS tokens")
	fs.BoolVar(&f.registry, "registry", false, "serve a container registry behind ACR-style token exchange")
	fs.Var(&f.federated, "federated", "TENANT:CLIENT:ISSUER:SUBJECT federated credential of an app (audience api://AzureADTokenExchange); ISSUER is an https URL or \"local\" for issuerURL (repeatable)")
	fs.StringVar(&f.githubSubject, "github-actions", "", "serve a GitHub Actions ID-token endpoint issuing tokens for this subject, e.g. repo:contoso/app:ref:refs/heads/main")
	fs.StringVar(&f.githubTokenEnv, "github-request-token-env", "", "environment variable holding the ACTIONS_ID_TOKEN_REQUEST_TOKEN to require (default: made up and announced)")
	fs.Var(&f.azurePipelines, "azure-pipelines", "CONNECTION_ID=SUBJECT serve an Azure Pipelines OIDC endpoint with this service connection, e.g. ID=sc://org/project/conn (repeatable)")
	fs.StringVar(&f.azdoTokenEnv, "azdo-access-token-env", "", "environment variable holding the SYSTEM_ACCESSTOKEN to require (default: made up and announced)")
	fs.Var(&f.managedIDs, "managed-identity", "[TENANT:]CLIENT_ID|system serve this managed identity by the App Service protocol; TENANT defaults to the first app's (repeatable)")
	fs.StringVar(&f.identityHeader, "identity-header", "", "the IDENTITY_HEADER value the managed identity endpoint requires (default: made up); always announced")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return f, 0, false
		}
		return f, 2, false
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "entra-emulator: unexpected argument %q\n", fs.Arg(0))
		return f, 2, false
	}
	return f, 0, true
}

// startAuthority starts the emulator and registers the tenants' domains and the apps.
func startAuthority(f cmdFlags, stderr io.Writer, regs []*emulator.App, tenantDomains [][2]string) (*emulator.Emulator, error) {
	opts := emulator.Options{Addr: f.addr, GraphAddr: f.graphAddr, Dir: f.dir, TokenLifetime: f.lifetime, GraphPropagationDelay: f.propagation}
	if f.verbose {
		opts.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	}
	e, err := emulator.Start(opts)
	if err != nil {
		return nil, err
	}
	for _, d := range tenantDomains {
		e.AddTenant(d[0], d[1])
	}
	for _, a := range regs {
		reg := *a
		reg.FederatedCredentials = nil
		for _, fc := range a.FederatedCredentials {
			if fc.Issuer == localIssuer {
				fc.Issuer = e.IssuerURL
			}
			reg.FederatedCredentials = append(reg.FederatedCredentials, fc)
		}
		e.RegisterApp(reg)
	}
	return e, nil
}

// startServers starts the test servers the flags ask for and notes their addresses in
// ready.
func startServers(ctx context.Context, e *emulator.Emulator, f cmdFlags, ready *Ready) error {
	if len(f.gitRepos) > 0 {
		g, err := e.StartGitServer(emulator.GitServerOptions{})
		if err != nil {
			return fmt.Errorf("git server: %w", err)
		}
		for _, name := range f.gitRepos {
			if _, err := g.CreateRepo(ctx, name); err != nil {
				return fmt.Errorf("git repository %q: %w", name, err)
			}
		}
		ready.GitURL, ready.GitHost = g.URL, g.Host
	}
	if f.kube {
		k, err := e.StartKubeAPI()
		if err != nil {
			return fmt.Errorf("kubernetes API: %w", err)
		}
		ready.KubeURL = k.URL
	}
	if f.registry {
		r, err := e.StartRegistry(emulator.RegistryOptions{})
		if err != nil {
			return fmt.Errorf("registry: %w", err)
		}
		ready.RegistryHost = r.Host
	}
	return nil
}

// announce writes the start-up line to --ready-file, when given, then to stdout.
func announce(ready Ready, readyFile string, stdout io.Writer) error {
	line, err := json.Marshal(ready)
	if err != nil {
		return err
	}
	line = append(line, '\n')
	if readyFile != "" {
		if err := fsutil.WriteFileAtomic(readyFile, line, 0o600); err != nil {
			return fmt.Errorf("ready file: %w", err)
		}
	}
	_, err = stdout.Write(line)
	return err
}

// configApp is one entry of --config.
type configApp struct {
	TenantID     string   `json:"tenantId"`
	ClientID     string   `json:"clientId"`
	ObjectID     string   `json:"objectId"` // optional application object id
	Certificates []string `json:"certificates"`
	SecretEnv    string   `json:"secretEnv"`
	Domains      []string `json:"domains"`
	// Federated are federated credentials; issuer "local" is the emulator's issuerURL.
	Federated []configFederated `json:"federated"`
}

// configFederated is one federated credential in --config.
type configFederated struct {
	Issuer    string   `json:"issuer"`
	Subject   string   `json:"subject"`
	Audiences []string `json:"audiences"` // default api://AzureADTokenExchange
}

// collect turns flags and the config file into app registrations (one per tenant and
// client, certificates and secrets merged) and [tenant, domain] pairs.
func collect(apps, secretApps, domains, federated []string, configFile string, lookupEnv func(string) (string, bool)) ([]*emulator.App, [][2]string, error) {
	set := &appSet{byKey: map[string]*emulator.App{}, objects: map[string]string{}, lookupEnv: lookupEnv}
	if err := set.addCertApps(apps); err != nil {
		return nil, nil, err
	}
	if err := set.addSecretApps(secretApps); err != nil {
		return nil, nil, err
	}
	if err := set.addFederated(federated); err != nil {
		return nil, nil, err
	}
	pairs, err := parseDomains(domains)
	if err != nil {
		return nil, nil, err
	}
	if configFile != "" {
		more, err := set.addConfig(configFile)
		if err != nil {
			return nil, nil, err
		}
		pairs = append(pairs, more...)
	}
	return set.order, pairs, nil
}

// appSet gathers app registrations in the order first named, merging every mention of
// the same tenant and client (case-insensitively, as Entra compares them).
type appSet struct {
	order     []*emulator.App
	byKey     map[string]*emulator.App
	objects   map[string]string // lower-cased object id -> "tenant:client" that has it
	lookupEnv func(string) (string, bool)
}

// setObjectID gives a its application object id, refusing what RegisterApp would panic
// on: an id equal to the client id, or one id for two apps. what names the source.
func (s *appSet) setObjectID(a *emulator.App, id, what string) error {
	if id == "" {
		return nil
	}
	name := a.TenantID + ":" + a.ClientID
	switch {
	case !isGUID(id):
		return usagef("%s: object id %q is not a GUID", what, id)
	case strings.EqualFold(id, a.ClientID):
		return usagef("%s: object id %s is the client id; the application's object id differs (portal: Overview → Object ID)", what, id)
	case a.ObjectID != "" && !strings.EqualFold(a.ObjectID, id):
		return usagef("%s: two object ids for app %s: %s and %s", what, name, a.ObjectID, id)
	}
	if other, taken := s.objects[strings.ToLower(id)]; taken && !strings.EqualFold(other, name) {
		return usagef("%s: object id %s is already the object id of app %s", what, id, other)
	}
	s.objects[strings.ToLower(id)] = name
	a.ObjectID = id
	return nil
}

func (s *appSet) get(tenant, client string) *emulator.App {
	k := strings.ToLower(tenant + "/" + client)
	if a := s.byKey[k]; a != nil {
		return a
	}
	a := &emulator.App{TenantID: tenant, ClientID: client}
	s.byKey[k] = a
	s.order = append(s.order, a)
	return a
}

// secretFrom reads a secret from the environment variable name; what says who asked,
// for the error.
func (s *appSet) secretFrom(what, name string) (string, error) {
	v, ok := s.lookupEnv(name)
	if !ok || v == "" {
		return "", usagef("%s: environment variable %s is not set or empty", what, name)
	}
	return v, nil
}

// addCertApps adds the --app registrations.
func (s *appSet) addCertApps(apps []string) error {
	for _, spec := range apps {
		tenant, client, rest, err := parseSpec(spec)
		if err != nil {
			return usagef("--app %q: %v (want TENANT:CLIENT:CERTFILE[:OBJECT_ID])", spec, err)
		}
		path, objectID := splitObjectID(rest)
		cert, err := loadCert(path)
		if err != nil {
			return usagef("--app: %v", err)
		}
		a := s.get(tenant, client)
		if err := s.setObjectID(a, objectID, "--app "+tenant+":"+client); err != nil {
			return err
		}
		a.Certificates = append(a.Certificates, cert)
	}
	return nil
}

// addSecretApps adds the --secret-app registrations.
func (s *appSet) addSecretApps(secretApps []string) error {
	for _, spec := range secretApps {
		tenant, client, env, err := parseSpec(spec)
		if err != nil {
			return usagef("--secret-app %q: %v (want TENANT:CLIENT:SECRET_ENV_VAR)", spec, err)
		}
		v, err := s.secretFrom("--secret-app "+tenant+":"+client, env)
		if err != nil {
			return err
		}
		a := s.get(tenant, client)
		a.Secrets = append(a.Secrets, v)
	}
	return nil
}

// parseDomains reads the --domain flags into [tenant, domain] pairs.
func parseDomains(domains []string) ([][2]string, error) {
	var pairs [][2]string
	for _, s := range domains {
		tenant, d, ok := strings.Cut(s, ":")
		if !ok || strings.TrimSpace(tenant) == "" || strings.TrimSpace(d) == "" {
			return nil, usagef("--domain %q: want TENANT:DOMAIN", s)
		}
		pairs = append(pairs, [2]string{tenant, d})
	}
	return pairs, nil
}

// addConfig adds the registrations of the --config file and returns its [tenant,
// domain] pairs.
func (s *appSet) addConfig(configFile string) ([][2]string, error) {
	data, err := os.ReadFile(configFile)
	if err != nil {
		return nil, usagef("--config: %v", err)
	}
	entries, err := parseConfig(data, configFile)
	if err != nil {
		return nil, usageError{err}
	}
	var pairs [][2]string
	for i, c := range entries {
		if err := s.addConfigEntry(c, configFile, i+1); err != nil {
			return nil, err
		}
		for _, d := range c.Domains {
			pairs = append(pairs, [2]string{c.TenantID, d})
		}
	}
	return pairs, nil
}

// addConfigEntry adds the certificates and secret of entry number n of configFile.
// Relative certificate paths are taken from the config file's directory, so the file
// works wherever the emulator is started from.
func (s *appSet) addConfigEntry(c configApp, configFile string, n int) error {
	a := s.get(c.TenantID, c.ClientID)
	if err := s.setObjectID(a, c.ObjectID, fmt.Sprintf("%s: entry %d", configFile, n)); err != nil {
		return err
	}
	for _, p := range c.Certificates {
		if !filepath.IsAbs(p) {
			p = filepath.Join(filepath.Dir(configFile), p)
		}
		cert, err := loadCert(p)
		if err != nil {
			return usagef("%s: entry %d: %v", configFile, n, err)
		}
		a.Certificates = append(a.Certificates, cert)
	}
	if c.SecretEnv != "" {
		v, err := s.secretFrom(fmt.Sprintf("%s: entry %d", configFile, n), c.SecretEnv)
		if err != nil {
			return err
		}
		a.Secrets = append(a.Secrets, v)
	}
	for _, fc := range c.Federated {
		a.FederatedCredentials = append(a.FederatedCredentials, emulator.FederatedCredential{Issuer: fc.Issuer, Subject: fc.Subject, Audiences: fc.Audiences})
	}
	return nil
}

// parseSpec splits TENANT:CLIENT:REST; REST may itself hold colons (C:\certs\a.cer).
func parseSpec(s string) (tenant, client, rest string, err error) {
	parts := strings.SplitN(s, ":", 3)
	if len(parts) != 3 {
		return "", "", "", errors.New("missing fields")
	}
	for _, p := range parts {
		if strings.TrimSpace(p) == "" || strings.TrimSpace(p) != p {
			return "", "", "", errors.New("empty or padded field")
		}
	}
	return parts[0], parts[1], parts[2], nil
}

// splitObjectID takes the optional object id off the end of an --app spec's
// CERTFILE[:OBJECT_ID]. Only a GUID after the last colon counts, with a path before it,
// so C:\certs\a.cer stays a path.
func splitObjectID(rest string) (path, objectID string) {
	i := strings.LastIndex(rest, ":")
	if i <= 0 || !isGUID(rest[i+1:]) {
		return rest, ""
	}
	return rest[:i], rest[i+1:]
}

// isGUID reports whether s is a GUID in its 8-4-4-4-12 hex form.
func isGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i, c := range s {
		switch {
		case i == 8 || i == 13 || i == 18 || i == 23:
			if c != '-' {
				return false
			}
		case !strings.ContainsRune("0123456789abcdefABCDEF", c):
			return false
		}
	}
	return true
}

// parseConfig reads --config strictly: unknown keys are refused, so a typo does not
// silently register an app without its certificate.
func parseConfig(data []byte, name string) ([]configApp, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var entries []configApp
	if err := dec.Decode(&entries); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			line, col := jsonpos.LineCol(data, se.Offset)
			return nil, fmt.Errorf("%s:%d:%d: %v", name, line, col, err)
		case errors.As(err, &te):
			line, col := jsonpos.LineCol(data, te.Offset)
			return nil, fmt.Errorf("%s:%d:%d: %v", name, line, col, err)
		}
		return nil, fmt.Errorf("%s: %v", name, err)
	}
	if dec.More() {
		return nil, fmt.Errorf("%s: trailing data after the JSON array", name)
	}
	for i, c := range entries {
		if strings.TrimSpace(c.TenantID) == "" || strings.TrimSpace(c.ClientID) == "" {
			return nil, fmt.Errorf("%s: entry %d needs tenantId and clientId", name, i+1)
		}
		if len(c.Certificates) == 0 && c.SecretEnv == "" && len(c.Federated) == 0 {
			return nil, fmt.Errorf("%s: entry %d (%s) has neither certificates nor secretEnv nor federated", name, i+1, c.ClientID)
		}
		for j, fc := range c.Federated {
			if err := checkFederated(fc.Issuer, fc.Subject, fc.Audiences); err != nil {
				return nil, fmt.Errorf("%s: entry %d (%s): federated credential %d: %v", name, i+1, c.ClientID, j+1, err)
			}
		}
		if c.ObjectID != "" && !isGUID(c.ObjectID) {
			return nil, fmt.Errorf("%s: entry %d (%s): objectId %q is not a GUID", name, i+1, c.ClientID, c.ObjectID)
		}
	}
	return entries, nil
}

// loadCert reads the public certificate uploaded to an app registration: PEM (the first
// CERTIFICATE block, so a PEM holding a key as well is fine) or DER, as the portal takes.
func loadCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("certificate not found: %s", path)
		}
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	if bytes.Contains(data, []byte("-----BEGIN")) {
		rest := data
		for {
			var b *pem.Block
			b, rest = pem.Decode(rest)
			if b == nil {
				return nil, fmt.Errorf("no CERTIFICATE block in %s", path)
			}
			if b.Type == "CERTIFICATE" {
				data = b.Bytes
				break
			}
		}
	}
	cert, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("%s is not a PEM or DER certificate: %w", path, err)
	}
	return cert, nil
}
