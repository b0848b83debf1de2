package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/token"
)

// DefaultScope is the scope a profile gets when none is given (the seed's answer).
const DefaultScope = "https://graph.microsoft.com/.default"

func (a *App) configCmd() *cobra.Command {
	cmd := groupCmd("config", "Create, change and list profiles",
		"Profiles live in $ENTRATOOL_HOME/profiles.json (default ~/.entratool); their certificate passwords and\n"+
			"client secrets live in the secret store (keyring, file or env), never in profiles.json.")
	cmd.AddCommand(
		a.configCreateCmd(),
		a.configEditCmd(),
		a.configListCmd(),
		a.configShowCmd(),
		a.configUseCmd(),
		a.configDeleteCmd(),
		a.configExportCmd(),
		a.configImportCmd(),
		a.configRotateCmd(),
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			return usageErr("unknown command %q for %q (see '%s --help')", args[0], cmd.CommandPath(), cmd.CommandPath())
		},
	}
}

// profileFlags are what config create and config edit accept instead of prompts.
type profileFlags struct {
	name, clientID, tenantID, certificate, scope, authorityHost, cloud, secretStore string
	certPasswordStdin, clientSecretStdin, sendX5C, makeDefault                      bool

	// A key that never leaves its store (SPEC §10): plugin name, certificate thumbprint,
	// store location, plugin options.
	certStore, thumbprint, storeLocation string
	storeOptions                         []string
}

func (f *profileFlags) register(cmd *cobra.Command, create bool) {
	fl := cmd.Flags()
	if create {
		fl.StringVar(&f.name, "name", "", "profile name")
	}
	fl.StringVar(&f.clientID, "client-id", "", "application (client) ID of the app registration, a GUID")
	fl.StringVar(&f.tenantID, "tenant-id", "", "directory (tenant) ID, a GUID, or a domain like contoso.onmicrosoft.com")
	fl.StringVar(&f.certificate, "certificate", "", "PFX/P12 or PEM file with the certificate and its private key (certificate authentication)")
	fl.BoolVar(&f.certPasswordStdin, "certificate-password-stdin", false, "read the certificate password from stdin")
	fl.BoolVar(&f.clientSecretStdin, "client-secret-stdin", false, "read a client secret from stdin (client secret authentication)")
	fl.StringVar(&f.scope, "scope", "", "scope of the profile's tokens (default "+DefaultScope+")")
	fl.StringVar(&f.authorityHost, "authority-host", "", "authority host, e.g. https://login.microsoftonline.com")
	fl.StringVar(&f.cloud, "cloud", "", "public, usgov or china (shorthand for --authority-host)")
	fl.BoolVar(&f.sendX5C, "send-x5c", false, "send the certificate chain (x5c) with each assertion, for subject name + issuer authentication")
	fl.StringVar(&f.secretStore, "secret-store", "", "where the certificate password or client secret is kept: keyring, file or env")
	fl.BoolVar(&f.makeDefault, "default", false, "make it the default profile")
	fl.StringVar(&f.certStore, "certificate-store", "", "key-store plugin holding the key instead of a file (e.g. pkcs11); the password is its PIN")
	fl.StringVar(&f.thumbprint, "thumbprint", "", "thumbprint (SHA-1 or SHA-256 hex) of the certificate in --certificate-store")
	fl.StringVar(&f.storeLocation, "certificate-store-location", "", "store location for OS certificate stores (e.g. CurrentUser)")
	fl.StringArrayVar(&f.storeOptions, "store-option", nil, "KEY=VALUE option of the key-store plugin (repeatable), e.g. module=/usr/lib/softhsm/libsofthsm2.so")
}

// keyStoreDetails reports whether flags describe a key-store certificate.
func (f *profileFlags) keyStoreDetails() bool {
	return f.thumbprint != "" || f.storeLocation != "" || len(f.storeOptions) > 0
}

// storeOptionMap parses --store-option KEY=VALUE values.
func (f *profileFlags) storeOptionMap() (map[string]string, error) {
	if len(f.storeOptions) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(f.storeOptions))
	for _, o := range f.storeOptions {
		k, v, ok := strings.Cut(o, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return nil, usageErr("--store-option %q: give KEY=VALUE", o)
		}
		m[k] = v
	}
	return m, nil
}

// normThumbprint accepts the forms tools print: colons or spaces between bytes, any case.
func normThumbprint(s string) string {
	return strings.ToUpper(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s)))
}

func checkThumbprint(s string) error {
	t := normThumbprint(s)
	ok := len(t) == 40 || len(t) == 64
	for i := 0; ok && i < len(t); i++ {
		ok = '0' <= t[i] && t[i] <= '9' || 'A' <= t[i] && t[i] <= 'F'
	}
	if !ok {
		return fmt.Errorf("thumbprint %q is not 40 (SHA-1) or 64 (SHA-256) hex digits", s)
	}
	return nil
}

// check rejects flag combinations that cannot mean anything.
func (f *profileFlags) check() error {
	switch {
	case f.certPasswordStdin && f.clientSecretStdin:
		return usageErr("--certificate-password-stdin and --client-secret-stdin both read stdin: give one")
	case f.certificate != "" && f.clientSecretStdin:
		return usageErr("--certificate and --client-secret-stdin choose different authentication methods: give one")
	case f.authorityHost != "" && f.cloud != "":
		return usageErr("--authority-host and --cloud both set the authority: give one")
	case f.certStore != "" && f.certificate != "":
		return usageErr("--certificate (a file) and --certificate-store (a key store) are alternatives: give one")
	case f.certStore != "" && f.clientSecretStdin:
		return usageErr("--certificate-store and --client-secret-stdin choose different authentication methods: give one")
	case f.certificate != "" && f.keyStoreDetails():
		return usageErr("--thumbprint, --certificate-store-location and --store-option are for --certificate-store, not --certificate")
	}
	if _, err := f.storeOptionMap(); err != nil {
		return err
	}
	switch f.secretStore {
	case "", secret.KindKeyring, secret.KindFile, secret.KindEnv:
	default:
		return usageErr("--secret-store %q: use keyring, file or env", f.secretStore)
	}
	switch f.cloud {
	case "", "public", "usgov", "china":
	default:
		return usageErr("--cloud %q: use public, usgov or china", f.cloud)
	}
	return nil
}

// usesStdin reports whether a secret is read from stdin, which then cannot answer prompts.
func (f *profileFlags) usesStdin() bool { return f.certPasswordStdin || f.clientSecretStdin }

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

