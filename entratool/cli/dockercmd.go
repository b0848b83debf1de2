package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"github.com/spf13/cobra"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/token"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/helpers/dockercred"
	"github.com/entratool/entratool/helpers/dockercred/acr"
)

func (a *App) dockerCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "docker",
		Short: "Wire docker-credential-entra into docker, buildkit, crane and helm (Azure Container Registry)",
		Args:  noArgs,
	}
	cmd.AddCommand(newDockerSetupCmd(a, nil), newDockerCredentialHelperCmd(a, nil))
	return cmd
}

// dockerHelperOptions are the inputs of docker credential-helper: the helper's
// arguments as it got them (ACTION first), unparsed; the request is on IO.In.
type dockerHelperOptions struct {
	configEnv
	Args []string
}

// newDockerCredentialHelperCmd is docker-credential-entra's full implementation, run in
// entratool-engine when the lean helper cannot answer from the cache: same arguments,
// same stdin, and the docker credential protocol's answer and exit code.
func newDockerCredentialHelperCmd(a *App, runF func(context.Context, *dockerHelperOptions) error) *cobra.Command {
	opts := &dockerHelperOptions{}
	return &cobra.Command{
		Use:                "credential-helper ACTION",
		Short:              "docker-credential-entra's engine (run by the helper, not by people)",
		Hidden:             true,
		DisableFlagParsing: true,
		RunE:               runE(a, opts, &opts.configEnv, func(_ *cobra.Command, args []string) { opts.Args = args }, runF, runDockerCredentialHelper),
	}
}

// runDockerCredentialHelper answers one docker credential protocol request
// (helpers/dockercred) with the whole token pipeline behind it.
func runDockerCredentialHelper(ctx context.Context, opts *dockerHelperOptions) error {
	ctx, cancel := context.WithTimeout(ctx, dockerHelperTimeout)
	defer cancel()
	a := opts.App
	h := &dockercred.Helper{
		Backend: &engineBackend{a: a, client: token.NewHTTPClient(token.HTTPOptions{Logger: a.logger})},
		Getenv:  a.Getenv,
		Version: version.Current,
		Debug:   a.debugf,
	}
	if code := dockercred.Run(ctx, h, opts.Args, opts.IO.In, opts.IO.Out); code != 0 {
		// The answer is on stdout already, as docker expects it.
		return withCode(code, errors.New(""))
	}
	return nil
}

// dockerHelperTimeout bounds one request, retries included: docker waits for its
// helper without a bound of its own.
const dockerHelperTimeout = 60 * time.Second

// engineBackend gives the helper the whole token pipeline.
type engineBackend struct {
	a      *App
	client *http.Client
	cfg    *profile.Config
}

func (b *engineBackend) Profiles() ([]dockercred.Profile, error) {
	st, err := b.a.profiles()
	if err != nil {
		return nil, err
	}
	cfg, err := st.Load()
	if err != nil {
		return nil, err
	}
	b.cfg = cfg
	return dockercred.Profiles(cfg, b.a.Getenv), nil
}

func (b *engineBackend) Account(ctx context.Context, name string) (dockercred.Account, error) {
	p := b.cfg.Find(name, b.a.Getenv)
	if p == nil {
		return nil, fmt.Errorf("profile %q not found in %s", name, b.cfg.Path)
	}
	// Never a prompt: docker's stdin carried the request.
	pr, err := b.a.provider(p, false)
	if err != nil {
		return nil, err
	}
	return &engineAccount{b: b, p: p, pr: pr}, nil
}

type engineAccount struct {
	b  *engineBackend
	p  *profile.Profile
	pr *token.Provider
}

