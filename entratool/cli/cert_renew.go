package cli

import (
	"context"
	"crypto/rsa"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/graph"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/token"
)

// cert renew rolls a profile's certificate through Microsoft Graph (SPEC §13): a new key
// is added to the app with a proof signed by the current one, proven with a token, and
// only then does the profile switch; the old key can go afterwards. At every instant the
// profile names a certificate the app has: the switch comes after addKey, the removal
// after the switch.

// certRenewOptions are the inputs of cert renew.
type certRenewOptions struct {
	configEnv
	ProfileFlag         string        // the global -p
	Days                int           // --days
	KeySize             int           // --key-size; 0: the old key's size
	IfExpiringWithin    string        // --if-expiring-within, e.g. 30d or 720h
	RemoveOld           bool          // --remove-old
	OldKeyID            string        // --old-key-id
	PropagationTimeout  time.Duration // --propagation-timeout
	DryRun              bool          // --dry-run
	Output              string        // -o text|json
	ApplicationObjectID string        // --application-object-id, saved in the profile
	Timeout             time.Duration // --timeout, each request with its retries
}

func newCertRenewCmd(a *App, runF func(context.Context, *certRenewOptions) error) *cobra.Command {
	opts := &certRenewOptions{}
	cmd := &cobra.Command{
		Use:   "renew [-p NAME] [--if-expiring-within 30d] [--remove-old]",
		Short: "Renew the profile's certificate through Microsoft Graph: new key, added to the app, proven, switched",
		Long: "Make a new key and self-signed certificate with the old subject, add it to the app registration through\n" +
			"Microsoft Graph (addKey, with a proof signed by the current certificate — no Graph permission needed), get a\n" +
			"token with it, and only then switch the profile to it. With --remove-old the old key is removed from the app\n" +
			"afterwards (removeKey, with a proof signed by the new certificate). The profile needs applicationObjectId:\n" +
			"the Object ID on the app registration's Overview page (--application-object-id saves it).\n\n" +
			"Nothing changes before the switch if a step fails. For cron or a systemd timer:\n" +
			"  entratool cert renew -p NAME --if-expiring-within 30d --remove-old",
		Example: "  entratool cert renew -p ci --application-object-id 11111111-2222-3333-4444-555555555555 --dry-run\n" +
			"  entratool cert renew -p ci --if-expiring-within 30d --remove-old -o json",
		Args: noArgs,
		RunE: runE(a, opts, &opts.configEnv, func(*cobra.Command, []string) { opts.ProfileFlag = a.profileName }, runF, runCertRenew),
	}
	fl := cmd.Flags()
	fl.IntVar(&opts.Days, "days", 730, "validity of the new certificate in days")
	fl.IntVar(&opts.KeySize, "key-size", 0, "RSA key size of the new key: 2048, 3072 or 4096 (default: the old key's)")
	fl.StringVar(&opts.IfExpiringWithin, "if-expiring-within", "", "renew only if the certificate expires within this long (30d, 720h); otherwise say so and exit 0")
	fl.BoolVar(&opts.RemoveOld, "remove-old", false, "remove the old key from the app registration once the new one works")
	fl.StringVar(&opts.OldKeyID, "old-key-id", "", "the old key's ID in the app registration (the portal's Certificate ID), when the profile does not know it")
	fl.DurationVar(&opts.PropagationTimeout, "propagation-timeout", 2*time.Minute, "how long to wait for Entra ID to accept the new key")
	fl.BoolVar(&opts.DryRun, "dry-run", false, "make the new certificate in memory and print what would be sent; change and send nothing")
	fl.StringVarP(&opts.Output, "output", "o", "text", "output: text or json")
	fl.StringVar(&opts.ApplicationObjectID, "application-object-id", "", "the app registration's Object ID (Overview page), saved in the profile")
	fl.Var(newTimeoutFlag(&opts.Timeout, 30*time.Second), "timeout", "give up on each request (with its retries) after this long")
	return cmd
}

