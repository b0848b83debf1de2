package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// createOptions are the inputs of config create.
type createOptions struct {
	configEnv
	ProfileFlag string // the global -p: `config create -p NAME` names the new profile
	Flags       profileFlags
}

func newConfigCreateCmd(a *App, runF func(context.Context, *createOptions) error) *cobra.Command {
	opts := &createOptions{}
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create a profile (prompts for what the flags do not give)",
		Long: "Create a profile. On a terminal it asks for what the flags do not give:\n\n" +
			"  Profile name, Client ID, Tenant ID, Authentication method (1. Client Secret, 2. Certificate,\n" +
			"  3. Federated token, 4. Managed identity), Certificate path and Certificate password (or Client\n" +
			"  secret, or the token file or source, or the managed identity's client ID), Scope.\n\n" +
			"The certificate is opened with its password before anything is saved. The password or secret goes to\n" +
			"the secret store (keyring by default; file; or env, which stores nothing), never into profiles.json.\n" +
			"A federated token (--federated-token-file, --federated-token-source) or a managed identity\n" +
			"(--managed-identity) stores no secret. A managed identity needs neither --client-id nor --tenant-id;\n" +
			"a user-assigned one is named by --managed-identity-client-id, which becomes the profile's clientId.\n" +
			"The name env is reserved for the profile built from the AZURE_* variables.",
		Example: "  entratool config create\n" +
			"  entratool config create --name production-service --client-id 12345678-1234-1234-1234-123456789abc \\\n" +
			"      --tenant-id 87654321-4321-4321-4321-cba987654321 --certificate ~/.entratool/certs/certificate.pfx \\\n" +
			"      --certificate-password-stdin < password.txt\n" +
			"  entratool config create --name ci --client-id … --tenant-id … --federated-token-source github-actions\n" +
			"  entratool config create --name vm --managed-identity",
		Args: noArgs,
		RunE: runE(a, opts, &opts.configEnv, func(_ *cobra.Command, _ []string) {
			opts.ProfileFlag = a.profileName
			// stdin carries the secret, so it cannot also answer prompts.
			opts.IO.CanPrompt = opts.Flags.mayPrompt(a.InTTY)
		}, runF, runConfigCreate),
	}
	opts.Flags.register(cmd, true)
	return cmd
}

// runConfigCreate asks for what the flags do not give, checks it all (the certificate is
// opened), then saves the profile and its secret.
func runConfigCreate(ctx context.Context, opts *createOptions) error {
	f := &opts.Flags
	if err := f.check(); err != nil {
		return err
	}
	if f.certStore == "" && f.keyStoreDetails() {
		return usageErr("--thumbprint, --certificate-store-location and --store-option need --certificate-store NAME")
	}
	// Without a method flag the menu may still choose one; credential checks again.
	if m := f.method(); m != "" || !opts.IO.CanPrompt {
		if err := f.checkDetails(m); err != nil {
			return err
		}
	}
	st, cfg, err := opts.App.loadConfig()
	if err != nil {
		return err
	}
	p, err := opts.newProfile(cfg, f.method())
	if err != nil {
		return err
	}
	store, kind, value, err := opts.credential(ctx, p)
	if err != nil {
		return err
	}
	if err := opts.scope(p); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return usageErr("%v", err)
	}
	if err := opts.save(ctx, st, p, store, kind, value); err != nil {
		return err
	}
	fmt.Fprintf(opts.IO.Out, "✓ Profile '%s' created successfully\n", p.Name)
	return nil
}

// newProfile gets the name, client ID and tenant ID, and starts the profile with the
// flags' other settings. A managed identity chosen by --managed-identity (method) is
// asked for neither ID: its client ID is --managed-identity-client-id's, and its tenant
// is optional (for display and the az shim).
func (o *createOptions) newProfile(cfg *profile.Config, method string) (*profile.Profile, error) {
	f := &o.Flags
	exists := func(n string) error {
		if n == profile.EnvName {
			return usageErr("%s: choose another name", envReserved)
		}
		if cfg.Get(n) != nil {
			return fmt.Errorf("profile '%s' already exists: change it with 'entratool config edit -p %s', or choose another name", n, n)
		}
		return nil
	}
	given := f.name
	if given == "" {
		given = o.ProfileFlag
	}
	if given != "" {
		if err := validateName(given); err != nil {
			return nil, usageErr("--name: %v", err)
		}
		if err := exists(given); err != nil {
			return nil, err
		}
	}
	name, err := o.IO.ask(given, "name", "Profile name", func(s string) error {
		if err := validateName(s); err != nil {
			return err
		}
		return exists(s)
	})
	if err != nil {
		return nil, err
	}
	if method == profile.MethodManagedIdentity {
		if f.tenantID != "" {
			if err := checkTenantID(f.tenantID); err != nil {
				return nil, usageErr("--tenant-id: %v", err)
			}
		}
		return &profile.Profile{Name: name, TenantID: f.tenantID, AuthorityHost: f.authorityHost, Cloud: f.cloud}, nil
	}
	clientID, err := o.IO.ask(f.clientID, "client-id", "Client ID", checkClientID)
	if err != nil {
		return nil, err
	}
	tenantID, err := o.IO.ask(f.tenantID, "tenant-id", "Tenant ID", checkTenantID)
	if err != nil {
		return nil, err
	}
	return &profile.Profile{Name: name, ClientID: clientID, TenantID: tenantID, SecretStore: f.secretStore,
		AuthorityHost: f.authorityHost, Cloud: f.cloud, SendX5C: f.sendX5C, ApplicationObjectID: f.applicationObjectID}, nil
}

