package cli

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
)

// The cert commands: create (cert_create.go), info (cert_info.go), check (cert_check.go)
// and export-public (cert_export.go). Each has an options struct its cobra command
// fills, and a run function that works from the options alone.

func (a *App) certCmd() *cobra.Command {
	cmd := groupCmd("cert", "Create, inspect and check X.509 certificates",
		"Create self-signed certificates for app registrations, show their details and thumbprints, check\n"+
			"their expiry (for cron and monitoring), and export the public certificate to upload.")
	cmd.AddCommand(
		newCertCreateCmd(a, nil),
		newCertInfoCmd(a, nil),
		newCertCheckCmd(a, nil),
		newCertExportPublicCmd(a, nil),
		newCertRenewCmd(a, nil),
	)
	return cmd
}

// ---- loading a certificate for info, check and export-public ----

// certReadOptions are the inputs info, check and export-public share: the run's
// streams and App, the certificate to read (PATH or a profile), and where its password
// comes from.
type certReadOptions struct {
	configEnv
	ProfileFlag   string   // the global -p
	Args          []string // [PATH]
	PasswordStdin bool     // --password-stdin
}

// fill is the cobra side of certReadOptions: the command line, and no prompting when
// stdin carries the password.
func (o *certReadOptions) fill(a *App) func(*cobra.Command, []string) {
	return func(_ *cobra.Command, args []string) {
		o.ProfileFlag, o.Args = a.profileName, args
		o.IO.CanPrompt = o.IO.CanPrompt && !o.PasswordStdin
	}
}

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

// target picks PATH or the profile (-p, ENTRATOOL_PROFILE, default).
func (o *certReadOptions) target() (certTarget, error) {
	if len(o.Args) == 1 {
		if o.ProfileFlag != "" {
			return certTarget{}, usageErr("give a certificate PATH or --profile NAME, not both")
		}
		p, err := absPath(o.Args[0])
		return certTarget{path: p}, err
	}
	_, cfg, err := o.App.loadConfig()
	if err != nil {
		return certTarget{}, err
	}
	p, err := resolveProfile(cfg, o.ProfileFlag, nil, o.App.Getenv)
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
	if msg := noCertificate(p); msg != "" {
		return errors.New(msg)
	}
	if p.CertificatePath == "" && p.CertificateStore == "" {
		return fmt.Errorf("profile '%s' has neither a certificate file nor a key store", p.Name)
	}
	return nil
}

// password reads --password-stdin's value ("" without it). Nothing is prompted for
// after it: load asks only when no password was given.
func (o *certReadOptions) password() (string, error) {
	if !o.PasswordStdin {
		return "", nil
	}
	pw, err := readSecretStdin(o.IO.In)
	if err != nil {
		return "", fmt.Errorf("read the password from stdin: %w", err)
	}
	return pw, nil
}

// open is target, password and load in that order: the target, then the certificate.
func (o *certReadOptions) open(ctx context.Context) (certTarget, *loaded, error) {
	t, err := o.target()
	if err != nil {
		return certTarget{}, nil, err
	}
	pw, err := o.password()
	if err != nil {
		return certTarget{}, nil, err
	}
	l, err := o.load(ctx, t, pw)
	if err != nil {
		return certTarget{}, nil, aboutProfile(t.profile, err)
	}
	return t, l, nil
}

// loaded is a certificate as read from its file; key is false for public-only files
// (.cer, a PEM with no key), which info, check and export-public accept.
type loaded struct {
	leaf *x509.Certificate
	key  bool
}

// load opens t. The password is pw when given on stdin, else the profile's stored
// one, else none; a file that needs one is asked for when the run may prompt.
func (o *certReadOptions) load(ctx context.Context, t certTarget, pw string) (*loaded, error) {
	if t.profile != nil && t.profile.CertificateStore != "" {
		return o.App.loadFromKeyStore(ctx, t.profile, pw, o.PasswordStdin)
	}
	given := o.PasswordStdin
	if !given && t.profile != nil {
		var err error
		if pw, err = o.App.storedSecret(ctx, t.profile, secret.CertificatePassword); err != nil {
			return nil, fmt.Errorf("cannot read the certificate password of profile '%s': %w", t.profile.Name, err)
		}
	}
	c, err := cert.Load(ctx, t.path, pw)
	if errors.Is(err, cert.ErrBadPassword) && !given && o.IO.CanPrompt {
		if pw, err = o.IO.promptSecret("Certificate password"); err != nil {
			return nil, err
		}
		c, err = cert.Load(ctx, t.path, pw)
	}
	switch {
	case err == nil:
		return &loaded{leaf: c.Leaf, key: true}, nil
	case errors.Is(err, cert.ErrNoKey):
		leaf, perr := readPublicCert(t.path)
		if perr != nil {
			return nil, err
		}
		return &loaded{leaf: leaf}, nil
	case errors.Is(err, cert.ErrBadPassword) && !given && t.profile != nil:
		return nil, fmt.Errorf("%w (profile '%s': set it with 'entratool config edit -p %s', Certificate Password)", err, t.profile.Name, t.profile.Name)
	case errors.Is(err, cert.ErrBadPassword) && !given && !o.IO.CanPrompt:
		return nil, usageErr("%v: pass the password with --password-stdin", err)
	}
	return nil, err
}

// aboutProfile names the profile an error is about, unless the error already does: the
// path alone does not tell someone with several profiles which one to fix.
func aboutProfile(p *profile.Profile, err error) error {
	if p == nil || strings.Contains(err.Error(), "'"+p.Name+"'") {
		return err
	}
	var ee *launch.ExitError
	if errors.As(err, &ee) && ee.Err != nil {
		return &launch.ExitError{Code: ee.Code, Err: fmt.Errorf("profile '%s': %w", p.Name, ee.Err)}
	}
	return fmt.Errorf("profile '%s': %w", p.Name, err)
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
