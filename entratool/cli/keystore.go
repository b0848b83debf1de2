package cli

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/keystore"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/termtext"
)

// keyStoreHost starts key-store plugins for this process (token.Options.KeyStore). The
// certificate expiry warning is the token pipeline's, once a day (SPEC §13).
func (a *App) keyStoreHost() keystore.Host {
	h, _ := a.home()
	return keystore.Host{Home: h, Getenv: a.Getenv, Logger: a.logger, Now: a.Now}
}

// keyStoreLabel stands where a file path would for a plugin-backed profile.
func keyStoreLabel(p *profile.Profile) string {
	return fmt.Sprintf("%s key store, thumbprint %s", p.CertificateStore, keystore.NormThumbprint(p.CertificateThumbprint))
}

// loadFromKeyStore is loadTarget for a plugin-backed profile: the certificate comes
// from the plugin (started and stopped here); the key stays in the store. The PIN is
// the one given on stdin, else the profile's stored certificate password.
func (a *App) loadFromKeyStore(ctx context.Context, p *profile.Profile, pin string, pinGiven bool) (*loaded, error) {
	if !pinGiven {
		var err error
		if pin, err = a.storedSecret(ctx, p, secret.CertificatePassword); err != nil {
			return nil, fmt.Errorf("cannot read the PIN of profile '%s': %w", p.Name, err)
		}
	}
	chain, err := a.keyStoreHost().Chain(ctx, p, pin)
	if err != nil {
		return nil, err
	}
	return &loaded{leaf: chain[0], key: true}, nil
}

func (a *App) keyStoreCmd() *cobra.Command {
	cmd := groupCmd("keystore", "Inspect key-store plugins (PKCS#11 tokens and HSMs, OS certificate stores)",
		"Keys that must not leave their store are used through plugins named entratool-keystore-NAME, found in\n"+
			"$ENTRATOOL_HOME/plugins or on PATH. A profile names its store with --certificate-store NAME and its\n"+
			"certificate with --thumbprint; see docs/keystore.md.")
	cmd.AddCommand(a.keyStoreListCmd())
	return cmd
}

// keyStoreEntryJSON is one line of `keystore list -o json`.
type keyStoreEntryJSON struct {
	Subject          string    `json:"subject"`
	Issuer           string    `json:"issuer"`
	ThumbprintSHA1   string    `json:"thumbprintSha1"`
	ThumbprintSHA256 string    `json:"thumbprintSha256"`
	NotBefore        time.Time `json:"notBefore"`
	NotAfter         time.Time `json:"notAfter"`
	HasKey           bool      `json:"hasKey"`
	KeyRef           string    `json:"keyRef,omitempty"`
}

// keyStoreListOptions is `keystore list`'s command line.
type keyStoreListOptions struct {
	ProfileFlag             string // the global -p
	Store, Location, Output string
	Options                 []string
	PINStdin                bool
	Timeout                 time.Duration
}

func (a *App) keyStoreListCmd() *cobra.Command {
	o := &keyStoreListOptions{}
	cmd := &cobra.Command{
		Use:   "list --store NAME [--store-option KEY=VALUE …] [--pin-stdin] | -p PROFILE",
		Short: "List the certificates a key store holds, with their thumbprints",
		Long: "Start the plugin of a key store and list its certificates: subject, SHA-1 thumbprint (give it to\n" +
			"config create --thumbprint), expiry, and where the key is. The store and its options come from the flags,\n" +
			"or from a profile with -p. The PIN is read from stdin (--pin-stdin), else the profile's stored\n" +
			"certificate password, else prompted for on a terminal.",
		Example: "  printf '%s' \"$PIN\" | entratool keystore list --store pkcs11 \\\n" +
			"      --store-option module=/usr/lib/softhsm/libsofthsm2.so --store-option tokenLabel=entra --pin-stdin\n" +
			"  entratool keystore list -p hsm-profile -o json",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.ProfileFlag = a.profileName
			return a.runKeyStoreList(cmd.Context(), o)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&o.Store, "store", "", "key store (plugin) name, e.g. pkcs11")
	fl.StringArrayVar(&o.Options, "store-option", nil, "KEY=VALUE option of the plugin (repeatable), e.g. module=/usr/lib/softhsm/libsofthsm2.so")
	fl.StringVar(&o.Location, "store-location", "", "store location for OS certificate stores (CurrentUser, LocalMachine)")
	fl.BoolVar(&o.PINStdin, "pin-stdin", false, "read the store's PIN from stdin")
	fl.StringVarP(&o.Output, "output", "o", "table", "output: table or json")
	fl.Var(newTimeoutFlag(&o.Timeout, 30*time.Second), "timeout", "give up after this long")
	return cmd
}