// credential decides how p signs in and gets what that needs: p's certificate fields
// are set, and the secret to store is returned with its kind and store.
func (o *createOptions) credential(ctx context.Context, p *profile.Profile) (store secret.Store, kind, value string, err error) {
	f := &o.Flags
	m, err := o.authMethod()
	if err != nil {
		return nil, "", "", err
	}
	if err := f.checkDetails(m); err != nil {
		return nil, "", "", err
	}
	// These store no secret: no store is opened, so an unreachable keyring is no matter.
	switch m {
	case profile.MethodFederated:
		return nil, "", "", o.askFederated(p)
	case profile.MethodManagedIdentity:
		return nil, "", "", o.askManagedIdentity(p)
	}
	useCert := m == profile.MethodCertificate
	kind = secret.ClientSecret
	if useCert {
		kind = secret.CertificatePassword
	}
	// Only a secret that will be stored needs a store that works: one is typed at a
	// prompt, or given on stdin.
	if o.IO.CanPrompt || f.certPasswordStdin || f.clientSecretStdin {
		chosen := f.secretStore != "" || o.App.Getenv("ENTRATOOL_SECRET_STORE") != ""
		use, err := o.storeUsable(ctx, p, kind, chosen)
		if err != nil {
			return nil, "", "", err
		}
		if use != "" {
			p.SecretStore = use
		}
	}
	if store, err = o.App.storeFor(p); err != nil {
		return nil, "", "", err
	}
	switch {
	case useCert && f.certStore != "":
		if err := o.askKeyStore(f, p); err != nil {
			return nil, "", "", err
		}
		pin, err := o.askPIN(f.certPasswordStdin)
		if err != nil {
			return nil, "", "", err
		}
		return store, secret.CertificatePassword, pin, nil
	case useCert:
		path, pw, err := o.askCertificate(f.certificate, f.certPasswordStdin, store, "")
		if err != nil {
			return nil, "", "", err
		}
		p.SetMethod(profile.MethodCertificate)
		p.CertificatePath = path
		return store, secret.CertificatePassword, pw, nil
	default:
		s, err := o.askClientSecret(f.clientSecretStdin, store)
		if err != nil {
			return nil, "", "", err
		}
		return store, secret.ClientSecret, s, nil
	}
}

// authMethod decides the authentication method: from the flags, else the seed's menu
// (with SPEC §14's two after the seed's two) on a terminal.
func (o *createOptions) authMethod() (string, error) {
	f := &o.Flags
	if m := f.method(); m != "" {
		return m, nil
	}
	switch {
	case f.certPasswordStdin:
		return profile.MethodCertificate, nil
	case !o.IO.CanPrompt:
		return "", usageErr("missing --certificate PATH or --client-secret-stdin (or --federated-token-file/--federated-token-source, or --managed-identity): stdin is not a terminal, so entratool cannot ask for the authentication method")
	}
	for {
		fmt.Fprint(o.IO.Err, "Authentication method:\n1. Client Secret\n2. Certificate\n3. Federated token\n4. Managed identity\n")
		s, err := o.IO.prompt("Select")
		if err != nil {
			return "", err
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "1", "client secret", "secret":
			return profile.MethodSecret, nil
		case "2", "certificate", "cert":
			return profile.MethodCertificate, nil
		case "3", "federated token", "federated":
			return profile.MethodFederated, nil
		case "4", "managed identity", "managedidentity", "mi":
			return profile.MethodManagedIdentity, nil
		}
		o.warn("  Answer 1 to 4.")
	}
}