// ask returns v (checked), or prompts for it on a terminal until the answer passes check,
// or fails with a usage error naming the flag.
func (a *App) ask(v, flag, label string, check func(string) error) (string, error) {
	if v != "" {
		if check != nil {
			if err := check(v); err != nil {
				return "", usageErr("--%s: %v", flag, err)
			}
		}
		return v, nil
	}
	for {
		s, err := a.need("", flag, label)
		if err != nil {
			return "", err
		}
		if check == nil {
			return s, nil
		}
		if err := check(s); err != nil {
			a.warn("  " + err.Error())
			continue
		}
		return s, nil
	}
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
func (a *App) openCert(path, password string) (*cert.Credential, error) {
	c, err := cert.Load(context.Background(), path, password)
	if err != nil {
		return nil, err
	}
	now := a.Now()
	if err := cert.CheckValidity(c.Leaf, now); err != nil {
		return nil, err
	}
	if w := cert.ExpiryWarning(c.Leaf, now, token.ExpiryWarningWindow); w != "" {
		a.warn(w)
	}
	if w := cert.PermissionWarning(path); w != "" {
		a.warn(w)
	}
	return c, nil
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
func (a *App) forgetTokens(p *profile.Profile) {
	h, err := a.home()
	if err != nil {
		return
	}
	if _, err := token.NewProvider(p, token.Options{Home: h, Getenv: a.Getenv, Now: a.Now, Warn: a.warn}).ForgetAll(); err != nil {
		a.warn(fmt.Sprintf("warning: could not clear the cached tokens of profile '%s': %v", p.Name, err))
	}
}

// selectedName is the profile a command names with -p or a positional argument.
func (a *App) selectedName(args []string) (string, error) {
	if len(args) == 1 {
		if a.profileName != "" && a.profileName != args[0] {
			return "", usageErr("the profile is named twice (--profile %q and %q): give one", a.profileName, args[0])
		}
		return args[0], nil
	}
	return a.profileName, nil
}

// resolve picks the profile from -p, an argument, ENTRATOOL_PROFILE or the default. Having
// several profiles and nothing to choose between them is a usage error (exit 2).
func (a *App) resolve(cfg *profile.Config, args []string) (*profile.Profile, error) {
	name, err := a.selectedName(args)
	if err != nil {
		return nil, err
	}
	p, err := cfg.Resolve(name, a.Getenv)
	var re *profile.ResolveError
	if errors.As(err, &re) && errors.Is(err, profile.ErrNoProfile) && len(re.Have) > 0 {
		return nil, usageErr("%v", err)
	}
	return p, err
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

// ---- config create ----

func (a *App) configCreateCmd() *cobra.Command {
	var f profileFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a profile (prompts for what the flags do not give)",
		Long: "Create a profile. On a terminal it asks for what the flags do not give:\n\n" +
			"  Profile name, Client ID, Tenant ID, Authentication method (1. Client Secret, 2. Certificate),\n" +
			"  Certificate path and Certificate password (or Client secret), Scope.\n\n" +
			"The certificate is opened with its password before anything is saved. The password or secret goes to\n" +
			"the secret store (keyring by default; file; or env, which stores nothing), never into profiles.json.",
		Example: "  entratool config create\n" +
			"  entratool config create --name production-service --client-id 12345678-1234-1234-1234-123456789abc \\\n" +
			"      --tenant-id 87654321-4321-4321-4321-cba987654321 --certificate ~/.entratool/certs/certificate.pfx \\\n" +
			"      --certificate-password-stdin < password.txt",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.configCreate(cmd.Context(), &f)
		},
	}
	f.register(cmd, true)
	return cmd
}

func (a *App) configCreate(ctx context.Context, f *profileFlags) error {
	if err := f.check(); err != nil {
		return err
	}
	if f.certStore == "" && f.keyStoreDetails() {
		return usageErr("--thumbprint, --certificate-store-location and --store-option need --certificate-store NAME")
	}
	if f.name == "" {
		f.name = a.profileName // `config create -p NAME` reads as naming the new profile
	}
	if f.usesStdin() {
		// stdin carries the secret, so it cannot also answer prompts.
		a.InTTY = false
	}
	st, cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	exists := func(n string) error {
		if cfg.Get(n) != nil {
			return fmt.Errorf("profile '%s' already exists: change it with 'entratool config edit -p %s', or choose another name", n, n)
		}
		return nil
	}
	if f.name != "" {
		if err := validateName(f.name); err != nil {
			return usageErr("--name: %v", err)
		}
		if err := exists(f.name); err != nil {
			return err
		}
	}
	name, err := a.ask(f.name, "name", "Profile name", func(s string) error {
		if err := validateName(s); err != nil {
			return err
		}
		return exists(s)
	})
	if err != nil {
		return err
	}
	clientID, err := a.ask(f.clientID, "client-id", "Client ID", checkClientID)
	if err != nil {
		return err
	}
	tenantID, err := a.ask(f.tenantID, "tenant-id", "Tenant ID", checkTenantID)
	if err != nil {
		return err
	}
	p := &profile.Profile{Name: name, ClientID: clientID, TenantID: tenantID, SecretStore: f.secretStore,
		AuthorityHost: f.authorityHost, Cloud: f.cloud, SendX5C: f.sendX5C}

	useCert, err := a.authMethod(f)
	if err != nil {
		return err
	}
	store, err := a.storeFor(p)
	if err != nil {
		return err
	}
	var kind, value string // the secret to store
	switch {
	case useCert && f.certStore != "":
		if err := a.askKeyStore(f, p); err != nil {
			return err
		}
		pin, err := a.askPIN(f.certPasswordStdin, store)
		if err != nil {
			return err
		}
		kind, value = secret.CertificatePassword, pin
	case useCert:
		path, pw, err := a.askCertificate(f.certificate, f.certPasswordStdin, store, "")
		if err != nil {
			return err
		}
		p.UseCertificate, p.CertificatePath = true, path
		kind, value = secret.CertificatePassword, pw
	default:
		s, err := a.askClientSecret(f.clientSecretStdin, store)
		if err != nil {
			return err
		}
		kind, value = secret.ClientSecret, s
	}

	p.Scope = strings.TrimSpace(f.scope)
	if p.Scope == "" && a.InTTY {
		if p.Scope, err = a.prompt("Scope"); err != nil {
			return err
		}
		p.Scope = strings.TrimSpace(p.Scope)
	}
	if p.Scope == "" {
		p.Scope = DefaultScope
	}
	a.checkScope(p.Scope)
	if err := p.Validate(); err != nil {
		return usageErr("%v", err)
	}

	err = st.Update(ctx, func(c *profile.Config) error {
		if c.Get(name) != nil {
			return fmt.Errorf("profile '%s' already exists: change it with 'entratool config edit -p %s'", name, name)
		}
		if len(c.Names()) == 0 || f.makeDefault {
			c.DefaultProfile = name
		}
		c.Put(p)
		return nil
	})
	if err != nil {
		return err
	}
	other := secret.ClientSecret
	if kind == secret.ClientSecret {
		other = secret.CertificatePassword
	}
	// other → "": a leftover of an earlier profile of the same name is removed.
	if err := a.saveSecrets(ctx, store, name, map[string]string{kind: value, other: ""}); err != nil {
		// Without its secret the profile would fail at its first use: take it back.
		if rerr := st.Update(ctx, func(c *profile.Config) error { c.Delete(name); return nil }); rerr != nil {
			return fmt.Errorf("%w (and removing the half-made profile failed: %v)", err, rerr)
		}
		return fmt.Errorf("%w; profile '%s' was not created", err, name)
	}
	fmt.Fprintf(a.Out, "✓ Profile '%s' created successfully\n", name)
	return nil
}

// checkScope warns about scopes the client-credentials grant will refuse.
func (a *App) checkScope(s string) {
	for _, one := range strings.Fields(s) {
		if !strings.HasSuffix(one, "/.default") {
			a.warn(fmt.Sprintf("warning: scope %q does not end in /.default; a service principal's tokens need RESOURCE/.default (e.g. %s)", one, DefaultScope))
			return
		}
	}
}

// authMethod decides certificate (true) or client secret: from the flags, else the
// seed's menu on a terminal.
func (a *App) authMethod(f *profileFlags) (bool, error) {
	switch {
	case f.certificate != "" || f.certPasswordStdin || f.certStore != "":
		return true, nil
	case f.clientSecretStdin:
		return false, nil
	case !a.InTTY:
		return false, usageErr("missing --certificate PATH or --client-secret-stdin (stdin is not a terminal, so entratool cannot ask for the authentication method)")
	}
	for {
		fmt.Fprint(a.Err, "Authentication method:\n1. Client Secret\n2. Certificate\n")
		s, err := a.prompt("Select")
		if err != nil {
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "1", "client secret", "secret":
			return false, nil
		case "2", "certificate", "cert":
			return true, nil
		}
		a.warn("  Answer 1 or 2.")
	}
}

// askCertificate gets a certificate path and its password and opens the certificate
// with them. On a terminal a missing file or a wrong password is asked again (three
// tries); otherwise it is the error. oldPassword, when set, is tried when no password is
// given (an edit that only moves the file).
func (a *App) askCertificate(path string, pwStdin bool, store secret.Store, oldPassword string) (string, string, error) {
	pathFromFlag := path != ""
	var pw string
	var pwGiven bool
	if pwStdin {
		s, err := readSecretStdin(a.In)
		if err != nil {
			return "", "", fmt.Errorf("read the certificate password from stdin: %w", err)
		}
		pw, pwGiven = s, true
	}
	for try := 1; ; try++ {
		if path == "" {
			s, err := a.need("", "certificate", "Certificate path")
			if err != nil {
				return "", "", err
			}
			path = s
		}
		abs, err := absPath(path)
		if err != nil {
			return "", "", err
		}
		if !pwGiven && a.InTTY {
			if pw, err = a.promptSecret("Certificate password"); err != nil {
				return "", "", err
			}
		} else if !pwGiven {
			pw = oldPassword
			if pw == "" && store.Name() == secret.KindEnv {
				pw = a.Getenv(secret.EnvCertPassword)
			}
		}
		_, err = a.openCert(abs, pw)
		switch {
		case err == nil:
			return abs, pw, nil
		case try < 3 && a.InTTY && errors.Is(err, cert.ErrNotFound) && !pathFromFlag:
			a.warn("  " + err.Error())
			path = ""
			continue
		case try < 3 && a.InTTY && errors.Is(err, cert.ErrBadPassword) && !pwGiven:
			a.warn("  " + err.Error())
			continue
		case errors.Is(err, cert.ErrBadPassword) && !pwGiven && !a.InTTY:
			return "", "", usageErr("%v: pass the password with --certificate-password-stdin", err)
		}
		return "", "", err
	}
}

// askKeyStore fills in a key-store certificate: the plugin cannot be asked here, so the
// thumbprint is taken as given and checked at the first token request.
func (a *App) askKeyStore(f *profileFlags, p *profile.Profile) error {
	tp, err := a.ask(f.thumbprint, "thumbprint", "Certificate thumbprint", checkThumbprint)
	if err != nil {
		return err
	}
	opts, err := f.storeOptionMap()
	if err != nil {
		return err
	}
	p.UseCertificate, p.CertificatePath = true, ""
	p.CertificateStore, p.CertificateThumbprint = f.certStore, normThumbprint(tp)
	// An edit that names only what changes keeps the rest.
	if f.storeLocation != "" {
		p.CertificateStoreLocation = f.storeLocation
	}
	if opts != nil {
		p.CertificateStoreOptions = opts
	}
	return nil
}

// askPIN gets a key store's PIN, kept in the certificate-password slot; none is fine
// (a store may need none, or the env store supplies it).
func (a *App) askPIN(fromStdin bool, store secret.Store) (string, error) {
	switch {
	case fromStdin:
		s, err := readSecretStdin(a.In)
		if err != nil {
			return "", fmt.Errorf("read the PIN from stdin: %w", err)
		}
		return s, nil
	case a.InTTY:
		return a.promptSecret("Certificate password")
	}
	return "", nil
}

// askClientSecret reads the client secret from stdin or the terminal. With the env store
// and neither, ENTRATOOL_CLIENT_SECRET is used at token time.
func (a *App) askClientSecret(fromStdin bool, store secret.Store) (string, error) {
	switch {
	case fromStdin:
		s, err := readSecretStdin(a.In)
		if err != nil {
			return "", fmt.Errorf("read the client secret from stdin: %w", err)
		}
		if s == "" {
			return "", usageErr("--client-secret-stdin: stdin was empty")
		}
		return s, nil
	case a.InTTY:
		for {
			s, err := a.promptSecret("Client secret")
			if err != nil {
				return "", err
			}
			if s != "" {
				return s, nil
			}
		}
	case store.Name() == secret.KindEnv:
		return "", nil
	}
	return "", usageErr("missing --client-secret-stdin (stdin is not a terminal, so entratool cannot prompt for the client secret)")
}

// saveSecrets puts values into the store ("" deletes). The env store stores nothing: a
// value that differs from its variable draws a reminder instead.
func (a *App) saveSecrets(ctx context.Context, store secret.Store, name string, values map[string]string) error {
	for _, kind := range []string{secret.CertificatePassword, secret.ClientSecret} {
		v, ok := values[kind]
		if !ok {
			continue
		}
		if store.Name() == secret.KindEnv {
			envName := secret.EnvCertPassword
			if kind == secret.ClientSecret {
				envName = secret.EnvClientSecret
			}
			if v != "" && a.Getenv(envName) != v {
				a.warn(fmt.Sprintf("note: the env secret store keeps nothing: export %s when using profile '%s'", envName, name))
			}
			continue
		}
		key := secret.Key(name, kind)
		if v == "" {
			// A leftover from an earlier profile of the same name must not be used.
			if err := store.Delete(ctx, key); err != nil {
				a.debugf("delete stale secret", "key", key, "error", err.Error())
			}
			continue
		}
		if err := store.Set(ctx, key, v); err != nil {
			return fmt.Errorf("could not store the %s in the %s store: %w (choose another with --secret-store file or env)",
				strings.ReplaceAll(kind, "-", " "), store.Name(), err)
		}
	}
	return nil
}

// ---- config edit ----

// editor accumulates the changes of one config edit: applied at once to a working copy
// (what the menu shows and later checks see) and replayed on the freshly read profile
// under the lock when saving, so that a concurrent change to another field survives.
type editor struct {
	orig, cur *profile.Profile
	changes   []func(*profile.Profile)
	secrets   map[string]string // kind → new value, "" deletes
	forget    bool              // cached tokens must go
	asDefault bool
}

func (e *editor) apply(fn func(*profile.Profile)) {
	fn(e.cur)
	e.changes = append(e.changes, fn)
}

func (e *editor) changed() bool { return len(e.changes) > 0 || len(e.secrets) > 0 || e.asDefault }

// useCertFile switches the profile to a certificate file.
func (e *editor) useCertFile(path, pw string) {
	e.apply(func(p *profile.Profile) {
		p.UseCertificate, p.CertificatePath = true, path
		p.CertificateThumbprint, p.CertificateStoreLocation, p.CertificateStore, p.CertificateStoreOptions = "", "", "", nil
	})
	e.secrets[secret.CertificatePassword] = pw
	if _, ok := e.secrets[secret.ClientSecret]; !ok {
		e.secrets[secret.ClientSecret] = ""
	}
	e.forget = true
}

// useClientSecret switches the profile to a client secret.
func (e *editor) useClientSecret(s string) {
	e.apply(func(p *profile.Profile) {
		p.UseCertificate, p.CertificatePath = false, ""
		p.CertificateThumbprint, p.CertificateStoreLocation, p.CertificateStore, p.CertificateStoreOptions = "", "", "", nil
	})
	e.secrets[secret.ClientSecret] = s
	e.secrets[secret.CertificatePassword] = ""
	e.forget = true
}

func (a *App) configEditCmd() *cobra.Command {
	var f profileFlags
	cmd := &cobra.Command{
		Use:   "edit [-p NAME]",
		Short: "Change a profile (menu on a terminal, or flags)",
		Long: "Change a profile. With no change flags, on a terminal, a menu offers:\n" +
			"  1. Certificate Path  2. Certificate Password  3. Client Secret  4. Scope  5. Client ID\n" +
			"  6. Tenant ID  7. Authority Host  8. Secret Store  9. Done\n" +
			"A new certificate is opened with its password before it is saved. Changing the certificate or\n" +
			"secret drops the profile's cached tokens. Changing the client ID, tenant ID or authority also deletes\n" +
			"the stored password or secret (it never follows a profile to another authority): give the new one\n" +
			"in the same command, or set it afterwards.",
		Example: "  entratool config edit -p production-service\n" +
			"  entratool config edit -p production-service --certificate /path/to/new-certificate.pfx --certificate-password-stdin < pw.txt",
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.configEdit(cmd, args, &f)
		},
	}
	f.register(cmd, false)
	return cmd
}

