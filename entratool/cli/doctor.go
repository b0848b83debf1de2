package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/token"
)

// doctorOptions are the inputs of doctor.
type doctorOptions struct {
	configEnv
	ProfileFlag string        // the global -p: check that profile only
	Live        bool          // --live: get a token from the authority for each profile checked
	Timeout     time.Duration // --timeout: the bound of each --live token request
}

func newDoctorCmd(a *App, runF func(context.Context, *doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{}
	cmd := &cobra.Command{
		Use:   "doctor [-p NAME] [--live [--timeout 30s]]",
		Short: "Check files, permissions, secret store, certificates and helper wiring",
		Long: "Check entratool-engine, the home and file permissions, the secret store, certificates and the\n" +
			"git and docker wiring, offline: one line each, ✓ or ✗ with the fix. With --live, also get a new\n" +
			"token from the authority for each profile checked (the cache is not used), and say why not if none comes.",
		Args: noArgs,
		RunE: runE(a, opts, &opts.configEnv, func(_ *cobra.Command, _ []string) { opts.ProfileFlag = a.profileName }, runF, runDoctor),
	}
	cmd.Flags().BoolVar(&opts.Live, "live", false, "also get a token from the authority for each profile checked (network)")
	cmd.Flags().Var(newTimeoutFlag(&opts.Timeout, launch.DefaultTimeout), "timeout", "with --live, give up on each token after this long")
	return cmd
}

// runDoctor prints one line per check, ✓ or ✗ with the fix, and fails (exit 1) if any
// check did.
func runDoctor(ctx context.Context, opts *doctorOptions) error {
	d := &doctor{opts: opts, getenv: opts.App.Getenv, refused: map[string]bool{}}
	d.run(ctx)
	if d.failed > 0 {
		return withCode(ExitFailure, fmt.Errorf("doctor: %d check(s) failed", d.failed))
	}
	return nil
}

// doctor is one run of the checks, counting the failed ones.
type doctor struct {
	opts   *doctorOptions
	getenv func(string) string
	failed int
	// refused are the paths a ✗ line already named as refused by the trust rules, so
	// that what cannot be read because of them is not reported as a second problem.
	refused map[string]bool
}

// Each line is escaped as a whole: it may quote a certificate's subject or a file's name.
func (d *doctor) ok(format string, args ...any) { d.line("✓ "+format, args...) }
func (d *doctor) bad(fix string, format string, args ...any) {
	d.failed++
	d.line("✗ "+format+" — fix: %s", append(args, fix)...)
}
func (d *doctor) warn(format string, args ...any) { d.line("! "+format, args...) }
func (d *doctor) line(format string, args ...any) {
	fmt.Fprintln(d.opts.IO.Out, termtext.Escape(fmt.Sprintf(format, args...)))
}

func (d *doctor) run(ctx context.Context) {
	d.checkEngine()
	home, err := d.opts.App.home()
	if err != nil {
		d.bad("set ENTRATOOL_HOME", "home: %v", err)
		return
	}
	d.checkDir(home, "home", "ENTRATOOL_HOME")
	cfg := d.loadProfiles(home)
	if cfg == nil {
		return
	}
	cacheDir := token.CacheDir(home, d.getenv)
	if _, err := os.Stat(cacheDir); err == nil {
		d.checkDir(cacheDir, "token cache", "ENTRATOOL_CACHE_DIR")
	}
	profiles, ok := d.selectProfiles(cfg)
	if !ok {
		return
	}
	for _, p := range profiles {
		d.checkProfile(ctx, home, p)
	}
}

// loadProfiles checks profiles.json and returns its profiles, nil when there are none
// to check.
func (d *doctor) loadProfiles(home string) *profile.Config {
	st := &profile.Store{Home: home}
	d.checkFile(st.Path(), "profiles")
	cfg, err := st.Load()
	var u *fsutil.UntrustedError
	switch {
	case errors.As(err, &u) && d.refused[u.Path]:
		d.warn("profiles in %s not read: entratool refuses %s (above)", st.Path(), u.Path)
		return nil
	case errors.As(err, &u):
		d.untrusted("profiles", err)
		return nil
	case err != nil:
		d.bad("correct the file at the position shown (it is never overwritten while malformed)", "%v", err)
		return nil
	}
	if len(cfg.Profiles) == 0 {
		if d.envProfileSelected() {
			d.ok("profiles: none in %s; profile '%s' comes from the AZURE_* variables", st.Path(), profile.EnvName)
			return cfg
		}
		d.bad("run `entratool config create`", "no profiles in %s", st.Path())
		return nil
	}
	d.ok("profiles: %d in %s", len(cfg.Profiles), st.Path())
	return cfg
}

// selectProfiles is the profile -p or ENTRATOOL_PROFILE names, else every profile;
// false when the one named is missing.
func (d *doctor) selectProfiles(cfg *profile.Config) ([]*profile.Profile, bool) {
	if d.opts.ProfileFlag == "" && d.getenv("ENTRATOOL_PROFILE") == "" && len(cfg.Profiles) > 0 {
		return cfg.Profiles, true
	}
	p, err := cfg.Resolve(d.opts.ProfileFlag, d.getenv)
	if err != nil {
		d.bad("pick an existing profile (`entratool config list`)", "%v", err)
		return nil, false
	}
	return []*profile.Profile{p}, true
}

// envProfileSelected reports whether the env profile is the one -p, ENTRATOOL_PROFILE
// or, with nothing stored, the AZURE_* variables choose.
func (d *doctor) envProfileSelected() bool {
	name := d.opts.ProfileFlag
	if name == "" {
		name = d.getenv("ENTRATOOL_PROFILE")
	}
	return name == profile.EnvName || name == "" && profile.EnvAvailable(d.getenv)
}

// checkEngine reports the engine the entratool front found and checked before handing
// it this command line (launch.CheckEngine); a missing or mismatched one the front
// reported itself, since then this code does not run.
func (d *doctor) checkEngine() {
	if c, ok := launch.EngineChecked("entratool", d.getenv); ok {
		d.line("%s", c.Line())
		return
	}
	d.warn("%s: not checked (doctor was not started through entratool)", launch.EngineName)
}

// checkDir checks a directory entratool keeps state in: the trust rules (SPEC §12:
// owned by the user, not writable by group or others), private to the user, and
// writable by them. envVar is the variable that moves it elsewhere.
func (d *doctor) checkDir(dir, what, envVar string) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.bad("run `entratool config create`", "%s %s does not exist", what, dir)
	case err != nil:
		d.bad("check the path", "%s %s: %v", what, dir, err)
	case d.untrustedDir(what, envVar, fi, fsutil.CheckDir(dir)):
	case fi.Mode().Perm()&0o077 != 0:
		d.bad("chmod 700 "+fsutil.ShellQuote(dir), "%s %s is %04o (group/others can read it)", what, dir, fi.Mode().Perm())
	default:
		if err := dirWritable(dir, fi); err != nil {
			d.bad("chmod 700 "+fsutil.ShellQuote(dir)+" (or, on a read-only file system, set "+envVar+" to a writable directory)",
				"%s %s is not writable by you (%v): entratool cannot save profiles, secrets or tokens there", what, dir, err)
			return
		}
		d.ok("%s %s (%04o)", what, dir, fi.Mode().Perm())
	}
}

