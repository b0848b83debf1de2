package cli

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/termtext"
)

func (a *App) certCmd() *cobra.Command {
	cmd := groupCmd("cert", "Create, inspect and check X.509 certificates",
		"Create self-signed certificates for app registrations, show their details and thumbprints, check\n"+
			"their expiry (for cron and monitoring), and export the public certificate to upload.")
	cmd.AddCommand(a.certCreateCmd(), a.certInfoCmd(), a.certCheckCmd(), a.certExportPublicCmd())
	return cmd
}

// ---- cert create ----

func (a *App) certCreateCmd() *cobra.Command {
	var (
		subject, out   string
		days, keySize  int
		pwStdin, force bool
	)
	cmd := &cobra.Command{
		Use:   "create --subject CN=NAME --out FILE.pfx",
		Short: "Create a self-signed certificate: FILE.pfx (with key) and FILE.cer (to upload)",
		Long: "Create a self-signed RSA certificate for client authentication. FILE.pfx holds the certificate and its\n" +
			"private key (AES-256, mode 0600); FILE.cer beside it is the public certificate (PEM) to upload in the\n" +
			"Azure portal: App registrations → your app → Certificates & secrets → Upload certificate.",
		Example: "  entratool cert create --subject CN=MyApp --out ~/.entratool/certs/certificate.pfx\n" +
			"  printf '%s' \"$CERT_PASSWORD\" | entratool cert create --subject CN=MyApp --days 365 --out app.pfx --password-stdin",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if days < 1 || days > 36500 {
				return usageErr("--days %d: give 1 to 36500", days)
			}
			switch keySize {
			case 2048, 3072, 4096:
			default:
				return usageErr("--key-size %d: use 2048, 3072 or 4096", keySize)
			}
			// stdin carries the password: nothing else may be asked for on it.
			io := a.newIO()
			io.CanPrompt = io.CanPrompt && !pwStdin
			var err error
			if subject, err = io.need(subject, "subject", "Subject (e.g. CN=MyApp)"); err != nil {
				return err
			}
			if _, err := cert.ParseSubject(subject); err != nil {
				return usageErr("--subject: %v", err)
			}
			if out, err = io.need(out, "out", "Output file (.pfx)"); err != nil {
				return err
			}
			return a.certCreate(subject, out, days, keySize, pwStdin, force)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&subject, "subject", "", "subject, e.g. CN=MyApp or CN=MyApp,O=Contoso")
	fl.IntVar(&days, "days", 730, "validity in days")
	fl.IntVar(&keySize, "key-size", 2048, "RSA key size: 2048, 3072 or 4096")
	fl.StringVar(&out, "out", "", "PFX file to write; the public certificate goes beside it as .cer")
	fl.BoolVar(&pwStdin, "password-stdin", false, "read the PFX password from stdin")
	fl.BoolVar(&force, "force", false, "overwrite existing files")
	return cmd
}

// cerPath is the .cer beside a .pfx: same directory and base name.
func cerPath(pfx string) string {
	return strings.TrimSuffix(pfx, filepath.Ext(pfx)) + ".cer"
}

func (a *App) certCreate(subject, out string, days, keySize int, pwStdin, force bool) error {
	pfxPath, err := absPath(out)
	if err != nil {
		return err
	}
	if strings.EqualFold(filepath.Ext(pfxPath), ".cer") {
		return usageErr("--out %s: give the .pfx name; the .cer is written beside it", out)
	}
	cer := cerPath(pfxPath)
	if !force {
		for _, p := range []string{pfxPath, cer} {
			if _, err := os.Lstat(p); err == nil {
				return fmt.Errorf("%s already exists: pass --force to overwrite it, or choose another --out", p)
			}
		}
	}
	if err := a.ensureCertDir(filepath.Dir(pfxPath)); err != nil {
		return err
	}
	pw, err := a.newPassword(pwStdin)
	if err != nil {
		return err
	}
	c, err := cert.Create(cert.CreateOptions{Subject: subject, Days: days, KeySize: keySize, Now: a.Now()})
	if err != nil {
		return err
	}
	if err := cert.WritePFX(pfxPath, c, pw); err != nil {
		return err
	}
	// Read it back as token requests will, so a file that cannot be used is never handed out.
	if _, err := cert.Load(context.Background(), pfxPath, pw); err != nil {
		return fmt.Errorf("the PFX just written does not read back: %w", err)
	}
	if err := fsutil.WriteFileAtomic(cer, cert.EncodeCER(c.Leaf, false), 0o644); err != nil {
		return err
	}
	tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "✓ Certificate created\n")
	fmt.Fprintf(tw, "  Subject:\t%s\n", termtext.Escape(c.Leaf.Subject.String()))
	fmt.Fprintf(tw, "  Valid until:\t%s\n", c.Leaf.NotAfter.UTC().Format("2006-01-02 15:04:05 UTC"))
	fmt.Fprintf(tw, "  Thumbprint (SHA-1):\t%s\n", cert.ThumbprintSHA1(c.Leaf))
	fmt.Fprintf(tw, "  Thumbprint (SHA-256):\t%s\n", cert.ThumbprintSHA256(c.Leaf))
	fmt.Fprintf(tw, "  Certificate and key:\t%s\n", pfxPath)
	fmt.Fprintf(tw, "  Public certificate:\t%s\n", cer)
	tw.Flush()
	fmt.Fprintf(a.Out, "Next: upload %s to the app registration (Certificates & secrets → Upload certificate), then:\n", cer)
	fmt.Fprintf(a.Out, "  entratool config create --certificate %s\n", pfxPath)
	return nil
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