func (a *App) configEdit(cmd *cobra.Command, args []string, f *profileFlags) error {
	ctx := cmd.Context()
	if err := f.check(); err != nil {
		return err
	}
	st, cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	p, err := a.resolve(cfg, args)
	if err != nil {
		return err
	}
	e := &editor{orig: p.Clone(), cur: p.Clone(), secrets: map[string]string{}}
	if anyChanged(cmd, "client-id", "tenant-id", "certificate", "certificate-password-stdin",
		"client-secret-stdin", "scope", "authority-host", "cloud", "send-x5c", "secret-store", "default",
		"certificate-store", "thumbprint", "certificate-store-location", "store-option") {
		if f.usesStdin() {
			a.InTTY = false
		}
		err = a.editFromFlags(ctx, cmd, f, e)
	} else if a.InTTY {
		err = a.editMenu(ctx, e)
	} else {
		return usageErr("nothing to change: give flags such as --certificate PATH --certificate-password-stdin, or run on a terminal for the menu")
	}
	if err != nil {
		return err
	}
	if !e.changed() {
		fmt.Fprintf(a.Out, "Profile '%s' unchanged\n", p.Name)
		return nil
	}
	if err := e.cur.Validate(); err != nil {
		return usageErr("%v", err)
	}
	if err := a.saveEdit(ctx, st, e); err != nil {
		return err
	}
	fmt.Fprintf(a.Out, "✓ Profile '%s' updated\n", p.Name)
	return nil
}