func (a *App) runKeyStoreList(ctx context.Context, o *keyStoreListOptions) error {
	if err := checkTableJSON(o.Output); err != nil {
		return err
	}
	p, err := a.keyStoreListProfile(o.ProfileFlag, o.Store)
	if err != nil {
		return err
	}
	name, req, err := keyStoreListRequest(o, p)
	if err != nil {
		return err
	}
	if req.PIN, err = a.keyStorePIN(ctx, o.PINStdin, p, name); err != nil {
		return err
	}
	ctx, cancel := ctxTimeout(ctx, o.Timeout)
	defer cancel()
	entries, err := a.keyStoreHost().List(ctx, name, req)
	if err != nil {
		return err
	}
	return a.printKeyStore(name, entries, o.Output)
}

// keyStoreListProfile is the key-store profile -p names when no --store is given (nil
// with --store).
func (a *App) keyStoreListProfile(profileFlag, store string) (*profile.Profile, error) {
	switch {
	case store == "" && profileFlag == "":
		return nil, usageErr("give --store NAME (e.g. pkcs11) with its --store-option values, or -p PROFILE of a key-store profile")
	case store == "":
		p, _, err := a.loadNamedProfile(profileFlag)
		if err != nil {
			return nil, err
		}
		if p.CertificateStore == "" {
			return nil, usageErr("profile '%s' keeps its certificate in a file, not a key store: give --store NAME", p.Name)
		}
		return p, nil
	case !keystore.ValidName(store):
		return nil, usageErr("--store %q: a key store name is lower-case letters, digits, '-' and '_' (the plugin is %sNAME)", store, keystore.Prefix)
	}
	return nil, nil
}

// keyStoreListRequest is the store to start and what to ask it: the flags', or the
// profile's with the flags on top.
func keyStoreListRequest(o *keyStoreListOptions, p *profile.Profile) (string, keystore.Request, error) {
	opts, err := (&profileFlags{storeOptions: o.Options}).storeOptionMap()
	if err != nil {
		return "", keystore.Request{}, err
	}
	if p == nil {
		return o.Store, keystore.Request{Location: o.Location, Options: opts}, nil
	}
	req := keystore.RequestFor(p, "")
	if o.Location != "" {
		req.Location = o.Location
	}
	for k, v := range opts {
		if req.Options == nil {
			req.Options = map[string]string{}
		}
		req.Options[k] = v
	}
	return p.CertificateStore, req, nil
}

// keyStorePIN is the PIN from stdin, else the profile's stored secret, else a prompt on
// a terminal, else none.
func (a *App) keyStorePIN(ctx context.Context, fromStdin bool, p *profile.Profile, name string) (string, error) {
	switch {
	case fromStdin:
		pin, err := readSecretStdin(a.In)
		if err != nil {
			return "", fmt.Errorf("read the PIN from stdin: %w", err)
		}
		return pin, nil
	case p != nil:
		pin, err := a.storedSecret(ctx, p, secret.CertificatePassword)
		if err != nil {
			return "", fmt.Errorf("cannot read the PIN of profile '%s': %w", p.Name, err)
		}
		return pin, nil
	case a.InTTY:
		return a.promptSecret(fmt.Sprintf("PIN for the %s key store (empty if none)", name))
	}
	return "", nil
}

func (a *App) printKeyStore(name string, entries []keystore.Entry, output string) error {
	if output == "json" {
		out := make([]keyStoreEntryJSON, 0, len(entries))
		for _, e := range entries {
			out = append(out, keyStoreEntryJSON{Subject: e.Subject, Issuer: e.Certificate.Issuer.String(), ThumbprintSHA1: e.SHA1, ThumbprintSHA256: e.SHA256,
				NotBefore: e.Certificate.NotBefore.UTC(), NotAfter: e.NotAfter.UTC(), HasKey: e.HasKey, KeyRef: e.KeyRef})
		}
		return writeJSON(a.Out, out)
	}
	if len(entries) == 0 {
		fmt.Fprintf(a.Out, "The %s key store holds no certificate with a private key.\n", name)
		return nil
	}
	now := a.Now()
	tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SUBJECT\tTHUMBPRINT (SHA-1)\tNOT AFTER\tKEY")
	for _, e := range entries {
		until := e.NotAfter.UTC().Format(time.DateOnly)
		if err := cert.CheckValidity(e.Certificate, now); err != nil {
			until += " (expired)"
			if now.Before(e.Certificate.NotBefore) {
				until = e.NotAfter.UTC().Format(time.DateOnly) + " (not yet valid)"
			}
		}
		key := "none"
		if e.HasKey {
			key = "yes"
			if e.KeyRef != "" {
				key = e.KeyRef
			}
		}
		// Subjects and key references come from the store (a plugin, a token): escaped.
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", termtext.Escape(e.Subject), e.SHA1, until, termtext.Escape(key))
	}
	return tw.Flush()
}