func (e *engineAccount) RefreshToken(ctx context.Context, registry, scope string) (dockercred.RefreshToken, error) {
	cache := e.pr.Cache()
	if rt, ok := dockercred.CachedRefreshToken(cache, e.p, registry, scope); ok {
		return rt, nil
	}
	// The key names the credential by its thumbprint, which a certificate not seen
	// before (or whose thumbprint could not be remembered) only yields once it is
	// opened: getting the Entra token does that, and names the certificate it loaded.
	// Never the path: a new certificate there must not reuse the old one's token.
	credID, ok := tokencache.CredentialID(e.p, cache.Dir)
	var at *token.Token
	if !ok {
		t, id, err := e.pr.TokenWithCredential(ctx, scope, false)
		if err != nil {
			return dockercred.RefreshToken{}, fmt.Errorf("Entra ID token for %s: %w", scope, err)
		}
		at, credID = t, id
	}
	t, err := cache.Fetch(ctx, dockercred.RefreshKey(e.p, registry, scope, credID), false, func(ctx context.Context) (*token.Token, error) {
		if at == nil {
			t, id, err := e.pr.TokenWithCredential(ctx, scope, false)
			if err != nil {
				return nil, fmt.Errorf("Entra ID token for %s: %w", scope, err)
			}
			if id != credID {
				return nil, fmt.Errorf("the certificate of profile %q changed while its token was being made; try again", e.p.Name)
			}
			at = t
		}
		e.b.a.debugf("exchanging an Entra ID token", "registry", registry, "profile", e.p.Name, "scope", scope)
		rt, err := acr.Exchange(ctx, e.b.client, registry, e.p.TenantID, at.AccessToken)
		if err != nil {
			return nil, err
		}
		// acr.Exchange refuses a refresh token without a readable exp (SPEC §12), so
		// ExpiresOn is always the registry's.
		return &token.Token{AccessToken: rt.Token, TokenType: dockercred.CacheKind, ExpiresOn: rt.ExpiresOn, Scope: scope, TenantID: e.p.TenantID, ClientID: e.p.ClientID}, nil
	}, e.b.a.warn)
	if err != nil {
		return dockercred.RefreshToken{}, err
	}
	return dockercred.RefreshToken{Token: t.AccessToken, ExpiresOn: t.ExpiresOn}, nil
}

func (e *engineAccount) ForgetRefreshToken(ctx context.Context, registry, scope string) error {
	return dockercred.ForgetRefreshTokens(e.pr.Cache(), e.p, registry, scope)
}

// dockerSetupOptions are the inputs of docker setup.
type dockerSetupOptions struct {
	configEnv
	ProfileFlag string // the global -p
	Registry    string // --registry HOST; prompted for on a terminal when ""
	Remove      bool   // --remove
}

func newDockerSetupCmd(a *App, runF func(context.Context, *dockerSetupOptions) error) *cobra.Command {
	opts := &dockerSetupOptions{}
	cmd := &cobra.Command{
		Use:   "setup -p NAME --registry HOST [--remove]",
		Short: "Log docker in to a registry with a profile: credHelpers[HOST] = \"entra\"",
		Long: "Adds HOST to the profile's registries and sets credHelpers[HOST] = \"entra\" in $DOCKER_CONFIG/config.json\n" +
			"(default ~/.docker/config.json), keeping every other key as it was. docker, buildkit, crane, helm and\n" +
			"other go-containerregistry programs then run docker-credential-entra for HOST. --remove undoes both.",
		Args: noArgs,
		RunE: runE(a, opts, &opts.configEnv, func(_ *cobra.Command, _ []string) { opts.ProfileFlag = a.profileName }, runF, runDockerSetup),
	}
	cmd.Flags().StringVar(&opts.Registry, "registry", "", "registry host name (login server), e.g. myregistry.azurecr.io")
	cmd.Flags().BoolVar(&opts.Remove, "remove", false, "undo: drop HOST from the profile and from docker's credHelpers")
	return cmd
}

// runDockerSetup sets (or with Remove drops) credHelpers[HOST] = "entra" in docker's
// config.json and HOST in the profile's registries.
func runDockerSetup(ctx context.Context, opts *dockerSetupOptions) error {
	host, err := opts.registryHost()
	if err != nil {
		return err
	}
	p, _, err := opts.App.loadNamedProfile(opts.ProfileFlag)
	if err != nil {
		return err
	}
	// setup lists the registry in the profile, in profiles.json, where the env profile
	// is not: its registries are ENTRATOOL_REGISTRIES.
	if err := refuseEnv(p, "set up (list the registry in "+profile.EnvRegistries+")"); err != nil {
		return err
	}
	dir, err := dockercred.ConfigDir(opts.App.Getenv)
	if err != nil {
		return err
	}
	path := filepath.Join(dir, "config.json")
	if opts.Remove {
		return opts.remove(ctx, p, host, path)
	}
	return opts.setup(ctx, p, host, path)
}