// newPassword gets the password a new PFX is encrypted with: stdin, or asked twice on a
// terminal. An empty password is refused: the PFX holds the private key.
func (a *App) newPassword(fromStdin bool) (string, error) {
	if fromStdin {
		pw, err := readSecretStdin(a.In)
		if err != nil {
			return "", fmt.Errorf("read the password from stdin: %w", err)
		}
		if pw == "" {
			return "", usageErr("--password-stdin: stdin was empty; the PFX holds the private key and needs a password")
		}
		return pw, nil
	}
	if !a.InTTY {
		return "", usageErr("missing --password-stdin (stdin is not a terminal, so entratool cannot prompt for the certificate password)")
	}
	for try := 1; ; try++ {
		pw, err := a.promptSecret("Certificate password")
		if err != nil {
			return "", err
		}
		if pw == "" {
			a.warn("  The PFX holds the private key: give it a password.")
			continue
		}
		again, err := a.promptSecret("Confirm certificate password")
		if err != nil {
			return "", err
		}
		if again == pw {
			return pw, nil
		}
		if try == 3 {
			return "", errors.New("the passwords did not match; nothing was written")
		}
		a.warn("  The passwords did not match; try again.")
	}
}

// ---- loading a certificate for info, check and export-public ----

// certTarget is the file a cert command works on: a path, or a profile's certificate.
type certTarget struct {
	path    string
	profile *profile.Profile
}

func (t certTarget) label() string {
	if t.profile != nil {
		return t.profile.Name
	}
	return t.path
}

// certTarget picks PATH or the profile (-p, ENTRATOOL_PROFILE, default).
func (a *App) certTarget(args []string) (certTarget, error) {
	if len(args) == 1 {
		if a.profileName != "" {
			return certTarget{}, usageErr("give a certificate PATH or --profile NAME, not both")
		}
		p, err := absPath(args[0])
		return certTarget{path: p}, err
	}
	_, cfg, err := a.loadConfig()
	if err != nil {
		return certTarget{}, err
	}
	p, err := a.resolve(cfg, nil)
	if err != nil {
		return certTarget{}, err
	}
	if err := certFileOf(p); err != nil {
		return certTarget{}, err
	}
	if p.CertificateStore != "" {
		return certTarget{path: keyStoreLabel(p), profile: p}, nil
	}
	return certTarget{path: p.CertificatePath, profile: p}, nil
}

// certFileOf fails for profiles without a certificate file.
func certFileOf(p *profile.Profile) error {
	switch {
	case !p.UseCertificate:
		return fmt.Errorf("profile '%s' uses a client secret, not a certificate", p.Name)
	case p.CertificatePath == "" && p.CertificateStore == "":
		return fmt.Errorf("profile '%s' has neither a certificate file nor a key store", p.Name)
	}
	return nil
}

// loaded is a certificate as read from its file; key is false for public-only files
// (.cer, a PEM with no key), which info and export-public still accept.
type loaded struct {
	leaf *x509.Certificate
	key  bool
}

