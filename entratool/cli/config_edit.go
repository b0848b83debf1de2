package cli

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// editOptions are the inputs of config edit.
type editOptions struct {
	configEnv
	ProfileFlag string   // the global -p
	Args        []string // [NAME], another way to name the profile
	Flags       profileFlags
	// Changed holds the change flags (editChangeFlags) given on the command line; with
	// none, edit shows its menu.
	Changed map[string]bool
}

// editChangeFlags are config edit's flags that change something.
var editChangeFlags = []string{"client-id", "tenant-id", "certificate", "certificate-password-stdin",
	"client-secret-stdin", "scope", "authority-host", "cloud", "send-x5c", "secret-store", "default",
	"certificate-store", "thumbprint", "certificate-store-location", "store-option", "application-object-id",
	"federated-token-file", "federated-token-source", "federated-audience", "service-connection-id",
	"managed-identity", "managed-identity-client-id"}

func newConfigEditCmd(a *App, runF func(context.Context, *editOptions) error) *cobra.Command {
	opts := &editOptions{}
	cmd := &cobra.Command{
		Use:   "edit [-p NAME]",
		Short: "Change a profile (menu on a terminal, or flags)",
		Long: "Change a profile. With no change flags, on a terminal, a menu offers:\n" +
			"  1. Certificate Path  2. Certificate Password  3. Client Secret  4. Scope  5. Client ID\n" +
			"  6. Tenant ID  7. Authority Host  8. Secret Store  9. Done\n" +
			"The flags switch methods as in config create (--federated-token-file/--federated-token-source,\n" +
			"--managed-identity): the other method's settings go, and so does the stored password or secret of a\n" +
			"method that needs none.\n" +
			"A new certificate is opened with its password before it is saved. Changing the certificate or\n" +
			"secret drops the profile's cached tokens. Changing the client ID, tenant ID or authority also deletes\n" +
			"the stored password or secret (it never follows a profile to another authority): give the new one\n" +
			"in the same command, or set it afterwards.",
		Example: "  entratool config edit -p production-service\n" +
			"  entratool config edit -p production-service --certificate /path/to/new-certificate.pfx --certificate-password-stdin < pw.txt",
		Args: maxArgs(1),
		RunE: runE(a, opts, &opts.configEnv, func(cmd *cobra.Command, args []string) {
			opts.ProfileFlag, opts.Args = a.profileName, args
			opts.Changed = map[string]bool{}
			for _, n := range editChangeFlags {
				if cmd.Flags().Changed(n) {
					opts.Changed[n] = true
				}
			}
			// stdin carries the secret, so it cannot also answer prompts.
			opts.IO.CanPrompt = opts.Flags.mayPrompt(a.InTTY)
		}, runF, runConfigEdit),
	}
	opts.Flags.register(cmd, false)
	return cmd
}

// runConfigEdit collects the changes (flags, or the menu), checks them and saves them.
func runConfigEdit(ctx context.Context, opts *editOptions) error {
	if err := opts.Flags.check(); err != nil {
		return err
	}
	st, cfg, err := opts.App.loadConfig()
	if err != nil {
		return err
	}
	p, err := resolveProfile(cfg, opts.ProfileFlag, opts.Args, opts.App.Getenv)
	if err != nil {
		return err
	}
	if err := refuseEnv(p, "edit"); err != nil {
		return err
	}
	e := newEditor(p)
	switch {
	case len(opts.Changed) > 0:
		err = opts.editFromFlags(ctx, e)
	case opts.IO.CanPrompt:
		err = opts.editMenu(ctx, e)
	default:
		return usageErr("nothing to change: give flags such as --certificate PATH --certificate-password-stdin, or run on a terminal for the menu")
	}
	if err != nil {
		return err
	}
	if !e.changed() {
		fmt.Fprintf(opts.IO.Out, "Profile '%s' unchanged\n", p.Name)
		return nil
	}
	if err := e.cur.Validate(); err != nil {
		return usageErr("%v", err)
	}
	if err := opts.saveEdit(ctx, st, e); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "✓ Profile '%s' updated\n", p.Name)
	return nil
}

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

func newEditor(p *profile.Profile) *editor {
	return &editor{orig: p.Clone(), cur: p.Clone(), secrets: map[string]string{}}
}