// untrustedDir reports a directory the trust rules refuse as a failed check naming its
// mode, and whether there was one. A directory someone else owns cannot be fixed with
// chmod: the fix is a directory of one's own.
func (d *doctor) untrustedDir(what, envVar string, fi os.FileInfo, err error) bool {
	var u *fsutil.UntrustedError
	if !errors.As(err, &u) {
		return false
	}
	d.refused[u.Path] = true
	problem, fix := u.Problem, u.Fix
	if !strings.Contains(problem, "(mode ") {
		problem += fmt.Sprintf(" (mode %04o)", fi.Mode().Perm())
	}
	if strings.Contains(u.Problem, "owned by") {
		fix = "use a directory of your own (set " + envVar + "), or have root give this one to you: sudo chown -R \"$(id -un)\" " + fsutil.ShellQuote(u.Path)
	}
	d.bad(fix, "%s %s %s: entratool refuses it", what, u.Path, problem)
	return true
}

// untrusted reports a refusal of the trust rules (SPEC §12: owner, mode, file type) as
// a failed check, and whether there was one.
func (d *doctor) untrusted(what string, err error) bool {
	var u *fsutil.UntrustedError
	if !errors.As(err, &u) {
		return false
	}
	d.refused[u.Path] = true
	d.bad(u.Fix, "%s %s %s: entratool refuses it", what, u.Path, u.Problem)
	return true
}

