package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/cert"
	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/secret"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/token"
)

// doctorOptions are the inputs of doctor.
type doctorOptions struct {
	configEnv
	ProfileFlag string // the global -p: check that profile only
}

func newDoctorCmd(a *App, runF func(context.Context, *doctorOptions) error) *cobra.Command {
	opts := &doctorOptions{}
	return &cobra.Command{
		Use:   "doctor [-p NAME]",
		Short: "Check files, permissions, secret store, certificates and helper wiring",
		Args:  noArgs,
		RunE:  runE(a, opts, &opts.configEnv, func(_ *cobra.Command, _ []string) { opts.ProfileFlag = a.profileName }, runF, runDoctor),
	}
}

// runDoctor prints one line per check, ✓ or ✗ with the fix, and fails (exit 1) if any
// check did.
func runDoctor(ctx context.Context, opts *doctorOptions) error {
	d := &doctor{opts: opts, getenv: opts.App.Getenv}
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
	home, err := d.opts.App.home()
	if err != nil {
		d.bad("set ENTRATOOL_HOME", "home: %v", err)
		return
	}
	d.checkDir(home, "home")
	cfg := d.loadProfiles(home)
	if cfg == nil {
		return
	}
	cacheDir := token.CacheDir(home, d.getenv)
	if _, err := os.Stat(cacheDir); err == nil {
		d.checkDir(cacheDir, "token cache")
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
	if err != nil {
		d.bad("correct the file at the position shown (it is never overwritten while malformed)", "%v", err)
		return nil
	}
	if len(cfg.Profiles) == 0 {
		d.bad("run `entratool config create`", "no profiles in %s", st.Path())
		return nil
	}
	d.ok("profiles: %d in %s", len(cfg.Profiles), st.Path())
	return cfg
}

// selectProfiles is the profile -p or ENTRATOOL_PROFILE names, else every profile;
// false when the one named is missing.
func (d *doctor) selectProfiles(cfg *profile.Config) ([]*profile.Profile, bool) {
	if d.opts.ProfileFlag == "" && d.getenv("ENTRATOOL_PROFILE") == "" {
		return cfg.Profiles, true
	}
	p, err := cfg.Resolve(d.opts.ProfileFlag, d.getenv)
	if err != nil {
		d.bad("pick an existing profile (`entratool config list`)", "%v", err)
		return nil, false
	}
	return []*profile.Profile{p}, true
}

func (d *doctor) checkDir(dir, what string) {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		d.bad("run `entratool config create`", "%s %s does not exist", what, dir)
	case err != nil:
		d.bad("check the path", "%s %s: %v", what, dir, err)
	case d.untrusted(what, fsutil.CheckDir(dir)):
	case fi.Mode().Perm()&0o077 != 0:
		d.bad("chmod 700 "+dir, "%s %s is %04o (group/others can read it)", what, dir, fi.Mode().Perm())
	default:
		d.ok("%s %s (%04o)", what, dir, fi.Mode().Perm())
	}
}

// untrusted reports a refusal of the trust rules (SPEC §12: owner, mode, file type) as
// a failed check, and whether there was one.
func (d *doctor) untrusted(what string, err error) bool {
	var u *fsutil.UntrustedError
	if !errors.As(err, &u) {
		return false
	}
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
	pw := d.checkSecret(ctx, home, p)
	if p.UseCertificate && p.CertificatePath != "" {
		d.checkCertificate(ctx, p, pw)
	} else if p.CertificateStore != "" {
		d.ok("profile %s: key in the %s store, thumbprint %s (plugin not started by doctor)", p.Name, p.CertificateStore, p.CertificateThumbprint)
	}
	d.checkWiring(p)
}

// checkSecret checks that p's secret store opens and holds what p needs, and returns
// the certificate password or client secret it holds ("" when none).
func (d *doctor) checkSecret(ctx context.Context, home string, p *profile.Profile) string {
	kind := secret.Choose(p.SecretStore, d.getenv)
	store, err := secret.Open(kind, home, d.getenv)
	if err != nil {
		d.bad("choose another store: --secret-store file, or ENTRATOOL_SECRET_STORE=env", "profile %s: secret store %s: %v", p.Name, kind, err)
		return ""
	}
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	want := secret.CertificatePassword
	if !p.UseCertificate {
		want = secret.ClientSecret
	}
	v, err := store.Get(sctx, secret.Key(p.Name, want))
	cancel()
	switch {
	case err == nil:
		d.ok("profile %s: secret store %s reachable, %s present", p.Name, kind, want)
		return v
	case errors.Is(err, secret.ErrNotFound) && p.UseCertificate:
		d.ok("profile %s: secret store %s reachable (no certificate password stored)", p.Name, kind)
	case errors.Is(err, secret.ErrNotFound):
		d.bad("`entratool config edit -p "+p.Name+"` → Client Secret", "profile %s: no client secret in the %s store", p.Name, kind)
	default:
		d.bad("choose another store: `entratool config edit -p "+p.Name+" --secret-store file`, or ENTRATOOL_SECRET_STORE=env", "profile %s: secret store %s: %v", p.Name, kind, err)
	}
	return ""
}