func anyChanged(cmd *cobra.Command, names ...string) bool {
	for _, n := range names {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

func (a *App) editFromFlags(ctx context.Context, cmd *cobra.Command, f *profileFlags, e *editor) error {
	changed := cmd.Flags().Changed
	if changed("client-id") {
		if err := checkClientID(f.clientID); err != nil {
			return usageErr("--client-id: %v", err)
		}
		e.apply(func(p *profile.Profile) { p.ClientID = f.clientID })
		e.forget = true
	}
	if changed("tenant-id") {
		if err := checkTenantID(f.tenantID); err != nil {
			return usageErr("--tenant-id: %v", err)
		}
		e.apply(func(p *profile.Profile) { p.TenantID = f.tenantID })
		e.forget = true
	}
	if changed("secret-store") {
		a.noteStoreOverride(f.secretStore)
		e.apply(func(p *profile.Profile) { p.SecretStore = f.secretStore })
	}
	store, err := a.storeFor(e.cur)
	if err != nil {
		return err
	}
	if f.certStore == "" && f.keyStoreDetails() {
		if f.certStore = e.cur.CertificateStore; f.certStore == "" {
			return usageErr("--thumbprint, --certificate-store-location and --store-option need --certificate-store NAME (profile '%s' uses no key store)", e.cur.Name)
		}
		if f.thumbprint == "" {
			f.thumbprint = e.cur.CertificateThumbprint
		}
	}
	switch {
	case f.certStore != "":
		probe := e.cur.Clone()
		if err := a.askKeyStore(f, probe); err != nil {
			return err
		}
		// Moving within a key store keeps its PIN unless a new one is given; coming from a
		// file or a secret, the old value is no PIN.
		if f.certPasswordStdin || e.orig.CertificateStore == "" {
			pin, err := a.askPIN(f.certPasswordStdin, store)
			if err != nil {
				return err
			}
			e.secrets[secret.CertificatePassword] = pin
		}
		e.apply(func(p *profile.Profile) {
			p.UseCertificate, p.CertificatePath = true, ""
			p.CertificateStore, p.CertificateThumbprint = probe.CertificateStore, probe.CertificateThumbprint
			p.CertificateStoreLocation, p.CertificateStoreOptions = probe.CertificateStoreLocation, probe.CertificateStoreOptions
		})
		if _, ok := e.secrets[secret.ClientSecret]; !ok {
			e.secrets[secret.ClientSecret] = ""
		}
		e.forget = true
	case f.certificate != "":
		old := ""
		if e.orig.UseCertificate && e.orig.CertificatePath != "" && !profile.IdentityChanged(e.orig, withAuthorityFlags(cmd, f, e.cur)) {
			// The new file may share the old password (a renewed certificate often does),
			// but the old password never goes along to another authority, tenant or app.
			old, _ = a.storedSecret(ctx, e.orig, secret.CertificatePassword)
		}
		path, pw, err := a.askCertificate(f.certificate, f.certPasswordStdin, store, old)
		if err != nil {
			return err
		}
		e.useCertFile(path, pw)
	case f.certPasswordStdin:
		pw, err := readSecretStdin(a.In)
		if err != nil {
			return fmt.Errorf("read the certificate password from stdin: %w", err)
		}
		if err := a.setCertPassword(e, pw); err != nil {
			return err
		}
	case f.clientSecretStdin:
		s, err := a.askClientSecret(true, store)
		if err != nil {
			return err
		}
		e.useClientSecret(s)
	}
	if changed("scope") {
		s := strings.TrimSpace(f.scope)
		if s == "" {
			s = DefaultScope
		}
		a.checkScope(s)
		e.apply(func(p *profile.Profile) { p.Scope = s })
	}
	if changed("authority-host") {
		e.apply(func(p *profile.Profile) { p.AuthorityHost, p.Cloud = f.authorityHost, "" })
		e.forget = true
	}
	if changed("cloud") {
		e.apply(func(p *profile.Profile) { p.Cloud, p.AuthorityHost = f.cloud, "" })
		e.forget = true
	}
	if changed("send-x5c") {
		e.apply(func(p *profile.Profile) { p.SendX5C = f.sendX5C })
	}
	e.asDefault = f.makeDefault
	return nil
}

// withAuthorityFlags is p as --authority-host or --cloud will leave it, for decisions
// taken before those flags are applied.
func withAuthorityFlags(cmd *cobra.Command, f *profileFlags, p *profile.Profile) *profile.Profile {
	q := p.Clone()
	switch {
	case cmd.Flags().Changed("authority-host"):
		q.AuthorityHost, q.Cloud = f.authorityHost, ""
	case cmd.Flags().Changed("cloud"):
		q.Cloud, q.AuthorityHost = f.cloud, ""
	}
	return q
}

// setCertPassword records a new password for the profile's current certificate, after
// checking that it opens the certificate file (a key-store PIN cannot be checked here).
func (a *App) setCertPassword(e *editor, pw string) error {
	switch {
	case !e.cur.UseCertificate:
		return usageErr("profile '%s' uses a client secret: give --certificate PATH with the password (or choose Certificate Path)", e.cur.Name)
	case e.cur.CertificatePath != "":
		if _, err := a.openCert(e.cur.CertificatePath, pw); err != nil {
			return err
		}
	}
	e.secrets[secret.CertificatePassword] = pw
	e.forget = true
	return nil
}

func (a *App) noteStoreOverride(kind string) {
	if env := a.Getenv("ENTRATOOL_SECRET_STORE"); env != "" && env != kind {
		a.warn(fmt.Sprintf("note: ENTRATOOL_SECRET_STORE=%s is set and takes precedence over the profile's secretStore", env))
	}
}

var menuItems = []string{
	"Certificate Path", "Certificate Password", "Client Secret", "Scope", "Client ID",
	"Tenant ID", "Authority Host", "Secret Store", "Done",
}

// parseMenuChoice reads an answer to the edit menu: its number or its name.
func parseMenuChoice(s string) int {
	s = strings.TrimSpace(s)
	for i, item := range menuItems {
		if s == fmt.Sprint(i+1) || strings.EqualFold(s, item) {
			return i + 1
		}
	}
	return 0
}

// editMenu is the seed's "Select: Certificate Path / Enter: … / Enter password: ****".
func (a *App) editMenu(ctx context.Context, e *editor) error {
	for {
		a.printMenu(e.cur)
		s, err := a.prompt("Select")
		if err != nil {
			return fmt.Errorf("%w; no changes saved", err)
		}
		choice := parseMenuChoice(s)
		if choice == 0 {
			a.warn(fmt.Sprintf("  Answer 1 to %d.", len(menuItems)))
			continue
		}
		if choice == len(menuItems) {
			return nil
		}
		if err := a.menuItem(ctx, e, choice); err != nil {
			var ee *exitError
			if errors.As(err, &ee) || errors.Is(err, errNoAnswer) {
				return fmt.Errorf("%w; no changes saved", err)
			}
			// A bad answer to one item leaves the others; say why and show the menu again.
			a.warn("✗ " + err.Error())
		}
	}
}

var errNoAnswer = errors.New("no answer")

func (a *App) printMenu(p *profile.Profile) {
	cur := map[int]string{
		1: p.CertificatePath,
		4: p.Scope,
		5: p.ClientID,
		6: p.TenantID,
		7: p.Authority(),
		8: secret.Choose(p.SecretStore, a.Getenv),
	}
	if !p.UseCertificate {
		cur[3] = "in use"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Profile '%s':\n", p.Name)
	for i, item := range menuItems {
		if v := cur[i+1]; v != "" {
			fmt.Fprintf(&b, "%d. %s (%s)\n", i+1, item, v)
		} else {
			fmt.Fprintf(&b, "%d. %s\n", i+1, item)
		}
	}
	fmt.Fprint(a.Err, b.String())
}

// promptOrAbort prompts; end of input aborts the whole edit.
func (a *App) promptOrAbort(label string, secretInput bool) (string, error) {
	var s string
	var err error
	if secretInput {
		s, err = a.promptSecret(label)
	} else {
		s, err = a.prompt(label)
	}
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoAnswer, err)
	}
	if !secretInput {
		s = strings.TrimSpace(s)
	}
	return s, nil
}

func (a *App) menuItem(ctx context.Context, e *editor, choice int) error {
	switch menuItems[choice-1] {
	case "Certificate Path":
		path, err := a.promptOrAbort("Certificate path", false)
		if err != nil || path == "" {
			return err
		}
		abs, err := absPath(path)
		if err != nil {
			return err
		}
		pw, err := a.promptOrAbort("Certificate password", true)
		if err != nil {
			return err
		}
		c, err := a.openCert(abs, pw)
		if err != nil {
			return err
		}
		a.warn(fmt.Sprintf("  %s, thumbprint %s, valid until %s", c.Leaf.Subject, cert.ThumbprintSHA1(c.Leaf), c.Leaf.NotAfter.UTC().Format(time.DateOnly)))
		e.useCertFile(abs, pw)
	case "Certificate Password":
		pw, err := a.promptOrAbort("Certificate password", true)
		if err != nil {
			return err
		}
		if !e.cur.UseCertificate {
			return fmt.Errorf("profile '%s' uses a client secret: choose Certificate Path to switch to a certificate", e.cur.Name)
		}
		return a.setCertPassword(e, pw)
	case "Client Secret":
		s, err := a.promptOrAbort("Client secret", true)
		if err != nil || s == "" {
			return err
		}
		e.useClientSecret(s)
	case "Scope":
		s, err := a.promptOrAbort("Scope", false)
		if err != nil || s == "" {
			return err
		}
		a.checkScope(s)
		e.apply(func(p *profile.Profile) { p.Scope = s })
	case "Client ID":
		s, err := a.promptOrAbort("Client ID", false)
		if err != nil || s == "" {
			return err
		}
		if err := checkClientID(s); err != nil {
			return err
		}
		e.apply(func(p *profile.Profile) { p.ClientID = s })
		e.forget = true
	case "Tenant ID":
		s, err := a.promptOrAbort("Tenant ID", false)
		if err != nil || s == "" {
			return err
		}
		if err := checkTenantID(s); err != nil {
			return err
		}
		e.apply(func(p *profile.Profile) { p.TenantID = s })
		e.forget = true
	case "Authority Host":
		s, err := a.promptOrAbort("Authority host (URL, or public, usgov, china)", false)
		if err != nil || s == "" {
			return err
		}
		probe := e.cur.Clone()
		set := func(p *profile.Profile) { p.AuthorityHost, p.Cloud = s, "" }
		switch s {
		case "public", "usgov", "china":
			set = func(p *profile.Profile) { p.Cloud, p.AuthorityHost = s, "" }
		}
		set(probe)
		if err := probe.Validate(); err != nil {
			return err
		}
		e.apply(set)
		e.forget = true
	case "Secret Store":
		s, err := a.promptOrAbort("Secret store (keyring, file, env)", false)
		if err != nil || s == "" {
			return err
		}
		switch s {
		case secret.KindKeyring, secret.KindFile, secret.KindEnv:
		default:
			return fmt.Errorf("secret store %q: use keyring, file or env", s)
		}
		a.noteStoreOverride(s)
		e.apply(func(p *profile.Profile) { p.SecretStore = s })
	}
	return nil
}

// saveEdit writes the profile, then its secrets (moving them when the store changed),
// then drops stale tokens. A secret that cannot be stored puts the old profile back.
func (a *App) saveEdit(ctx context.Context, st *profile.Store, e *editor) error {
	oldStore, err := a.storeFor(e.orig)
	if err != nil {
		return err
	}
	newStore, err := a.storeFor(e.cur)
	if err != nil {
		return err
	}
	moved := oldStore.Name() != newStore.Name()
	values := map[string]string{}
	for k, v := range e.secrets {
		values[k] = v
	}
	// Another authority, tenant or app: the stored secrets are deleted before the profile
	// is written, and none moves along to a new store; only what this edit supplies is
	// stored afterwards.
	rebind := profile.IdentityChanged(e.orig, e.cur)
	var unbound map[string]bool
	if rebind {
		// A kind this edit sets or clears itself needs no warning.
		supplied := map[string]bool{}
		for k := range values {
			supplied[k] = true
		}
		if unbound, err = a.unbindSecrets(ctx, e.orig, e.cur, supplied); err != nil {
			return err
		}
		e.forget = true
	} else if moved {
		for _, kind := range []string{secret.CertificatePassword, secret.ClientSecret} {
			if _, ok := values[kind]; ok {
				continue
			}
			v, err := oldStore.Get(ctx, secret.Key(e.orig.Name, kind))
			switch {
			case errors.Is(err, secret.ErrNotFound):
			case err != nil:
				return fmt.Errorf("cannot move the %s out of the %s store: %w; nothing was changed", strings.ReplaceAll(kind, "-", " "), oldStore.Name(), err)
			default:
				values[kind] = v
			}
		}
	}
	name := e.orig.Name
	err = st.Update(ctx, func(c *profile.Config) error {
		p := c.Get(name)
		if p == nil {
			return fmt.Errorf("profile '%s' was deleted while it was being edited; nothing was saved", name)
		}
		before := p.Clone()
		for _, fn := range e.changes {
			fn(p)
		}
		if err := a.checkUnbound(before, p, unbound); err != nil {
			return err
		}
		if e.asDefault {
			c.DefaultProfile = name
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := a.saveSecrets(ctx, newStore, name, values); err != nil {
		if rerr := st.Update(ctx, func(c *profile.Config) error { c.Put(e.orig.Clone()); return nil }); rerr != nil {
			return fmt.Errorf("%w (and restoring the profile failed: %v)", err, rerr)
		}
		if rebind {
			return fmt.Errorf("%w; profile '%s' was left as it was, without the stored secret deleted above", err, name)
		}
		return fmt.Errorf("%w; profile '%s' was left as it was", err, name)
	}
	if moved && oldStore.Name() != secret.KindEnv {
		for _, kind := range []string{secret.CertificatePassword, secret.ClientSecret} {
			if err := oldStore.Delete(ctx, secret.Key(name, kind)); err != nil {
				a.warn(fmt.Sprintf("warning: could not remove the old %s from the %s store: %v", strings.ReplaceAll(kind, "-", " "), oldStore.Name(), err))
			}
		}
	}
	if e.forget {
		a.forgetTokens(e.orig)
	}
	return nil
}

// ---- config list / show / use / delete ----

func checkTableJSON(output string) error {
	switch output {
	case "table", "json":
		return nil
	}
	return usageErr("unknown output %q: use table or json", output)
}

// authLabel describes how a profile signs in.
func authLabel(p *profile.Profile) string {
	switch {
	case !p.UseCertificate:
		return "client secret"
	case p.CertificateStore != "":
		return "certificate (" + p.CertificateStore + ")"
	default:
		return "certificate"
	}
}

type listJSON struct {
	DefaultProfile string             `json:"defaultProfile,omitempty"`
	Profiles       []*profile.Profile `json:"profiles"`
}

func (a *App) configListCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List profiles (* marks the default)",
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTableJSON(output); err != nil {
				return err
			}
			_, cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			if output == "json" {
				ps := cfg.Profiles
				if ps == nil {
					ps = []*profile.Profile{}
				}
				return writeJSON(a.Out, listJSON{DefaultProfile: cfg.DefaultProfile, Profiles: ps})
			}
			if len(cfg.Names()) == 0 {
				a.warn("No profiles yet: run 'entratool config create'")
				return nil
			}
			tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "\tNAME\tAUTH\tCLIENT ID\tTENANT ID\tSCOPE")
			for _, p := range cfg.Profiles {
				if p == nil {
					continue
				}
				mark := ""
				if p.Name == cfg.DefaultProfile {
					mark = "*"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", mark, p.Name, authLabel(p), p.ClientID, p.TenantID, p.Scope)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

// certStatus is what show reports about a profile's certificate: its details, or why
// it could not be opened.
type certStatus struct {
	*cert.Info
	Error string `json:"error,omitempty"`
}

type showJSON struct {
	Profile     *profile.Profile `json:"profile"`
	Default     bool             `json:"default"`
	SecretStore string           `json:"secretStore"`
	Certificate *certStatus      `json:"certificate,omitempty"`
}

func (a *App) configShowCmd() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show [-p NAME]",
		Short: "Show a profile, with its certificate's thumbprint and expiry",
		Args:  maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTableJSON(output); err != nil {
				return err
			}
			_, cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			p, err := a.resolve(cfg, args)
			if err != nil {
				return err
			}
			out := showJSON{Profile: p, Default: cfg.DefaultProfile == p.Name, SecretStore: secret.Choose(p.SecretStore, a.Getenv)}
			if p.UseCertificate && p.CertificatePath != "" {
				out.Certificate = a.certStatus(cmd.Context(), p)
			}
			if output == "json" {
				return writeJSON(a.Out, out)
			}
			return a.printShow(out)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	return cmd
}

func (a *App) certStatus(ctx context.Context, p *profile.Profile) *certStatus {
	pw, err := a.storedSecret(ctx, p, secret.CertificatePassword)
	if err != nil {
		return &certStatus{Error: fmt.Sprintf("cannot read the certificate password: %v", err)}
	}
	c, err := cert.Load(ctx, p.CertificatePath, pw)
	if err != nil {
		if errors.Is(err, cert.ErrBadPassword) {
			return &certStatus{Error: fmt.Sprintf("%v (set it with 'entratool config edit -p %s', Certificate Password)", err, p.Name)}
		}
		return &certStatus{Error: err.Error()}
	}
	info := cert.Inspect(c.Leaf, a.Now())
	return &certStatus{Info: &info}
}

func (a *App) printShow(s showJSON) error {
	p := s.Profile
	tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			// Escaped: the certificate's subject is whatever its maker wrote.
			fmt.Fprintf(tw, "%s:\t%s\n", k, termtext.Escape(v))
		}
	}
	name := p.Name
	if s.Default {
		name += " (default)"
	}
	row("Name", name)
	row("Client ID", p.ClientID)
	row("Tenant ID", p.TenantID)
	row("Authentication", authLabel(p))
	row("Certificate path", p.CertificatePath)
	row("Certificate thumbprint", p.CertificateThumbprint)
	row("Certificate store", p.CertificateStore)
	if c := s.Certificate; c != nil {
		if c.Info == nil {
			row("Certificate", "cannot be opened: "+c.Error)
		} else {
			row("Subject", c.Subject)
			row("Thumbprint (SHA-1)", c.ThumbprintSHA1)
			row("Thumbprint (SHA-256)", c.ThumbprintSHA256)
			row("Expires", expiryText(c.NotAfter, c.DaysLeft))
		}
	}
	row("Scope", p.Scope)
	row("Authority", p.Authority())
	if p.SendX5C {
		row("Send x5c", "yes")
	}
	row("Secret store", s.SecretStore)
	if len(p.GitHosts) > 0 {
		row("Git hosts", strings.Join(p.GitHosts, ", "))
	}
	if len(p.Registries) > 0 {
		row("Registries", strings.Join(p.Registries, ", "))
	}
	row("Subscription", p.SubscriptionID)
	return tw.Flush()
}

// expiryText is "2027-05-01 10:00:00 UTC (729 days left)" or "… (EXPIRED)".
func expiryText(notAfter time.Time, daysLeft int) string {
	at := notAfter.UTC().Format("2006-01-02 15:04:05 UTC")
	switch {
	case daysLeft < 0:
		return at + " (EXPIRED)"
	case daysLeft == 1:
		return at + " (1 day left)"
	default:
		return fmt.Sprintf("%s (%d days left)", at, daysLeft)
	}
}

func (a *App) configUseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "use NAME",
		Short: "Make NAME the default profile",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.profiles()
			if err != nil {
				return err
			}
			name := args[0]
			err = st.Update(cmd.Context(), func(c *profile.Config) error {
				if c.Get(name) == nil {
					return &profile.ResolveError{Err: profile.ErrProfileNotFound, Name: name, Source: "--profile", Path: st.Path(), Have: c.Names()}
				}
				c.DefaultProfile = name
				return nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.Out, "✓ Default profile is now '%s'\n", name)
			return nil
		},
	}
}