// registryHost is --registry (or the answer to its prompt) as docker names the registry.
func (o *dockerSetupOptions) registryHost() (string, error) {
	reg, err := o.IO.need(o.Registry, "registry", "Registry (login server, e.g. myregistry.azurecr.io)")
	if err != nil {
		return "", err
	}
	host, ok := dockercred.NormalizeServerURL(reg)
	if !ok {
		return "", usageErr("--registry %q is not a registry name like myregistry.azurecr.io or host:port (https only)", reg)
	}
	return host, nil
}

func (o *dockerSetupOptions) setup(ctx context.Context, p *profile.Profile, host, path string) error {
	// docker's file is checked first: a malformed one stops the command before
	// profiles.json changes.
	dc, err := readDockerConfig(path)
	if err != nil {
		return err
	}
	out, previous, err := dockercred.SetCredHelper(dc.path, dc.data, host, dockercred.HelperName)
	if err != nil {
		return err
	}
	// Already "entra": the file is left as it is, not rewritten in setup's layout.
	configChanged := previous != dockercred.HelperName
	movedFrom, profileChanged, err := o.claimRegistry(ctx, p, host)
	if err != nil {
		return err
	}
	for _, other := range movedFrom {
		fmt.Fprintf(o.IO.Err, "note: profile '%s' listed %s as well; removed it there, so that docker uses '%s'\n", other, host, p.Name)
	}
	if previous != "" && configChanged {
		fmt.Fprintf(o.IO.Err, "note: credHelpers[%q] was %q; now %q\n", host, previous, dockercred.HelperName)
	}
	if configChanged {
		if err := dc.update(out); err != nil {
			return err
		}
	}
	if !dockercred.IsACRHost(host) {
		o.warn(fmt.Sprintf("warning: %s is not an Azure Container Registry (*.azurecr.io, *.azurecr.us, *.azurecr.cn): docker-credential-entra will still try ACR's token exchange there", host))
	}
	if !helperOnPath(o.App.Getenv("PATH"), "docker-credential-entra") {
		o.warn("warning: docker-credential-entra is not on PATH; docker runs it from there (install it beside entratool)")
	}
	if configChanged && profileChanged {
		fmt.Fprintf(o.IO.Out, "✓ docker will log in to %s with profile '%s' (credHelpers in %s)\n", host, p.Name, dc.path)
		return nil
	}
	// A repeated run must not read as if it had set things up again: each half says
	// whether it changed.
	if configChanged {
		fmt.Fprintf(o.IO.Out, "✓ credHelpers[%q] = %q in %s\n", host, dockercred.HelperName, dc.path)
	} else {
		fmt.Fprintf(o.IO.Out, "✓ credHelpers[%q] = %q in %s: unchanged\n", host, dockercred.HelperName, dc.path)
	}
	if profileChanged {
		fmt.Fprintf(o.IO.Out, "✓ profile '%s' now lists %s\n", p.Name, host)
	} else {
		fmt.Fprintf(o.IO.Out, "✓ profile '%s' lists %s already: unchanged\n", p.Name, host)
	}
	return nil
}

// claimRegistry lists host in p's registries and in no other profile's, since the
// helper serves a registry with the first profile that lists it; it returns the
// profiles host was taken from, and whether profiles.json changed (it is not rewritten
// when it already says so).
func (o *dockerSetupOptions) claimRegistry(ctx context.Context, p *profile.Profile, host string) (movedFrom []string, changed bool, err error) {
	st, err := o.App.profiles()
	if err != nil {
		return nil, false, err
	}
	// Returned by the change to leave the file unwritten; decided under the store's lock.
	unchanged := errors.New("unchanged")
	err = st.Update(ctx, func(c *profile.Config) error {
		q, err := c.Existing(p.Name)
		if err != nil {
			return err
		}
		for _, other := range c.Profiles {
			if other != nil && other != q && hasRegistry(other.Registries, host) {
				other.Registries = withoutRegistry(other.Registries, host)
				movedFrom = append(movedFrom, other.Name)
			}
		}
		if !hasRegistry(q.Registries, host) {
			q.Registries = append(q.Registries, host)
			changed = true
		}
		if !changed && len(movedFrom) == 0 {
			return unchanged
		}
		return nil
	})
	if errors.Is(err, unchanged) {
		return nil, false, nil
	}
	return movedFrom, changed, err
}