func (d *doctor) checkCertificate(ctx context.Context, p *profile.Profile, pw string) {
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
		return
	}
	now := d.opts.App.Now()
	if err := cert.CheckValidity(c.Leaf, now); err != nil {
		d.bad("create and upload a new certificate, then `entratool config rotate -p "+p.Name+" --certificate NEW.pfx`", "profile %s: %v", p.Name, err)
		return
	}
	days := int(c.Leaf.NotAfter.Sub(now).Hours() / 24)
	if days < 30 {
		d.warn("profile %s: certificate %s expires in %d days (%s) — plan `entratool config rotate`", p.Name, cert.ThumbprintSHA1(c.Leaf), days, c.Leaf.NotAfter.UTC().Format("2006-01-02"))
		return
	}
	d.ok("profile %s: certificate %s opens, thumbprint %s, %d days left", p.Name, p.CertificatePath, cert.ThumbprintSHA1(c.Leaf), days)
}

// checkWiring looks at the host tools' configuration for the helpers this profile serves.
func (d *doctor) checkWiring(p *profile.Profile) {
	if len(p.GitHosts) > 0 {
		d.checkGitWiring(p)
	}
	if len(p.Registries) > 0 {
		d.checkDockerWiring(p)
	}
}

// checkGitWiring looks for git's entra credential helper for each of p's git hosts.
func (d *doctor) checkGitWiring(p *profile.Profile) {
	if _, err := exec.LookPath("git-credential-entra"); err != nil {
		d.warn("profile %s: git-credential-entra is not on PATH (git setup writes its absolute path instead)", p.Name)
	}
	wired := gitEntraHosts()
	for _, h := range p.GitHosts {
		if strings.HasPrefix(h, "*.") {
			continue
		}
		if wired[strings.ToLower(h)] {
			d.ok("profile %s: git uses the entra helper for https://%s", p.Name, h)
		} else {
			d.bad("`entratool git setup -p "+p.Name+" --url https://"+h+"/ORG`", "profile %s: git has no entra credential helper for https://%s", p.Name, h)
		}
	}
}

// gitEntraHosts are the hosts (lower case) git's config has an entra credential helper
// for. credential.<url>.helper entries are usually scoped to an organization
// (https://dev.azure.com/ORG), so they are matched by host rather than by URL.
func gitEntraHosts() map[string]bool {
	out, _ := exec.Command("git", "config", "--get-regexp", `^credential\..*\.helper$`).Output()
	wired := map[string]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		key, val, ok := strings.Cut(line, " ")
		if !ok || !strings.Contains(val, "entra") {
			continue
		}
		u := strings.TrimSuffix(strings.TrimPrefix(key, "credential."), ".helper")
		if pu, err := url.Parse(u); err == nil && pu.Host != "" {
			wired[strings.ToLower(pu.Host)] = true
		}
	}
	return wired
}

// checkDockerWiring looks for credHelpers[REGISTRY] = "entra" in docker's config.json
// for each of p's registries.
func (d *doctor) checkDockerWiring(p *profile.Profile) {
	dir := d.getenv("DOCKER_CONFIG")
	if dir == "" {
		if h, err := os.UserHomeDir(); err == nil {
			dir = filepath.Join(h, ".docker")
		}
	}
	var cfg struct {
		CredHelpers map[string]string `json:"credHelpers"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "config.json"))
	if err == nil {
		err = json.Unmarshal(data, &cfg)
	}
	for _, r := range p.Registries {
		if err == nil && cfg.CredHelpers[r] == "entra" {
			d.ok("profile %s: docker uses the entra helper for %s", p.Name, r)
		} else {
			d.bad("`entratool docker setup -p "+p.Name+" --registry "+r+"`", "profile %s: docker has no credHelpers entry \"entra\" for %s", p.Name, r)
		}
	}
}