func (a *App) configDeleteCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "delete -p NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a profile with its stored secrets and cached tokens",
		Args:    maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			name, err := a.selectedName(args)
			if err != nil {
				return err
			}
			if name == "" {
				// Never fall back on the default profile for a deletion.
				return usageErr("missing --profile: name the profile to delete (entratool config delete -p NAME)")
			}
			st, err := a.profiles()
			if err != nil {
				return err
			}
			var gone *profile.Profile
			err = st.Update(ctx, func(c *profile.Config) error {
				gone = c.Get(name)
				if gone == nil {
					return &profile.ResolveError{Err: profile.ErrProfileNotFound, Name: name, Source: "--profile", Path: st.Path(), Have: c.Names()}
				}
				c.Delete(name)
				return nil
			})
			if err != nil {
				return err
			}
			if store, err := a.storeFor(gone); err != nil {
				a.warn(fmt.Sprintf("warning: %v; its secrets may remain", err))
			} else if store.Name() != secret.KindEnv {
				for _, kind := range []string{secret.CertificatePassword, secret.ClientSecret} {
					if err := store.Delete(ctx, secret.Key(name, kind)); err != nil {
						a.warn(fmt.Sprintf("warning: could not remove the %s from the %s store: %v", strings.ReplaceAll(kind, "-", " "), store.Name(), err))
					}
				}
			}
			a.forgetTokens(gone)
			fmt.Fprintf(a.Out, "✓ Profile '%s' deleted\n", name)
			return nil
		},
	}
}