// loadTarget opens t. The password comes from stdin (pw, when pwGiven), else the
// profile's secret store, else none; a file that needs one is asked for on a terminal.
func (a *App) loadTarget(ctx context.Context, t certTarget, pw string, pwGiven, publicOK bool) (*loaded, error) {
	if t.profile != nil && t.profile.CertificateStore != "" {
		return a.loadFromKeyStore(ctx, t.profile, pw, pwGiven)
	}
	if !pwGiven && t.profile != nil {
		var err error
		if pw, err = a.storedSecret(ctx, t.profile, secret.CertificatePassword); err != nil {
			return nil, fmt.Errorf("cannot read the certificate password of profile '%s': %w", t.profile.Name, err)
		}
	}
	c, err := cert.Load(ctx, t.path, pw)
	if errors.Is(err, cert.ErrBadPassword) && !pwGiven && a.InTTY {
		if pw, err = a.promptSecret("Certificate password"); err != nil {
			return nil, err
		}
		c, err = cert.Load(ctx, t.path, pw)
	}
	switch {
	case err == nil:
		return &loaded{leaf: c.Leaf, key: true}, nil
	case publicOK && errors.Is(err, cert.ErrNoKey):
		leaf, perr := readPublicCert(t.path)
		if perr != nil {
			return nil, err
		}
		return &loaded{leaf: leaf}, nil
	case errors.Is(err, cert.ErrBadPassword) && !pwGiven && t.profile != nil:
		return nil, fmt.Errorf("%w (profile '%s': set it with 'entratool config edit -p %s', Certificate Password)", err, t.profile.Name, t.profile.Name)
	case errors.Is(err, cert.ErrBadPassword) && !pwGiven && !a.InTTY:
		return nil, usageErr("%v: pass the password with --password-stdin", err)
	}
	return nil, err
}

// readPublicCert reads the first certificate of a PEM or DER file that has no key.
func readPublicCert(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type == "CERTIFICATE" || b.Type == "X509 CERTIFICATE" {
			return x509.ParseCertificate(b.Bytes)
		}
	}
	return x509.ParseCertificate(data)
}

