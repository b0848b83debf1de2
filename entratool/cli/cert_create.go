package cli

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/termtext"
)

// certCreateOptions are the inputs of cert create.
type certCreateOptions struct {
	configEnv
	Subject       string // --subject; prompted for when empty and the run may prompt
	Out           string // --out, the PFX; the .cer goes beside it
	Days          int    // --days
	KeySize       int    // --key-size
	PasswordStdin bool   // --password-stdin
	Force         bool   // --force
}

func newCertCreateCmd(a *App, runF func(context.Context, *certCreateOptions) error) *cobra.Command {
	opts := &certCreateOptions{}
	cmd := &cobra.Command{
		Use:   "create --subject CN=NAME --out FILE.pfx",
		Short: "Create a self-signed certificate: FILE.pfx (with key) and FILE.cer (to upload)",
		Long: "Create a self-signed RSA certificate for client authentication. FILE.pfx holds the certificate and its\n" +
			"private key (AES-256, mode 0600); FILE.cer beside it is the public certificate (PEM) to upload in the\n" +
			"Azure portal: App registrations → your app → Certificates & secrets → Upload certificate.",
		Example: "  entratool cert create --subject CN=MyApp --out ~/.entratool/certs/certificate.pfx\n" +
			"  printf '%s' \"$CERT_PASSWORD\" | entratool cert create --subject CN=MyApp --days 365 --out app.pfx --password-stdin",
		Args: noArgs,
		RunE: runE(a, opts, &opts.configEnv, func(_ *cobra.Command, _ []string) {
			// stdin carries the password: nothing else may be asked for on it.
			opts.IO.CanPrompt = opts.IO.CanPrompt && !opts.PasswordStdin
		}, runF, runCertCreate),
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Subject, "subject", "", "subject, e.g. CN=MyApp or CN=MyApp,O=Contoso")
	fl.IntVar(&opts.Days, "days", 730, "validity in days")
	fl.IntVar(&opts.KeySize, "key-size", 2048, "RSA key size: 2048, 3072 or 4096")
	fl.StringVar(&opts.Out, "out", "", "PFX file to write; the public certificate goes beside it as .cer")
	fl.BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the PFX password from stdin")
	fl.BoolVar(&opts.Force, "force", false, "overwrite existing files")
	return cmd
}

// runCertCreate checks the flags, asks for what they do not give, then writes FILE.pfx
// (read back before it is reported) and FILE.cer.
func runCertCreate(ctx context.Context, opts *certCreateOptions) error {
	if err := opts.checkSizes(); err != nil {
		return err
	}
	subject, out, err := opts.subjectAndOut()
	if err != nil {
		return err
	}
	pfxPath, cer, err := opts.paths(out)
	if err != nil {
		return err
	}
	if err := opts.App.ensureCertDir(filepath.Dir(pfxPath)); err != nil {
		return err
	}
	pw, err := opts.newPassword()
	if err != nil {
		return err
	}
	leaf, err := opts.write(ctx, subject, pfxPath, cer, pw)
	if err != nil {
		return err
	}
	opts.printCreated(leaf, pfxPath, cer)
	return nil
}

// checkSizes checks --days and --key-size.
func (o *certCreateOptions) checkSizes() error {
	if o.Days < 1 || o.Days > 36500 {
		return usageErr("--days %d: give 1 to 36500", o.Days)
	}
	switch o.KeySize {
	case 2048, 3072, 4096:
		return nil
	}
	return usageErr("--key-size %d: use 2048, 3072 or 4096", o.KeySize)
}

// subjectAndOut are --subject (checked) and --out, prompted for when missing.
func (o *certCreateOptions) subjectAndOut() (subject, out string, err error) {
	if subject, err = o.IO.need(o.Subject, "subject", "Subject (e.g. CN=MyApp)"); err != nil {
		return "", "", err
	}
	if _, err := cert.ParseSubject(subject); err != nil {
		return "", "", usageErr("--subject: %v", err)
	}
	if out, err = o.IO.need(o.Out, "out", "Output file (.pfx)"); err != nil {
		return "", "", err
	}
	return subject, out, nil
}

// paths are the absolute PFX and .cer of out; neither may exist without --force.
func (o *certCreateOptions) paths(out string) (pfxPath, cer string, err error) {
	if pfxPath, err = absPath(out); err != nil {
		return "", "", err
	}
	if strings.EqualFold(filepath.Ext(pfxPath), ".cer") {
		return "", "", usageErr("--out %s: give the .pfx name; the .cer is written beside it", out)
	}
	cer = cerPath(pfxPath)
	if !o.Force {
		for _, p := range []string{pfxPath, cer} {
			if _, err := os.Lstat(p); err == nil {
				return "", "", fmt.Errorf("%s already exists: pass --force to overwrite it, or choose another --out", p)
			}
		}
	}
	return pfxPath, cer, nil
}