// ---- config export / import ----

// droppedNames lists secret-bearing fields by profile, for one warning line: names only,
// never values.
func droppedNames(dropped []profile.Dropped) string {
	parts := make([]string, 0, len(dropped))
	for _, d := range dropped {
		parts = append(parts, fmt.Sprintf("%s (profile '%s')", strings.Join(d.Fields, ", "), d.Profile))
	}
	return strings.Join(parts, "; ")
}

// editHint is the command that sets a profile's secret again.
func editHint(dropped []profile.Dropped) string {
	if len(dropped) == 1 {
		return "entratool config edit -p " + dropped[0].Profile
	}
	return "entratool config edit -p NAME"
}

func (a *App) configExportCmd() *cobra.Command {
	var out string
	cmd := &cobra.Command{
		Use:   "export [-p NAME] [-o FILE]",
		Short: "Write a profile as JSON (never its secrets), to FILE or stdout",
		Example: "  entratool config export -p production-service -o backup-production-service.json\n" +
			"  entratool config import backup-production-service.json --force",
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			p, err := a.resolve(cfg, args)
			if err != nil {
				return err
			}
			data, dropped := profile.Export(p)
			if len(dropped) > 0 {
				// Someone wrote a secret into profiles.json by hand; it stays there, but
				// an export is made to be copied around (SPEC §12).
				a.warn("note: secrets are never exported; left out: " + droppedNames(dropped))
			}
			if out == "" || out == "-" {
				_, err := a.Out.Write(data)
				return err
			}
			if err := fsutil.WriteFileAtomic(out, data, 0o600); err != nil {
				return fmt.Errorf("export profile '%s': %w", p.Name, err)
			}
			fmt.Fprintf(a.Out, "✓ Profile '%s' exported to %s\n", p.Name, out)
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default stdout; the file is made 0600)")
	return cmd
}