func (e *editor) apply(fn func(*profile.Profile)) {
	fn(e.cur)
	e.changes = append(e.changes, fn)
}

func (e *editor) changed() bool { return len(e.changes) > 0 || len(e.secrets) > 0 || e.asDefault }

// useCertFile switches the profile to a certificate file.
func (e *editor) useCertFile(path, pw string) {
	e.apply(func(p *profile.Profile) {
		p.SetMethod(profile.MethodCertificate)
		p.CertificatePath = path
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
	e.apply(func(p *profile.Profile) { p.SetMethod(profile.MethodSecret) })
	e.secrets[secret.ClientSecret] = s
	e.secrets[secret.CertificatePassword] = ""
	e.forget = true
}

// useNoSecret switches the profile with set to a method that keeps no secret
// (federated, managed identity): the stored password or secret of the old method is
// deleted, as a switch to a certificate deletes the client secret.
func (e *editor) useNoSecret(set func(*profile.Profile)) {
	e.apply(set)
	if storesSecret(e.orig) {
		e.secrets[secret.CertificatePassword] = ""
		e.secrets[secret.ClientSecret] = ""
	}
	e.forget = true
}

// setCertPassword records a new password for the profile's current certificate, after
// checking that it opens the certificate file (a key-store PIN cannot be checked here).
func (o *editOptions) setCertPassword(e *editor, pw string) error {
	switch {
	case noCertificate(e.cur) != "":
		return usageErr("%s: give --certificate PATH with the password (or choose Certificate Path)", noCertificate(e.cur))
	case e.cur.CertificatePath != "":
		if _, err := o.openCert(e.cur.CertificatePath, pw); err != nil {
			return err
		}
	}
	e.secrets[secret.CertificatePassword] = pw
	e.forget = true
	return nil
}

// ---- changes from flags ----

// editFromFlags records the changes the flags give, in this order: identity and secret
// store, then the credential, then the other settings.
func (o *editOptions) editFromFlags(ctx context.Context, e *editor) error {
	if err := o.editIdentity(e); err != nil {
		return err
	}
	if kind := o.Flags.suppliedSecret(); kind != "" {
		chosen := o.Changed["secret-store"] || o.App.Getenv("ENTRATOOL_SECRET_STORE") != ""
		use, err := o.storeUsable(ctx, e.cur, kind, chosen)
		if err != nil {
			return err
		}
		if use != "" {
			e.apply(func(p *profile.Profile) { p.SecretStore = use })
		}
	}
	store, err := o.App.storeFor(e.cur)
	if err != nil {
		return err
	}
	f := o.Flags // a copy: key-store details missing from it are filled in from the profile
	if err := o.editCredential(ctx, e, &f, store); err != nil {
		return err
	}
	return o.editSettings(e)
}

// editIdentity: --client-id, --tenant-id and --secret-store.
func (o *editOptions) editIdentity(e *editor) error {
	f := &o.Flags
	if o.Changed["client-id"] {
		if err := checkClientID(f.clientID); err != nil {
			return usageErr("--client-id: %v", err)
		}
		id := f.clientID
		e.apply(func(p *profile.Profile) { p.ClientID = id })
		e.forget = true
	}
	if o.Changed["tenant-id"] {
		if err := checkTenantID(f.tenantID); err != nil {
			return usageErr("--tenant-id: %v", err)
		}
		id := f.tenantID
		e.apply(func(p *profile.Profile) { p.TenantID = id })
		e.forget = true
	}
	if o.Changed["secret-store"] {
		kind := f.secretStore
		o.noteStoreOverride(kind)
		e.apply(func(p *profile.Profile) { p.SecretStore = kind })
	}
	return nil
}

// editCredential: a key-store certificate, a certificate file, a new certificate
// password, a client secret, a federated token or a managed identity.
func (o *editOptions) editCredential(ctx context.Context, e *editor, f *profileFlags, store secret.Store) error {
	m := f.method()
	if m == "" {
		m = e.cur.Method()
	}
	if err := f.checkDetails(m); err != nil {
		return err
	}
	switch f.method() {
	case profile.MethodFederated:
		return o.editFederated(e, f)
	case profile.MethodManagedIdentity:
		o.editManagedIdentity(e, f.managedIdentityClientID)
		return nil
	}
	if err := o.editMethodDetails(e, f); err != nil {
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
		return o.editKeyStore(e, f)
	case f.certificate != "":
		return o.editCertFile(ctx, e, f, store)
	case f.certPasswordStdin:
		pw, err := readSecretStdin(o.IO.In)
		if err != nil {
			return fmt.Errorf("read the certificate password from stdin: %w", err)
		}
		return o.setCertPassword(e, pw)
	case f.clientSecretStdin:
		s, err := o.askClientSecret(true, store)
		if err != nil {
			return err
		}
		e.useClientSecret(s)
	}
	return nil
}

// editKeyStore switches to (or within) a key store.
func (o *editOptions) editKeyStore(e *editor, f *profileFlags) error {
	probe := e.cur.Clone()
	if err := o.askKeyStore(f, probe); err != nil {
		return err
	}
	// Moving within a key store keeps its PIN unless a new one is given; coming from a
	// file or a secret, the old value is no PIN.
	if f.certPasswordStdin || e.orig.CertificateStore == "" {
		pin, err := o.askPIN(f.certPasswordStdin)
		if err != nil {
			return err
		}
		e.secrets[secret.CertificatePassword] = pin
	}
	e.apply(func(p *profile.Profile) {
		p.SetMethod(profile.MethodCertificate)
		p.CertificatePath = ""
		p.CertificateStore, p.CertificateThumbprint = probe.CertificateStore, probe.CertificateThumbprint
		p.CertificateStoreLocation, p.CertificateStoreOptions = probe.CertificateStoreLocation, probe.CertificateStoreOptions
	})
	if _, ok := e.secrets[secret.ClientSecret]; !ok {
		e.secrets[secret.ClientSecret] = ""
	}
	e.forget = true
	return nil
}

// editCertFile switches to the certificate file --certificate names, opened first.
func (o *editOptions) editCertFile(ctx context.Context, e *editor, f *profileFlags, store secret.Store) error {
	old := ""
	if !f.certPasswordStdin && e.orig.Method() == profile.MethodCertificate && e.orig.CertificatePath != "" && !profile.IdentityChanged(e.orig, o.withAuthorityFlags(e.cur)) {
		// The new file may share the old password (a renewed certificate often does),
		// but the old password never goes along to another authority, tenant or app.
		old, _ = o.App.storedSecret(ctx, e.orig, secret.CertificatePassword)
	}
	path, pw, err := o.askCertificate(f.certificate, f.certPasswordStdin, store, old)
	if err != nil {
		return err
	}
	e.useCertFile(path, pw)
	return nil
}

// editFederated switches to (or within) a federated token. Moving between sources keeps
// the audience, and the service connection while the source stays azure-pipelines.
func (o *editOptions) editFederated(e *editor, f *profileFlags) error {
	file, source := f.federatedTokenFile, f.federatedTokenSource
	if file != "" {
		abs, err := filepath.Abs(file)
		if err != nil {
			return fmt.Errorf("federated token file %q: %w", file, err)
		}
		file = abs
		o.checkTokenFile(abs)
	}
	audience, conn := f.federatedAudience, f.serviceConnectionID
	e.useNoSecret(func(p *profile.Profile) {
		wasFederated := p.Method() == profile.MethodFederated
		keepAudience, keepConn := p.FederatedAudience, p.ServiceConnectionID
		p.SetMethod(profile.MethodFederated)
		p.FederatedTokenFile, p.FederatedTokenSource = file, source
		if wasFederated {
			p.FederatedAudience = keepAudience
			if source == profile.SourceAzurePipelines {
				p.ServiceConnectionID = keepConn
			}
		}
		setFederatedDetails(p, audience, conn)
	})
	return nil
}

// setFederatedDetails sets the audience and service connection the flags give ("" keeps
// the profile's); the default audience is written as none.
func setFederatedDetails(p *profile.Profile, audience, conn string) {
	switch audience {
	case "":
	case profile.DefaultFederatedAudience:
		p.FederatedAudience = ""
	default:
		p.FederatedAudience = audience
	}
	if conn != "" {
		p.ServiceConnectionID = conn
	}
}

// editManagedIdentity switches to a managed identity, user-assigned with id, else
// system-assigned; clientId mirrors id, as config create writes it.
func (o *editOptions) editManagedIdentity(e *editor, id string) {
	e.useNoSecret(func(p *profile.Profile) {
		p.SetMethod(profile.MethodManagedIdentity)
		p.ManagedIdentityClientID, p.ClientID = id, id
	})
}

// editMethodDetails: --federated-audience, --service-connection-id and
// --managed-identity-client-id without a method flag change the profile's own method's
// settings (checkDetails made sure they are its).
func (o *editOptions) editMethodDetails(e *editor, f *profileFlags) error {
	if audience, conn := f.federatedAudience, f.serviceConnectionID; audience != "" || conn != "" {
		if conn != "" && e.cur.FederatedTokenSource != profile.SourceAzurePipelines {
			return usageErr("--service-connection-id needs --federated-token-source %s", profile.SourceAzurePipelines)
		}
		e.apply(func(p *profile.Profile) { setFederatedDetails(p, audience, conn) })
		e.forget = true
	}
	if id := f.managedIdentityClientID; id != "" {
		e.apply(func(p *profile.Profile) { p.ManagedIdentityClientID, p.ClientID = id, id })
		e.forget = true
	}
	return nil
}

// editSettings: --scope, --authority-host, --cloud, --send-x5c and --default.
func (o *editOptions) editSettings(e *editor) error {
	f := &o.Flags
	if o.Changed["scope"] {
		s := strings.TrimSpace(f.scope)
		if s == "" {
			s = DefaultScope
		}
		if err := profile.CheckScope(s); err != nil {
			return usageErr("--scope: %v", err)
		}
		o.checkScope(s)
		e.apply(func(p *profile.Profile) { p.Scope = s })
	}
	if o.Changed["authority-host"] {
		host := f.authorityHost
		e.apply(func(p *profile.Profile) { p.AuthorityHost, p.Cloud = host, "" })
		e.forget = true
	}
	if o.Changed["cloud"] {
		cloud := f.cloud
		e.apply(func(p *profile.Profile) { p.Cloud, p.AuthorityHost = cloud, "" })
		e.forget = true
	}
	if o.Changed["send-x5c"] {
		x5c := f.sendX5C
		e.apply(func(p *profile.Profile) { p.SendX5C = x5c })
	}
	if o.Changed["application-object-id"] {
		id := f.applicationObjectID
		e.apply(func(p *profile.Profile) { p.ApplicationObjectID = id })
	}
	e.asDefault = f.makeDefault
	return nil
}

// withAuthorityFlags is p as --authority-host or --cloud will leave it, for decisions
// taken before those flags are applied.
func (o *editOptions) withAuthorityFlags(p *profile.Profile) *profile.Profile {
	q := p.Clone()
	switch {
	case o.Changed["authority-host"]:
		q.AuthorityHost, q.Cloud = o.Flags.authorityHost, ""
	case o.Changed["cloud"]:
		q.Cloud, q.AuthorityHost = o.Flags.cloud, ""
	}
	return q
}

// ---- saving ----

// saveEdit writes the profile, then its secrets (moving them when the store changed),
// then drops stale tokens. A secret that cannot be stored takes back what the edit
// changed in the profile.
func (o *editOptions) saveEdit(ctx context.Context, st *profile.Store, e *editor) error {
	oldStore, err := o.App.storeFor(e.orig)
	if err != nil {
		return err
	}
	newStore, err := o.App.storeFor(e.cur)
	if err != nil {
		return err
	}
	moved := oldStore.Name() != newStore.Name()
	values := maps.Clone(e.secrets)
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
		if unbound, err = o.unbindSecrets(ctx, e.orig, e.cur, supplied); err != nil {
			return err
		}
		e.forget = true
	} else if moved {
		if err := carrySecrets(ctx, e.cur, oldStore, values); err != nil {
			return err
		}
	}
	before, saved, err := o.writeEdit(ctx, st, e, unbound)
	if err != nil {
		return err
	}
	name := e.orig.Name
	if err := o.saveSecrets(ctx, newStore, name, values); err != nil {
		return rollbackEdit(ctx, st, name, before, saved, rebind, err)
	}
	if moved && oldStore.Name() != secret.KindEnv {
		o.clearOldStore(ctx, oldStore, name)
	}
	if e.forget {
		o.forgetTokens(e.orig)
	}
	return nil
}

// carrySecrets adds to values the secret cur needs (its certificate password or PIN, or
// its client secret) from oldStore, unless the edit supplies it: then nothing is read,
// so a profile can leave a keyring that no longer answers. The other kind is cleared in
// the new store, so that no leftover there is ever used.
func carrySecrets(ctx context.Context, cur *profile.Profile, oldStore secret.Store, values map[string]string) error {
	if !storesSecret(cur) {
		return nil // nothing to carry: useNoSecret already clears both kinds
	}
	need, other := secret.ClientSecret, secret.CertificatePassword
	if cur.Method() == profile.MethodCertificate {
		need, other = other, need
	}
	if _, ok := values[other]; !ok {
		values[other] = ""
	}
	if _, ok := values[need]; ok {
		return nil
	}
	v, err := oldStore.Get(ctx, secret.Key(cur.Name, need))
	switch {
	case errors.Is(err, secret.ErrNotFound):
	case err != nil:
		supply := "--certificate-password-stdin"
		if need == secret.ClientSecret {
			supply = "--client-secret-stdin"
		}
		return fmt.Errorf("cannot move the %s out of the %s store: %w; nothing was changed: give it anew with %s in the same command",
			secret.Words(need), oldStore.Name(), err, supply)
	default:
		values[need] = v
	}
	return nil
}

// clearOldStore deletes the profile's secrets from the store it left. A store that
// cannot (a keyring gone with its D-Bus session) leaves them there: the move stands,
// and the warning says how to remove them by hand.
func (o *editOptions) clearOldStore(ctx context.Context, oldStore secret.Store, name string) {
	var left, keys []string
	var cause error
	for _, kind := range secretKinds() {
		if err := oldStore.Delete(ctx, secret.Key(name, kind)); err != nil {
			left, keys, cause = append(left, secret.Words(kind)), append(keys, secret.Key(name, kind)), err
		}
	}
	if len(left) == 0 {
		return
	}
	msg := fmt.Sprintf("warning: the old %s of profile '%s' could not be deleted from the %s store (%v)",
		strings.Join(left, " and "), name, oldStore.Name(), cause)
	if oldStore.Name() == secret.KindKeyring {
		var cmds []string
		for _, k := range keys {
			cmds = append(cmds, fmt.Sprintf("secret-tool clear service %s username %s", secret.KeyringService, k))
		}
		msg += "; when the keyring is reachable, delete it with: " + strings.Join(cmds, "; ")
	}
	o.warn(msg)
}

// writeEdit replays the edit's changes on the profile as profiles.json holds it now,
// under the lock. It returns the profile as it was before (before) and as written (saved).
func (o *editOptions) writeEdit(ctx context.Context, st *profile.Store, e *editor, unbound map[string]bool) (before, saved *profile.Profile, err error) {
	name := e.orig.Name
	err = st.Update(ctx, func(c *profile.Config) error {
		p, err := c.Existing(name)
		if err != nil {
			return err
		}
		before = p.Clone()
		for _, fn := range e.changes {
			fn(p)
		}
		if err := o.checkUnbound(before, p, unbound); err != nil {
			return err
		}
		if e.asDefault {
			c.DefaultProfile = name
		}
		saved = p.Clone()
		return nil
	})
	return before, saved, err
}

// rollbackEdit takes back, after cause (the secret could not be stored), what the edit
// changed in the profile: the fields that differ between before and saved, where they
// still hold the saved value. Another command's change since, to those fields or others,
// stays.
func rollbackEdit(ctx context.Context, st *profile.Store, name string, before, saved *profile.Profile, rebind bool, cause error) error {
	_, err := st.UpdateProfile(ctx, name, func(p *profile.Profile) error {
		p.RevertChange(before, saved)
		return nil
	})
	switch {
	case err != nil:
		return fmt.Errorf("%w (and restoring the profile failed: %v)", cause, err)
	case rebind:
		return fmt.Errorf("%w; profile '%s' was left as it was, without the stored secret deleted above", cause, name)
	}
	return fmt.Errorf("%w; profile '%s' was left as it was", cause, name)
}