// stdinPassword reads --password-stdin's value. Nothing is prompted for after it: the
// callers ask only when no password was given.
func (a *App) stdinPassword(given bool) (string, error) {
	if !given {
		return "", nil
	}
	pw, err := readSecretStdin(a.In)
	if err != nil {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	return pw, nil
}

// ---- cert info ----

// certInfoJSON is `cert info -o json`.
type certInfoJSON struct {
	Path    string `json:"path"`
	Profile string `json:"profile,omitempty"`
	cert.Info
	Expired       bool `json:"expired"`
	HasPrivateKey bool `json:"hasPrivateKey"`
}

func (a *App) certInfoCmd() *cobra.Command {
	var (
		output  string
		pwStdin bool
	)
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
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkTableJSON(output); err != nil {
				return err
			}
			t, err := a.certTarget(args)
			if err != nil {
				return err
			}
			pw, err := a.stdinPassword(pwStdin)
			if err != nil {
				return err
			}
			l, err := a.loadTarget(cmd.Context(), t, pw, pwStdin, true)
			if err != nil {
				return err
			}
			now := a.Now()
			out := certInfoJSON{Path: t.path, Info: cert.Inspect(l.leaf, now), Expired: now.After(l.leaf.NotAfter), HasPrivateKey: l.key}
			if t.profile != nil {
				out.Profile = t.profile.Name
			}
			if output == "json" {
				return writeJSON(a.Out, out)
			}
			return a.printCertInfo(out, now)
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output: table or json")
	cmd.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the certificate password from stdin")
	return cmd
}

func (a *App) printCertInfo(i certInfoJSON, now time.Time) error {
	tw := tabwriter.NewWriter(a.Out, 0, 4, 2, ' ', 0)
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

// ---- cert check ----

// Exit codes of cert check, for cron and monitoring.
const (
	checkOK       = 0
	checkExpiring = 1
	checkBad      = 2
)

func (a *App) certCheckCmd() *cobra.Command {
	var (
		all      bool
		warnDays int
		pwStdin  bool
	)
	cmd := &cobra.Command{
		Use:   "check [PATH | -p NAME | --all] [--warn-days 30]",
		Short: "Check certificate expiry: exit 0 fine, 1 expires within --warn-days, 2 expired or unreadable",
		Long: "Check the expiry of a profile's certificate (-p, or the default profile), of every profile's (--all), or\n" +
			"of a file. One line per certificate. Exit code: 0 all fine, 1 one expires within --warn-days, 2 one is\n" +
			"expired, not yet valid or cannot be read — for cron jobs and monitoring.",
		Example: "  entratool cert check --all --warn-days 30 || mail -s 'entratool: renew certificates' ops@example.com",
		Args:    maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if warnDays < 0 {
				return usageErr("--warn-days %d: give 0 or more", warnDays)
			}
			if all && (len(args) > 0 || a.profileName != "") {
				return usageErr("--all checks every profile: give no PATH or --profile with it")
			}
			pw, err := a.stdinPassword(pwStdin)
			if err != nil {
				return err
			}
			var targets []certTarget
			if all {
				_, cfg, err := a.loadConfig()
				if err != nil {
					return err
				}
				for _, p := range cfg.Profiles {
					if p != nil && p.UseCertificate {
						targets = append(targets, certTarget{path: p.CertificatePath, profile: p})
					}
				}
				if len(targets) == 0 {
					a.warn("No profile uses a certificate; nothing to check.")
					return nil
				}
			} else {
				t, err := a.certTarget(args)
				if err != nil {
					var ee *exitError
					if errors.As(err, &ee) {
						return err
					}
					// Nothing checkable is as bad as unreadable for a monitor.
					return withCode(checkBad, err)
				}
				targets = []certTarget{t}
			}
			worst := checkOK
			for _, t := range targets {
				line, code := a.checkOne(cmd.Context(), t, pw, pwStdin, time.Duration(warnDays)*24*time.Hour)
				fmt.Fprintln(a.Out, termtext.Escape(line))
				worst = max(worst, code)
			}
			if worst == checkOK {
				return nil
			}
			return withCode(worst, nil)
		},
	}
	cmd.Flags().BoolVar(&all, "all", false, "check the certificate of every profile")
	cmd.Flags().IntVar(&warnDays, "warn-days", 30, "exit 1 when a certificate expires within this many days")
	cmd.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the password of PATH from stdin")
	return cmd
}

// checkOne is one line of cert check and its exit code.
func (a *App) checkOne(ctx context.Context, t certTarget, pw string, pwGiven bool, window time.Duration) (string, int) {
	label := t.label()
	l, err := a.loadTarget(ctx, t, pw, pwGiven, true)
	if err != nil {
		return fmt.Sprintf("✗ %s: cannot read the certificate: %s", label, oneLine(err.Error())), checkBad
	}
	c, now := l.leaf, a.Now()
	name, tp := c.Subject.String(), cert.ThumbprintSHA1(c)
	if err := cert.CheckValidity(c, now); err != nil {
		return fmt.Sprintf("✗ %s: %v", label, err), checkBad
	}
	left := c.NotAfter.Sub(now)
	days := int(left / (24 * time.Hour))
	date := c.NotAfter.UTC().Format(time.DateOnly)
	if left <= window {
		return fmt.Sprintf("! %s: %s expires in %d day(s), on %s (thumbprint %s); renew it", label, name, days, date, tp), checkExpiring
	}
	return fmt.Sprintf("✓ %s: %s valid until %s, %d days left (thumbprint %s)", label, name, date, days, tp), checkOK
}

// ---- cert export-public ----

func (a *App) certExportPublicCmd() *cobra.Command {
	var (
		out     string
		der     bool
		pwStdin bool
	)
	cmd := &cobra.Command{
		Use:   "export-public [PATH | -p NAME] [-o FILE] [--der]",
		Short: "Write the public certificate (.cer) to upload to the app registration",
		Long: "Write the certificate alone, without its key — the file the Azure portal's Upload certificate takes.\n" +
			"PEM by default, DER with --der; to FILE, or stdout when -o is absent or -.",
		Example: "  entratool cert export-public -p production-service -o certificate.cer\n" +
			"  entratool cert export-public certificate.pfx --password-stdin -o certificate.cer < pw.txt",
		Args: maxArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			t, err := a.certTarget(args)
			if err != nil {
				return err
			}
			pw, err := a.stdinPassword(pwStdin)
			if err != nil {
				return err
			}
			l, err := a.loadTarget(cmd.Context(), t, pw, pwStdin, true)
			if err != nil {
				return err
			}
			data := cert.EncodeCER(l.leaf, der)
			if out == "" || out == "-" {
				_, err := a.Out.Write(data)
				return err
			}
			if err := fsutil.WriteFileAtomic(out, data, 0o644); err != nil {
				return err
			}
			fmt.Fprintf(a.Out, "✓ Public certificate written to %s (thumbprint %s)\n", out, cert.ThumbprintSHA1(l.leaf))
			return nil
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", "", "file to write (default stdout)")
	cmd.Flags().BoolVar(&der, "der", false, "write DER instead of PEM")
	cmd.Flags().BoolVar(&pwStdin, "password-stdin", false, "read the certificate password from stdin")
	return cmd
}