// renewJSON is `cert renew -o json`.
type renewJSON struct {
	Profile            string  `json:"profile"`
	CertificatePath    string  `json:"certificatePath"`
	Thumbprint         string  `json:"thumbprint"`
	ThumbprintSHA256   string  `json:"thumbprintSHA256"`
	PreviousThumbprint string  `json:"previousThumbprint"`
	KeyID              *string `json:"keyId"`
	RemovedKeyID       *string `json:"removedKeyId"`
	Renewed            bool    `json:"renewed"`
	DryRun             bool    `json:"dryRun,omitempty"`
}

// renewal is one run's state: the profile, its current certificate, the new one.
type renewal struct {
	o        *certRenewOptions
	p        *profile.Profile
	graphURL string
	pw       string
	old      *cert.Credential
	new      *cert.Credential
	newPath  string
	keyID    string
	out      renewJSON
}

func runCertRenew(ctx context.Context, opts *certRenewOptions) error {
	within, err := opts.check()
	if err != nil {
		return err
	}
	p, err := opts.loadProfile(ctx)
	if err != nil {
		return err
	}
	r := &renewal{o: opts, p: p}
	if err := r.loadCurrent(ctx); err != nil {
		return err
	}
	if within > 0 {
		if left := r.old.Leaf.NotAfter.Sub(opts.App.Now()); left > within {
			return r.notDue(left)
		}
	}
	if r.graphURL, err = p.Graph(opts.App.Getenv); err != nil {
		return withCode(ExitFailure, err)
	}
	if err := r.makeNew(); err != nil {
		return err
	}
	if opts.DryRun {
		return r.dryRun()
	}
	return r.run(ctx)
}

// check validates the flags and returns --if-expiring-within (0: always renew).
func (o *certRenewOptions) check() (time.Duration, error) {
	switch o.Output {
	case "text", "json":
	default:
		return 0, usageErr("unknown output %q: use text or json", o.Output)
	}
	if o.Days < 1 || o.Days > 36500 {
		return 0, usageErr("--days %d: give 1 to 36500", o.Days)
	}
	switch o.KeySize {
	case 0, 2048, 3072, 4096:
	default:
		return 0, usageErr("--key-size %d: use 2048, 3072 or 4096", o.KeySize)
	}
	if o.PropagationTimeout <= 0 {
		return 0, usageErr("--propagation-timeout must be positive, like 2m")
	}
	if o.OldKeyID != "" && !profile.ValidGUID(o.OldKeyID) {
		return 0, usageErr("--old-key-id %q is not a GUID: it is the Certificate ID the portal lists under Certificates & secrets", o.OldKeyID)
	}
	if o.ApplicationObjectID != "" && !profile.ValidGUID(o.ApplicationObjectID) {
		return 0, usageErr("--application-object-id %q is not a GUID: it is the Object ID on the app registration's Overview page", o.ApplicationObjectID)
	}
	if o.IfExpiringWithin == "" {
		return 0, nil
	}
	d, err := parseWithin(o.IfExpiringWithin)
	if err != nil {
		return 0, usageErr("--if-expiring-within %q: %v", o.IfExpiringWithin, err)
	}
	return d, nil
}

// parseWithin reads a duration that may be given in days ("30d"), as cron jobs think.
func parseWithin(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 || days > 36500 {
			return 0, errors.New("give a number of days like 30d, or a duration like 720h")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, errors.New("give a number of days like 30d, or a duration like 720h")
	}
	return d, nil
}

// loadProfile resolves the profile, saves --application-object-id in it (even when the
// run turns out not to be due; not on a dry run, which changes nothing), and checks it
// can be renewed.
func (o *certRenewOptions) loadProfile(ctx context.Context) (*profile.Profile, error) {
	st, cfg, err := o.App.loadConfig()
	if err != nil {
		return nil, err
	}
	p, err := resolveProfile(cfg, o.ProfileFlag, nil, o.App.Getenv)
	if err != nil {
		return nil, err
	}
	switch {
	case noCertificate(p) != "":
		return nil, usageErr("%s to renew", noCertificate(p))
	case p.CertificateStore != "":
		return nil, withCode(ExitFailure, fmt.Errorf("profile '%s': renewal of key-store certificates is not supported yet (its key lives in the %s store)", p.Name, p.CertificateStore))
	}
	if o.ApplicationObjectID != "" && o.ApplicationObjectID != p.ApplicationObjectID {
		p.ApplicationObjectID = o.ApplicationObjectID
		if !o.DryRun {
			id := o.ApplicationObjectID
			if p, err = st.UpdateProfile(ctx, p.Name, func(q *profile.Profile) error { q.ApplicationObjectID = id; return nil }); err != nil {
				return nil, err
			}
		}
	}
	if p.ApplicationObjectID == "" {
		return nil, usageErr("profile '%s' has no applicationObjectId: give --application-object-id, the Object ID on the app registration's Overview page (not the client ID)", p.Name)
	}
	return p, nil
}

