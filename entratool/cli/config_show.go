package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/termtext"
)

// showOptions are the inputs of config show.
type showOptions struct {
	configEnv
	ProfileFlag string   // the global -p
	Args        []string // [NAME]
	Output      string   // table or json
}

// certStatus is what show reports about a profile's certificate: its details, or why
// it could not be opened.
type certStatus struct {
	*cert.Info
	Error string `json:"error,omitempty"`
}

type showJSON struct {
	Profile *profile.Profile `json:"profile"`
	Default bool             `json:"default"`
	// FromEnvironment: the env profile, built from the AZURE_* variables.
	FromEnvironment bool             `json:"fromEnvironment,omitempty"`
	SecretStore     string           `json:"secretStore,omitempty"` // none for federated and managed identity
	Certificate     *certStatus      `json:"certificate,omitempty"`
	Federated       *federatedStatus `json:"federated,omitempty"`
	ManagedIdentity *miStatus        `json:"managedIdentity,omitempty"`
	now             time.Time
}

func newConfigShowCmd(a *App, runF func(context.Context, *showOptions) error) *cobra.Command {
	opts := &showOptions{}
	cmd := &cobra.Command{
		Use:   "show [-p NAME]",
		Short: "Show a profile, with its certificate's thumbprint and expiry",
		Args:  maxArgs(1),
		RunE:  runE(a, opts, &opts.configEnv, func(_ *cobra.Command, args []string) { opts.ProfileFlag, opts.Args = a.profileName, args }, runF, runConfigShow),
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output: table or json")
	return cmd
}

func runConfigShow(ctx context.Context, opts *showOptions) error {
	if err := checkTableJSON(opts.Output); err != nil {
		return err
	}
	_, cfg, err := opts.App.loadConfig()
	if err != nil {
		return err
	}
	p, err := resolveProfile(cfg, opts.ProfileFlag, opts.Args, opts.App.Getenv)
	if err != nil {
		return err
	}
	now := opts.App.Now()
	out := showJSON{Profile: p, Default: cfg.DefaultProfile == p.Name && !p.FromEnvironment, FromEnvironment: p.FromEnvironment, now: now}
	if storesSecret(p) {
		out.SecretStore = opts.App.secretStoreLabel(p)
	}
	switch p.Method() {
	case profile.MethodCertificate:
		if p.CertificatePath != "" {
			out.Certificate = opts.certStatus(ctx, p)
		}
	case profile.MethodFederated:
		out.Federated = newFederatedStatus(p, opts.App.Getenv, now)
	case profile.MethodManagedIdentity:
		out.ManagedIdentity = newMIStatus(p, opts.App.Getenv)
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, out)
	}
	return printShow(opts.IO.Out, out)
}

func (o *showOptions) certStatus(ctx context.Context, p *profile.Profile) *certStatus {
	pw, err := o.App.storedSecret(ctx, p, secret.CertificatePassword)
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
	info := cert.Inspect(c.Leaf, o.App.Now())
	return &certStatus{Info: &info}
}

func printShow(w io.Writer, s showJSON) error {
	p := s.Profile
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, v string) {
		if v != "" {
			// Escaped: the certificate's subject is whatever its maker wrote.
			fmt.Fprintf(tw, "%s:\t%s\n", k, termtext.Escape(v))
		}
	}
	name := p.Name
	switch {
	case s.FromEnvironment:
		name += " (from the environment)"
	case s.Default:
		name += " (default)"
	}
	row("Name", name)
	row("Client ID", p.ClientID)
	row("Tenant ID", p.TenantID)
	row("Authentication", p.MethodLabel())
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
	if f := s.Federated; f != nil {
		row("Audience", f.Audience)
		if t := f.TokenFile; t != nil {
			row("Token file", tokenFileText(*t, s.now))
		}
		if p.FederatedTokenSource == profile.SourceAzurePipelines {
			conn := f.ServiceConnection
			if p.ServiceConnectionID == "" {
				conn = orNone(conn) + " (from $" + envAzDOServiceConnID + ")"
			}
			row("Service connection", conn)
		}
	}
	if m := s.ManagedIdentity; m != nil {
		src := m.Source + " (" + m.Detected + ")"
		if m.Refused != "" {
			src += " — refuses a user-assigned identity: " + m.Refused
		}
		row("Identity source", src)
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
	row("Application object ID", p.ApplicationObjectID)
	row("Key credential ID", p.KeyCredentialID)
	row("Previous certificate", p.PreviousCertificatePath)
	return tw.Flush()
}

// orNone is s, or "none" when it is empty.
func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
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
