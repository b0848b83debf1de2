package cli

import (
	"context"
	"fmt"
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
			"  Profile name, Client ID, Tenant ID, Authentication method (1. Client Secret, 2. Certificate),\n" +
			"  Certificate path and Certificate password (or Client secret), Scope.\n\n" +
			"The certificate is opened with its password before anything is saved. The password or secret goes to\n" +
			"the secret store (keyring by default; file; or env, which stores nothing), never into profiles.json.",
		Example: "  entratool config create\n" +
			"  entratool config create --name production-service --client-id 12345678-1234-1234-1234-123456789abc \\\n" +
			"      --tenant-id 87654321-4321-4321-4321-cba987654321 --certificate ~/.entratool/certs/certificate.pfx \\\n" +
			"      --certificate-password-stdin < password.txt",
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
	st, cfg, err := opts.App.loadConfig()
	if err != nil {
		return err
	}
	p, err := opts.newProfile(cfg)
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
// flags' other settings.
func (o *createOptions) newProfile(cfg *profile.Config) (*profile.Profile, error) {
	f := &o.Flags
	exists := func(n string) error {
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
	useCert, err := o.authMethod()
	if err != nil {
		return nil, "", "", err
	}
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
		p.UseCertificate, p.CertificatePath = true, path
		return store, secret.CertificatePassword, pw, nil
	default:
		s, err := o.askClientSecret(f.clientSecretStdin, store)
		if err != nil {
			return nil, "", "", err
		}
		return store, secret.ClientSecret, s, nil
	}
}

// authMethod decides certificate (true) or client secret: from the flags, else the
// seed's menu on a terminal.
func (o *createOptions) authMethod() (bool, error) {
	f := &o.Flags
	switch {
	case f.certificate != "" || f.certPasswordStdin || f.certStore != "":
		return true, nil
	case f.clientSecretStdin:
		return false, nil
	case !o.IO.CanPrompt:
		return false, usageErr("missing --certificate PATH or --client-secret-stdin (stdin is not a terminal, so entratool cannot ask for the authentication method)")
	}
	for {
		fmt.Fprint(o.IO.Err, "Authentication method:\n1. Client Secret\n2. Certificate\n")
		s, err := o.IO.prompt("Select")
		if err != nil {
			return false, err
		}
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "1", "client secret", "secret":
			return false, nil
		case "2", "certificate", "cert":
			return true, nil
		}
		o.warn("  Answer 1 or 2.")
	}
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