// loadCurrent opens the profile's certificate with its stored password (or the env
// store's variable): its key signs the proof, its subject and key size carry over.
func (r *renewal) loadCurrent(ctx context.Context) error {
	a := r.o.App
	pw, err := a.storedSecret(ctx, r.p, secret.CertificatePassword)
	if err != nil {
		return fmt.Errorf("profile '%s': cannot read the certificate password: %w", r.p.Name, err)
	}
	c, err := cert.Load(ctx, r.p.CertificatePath, pw)
	if err != nil {
		return aboutProfile(r.p, err)
	}
	if err := cert.CheckValidity(c.Leaf, a.Now()); err != nil {
		return fmt.Errorf("profile '%s': %w; Graph accepts a new key only with a proof signed by a valid one: upload a new certificate by hand once (entratool cert create, then the portal), then renew from it", r.p.Name, err)
	}
	if _, ok := c.Key.(*rsa.PrivateKey); !ok {
		return fmt.Errorf("profile '%s': the certificate's key is not RSA: renewal makes RSA keys only", r.p.Name)
	}
	r.pw, r.old = pw, c
	r.out = renewJSON{Profile: r.p.Name, CertificatePath: r.p.CertificatePath, Thumbprint: cert.ThumbprintSHA1(c.Leaf),
		ThumbprintSHA256: cert.ThumbprintSHA256(c.Leaf)}
	return nil
}

// notDue reports that the certificate has more time left than --if-expiring-within.
func (r *renewal) notDue(left time.Duration) error {
	if r.o.Output == "json" {
		return writeJSON(r.o.IO.Out, r.out)
	}
	fmt.Fprintf(r.o.IO.Out, "not due: %s expires on %s (%d days left)\n", termtext.Escape(r.old.Leaf.Subject.String()),
		r.old.Leaf.NotAfter.UTC().Format(time.DateOnly), int(left/(24*time.Hour)))
	return nil
}

// makeNew creates the new key and certificate in memory, with the old subject, and
// picks the file it will go to.
func (r *renewal) makeNew() error {
	size := r.o.KeySize
	if size == 0 {
		size = r.old.Key.(*rsa.PrivateKey).N.BitLen()
		switch size {
		case 2048, 3072, 4096:
		default:
			size = max(2048, min(size, 4096))
		}
	}
	subject := r.old.Leaf.Subject
	c, err := cert.Create(cert.CreateOptions{Name: &subject, Days: r.o.Days, KeySize: size, Now: r.o.App.Now()})
	if err != nil {
		return err
	}
	r.new = c
	r.newPath = renewedPath(r.p.CertificatePath, r.o.App.Now(), func(p string) bool { _, err := os.Lstat(p); return err == nil })
	return nil
}

// renewedPath is the new certificate's file: beside the old one, named after it with
// the time (a PEM profile gets a PFX too), -2, -3… when that exists.
func renewedPath(old string, now time.Time, exists func(string) bool) string {
	base := strings.TrimSuffix(filepath.Base(old), filepath.Ext(old))
	stem := filepath.Join(filepath.Dir(old), base+"-"+now.UTC().Format("20060102-150405"))
	p := stem + ".pfx"
	for n := 2; exists(p) || exists(cerPath(p)); n++ {
		p = fmt.Sprintf("%s-%d.pfx", stem, n)
	}
	return p
}

