package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/helpers/gitcred"
)

// checkWiring looks at the host tools' configuration for the helpers this profile serves.
func (d *doctor) checkWiring(ctx context.Context, p *profile.Profile) {
	d.checkGitWiring(ctx, p)
	if len(p.Registries) > 0 {
		d.checkDockerWiring(p)
	}
}

// checkGitWiring compares the git config entries that run git-credential-entra for p
// with p's gitHosts. A wired host the list does not allow is a failure: the helper will
// refuse it. A listed host nobody wired is one only when nothing is wired for p at all:
// `git setup` for one host keeps the defaults (dev.azure.com, *.visualstudio.com) in
// gitHosts, and an allowed host need not be in use.
func (d *doctor) checkGitWiring(ctx context.Context, p *profile.Profile) {
	wired, err := d.gitWiredHosts(ctx, p.Name)
	if err != nil {
		if len(p.GitHosts) > 0 {
			d.bad("install git, or check its configuration", "profile %s: cannot read git's configuration: %v", p.Name, err)
		}
		return
	}
	if len(wired) == 0 && len(p.GitHosts) == 0 {
		return
	}
	pathEnv := d.getenv("PATH")
	if pathEnv == "" {
		pathEnv = os.Getenv("PATH")
	}
	if _, err := gitcred.LookPath(gitcred.HelperBinary, pathEnv); err != nil {
		d.warn("profile %s: %s is not on PATH (git setup writes its absolute path instead)", p.Name, gitcred.HelperBinary)
	}
	setup := func(h string) string {
		url := "https://" + h
		if gitcred.IsAzureDevOpsHost(h) {
			url += "/ORG" // setup scopes dev.azure.com to an organization
		}
		return "`entratool git setup -p " + p.Name + " --url " + url + "`"
	}
	for _, h := range wired {
		if gitcred.Allowed(p.GitHosts, "https", h) {
			d.ok("profile %s: git uses the entra helper for https://%s", p.Name, h)
		} else {
			d.bad(setup(h)+", which adds it to gitHosts", "profile %s: git runs the entra helper for https://%s, but the profile's gitHosts do not allow it (the helper refuses it)", p.Name, h)
		}
	}
	for _, h := range p.GitHosts {
		key, ok := gitcred.HostKey(h)
		switch {
		case strings.HasPrefix(h, "*.") || !ok || slices.Contains(wired, key):
		case len(wired) == 0:
			d.bad(setup(h), "profile %s: git has no entra credential helper for https://%s", p.Name, h)
		case !slices.Contains(gitcred.DefaultHosts(), key):
			d.warn("profile %s: gitHosts allow %s, but git has no entra credential helper for it (%s if you use it)", p.Name, h, setup(h))
		}
	}
}

// gitWiredHosts are the hosts (gitHosts' spelling) of the credential.<url>.helper
// entries that run git-credential-entra for the profile, in the user's git config and,
// when doctor runs inside a repository, in that repository's — where `git setup` writes
// them, read as it reads them (gitcred).
func (d *doctor) gitWiredHosts(ctx context.Context, name string) ([]string, error) {
	var hosts []string
	for _, local := range []bool{false, true} {
		g, err := gitcred.OpenGitConfig(local, d.getenv)
		if err != nil {
			return nil, err
		}
		h, err := g.EntraHosts(ctx, name)
		var ue *gitcred.UsageError
		if local && errors.As(err, &ue) {
			break // not inside a repository: there is no local config
		}
		if err != nil {
			return nil, err
		}
		for _, x := range h {
			if !slices.Contains(hosts, x) {
				hosts = append(hosts, x)
			}
		}
	}
	return hosts, nil
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