func (d *doctor) checkFile(path, what string) {
	fi, err := os.Lstat(path)
	if err == nil && fi.Mode()&os.ModeSymlink != 0 {
		fi, err = os.Stat(path)
	}
	switch {
	case errors.Is(err, os.ErrNotExist):
		return
	case err != nil:
		d.bad("check the path", "%s %s: %v", what, path, err)
	case d.untrusted(what, fsutil.CheckFile(path, fi)):
	case fi.Mode().Perm()&0o077 != 0:
		d.bad("chmod 600 "+path, "%s %s is %04o (group/others can read it)", what, path, fi.Mode().Perm())
	default:
		d.ok("%s file %s (%04o)", what, path, fi.Mode().Perm())
	}
}

func (d *doctor) checkProfile(ctx context.Context, home string, p *profile.Profile) {
	if err := p.Validate(); err != nil {
		d.bad("`entratool config edit -p "+p.Name+"`", "profile %s: %v", p.Name, err)
		return
	}
	before := d.failed
	thumbprint := ""
	switch p.Method() {
	case profile.MethodFederated:
		// No secret: the secret store (a keyring, perhaps) is never asked.
		d.checkFederated(p)
	case profile.MethodManagedIdentity:
		d.checkManagedIdentity(p)
	default:
		pw := d.checkSecret(ctx, home, p)
		if p.Method() == profile.MethodCertificate && p.CertificatePath != "" {
			thumbprint = d.checkCertificate(ctx, p, pw)
		} else if p.CertificateStore != "" {
			thumbprint = profile.NormThumbprint(p.CertificateThumbprint)
			d.ok("profile %s: key in the %s store, thumbprint %s (plugin not started by doctor)", p.Name, p.CertificateStore, thumbprint)
		}
	}
	if d.opts.Live {
		if d.failed > before {
			d.warn("profile %s: no token requested: fix the checks above first", p.Name)
		} else {
			d.checkToken(ctx, p, thumbprint)
		}
	}
	d.checkWiring(ctx, p)
}