func (a *App) configImportCmd() *cobra.Command {
	var force bool
	cmd := &cobra.Command{
		Use:   "import FILE",
		Short: "Add the profiles of FILE (as config export writes it; - reads stdin)",
		Long: "Add the profiles in FILE: what 'config export' writes, a single profile object, or {\"profiles\": [...]}.\n" +
			"An existing profile of the same name is replaced only with --force. Secrets are not imported: fields that\n" +
			"hold one (clientSecret, certificatePassword, password, pin, any key containing secret or password) are\n" +
			"dropped with a warning; set secrets with 'entratool config edit -p NAME'. A replaced profile whose\n" +
			"authority, tenant or client changes loses its stored secret, which never follows it elsewhere.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.configImport(cmd.Context(), args[0], force)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "replace existing profiles of the same name")
	return cmd
}

func (a *App) configImport(ctx context.Context, file string, force bool) error {
	st, cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	var data []byte
	if file == "-" {
		data, err = io.ReadAll(io.LimitReader(a.In, 16<<20))
		file = "stdin"
	} else {
		data, err = os.ReadFile(file)
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	in, dropped, err := profile.ParseImport(file, data)
	if err != nil {
		return err
	}
	if len(in.Names()) == 0 {
		return fmt.Errorf("%s holds no profiles", file)
	}
	if err := in.Validate(); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	var clash []string
	for _, n := range in.Names() {
		if cfg.Get(n) != nil {
			clash = append(clash, n)
		}
	}
	if len(clash) > 0 && !force {
		return fmt.Errorf("profile(s) %s already exist: pass --force to replace them, or rename them in %s", strings.Join(clash, ", "), file)
	}
	if len(dropped) > 0 {
		a.warn(fmt.Sprintf("warning: secrets are never imported into profiles.json; dropped %s: set the secret with '%s'",
			droppedNames(dropped), editHint(dropped)))
	}
	// A replaced profile that signs in elsewhere loses its stored secret first, so that a
	// failure leaves the old profile and its secret together (SPEC §12).
	unbound := map[string]map[string]bool{}
	for _, p := range in.Profiles {
		old := cfg.Get(p.Name)
		if !profile.IdentityChanged(old, p) {
			continue
		}
		stores, err := a.unbindSecrets(ctx, old, p, nil)
		if err != nil {
			return err
		}
		unbound[p.Name] = stores
	}
	var replaced []*profile.Profile
	err = st.Update(ctx, func(c *profile.Config) error {
		replaced = replaced[:0]
		for _, p := range in.Profiles {
			if old := c.Get(p.Name); old != nil {
				if !force {
					return fmt.Errorf("profile '%s' already exists: pass --force to replace it", p.Name)
				}
				if err := a.checkUnbound(old, p, unbound[p.Name]); err != nil {
					return err
				}
				replaced = append(replaced, old)
			}
			c.Put(p)
		}
		if c.DefaultProfile == "" && in.DefaultProfile != "" {
			c.DefaultProfile = in.DefaultProfile
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, old := range replaced {
		a.forgetTokens(old)
	}
	for _, p := range in.Profiles {
		if p.UseCertificate && p.CertificatePath != "" {
			if _, err := os.Stat(p.CertificatePath); err != nil {
				a.warn(fmt.Sprintf("warning: profile '%s': certificate not found: %s", p.Name, p.CertificatePath))
			}
		}
		fmt.Fprintf(a.Out, "✓ Profile '%s' imported\n", p.Name)
	}
	return nil
}

// ---- secrets and identity ----

// secretKinds are the secrets a profile can have stored.
func secretKinds() []string { return []string{secret.CertificatePassword, secret.ClientSecret} }

// identityText says where a profile signs in, for messages.
func identityText(p *profile.Profile) string {
	return fmt.Sprintf("%s (tenant %s, client %s)", p.Authority(), p.TenantID, p.ClientID)
}

// unbindSecrets deletes the stored secrets of profile old.Name from the stores that old
// and cur use, because cur signs in at another authority, tenant or app than old and a
// secret never follows a profile there (SPEC §12). It runs before cur is written: when a
// store cannot delete (a locked or unreachable keyring), the command fails with nothing
// written, rather than leave the old secret bound to the new authority. A warning names
// what was deleted, except the kinds in replaced, which this command stores anew. It
// returns the names of the stores it cleaned.
func (a *App) unbindSecrets(ctx context.Context, old, cur *profile.Profile, replaced map[string]bool) (map[string]bool, error) {
	cleaned := map[string]bool{}
	var gone []string
	for _, p := range []*profile.Profile{old, cur} {
		store, err := a.storeFor(p)
		if err != nil {
			return nil, err
		}
		if cleaned[store.Name()] {
			continue
		}
		cleaned[store.Name()] = true
		if store.Name() == secret.KindEnv {
			continue // it stores nothing
		}
		for _, kind := range secretKinds() {
			key := secret.Key(old.Name, kind)
			v, err := store.Get(ctx, key)
			if errors.Is(err, secret.ErrNotFound) {
				continue
			}
			if err == nil {
				err = store.Delete(ctx, key)
			}
			if err != nil {
				fix := "make the keyring reachable (unlock it)"
				if store.Name() == secret.KindFile {
					fix = "repair secrets.json in the entratool home"
				}
				return nil, fmt.Errorf("profile '%s' would sign in at %s, so its stored secrets must be deleted first, and the %s store could not: %w; "+
					"profile '%s' was not changed: %s and run the command again",
					old.Name, identityText(cur), store.Name(), err, old.Name, fix)
			}
			if v != "" && !replaced[kind] && !slices.Contains(gone, kind) {
				gone = append(gone, kind)
			}
		}
	}
	if len(gone) > 0 {
		what := strings.ReplaceAll(strings.Join(gone, " and "), "-", " ")
		a.warn(fmt.Sprintf("warning: profile '%s' now signs in at %s: its stored %s was deleted, since a secret never follows a profile to another authority, tenant or app; set it again with 'entratool config edit -p %s'",
			old.Name, identityText(cur), what, old.Name))
	}
	return cleaned, nil
}

// checkUnbound runs under the profiles lock, on the profile as it is now: if the change
// moves it to another identity, the stores its secrets can be in must be among those
// unbindSecrets cleaned. Another process may have changed the profile since.
func (a *App) checkUnbound(before, after *profile.Profile, cleaned map[string]bool) error {
	if !profile.IdentityChanged(before, after) {
		return nil
	}
	for _, p := range []*profile.Profile{before, after} {
		if !cleaned[secret.Choose(p.SecretStore, a.Getenv)] {
			return fmt.Errorf("profile '%s' was changed by another command meanwhile; nothing was saved: run the command again", before.Name)
		}
	}
	return nil
}