// dryRun prints what a run would send, having sent nothing and written nothing.
func (r *renewal) dryRun() error {
	proof, err := graph.NewProof(r.old.Key, r.old.Leaf, r.p.ApplicationObjectID, r.o.App.Now())
	if err != nil {
		return err
	}
	r.out.DryRun = true
	r.out.CertificatePath = r.newPath
	r.out.PreviousThumbprint = r.out.Thumbprint
	r.out.Thumbprint, r.out.ThumbprintSHA256 = cert.ThumbprintSHA1(r.new.Leaf), cert.ThumbprintSHA256(r.new.Leaf)
	if r.o.Output == "json" {
		return writeJSON(r.o.IO.Out, r.out)
	}
	w := r.o.IO.Out
	fmt.Fprintf(w, "dry run: nothing was written or sent\n")
	fmt.Fprintf(w, "new certificate: %s, valid until %s, thumbprint %s (SHA-256 %s), would be written to %s\n",
		termtext.Escape(r.new.Leaf.Subject.String()), r.new.Leaf.NotAfter.UTC().Format(time.DateOnly), r.out.Thumbprint, r.out.ThumbprintSHA256, r.newPath)
	fmt.Fprintf(w, "would POST %s/v1.0/applications/%s/addKey with a Graph token for %s/.default:\n", r.graphURL, r.p.ApplicationObjectID, r.graphURL)
	fmt.Fprintf(w, "  {\"keyCredential\":{\"type\":\"AsymmetricX509Cert\",\"usage\":\"Verify\",\"key\":\"<%d bytes of DER>\",\"displayName\":%q},\"passwordCredential\":null,\"proof\":\"<JWT>\"}\n",
		len(r.new.Leaf.Raw), termtext.Escape(r.new.Leaf.Subject.String()))
	fmt.Fprintf(w, "  proof: %s\n", describeProof(proof))
	fmt.Fprintf(w, "then a token for %s with the new certificate, and the switch of profile '%s'", r.p.TokenScope(""), r.p.Name)
	if r.o.RemoveOld {
		fmt.Fprintf(w, ", then removeKey of the old key (proof signed by the new certificate)")
	}
	fmt.Fprintln(w)
	return nil
}

// describeProof shows a proof's header and claims, not its signature: what a user needs
// to check it against Graph's rules.
func describeProof(jwt string) string {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return "?"
	}
	dec := func(s string) string {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil {
			return "?"
		}
		return termtext.Escape(string(b))
	}
	return "header " + dec(parts[0]) + ", claims " + dec(parts[1]) + ", signed RS256 with the current certificate's key"
}

// run does the renewal: write the new files, addKey, prove, switch, remove the old key.
func (r *renewal) run(ctx context.Context) error {
	a := r.o.App
	pr, err := a.provider(r.p, true)
	if err != nil {
		return err
	}
	client := &graph.Client{
		Endpoint: r.graphURL,
		HTTP:     token.NewHTTPClient(token.HTTPOptions{Logger: a.logger}),
		Token: func(ctx context.Context) (string, error) {
			t, err := pr.Token(ctx, r.graphURL+"/.default", false)
			if err != nil {
				return "", fmt.Errorf("a Graph token with the current certificate: %w", err)
			}
			return t.AccessToken, nil
		},
		Now: a.Now,
		Log: a.logger,
	}
	if err := r.writeNew(ctx); err != nil {
		return err
	}
	kc, err := r.addKey(ctx, client)
	if err != nil {
		r.removeNewFiles()
		return withCode(ExitFailure, fmt.Errorf("%w; profile '%s' unchanged", err, r.p.Name))
	}
	r.keyID = kc.KeyID
	if err := r.prove(ctx); err != nil {
		r.removeNewFiles()
		return withCode(ExitFailure, fmt.Errorf("the new key was added to the app (keyId %s) but %w; profile '%s' unchanged: remove that key in the portal (Certificates & secrets, Certificate ID %s)",
			kc.KeyID, err, r.p.Name, kc.KeyID))
	}
	oldKeyID, err := r.switchProfile(ctx)
	if err != nil {
		r.removeNewFiles()
		return withCode(ExitFailure, fmt.Errorf("the new key was added to the app (keyId %s) and works, but the profile could not be switched: %w; profile '%s' unchanged",
			kc.KeyID, err, r.p.Name))
	}
	r.reportSwitched()
	if !r.o.RemoveOld {
		return r.finish()
	}
	return r.removeOld(ctx, client, oldKeyID)
}