// cerPath is the .cer beside a .pfx: same directory and base name.
func cerPath(pfx string) string {
	return strings.TrimSuffix(pfx, filepath.Ext(pfx)) + ".cer"
}

// ensureCertDir makes $ENTRATOOL_HOME/certs 0700 when that is where the file goes; any
// other directory must exist already (a typo should not create a tree).
func (a *App) ensureCertDir(dir string) error {
	if h, err := a.home(); err == nil && dir == filepath.Join(h, "certs") {
		// The home first: MkdirAll would otherwise make it without the trust check.
		return fsutil.EnsurePrivateDirs(h, dir)
	}
	fi, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("directory %s does not exist: create it first (mkdir -p -m 700 %s)", dir, dir)
		}
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	return nil
}

// newPassword gets the password the new PFX is encrypted with: stdin, or asked twice
// when the run may prompt. An empty password is refused: the PFX holds the private key.
func (o *certCreateOptions) newPassword() (string, error) {
	if o.PasswordStdin {
		pw, err := readSecretStdin(o.IO.In)
		if err != nil {
			return "", fmt.Errorf("read the password from stdin: %w", err)
		}
		if pw == "" {
			return "", usageErr("--password-stdin: stdin was empty; the PFX holds the private key and needs a password")
		}
		return pw, nil
	}
	if !o.IO.CanPrompt {
		return "", usageErr("missing --password-stdin (stdin is not a terminal, so entratool cannot prompt for the certificate password)")
	}
	for try := 1; ; try++ {
		pw, err := o.IO.promptSecret("Certificate password")
		if err != nil {
			return "", err
		}
		if pw == "" {
			o.warn("  The PFX holds the private key: give it a password.")
			continue
		}
		again, err := o.IO.promptSecret("Confirm certificate password")
		if err != nil {
			return "", err
		}
		if again == pw {
			return pw, nil
		}
		if try == 3 {
			return "", errors.New("the passwords did not match; nothing was written")
		}
		o.warn("  The passwords did not match; try again.")
	}
}

// write creates the certificate and writes the PFX, reads it back as token requests
// will (a file that cannot be used is never handed out), then writes the .cer.
func (o *certCreateOptions) write(ctx context.Context, subject, pfxPath, cer, pw string) (*x509.Certificate, error) {
	c, err := cert.Create(cert.CreateOptions{Subject: subject, Days: o.Days, KeySize: o.KeySize, Now: o.App.Now()})
	if err != nil {
		return nil, err
	}
	if err := cert.WritePFX(pfxPath, c, pw); err != nil {
		return nil, err
	}
	if _, err := cert.Load(ctx, pfxPath, pw); err != nil {
		return nil, fmt.Errorf("the PFX just written does not read back: %w", err)
	}
	if err := fsutil.WriteFileAtomic(cer, cert.EncodeCER(c.Leaf, false), 0o644); err != nil {
		return nil, err
	}
	return c.Leaf, nil
}

// printCreated reports the new certificate and what to do next.
func (o *certCreateOptions) printCreated(leaf *x509.Certificate, pfxPath, cer string) {
	out := o.IO.Out
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "✓ Certificate created\n")
	fmt.Fprintf(tw, "  Subject:\t%s\n", termtext.Escape(leaf.Subject.String()))
	fmt.Fprintf(tw, "  Valid until:\t%s\n", leaf.NotAfter.UTC().Format("2006-01-02 15:04:05 UTC"))
	fmt.Fprintf(tw, "  Thumbprint (SHA-1):\t%s\n", cert.ThumbprintSHA1(leaf))
	fmt.Fprintf(tw, "  Thumbprint (SHA-256):\t%s\n", cert.ThumbprintSHA256(leaf))
	fmt.Fprintf(tw, "  Certificate and key:\t%s\n", pfxPath)
	fmt.Fprintf(tw, "  Public certificate:\t%s\n", cer)
	tw.Flush()
	fmt.Fprintf(out, "Next: upload %s to the app registration (Certificates & secrets → Upload certificate), then:\n", cer)
	fmt.Fprintf(out, "  entratool config create --certificate %s\n", pfxPath)
}
