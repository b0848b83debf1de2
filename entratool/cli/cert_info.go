package cli

import (
	"context"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/termtext"
)

// certInfoJSON is `cert info -o json`.
type certInfoJSON struct {
	Path    string `json:"path"`
	Profile string `json:"profile,omitempty"`
	cert.Info
	Expired       bool `json:"expired"`
	HasPrivateKey bool `json:"hasPrivateKey"`
}

// certInfoOptions are the inputs of cert info.
type certInfoOptions struct {
	certReadOptions
	Output string // -o: table or json
}

func newCertInfoCmd(a *App, runF func(context.Context, *certInfoOptions) error) *cobra.Command {
	opts := &certInfoOptions{}
	cmd := &cobra.Command{
		Use:   "info [PATH | -p NAME]",
		Short: "Show a certificate: subject, issuer, serial, validity, thumbprints, key",
		Long: "Show a certificate's subject, issuer, serial, validity and days left, SHA-1 thumbprint (upper-case hex, as\n" +
			"the Azure portal shows it), SHA-256 thumbprint, and key type and size. PATH may be a PFX/P12, a PEM, or\n" +
			"a public .cer. With -p the profile's certificate is read with its stored password.",
		Example: "  entratool cert info -p production-service\n" +
			"  entratool cert info certificate.pfx --password-stdin < pw.txt\n" +
			"  entratool cert info certificate.cer -o json",
		Args: maxArgs(1),
		RunE: runE(a, opts, &opts.configEnv, opts.fill(a), runF, runCertInfo),
	}
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "table", "output: table or json")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the certificate password from stdin")
	return cmd
}

// runCertInfo prints the certificate's details as a table or JSON.
func runCertInfo(ctx context.Context, opts *certInfoOptions) error {
	if err := checkTableJSON(opts.Output); err != nil {
		return err
	}
	t, l, err := opts.open(ctx)
	if err != nil {
		return err
	}
	now := opts.App.Now()
	out := certInfoJSON{Path: t.path, Info: cert.Inspect(l.leaf, now), Expired: now.After(l.leaf.NotAfter), HasPrivateKey: l.key}
	if t.profile != nil {
		out.Profile = t.profile.Name
	}
	if opts.Output == "json" {
		return writeJSON(opts.IO.Out, out)
	}
	return printCertInfo(opts.IO.Out, out, now)
}

func printCertInfo(w io.Writer, i certInfoJSON, now time.Time) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	// Every field escaped: subject and issuer are whatever the certificate's maker wrote.
	row := func(k, v string) { fmt.Fprintf(tw, "%s:\t%s\n", k, termtext.Escape(v)) }
	if i.Profile != "" {
		row("Profile", i.Profile)
	}
	row("File", i.Path)
	row("Subject", i.Subject)
	row("Issuer", i.Issuer)
	row("Serial", i.SerialNumber)
	row("Not before", i.NotBefore.Format("2006-01-02 15:04:05 UTC"))
	row("Not after", i.NotAfter.Format("2006-01-02 15:04:05 UTC"))
	switch {
	case i.Expired:
		row("Days left", fmt.Sprintf("EXPIRED %d days ago", -i.DaysLeft))
	case now.Before(i.NotBefore):
		row("Days left", fmt.Sprintf("%d (NOT YET VALID)", i.DaysLeft))
	default:
		row("Days left", fmt.Sprint(i.DaysLeft))
	}
	row("Thumbprint (SHA-1)", i.ThumbprintSHA1)
	row("Thumbprint (SHA-256)", i.ThumbprintSHA256)
	key := fmt.Sprintf("%s %d", i.KeyType, i.KeySize)
	if !i.HasPrivateKey {
		key += " (public certificate only, no private key)"
	}
	row("Key", key)
	return tw.Flush()
}