// writeNew writes the new PFX (the old password, so the stored secret stays right) and
// its .cer, claiming the name first so that a concurrent renewal cannot take it too.
func (r *renewal) writeNew(ctx context.Context) error {
	f, err := os.OpenFile(r.newPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("cannot create %s: %w", r.newPath, err)
	}
	f.Close()
	if err := cert.WritePFX(r.newPath, r.new, r.pw); err != nil {
		os.Remove(r.newPath)
		return err
	}
	if _, err := cert.Load(ctx, r.newPath, r.pw); err != nil {
		os.Remove(r.newPath)
		return fmt.Errorf("the PFX just written does not read back: %w", err)
	}
	if err := os.WriteFile(cerPath(r.newPath), cert.EncodeCER(r.new.Leaf, false), 0o644); err != nil {
		os.Remove(r.newPath)
		return err
	}
	return nil
}

// removeNewFiles takes the new files back after a failure before the switch.
func (r *renewal) removeNewFiles() {
	os.Remove(r.newPath)
	os.Remove(cerPath(r.newPath))
}

// addKey adds the new certificate to the app with a proof signed by the current one.
func (r *renewal) addKey(ctx context.Context, c *graph.Client) (graph.KeyCredential, error) {
	ctx, cancel := ctxTimeout(ctx, r.o.Timeout)
	defer cancel()
	proof, err := graph.NewProof(r.old.Key, r.old.Leaf, r.p.ApplicationObjectID, r.o.App.Now())
	if err != nil {
		return graph.KeyCredential{}, err
	}
	return c.AddKey(ctx, r.p.ApplicationObjectID, r.new.Leaf, r.new.Leaf.Subject.String(), proof)
}

// prove gets a token for the profile's scope with the new certificate, waiting while
// Entra ID has not taken the new key in yet (AADSTS700027, for a few seconds).
func (r *renewal) prove(ctx context.Context) error {
	a := r.o.App
	trial := r.p.Clone()
	trial.CertificatePath = r.newPath
	pr, err := a.newProvider(trial, true, memSecrets{secret.Key(trial.Name, secret.CertificatePassword): r.pw})
	if err != nil {
		return err
	}
	deadline := a.Now().Add(r.o.PropagationTimeout)
	wait := time.Second
	for {
		tctx, cancel := ctxTimeout(ctx, r.o.Timeout)
		_, err := pr.Token(tctx, pr.Scope(""), true)
		cancel()
		var ee *token.EntraError
		switch {
		case err == nil:
			return nil
		case !errors.As(err, &ee) || ee.Code != 700027:
			return fmt.Errorf("the new certificate did not get a token: %w", err)
		case a.Now().Add(wait).After(deadline):
			return fmt.Errorf("Entra ID did not accept the new key within --propagation-timeout %v: %w", r.o.PropagationTimeout, err)
		}
		a.debugf("new key not accepted yet", "wait", wait.String())
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(wait*2, 10*time.Second)
	}
}

// switchProfile points the profile at the new certificate, keeping the old path and the
// new keyId, and drops the old certificate's cached tokens. It returns the keyId the
// profile had (the old key's, when a previous renewal recorded it).
func (r *renewal) switchProfile(ctx context.Context) (string, error) {
	st, err := r.o.App.profiles()
	if err != nil {
		return "", err
	}
	var oldKeyID string
	oldPath := r.p.CertificatePath
	_, err = st.UpdateProfile(ctx, r.p.Name, func(q *profile.Profile) error {
		if q.CertificatePath != oldPath || q.CertificateStore != "" {
			return fmt.Errorf("profile '%s' was changed by another command meanwhile (it now uses %s)", q.Name, q.CertificatePath)
		}
		oldKeyID = q.KeyCredentialID
		q.PreviousCertificatePath, q.CertificatePath, q.KeyCredentialID = oldPath, r.newPath, r.keyID
		return nil
	})
	if err != nil {
		return "", err
	}
	r.o.forgetTokens(r.p)
	r.out.PreviousThumbprint = r.out.Thumbprint
	r.out.CertificatePath = r.newPath
	r.out.Thumbprint, r.out.ThumbprintSHA256 = cert.ThumbprintSHA1(r.new.Leaf), cert.ThumbprintSHA256(r.new.Leaf)
	r.out.KeyID, r.out.Renewed = &r.keyID, true
	return oldKeyID, nil
}