func (o *dockerSetupOptions) remove(ctx context.Context, p *profile.Profile, host, path string) error {
	dc, err := readDockerConfig(path)
	if err != nil {
		return err
	}
	out, current, err := dockercred.RemoveCredHelper(dc.path, dc.data, host, dockercred.HelperName)
	if err != nil {
		return err
	}
	st, err := o.App.profiles()
	if err != nil {
		return err
	}
	// A profile deleted meanwhile lists no registry any more: nothing to drop there.
	_, err = st.UpdateProfile(ctx, p.Name, func(q *profile.Profile) error {
		q.Registries = withoutRegistry(q.Registries, host)
		return nil
	})
	if err != nil && !errors.Is(err, profile.ErrProfileDeleted) {
		return err
	}
	if current != "" && current != dockercred.HelperName {
		fmt.Fprintf(o.IO.Err, "note: credHelpers[%q] is %q, not %q: left as it is\n", host, current, dockercred.HelperName)
	}
	if err := dc.update(out); err != nil {
		return err
	}
	o.forgetRegistryTokens(p, host)
	fmt.Fprintf(o.IO.Out, "✓ docker no longer logs in to %s with profile '%s'\n", host, p.Name)
	return nil
}

// forgetRegistryTokens drops p's cached refresh tokens for host, of no further use.
func (o *dockerSetupOptions) forgetRegistryTokens(p *profile.Profile, host string) {
	pr, err := o.App.provider(p, true)
	if err != nil {
		return
	}
	_, _ = pr.Cache().DeleteMatching(func(k token.Key) bool {
		return k.Kind == dockercred.CacheKind && k.OfApp(p) && dockercred.SameRegistry(k.Authority, host)
	})
}

func hasRegistry(list []string, host string) bool {
	for _, r := range list {
		if dockercred.SameRegistry(r, host) {
			return true
		}
	}
	return false
}

func withoutRegistry(list []string, host string) []string {
	var out []string
	for _, r := range list {
		if !dockercred.SameRegistry(r, host) {
			out = append(out, r)
		}
	}
	return out
}

// dockerConfig is config.json as read: the file written to (a symlink's target, as
// docker itself writes through it), its bytes and mode.
type dockerConfig struct {
	path   string
	data   []byte
	mode   fs.FileMode
	exists bool
}

func readDockerConfig(path string) (*dockerConfig, error) {
	dc := &dockerConfig{path: path, mode: 0o600}
	if target, err := filepath.EvalSymlinks(path); err == nil {
		dc.path = target
	}
	fi, err := os.Stat(dc.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dc, nil
	case err != nil:
		return nil, fmt.Errorf("docker config: %w", err)
	case fi.IsDir():
		return nil, fmt.Errorf("docker config %s is a directory", dc.path)
	}
	data, err := os.ReadFile(dc.path)
	if err != nil {
		return nil, fmt.Errorf("docker config: %w", err)
	}
	dc.data, dc.mode, dc.exists = data, fi.Mode().Perm(), true
	return dc, nil
}

// update writes data unless it is what the file holds already.
func (dc *dockerConfig) update(data []byte) error {
	if bytes.Equal(data, dc.data) {
		return nil
	}
	return dc.write(data)
}

func (dc *dockerConfig) write(data []byte) error {
	dir := filepath.Dir(dc.path)
	if _, err := os.Stat(dir); errors.Is(err, fs.ErrNotExist) {
		if err := fsutil.EnsurePrivateDir(dir); err != nil {
			return err
		}
	}
	return fsutil.WriteFileAtomic(dc.path, data, dc.mode)
}

// helperOnPath reports whether an executable named name is in one of pathList's directories.
func helperOnPath(pathList, name string) bool {
	if runtime.GOOS == "windows" {
		name += ".exe"
	}
	for _, d := range filepath.SplitList(pathList) {
		if d == "" {
			continue
		}
		fi, err := os.Stat(filepath.Join(d, name))
		if err == nil && !fi.IsDir() && (runtime.GOOS == "windows" || fi.Mode()&0o111 != 0) {
			return true
		}
	}
	return false
}