// checkSecret checks that p's secret store opens and holds what p needs, and returns
// the certificate password or client secret it holds ("" when none).
func (d *doctor) checkSecret(ctx context.Context, home string, p *profile.Profile) string {
	kind := d.opts.App.secretStoreLabel(p)
	var store secret.Store = azureEnvSecrets{getenv: d.getenv}
	var err error
	if !p.FromEnvironment {
		store, err = secret.Open(kind, home, d.getenv)
	}
	if err != nil {
		d.bad("choose another store: --secret-store file, or ENTRATOOL_SECRET_STORE=env", "profile %s: secret store %s: %v", p.Name, kind, err)
		return ""
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	isCert := p.Method() == profile.MethodCertificate
	want := secret.CertificatePassword
	if !isCert {
		want = secret.ClientSecret
	}
	v, err := store.Get(sctx, secret.Key(p.Name, want))
	cancel()
	switch {
	case err == nil:
		d.ok("profile %s: secret store %s reachable, %s present", p.Name, kind, want)
		return v
	case errors.Is(err, secret.ErrNotFound) && isCert:
		d.ok("profile %s: secret store %s reachable (no certificate password stored)", p.Name, kind)
	case errors.Is(err, secret.ErrNotFound) && p.FromEnvironment:
		d.bad("export "+profile.EnvAzureClientSecret, "profile %s: %s is not set", p.Name, profile.EnvAzureClientSecret)
	case errors.Is(err, secret.ErrNotFound):
		d.bad("`entratool config edit -p "+p.Name+"` → Client Secret", "profile %s: no client secret in the %s store", p.Name, kind)
	default:
		d.bad("choose another store: `entratool config edit -p "+p.Name+" --secret-store file`, or ENTRATOOL_SECRET_STORE=env", "profile %s: secret store %s: %v", p.Name, kind, err)
	}
	return ""
}

// checkCertificate checks that p's certificate file opens and is valid, and returns its
// SHA-1 thumbprint as the Azure portal shows it ("" when it does not open).
func (d *doctor) checkCertificate(ctx context.Context, p *profile.Profile, pw string) string {
	if w := cert.PermissionWarning(p.CertificatePath); w != "" {
		w = strings.TrimPrefix(w, "warning: ")
		if i := strings.Index(w, "; run:"); i >= 0 {
			w = w[:i]
		}
		d.bad("chmod 600 "+p.CertificatePath, "profile %s: %s", p.Name, w)
	}
	c, err := cert.Load(ctx, p.CertificatePath, pw)
	if err != nil {
		fix := "`entratool config edit -p " + p.Name + "` → Certificate Path"
		if errors.Is(err, cert.ErrBadPassword) {
			fix = "`entratool config edit -p " + p.Name + "` → Certificate Password"
		}
		d.bad(fix, "profile %s: %v", p.Name, err)
		return ""
	}
	thumbprint := cert.ThumbprintSHA1(c.Leaf)
	now := d.opts.App.Now()
	if err := cert.CheckValidity(c.Leaf, now); err != nil {
		d.bad("create and upload a new certificate, then `entratool config rotate -p "+p.Name+" --certificate NEW.pfx`", "profile %s: %v", p.Name, err)
		return thumbprint
	}
	days := int(c.Leaf.NotAfter.Sub(now).Hours() / 24)
	if days < 30 {
		d.warn("profile %s: certificate %s expires in %d days (%s) — plan `entratool config rotate`", p.Name, thumbprint, days, c.Leaf.NotAfter.UTC().Format("2006-01-02"))
		return thumbprint
	}
	d.ok("profile %s: certificate %s opens, thumbprint %s, %d days left", p.Name, p.CertificatePath, thumbprint, days)
	return thumbprint
}

// checkFederated checks a federated profile's token source offline: the token file is
// there and its token unexpired, or the CI system's variables are set.
func (d *doctor) checkFederated(p *profile.Profile) {
	if path := p.FederatedTokenFile; path != "" {
		now := d.opts.App.Now()
		st := inspectTokenFile(path, now)
		switch {
		case !st.Present && st.Error == "":
			d.bad("have the token written there before a token is requested (AKS workload identity mounts it and sets "+profile.EnvAzureFederatedToken+")",
				"profile %s: federated token file %s is missing", p.Name, path)
		case !st.Present:
			d.bad("check the path and its permissions", "profile %s: federated token file %s: %s", p.Name, path, st.Error)
		case st.Error != "":
			d.bad("the file must hold the OIDC token (a JWT) alone", "profile %s: federated token file %s: %s", p.Name, path, st.Error)
		case st.Expired:
			d.bad("its issuer must rewrite it before it expires (the kubelet does every hour); write a fresh one",
				"profile %s: the token in %s expired %s", p.Name, path, st.ExpiresOn.Format(time.RFC3339))
		default:
			d.ok("profile %s: federated token file %s present, token expires %s (audience %s)", p.Name, path, st.ExpiresOn.Format(time.RFC3339), p.Audience())
		}
		return
	}
	vars := sourceVariables(p)
	var missing []string
	for _, v := range vars {
		if d.getenv(v) == "" {
			missing = append(missing, v)
		}
	}
	fix := "run in a GitHub Actions job with `permissions: id-token: write`"
	if p.FederatedTokenSource == profile.SourceAzurePipelines {
		fix = "run in an Azure Pipelines job, with " + envAzDOAccessToken + " mapped from $(System.AccessToken)"
	}
	if len(missing) > 0 {
		d.bad(fix, "profile %s: %s not set: no %s ID token can be requested here", p.Name, strings.Join(missing, " and "), p.FederatedTokenSource)
		return
	}
	d.ok("profile %s: %s set (%s, audience %s)", p.Name, strings.Join(vars, " and "), p.FederatedTokenSource, p.Audience())
	if p.FederatedTokenSource == profile.SourceAzurePipelines {
		if id, _ := serviceConnection(p, d.getenv); id == "" {
			d.bad("`entratool config edit -p "+p.Name+" --service-connection-id ID`, or set "+envAzDOServiceConnID,
				"profile %s: no service connection ID", p.Name)
		}
	}
}

// checkManagedIdentity says which identity endpoint MSAL would use here, and whether it
// takes a user-assigned identity. Nothing is requested: --live does that.
func (d *doctor) checkManagedIdentity(p *profile.Profile) {
	src := profile.DetectMISource(d.getenv)
	if p.ManagedIdentityClientID != "" && src.NoUserAssigned != "" {
		d.bad("use the system-assigned identity (`entratool config edit -p "+p.Name+" --managed-identity`) or run where user-assigned identities are offered",
			"profile %s: %s (%s) refuses a user-assigned identity: %s", p.Name, src.Name, src.Why, src.NoUserAssigned)
		return
	}
	d.ok("profile %s: %s through %s (%s)", p.Name, p.MethodLabel(), src.Name, src.Why)
}