func (r *renewal) reportSwitched() {
	if r.o.Output == "json" {
		return
	}
	w := r.o.IO.Out
	fmt.Fprintf(w, "✓ new certificate %s, valid until %s\n", termtext.Escape(r.new.Leaf.Subject.String()), r.new.Leaf.NotAfter.UTC().Format(time.DateOnly))
	fmt.Fprintf(w, "  Thumbprint (SHA-1):   %s\n  Thumbprint (SHA-256): %s\n", r.out.Thumbprint, r.out.ThumbprintSHA256)
	fmt.Fprintf(w, "✓ added to the app registration: keyId %s\n", r.keyID)
	fmt.Fprintf(w, "✓ token with the new certificate\n")
	fmt.Fprintf(w, "✓ profile '%s' now uses %s (previous: %s)\n", r.p.Name, r.newPath, r.p.CertificatePath)
}

func (r *renewal) finish() error {
	if r.o.Output == "json" {
		return writeJSON(r.o.IO.Out, r.out)
	}
	if !r.o.RemoveOld {
		fmt.Fprintf(r.o.IO.Out, "  the old key stays in the app registration until it expires; remove it with --remove-old next time, or in the portal\n")
	}
	return nil
}

// removeOld removes the old key from the app with a proof signed by the new one. The
// old keyId is the one the profile recorded, else --old-key-id, else the app's key with
// the old thumbprint. The rotation stands whatever happens here.
func (r *renewal) removeOld(ctx context.Context, c *graph.Client, recorded string) error {
	oldTP := r.out.PreviousThumbprint
	keyID := recorded
	if keyID == "" {
		keyID = r.o.OldKeyID
	}
	if keyID == "" {
		var err error
		if keyID, err = r.findKey(ctx, c, oldTP); err != nil {
			return r.removeFailed(err, oldTP)
		}
	}
	ctx, cancel := ctxTimeout(ctx, r.o.Timeout)
	defer cancel()
	proof, err := graph.NewProof(r.new.Key, r.new.Leaf, r.p.ApplicationObjectID, r.o.App.Now())
	if err == nil {
		err = c.RemoveKey(ctx, r.p.ApplicationObjectID, keyID, proof)
	}
	if err != nil {
		return r.removeFailed(fmt.Errorf("removing keyId %s: %w", keyID, err), oldTP)
	}
	r.out.RemovedKeyID = &keyID
	if r.o.Output != "json" {
		fmt.Fprintf(r.o.IO.Out, "✓ removed the old key from the app registration: keyId %s (thumbprint %s)\n", keyID, oldTP)
	}
	return r.finish()
}

// findKey finds the old key's keyId among the app's key credentials, by thumbprint.
func (r *renewal) findKey(ctx context.Context, c *graph.Client, thumbprint string) (string, error) {
	ctx, cancel := ctxTimeout(ctx, r.o.Timeout)
	defer cancel()
	keys, err := c.KeyCredentials(ctx, r.p.ApplicationObjectID)
	if err != nil {
		return "", fmt.Errorf("the old key's ID is not known and the app's keys could not be listed: %w", err)
	}
	for _, k := range keys {
		if profile.NormThumbprint(k.Thumbprint()) == profile.NormThumbprint(thumbprint) {
			return k.KeyID, nil
		}
	}
	return "", fmt.Errorf("no key of the app registration has thumbprint %s (removed already?)", thumbprint)
}

// removeFailed reports a removal that did not happen: the rotation stands, exit 1.
func (r *renewal) removeFailed(err error, oldTP string) error {
	if r.o.Output == "json" {
		if werr := writeJSON(r.o.IO.Out, r.out); werr != nil {
			return werr
		}
	}
	return withCode(ExitFailure, fmt.Errorf("the renewal stands (profile '%s' uses the new certificate), but the old key was not removed: %w; remove it in the portal (App registrations → the app → Certificates & secrets, thumbprint %s)",
		r.p.Name, err, oldTP))
}
