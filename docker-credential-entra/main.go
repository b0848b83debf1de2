// Command docker-credential-entra is a docker credential helper for Azure Container
// Registry: docker, buildkit, crane and helm run it (credHelpers "entra" in
// ~/.docker/config.json) to log in with an Entra ID service principal.
//
// A lean front (docs/architecture.md): docker's protocol is helpers/dockercred;
// registries nobody lists, a cached refresh token, erase, list, store and version are
// answered here; a get that misses the cache goes to the engine's docker entry point
// (launch.EntryDocker), which makes the exchange once for every waiting process.
package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/core/launch"
	"github.com/entratool/entratool/core/profile"
	"github.com/entratool/entratool/core/termtext"
	"github.com/entratool/entratool/core/tokencache"
	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/helpers/dockercred"
)

func main() {
	launch.GrowStack()
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, launch.Getenv()))
}

const program = "docker-credential-entra"

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if launch.DebugEnabled(getenv) {
		// The engine logs its decisions; the front end has nothing to add.
		return launch.Delegate(program, launch.EntryDocker, args, nil, stdout, stderr)
	}
	// The request is read once: the engine gets the same bytes if it has to answer.
	var in []byte
	if len(args) == 1 && (args[0] == "get" || args[0] == "erase" || args[0] == "store") {
		var buf bytes.Buffer
		buf.Grow(fsutil.SmallBuffer) // the size class of the hit's other buffers
		_, err := buf.ReadFrom(io.LimitReader(stdin, 1<<20))
		if err != nil {
			io.WriteString(stdout, "docker-credential-entra: reading the request: "+termtext.Escape(err.Error())+"\n")
			return dockercred.ExitFailure
		}
		in = buf.Bytes()
	}
	b := &backend{getenv: getenv, stderr: stderr}
	h := &dockercred.Helper{Backend: b, Getenv: getenv, Version: version.Current}
	var out bytes.Buffer
	code := dockercred.Run(ctx, h, args, bytes.NewReader(in), &out)
	if b.missed {
		return launch.Delegate(program, launch.EntryDocker, args, in, stdout, stderr)
	}
	stdout.Write(out.Bytes())
	return code
}

// backend reads profiles.json and the token cache, nothing else.
type backend struct {
	getenv func(string) string
	stderr io.Writer // the user's (docker passes its helper's stderr on); stdout is the protocol's
	local  *launch.Local
	missed bool // a refresh token was not in the cache: the engine must answer
}

func (b *backend) Profiles() ([]dockercred.Profile, error) {
	l, err := launch.OpenConfig(b.getenv)
	if err != nil {
		return nil, err
	}
	b.local = l
	return dockercred.Profiles(l.Config, b.getenv), nil
}

func (b *backend) Account(ctx context.Context, name string) (dockercred.Account, error) {
	p := b.local.Config.Find(name, b.getenv)
	if p == nil {
		b.missed = true
		return nil, tokencache.ErrMiss
	}
	return &account{b: b, p: p}, nil
}

type account struct {
	b *backend
	p *profile.Profile
}

func (a *account) RefreshToken(ctx context.Context, registry, scope string) (dockercred.RefreshToken, error) {
	if rt, c, ok := dockercred.CachedRefreshTokenCert(a.b.local.Cache, a.p, registry, scope); ok {
		// The day's certificate warning, as the engine gives it on a miss (SPEC §13).
		if w := tokencache.ExpiryWarningOf(a.p, c, a.b.local.Cache.Dir, time.Now()); w != "" {
			fmt.Fprintf(a.b.stderr, "warning: %s\n", termtext.Escape(w))
		}
		return rt, nil
	}
	a.b.missed = true
	return dockercred.RefreshToken{}, tokencache.ErrMiss
}

func (a *account) ForgetRefreshToken(ctx context.Context, registry, scope string) error {
	return dockercred.ForgetRefreshTokens(a.b.local.Cache, a.p, registry, scope)
}