// askFederated makes p a federated profile: from the flags, or, when the menu chose it,
// from the answers to its prompts. A token file need not exist yet (a CI system or
// AKS mounts it when the job runs): it is re-read at every token request.
func (o *createOptions) askFederated(p *profile.Profile) error {
	f := &o.Flags
	file, source, audience, conn := f.federatedTokenFile, f.federatedTokenSource, f.federatedAudience, f.serviceConnectionID
	if file == "" && source == "" {
		s, err := o.IO.ask("", "federated-token-file", "Federated token file (or "+strings.Join(federatedSources, ", ")+")", func(s string) error {
			if strings.TrimSpace(s) == "" {
				return errors.New("give a file path, " + strings.Join(federatedSources, " or "))
			}
			return nil
		})
		if err != nil {
			return err
		}
		if s = strings.TrimSpace(s); slices.Contains(federatedSources, s) {
			source = s
		} else {
			file = s
		}
		if source == profile.SourceAzurePipelines && conn == "" {
			if conn, err = o.IO.prompt("Service connection ID (empty for $AZURESUBSCRIPTION_SERVICE_CONNECTION_ID)"); err != nil {
				return err
			}
		}
		if audience == "" {
			if audience, err = o.IO.prompt("Audience (empty for " + profile.DefaultFederatedAudience + ")"); err != nil {
				return err
			}
		}
	}
	if source == profile.SourceGitHubActions && strings.TrimSpace(conn) != "" {
		return usageErr("--service-connection-id needs --federated-token-source %s", profile.SourceAzurePipelines)
	}
	p.SetMethod(profile.MethodFederated)
	p.FederatedTokenSource, p.ServiceConnectionID = source, strings.TrimSpace(conn)
	if a := strings.TrimSpace(audience); a != profile.DefaultFederatedAudience {
		p.FederatedAudience = a
	}
	if file != "" {
		abs, err := filepath.Abs(file)
		if err != nil {
			return fmt.Errorf("federated token file %q: %w", file, err)
		}
		p.FederatedTokenFile = abs
		o.checkTokenFile(abs)
	}
	return nil
}

// checkTokenFile warns about a federated token file that is not there (yet).
func (e configEnv) checkTokenFile(path string) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		e.warn(fmt.Sprintf("warning: federated token file %s does not exist yet: it must be there when a token is requested", path))
	} else if err != nil {
		e.warn(fmt.Sprintf("warning: federated token file %s: %v", path, err))
	}
}

// askManagedIdentity makes p a managed-identity profile, user-assigned when a client ID
// is given (--managed-identity-client-id, or the answer to the prompt when the menu
// chose it). clientId mirrors it: it is the appid of the identity's tokens, what
// get-token -o json, env and the az shim report; for a system-assigned identity it is
// empty (the identity endpoint knows whose it is).
func (o *createOptions) askManagedIdentity(p *profile.Profile) error {
	id := o.Flags.managedIdentityClientID
	if !o.Flags.managedIdentity {
		for {
			s, err := o.IO.prompt("Managed identity client ID (empty for system-assigned)")
			if err != nil {
				return err
			}
			if id = strings.TrimSpace(s); id == "" || profile.ValidGUID(id) {
				break
			}
			o.warn(fmt.Sprintf("  %q is not a GUID: give the user-assigned identity's Client ID, or nothing for the system-assigned one", id))
		}
	}
	p.SetMethod(profile.MethodManagedIdentity)
	p.ManagedIdentityClientID, p.ClientID = id, id
	return nil
}

// scope sets p's scope: the flag, else the answer to a prompt, else DefaultScope. A bare
// resource URI (no /.default) is refused: Entra would answer AADSTS70011 at first use.
func (o *createOptions) scope(p *profile.Profile) error {
	p.Scope = strings.TrimSpace(o.Flags.scope)
	if p.Scope != "" {
		if err := profile.CheckScope(p.Scope); err != nil {
			return usageErr("--scope: %v", err)
		}
	} else if o.IO.CanPrompt {
		for {
			s, err := o.IO.prompt("Scope")
			if err != nil {
				return err
			}
			p.Scope = strings.TrimSpace(s)
			if err := profile.CheckScope(p.Scope); err != nil {
				o.warn("  " + err.Error())
				continue
			}
			break
		}
	}
	if p.Scope == "" {
		p.Scope = DefaultScope
	}
	o.checkScope(p.Scope)
	return nil
}

// save adds p to profiles.json, then stores its secret of kind; a secret that cannot be
// stored takes the profile back out.
func (o *createOptions) save(ctx context.Context, st *profile.Store, p *profile.Profile, store secret.Store, kind, value string) error {
	name := p.Name
	err := st.Update(ctx, func(c *profile.Config) error {
		if c.Get(name) != nil {
			return fmt.Errorf("profile '%s' already exists: change it with 'entratool config edit -p %s'", name, name)
		}
		if len(c.Names()) == 0 || o.Flags.makeDefault {
			c.DefaultProfile = name
		}
		c.Put(p)
		return nil
	})
	if err != nil {
		return err
	}
	if store == nil {
		return nil // a federated or managed-identity profile: no secret
	}
	other := secret.ClientSecret
	if kind == secret.ClientSecret {
		other = secret.CertificatePassword
	}
	// other → "": a leftover of an earlier profile of the same name is removed.
	if err := o.saveSecrets(ctx, store, name, map[string]string{kind: value, other: ""}); err != nil {
		// Without its secret the profile would fail at its first use: take it back.
		if rerr := st.Update(ctx, func(c *profile.Config) error { c.Delete(name); return nil }); rerr != nil {
			return fmt.Errorf("%w (and removing the half-made profile failed: %v)", err, rerr)
		}
		return fmt.Errorf("%w; profile '%s' was not created", err, name)
	}
	return nil
}
