package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
)

// Exit codes of cert check, for cron and monitoring.
const (
	checkOK       = 0
	checkExpiring = 1
	checkBad      = 2
)

// certCheckOptions are the inputs of cert check.
type certCheckOptions struct {
	certReadOptions
	All      bool   // --all: every profile's certificate
	WarnDays int    // --warn-days: exit 1 when one expires within this many days
	Output   string // -o: text or json
}

// certCheckJSON is one certificate of `cert check -o json`, for monitoring: what the
// text line says, as fields. Status is ok, expiring, expired, notYetValid or unreadable.
type certCheckJSON struct {
	Profile          *string    `json:"profile"`
	Path             string     `json:"path"`
	Status           string     `json:"status"`
	Subject          string     `json:"subject,omitempty"`
	ThumbprintSHA1   string     `json:"thumbprint,omitempty"`
	ThumbprintSHA256 string     `json:"thumbprintSHA256,omitempty"`
	NotBefore        *time.Time `json:"notBefore,omitempty"`
	NotAfter         *time.Time `json:"notAfter,omitempty"`
	DaysLeft         *int       `json:"daysLeft,omitempty"`
	Error            string     `json:"error,omitempty"`
	line             string
	code             int
}

func newCertCheckCmd(a *App, runF func(context.Context, *certCheckOptions) error) *cobra.Command {
	opts := &certCheckOptions{}
	cmd := &cobra.Command{
		Use:   "check [PATH | -p NAME | --all] [--warn-days 30]",
		Short: "Check certificate expiry: exit 0 fine, 1 expires within --warn-days, 2 expired or unreadable",
		Long: "Check the expiry of a profile's certificate (-p, or the default profile), of every profile's (--all), or\n" +
			"of a file. One line per certificate. Exit code: 0 all fine, 1 one expires within --warn-days, 2 one is\n" +
			"expired, not yet valid or cannot be read — for cron jobs and monitoring.",
		Example: "  entratool cert check --all --warn-days 30 || mail -s 'entratool: renew certificates' ops@example.com",
		Args:    maxArgs(1),
		RunE:    runE(a, opts, &opts.configEnv, opts.fill(a), runF, runCertCheck),
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "check the certificate of every profile")
	cmd.Flags().IntVar(&opts.WarnDays, "warn-days", 30, "exit 1 when a certificate expires within this many days")
	cmd.Flags().StringVarP(&opts.Output, "output", "o", "text", "output: text (one line per certificate) or json (an array, for monitoring)")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password of PATH from stdin")
	return cmd
}

// runCertCheck prints one line per certificate; the worst decides the exit code.
func runCertCheck(ctx context.Context, opts *certCheckOptions) error {
	if opts.WarnDays < 0 {
		return usageErr("--warn-days %d: give 0 or more", opts.WarnDays)
	}
	switch opts.Output {
	case "", "text", "json":
	default:
		return usageErr("unknown output %q: use text or json", opts.Output)
	}
	if opts.All && (len(opts.Args) > 0 || opts.ProfileFlag != "") {
		return usageErr("--all checks every profile: give no PATH or --profile with it")
	}
	pw, err := opts.password()
	if err != nil {
		return err
	}
	targets, err := opts.targets()
	if err != nil {
		return err
	}
	worst := checkOK
	window := time.Duration(opts.WarnDays) * 24 * time.Hour
	results := []certCheckJSON{}
	for _, t := range targets {
		r := opts.checkOne(ctx, t, pw, window)
		if opts.Output != "json" {
			fmt.Fprintln(opts.IO.Out, termtext.Escape(r.line))
		}
		results = append(results, r)
		worst = max(worst, r.code)
	}
	if opts.Output == "json" {
		if err := writeJSON(opts.IO.Out, results); err != nil {
			return err
		}
	}
	if worst == checkOK {
		return nil
	}
	return withCode(worst, nil)
}

// targets are every certificate profile's (--all; none is only a warning), or the one
// certificate PATH or the profile names. Nothing checkable is as bad as unreadable.
func (o *certCheckOptions) targets() ([]certTarget, error) {
	if !o.All {
		t, err := o.target()
		if err != nil {
			var ee *launch.ExitError
			if errors.As(err, &ee) {
				return nil, err
			}
			return nil, withCode(checkBad, err)
		}
		return []certTarget{t}, nil
	}
	_, cfg, err := o.App.loadConfig()
	if err != nil {
		return nil, err
	}
	var targets []certTarget
	for _, p := range cfg.Profiles {
		if p != nil && p.Method() == profile.MethodCertificate {
			targets = append(targets, certTarget{path: p.CertificatePath, profile: p})
		}
	}
	if len(targets) == 0 {
		o.warn("No profile uses a certificate; nothing to check.")
	}
	return targets, nil
}

// checkOne is one certificate's result: its line, its fields and its exit code.
func (o *certCheckOptions) checkOne(ctx context.Context, t certTarget, pw string, window time.Duration) certCheckJSON {
	label := t.label()
	r := certCheckJSON{Path: t.path}
	if t.profile != nil {
		r.Profile = &t.profile.Name
	}
	l, err := o.load(ctx, t, pw)
	if err != nil {
		r.Status, r.Error, r.code = "unreadable", oneLine(err.Error()), checkBad
		r.line = fmt.Sprintf("✗ %s: cannot read the certificate: %s", label, r.Error)
		return r
	}
	c, now := l.leaf, o.App.Now()
	name, tp := c.Subject.String(), cert.ThumbprintSHA1(c)
	notBefore, notAfter := c.NotBefore.UTC(), c.NotAfter.UTC()
	left := c.NotAfter.Sub(now)
	days := int(left / (24 * time.Hour))
	r.Subject, r.ThumbprintSHA1, r.ThumbprintSHA256 = name, tp, cert.ThumbprintSHA256(c)
	r.NotBefore, r.NotAfter, r.DaysLeft = &notBefore, &notAfter, &days
	if err := cert.CheckValidity(c, now); err != nil {
		r.Status, r.Error, r.code = "expired", err.Error(), checkBad
		if errors.Is(err, cert.ErrNotYetValid) {
			r.Status = "notYetValid"
		}
		r.line = fmt.Sprintf("✗ %s: %v", label, err)
		return r
	}
	date := c.NotAfter.UTC().Format(time.DateOnly)
	if left <= window {
		r.Status, r.code = "expiring", checkExpiring
		r.line = fmt.Sprintf("! %s: %s expires in %d day(s), on %s (thumbprint %s); renew it", label, name, days, date, tp)
		return r
	}
	r.Status, r.code = "ok", checkOK
	r.line = fmt.Sprintf("✓ %s: %s valid until %s, %d days left (thumbprint %s)", label, name, date, days, tp)
	return r
}
