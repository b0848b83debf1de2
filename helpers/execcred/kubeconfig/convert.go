package kubeconfig

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/helpers/execcred"
)

// Options are one `entratool kubeconfig convert`.
type Options struct {
	// Profile is the entratool profile converted users run with.
	Profile string
	// Kubeconfig is the one file to convert (--kubeconfig); "" means the files of
	// KUBECONFIG, else ~/.kube/config.
	Kubeconfig string
	// Context names the context whose user is converted, whatever it is; "" converts
	// every azure auth-provider and kubelogin user.
	Context string
	// ServerID is the AKS server application id (--server-id, trimmed); "" means the old
	// entry's, else execcred.DefaultServerID.
	ServerID string
	// Getenv reads KUBECONFIG, HOME and USERPROFILE; nil is os.Getenv.
	Getenv func(string) string
}

// Result is what happened to one user.
type Result struct {
	User     string
	From     string // UserKind of the old entry
	ServerID string // the server id the user now asks tokens for
	Changed  bool   // false: it already ran kubectl-exec-entra exactly so
}

// Convert rewrites the users o chooses in the files kubectl would read, each in the file
// that defines it, and reports one line per user on out. Everything else in the files is
// kept; a file with nothing to change is not written.
func Convert(ctx context.Context, o Options, out io.Writer) error {
	paths, err := Paths(o.Kubeconfig, o.Getenv)
	if err != nil {
		return err
	}
	files, err := LoadFiles(paths, o.Kubeconfig != "")
	if err != nil {
		return err
	}
	targets, skipped, err := PickUsers(files, o.Context)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintf(out, "· user '%s' in %s already uses %s\n", s.User, s.File.Path, Command)
	}
	if len(targets) == 0 {
		if len(skipped) > 0 {
			return nil
		}
		return fmt.Errorf("no azure auth-provider or kubelogin users in %s: name the context to convert with --context", strings.Join(paths, ", "))
	}
	for _, g := range byFile(targets) {
		results, err := RewriteFile(ctx, g.path, g.users, o)
		if err != nil {
			return err
		}
		report(out, g.path, results, o.Profile)
	}
	return nil
}

type fileUsers struct {
	path  string
	users []string
}

// byFile groups targets by file, keeping the order kubectl reads the files in.
func byFile(targets []Target) []fileUsers {
	var groups []fileUsers
	index := map[*File]int{}
	for _, t := range targets {
		i, ok := index[t.File]
		if !ok {
			i = len(groups)
			index[t.File] = i
			groups = append(groups, fileUsers{path: t.File.Path})
		}
		groups[i].users = append(groups[i].users, t.User)
	}
	return groups
}

func report(out io.Writer, path string, results []Result, profile string) {
	for _, r := range results {
		if !r.Changed {
			fmt.Fprintf(out, "· user '%s' in %s already runs %s --profile %s --server-id %s\n", r.User, path, Command, profile, r.ServerID)
			continue
		}
		fmt.Fprintf(out, "✓ user '%s' in %s: %s → %s --profile %s --server-id %s\n", r.User, path, r.From, Command, profile, r.ServerID)
	}
}

// ConvertUser is old rewritten to run kubectl-exec-entra for o.Profile, and the server
// id it asks tokens for. Credentials (tokens, the auth-provider's cached tokens, keys,
// passwords, the old exec entry and its env) are dropped; impersonation and extensions
// are kept.
func ConvertUser(old *clientcmdapi.AuthInfo, o Options) (*clientcmdapi.AuthInfo, string) {
	if old == nil {
		old = clientcmdapi.NewAuthInfo()
	}
	serverID := execcred.DefaultServerID
	if o.ServerID != "" {
		serverID = o.ServerID
	} else if id := ServerIDOf(old); id != "" {
		serverID = id
	}
	return &clientcmdapi.AuthInfo{
		LocationOfOrigin:     old.LocationOfOrigin,
		Impersonate:          old.Impersonate,
		ImpersonateUID:       old.ImpersonateUID,
		ImpersonateGroups:    old.ImpersonateGroups,
		ImpersonateUserExtra: old.ImpersonateUserExtra,
		Extensions:           old.Extensions,
		Exec: &clientcmdapi.ExecConfig{
			APIVersion:      execcred.V1,
			Command:         Command,
			Args:            []string{"--profile", o.Profile, "--server-id", serverID},
			InteractiveMode: clientcmdapi.IfAvailableExecInteractiveMode,
			InstallHint:     InstallHint,
		},
	}, serverID
}

// SameUser compares two users as they would be written.
func SameUser(a, b *clientcmdapi.AuthInfo) (bool, error) {
	if a == nil || b == nil {
		return a == b, nil
	}
	enc := func(u *clientcmdapi.AuthInfo) ([]byte, error) {
		c := clientcmdapi.NewConfig()
		c.AuthInfos["u"] = u
		return clientcmd.Write(*c)
	}
	x, err := enc(a)
	if err != nil {
		return false, err
	}
	y, err := enc(b)
	if err != nil {
		return false, err
	}
	return bytes.Equal(x, y), nil
}

// ConvertUsers rewrites the named users of cfg in place (see ConvertUser); changed says
// whether any of them is written differently now. path names the file in errors.
func ConvertUsers(path string, cfg *clientcmdapi.Config, users []string, o Options) (results []Result, changed bool, err error) {
	for _, name := range users {
		old := cfg.AuthInfos[name]
		n, serverID := ConvertUser(old, o)
		same, err := SameUser(old, n)
		if err != nil {
			return nil, false, fmt.Errorf("kubeconfig %s: user %q: %w", path, name, err)
		}
		results = append(results, Result{User: name, From: UserKind(old), ServerID: serverID, Changed: !same})
		if !same {
			cfg.AuthInfos[name] = n
			changed = true
		}
	}
	return results, changed, nil
}

// Rewrite converts the named users in a kubeconfig's content. out is the new content,
// nil when nothing changed. path names the file in errors.
func Rewrite(path string, data []byte, users []string, o Options) (out []byte, results []Result, err error) {
	cfg, err := Decode(path, data)
	if err != nil {
		return nil, nil, err
	}
	results, changed, err := ConvertUsers(path, cfg, users, o)
	if err != nil || !changed {
		return nil, results, err
	}
	out, err = clientcmd.Write(*cfg)
	if err != nil {
		return nil, nil, fmt.Errorf("encode kubeconfig %s: %w", path, err)
	}
	return out, results, nil
}

// RewriteFile converts users in one file under kubectl's lock (FILE.lock), reading the
// file again under it so that a concurrent `kubectl config set-…` is not lost. The file
// is replaced atomically with its mode kept, and not written at all when nothing
// changed. A symlinked kubeconfig stays a symlink: its target is rewritten.
func RewriteFile(ctx context.Context, path string, users []string, o Options) ([]Result, error) {
	unlock, err := Lock(ctx, path)
	if err != nil {
		return nil, err
	}
	defer unlock()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, loadError(path, err)
	}
	out, results, err := Rewrite(path, data, users, o)
	if err != nil || out == nil {
		return results, err
	}
	if err := replaceFile(path, out); err != nil {
		return nil, err
	}
	return results, nil
}

// replaceFile writes data atomically over the file path names (its target if path is
// a symlink), keeping the file's mode.
func replaceFile(path string, data []byte) error {
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	return fsutil.WriteFileAtomic(target, data, fi.Mode().Perm())
}

// Lock takes kubectl's lock on a kubeconfig: FILE.lock created exclusively, removed by
// the function returned. A lock left behind by a crashed kubectl blocks kubectl as
// well, so the error after 2 seconds says to remove it.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	lock := path + ".lock"
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	for {
		f, err := os.OpenFile(lock, os.O_CREATE|os.O_EXCL, 0)
		if err == nil {
			f.Close()
			return func() { os.Remove(lock) }, nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("lock kubeconfig %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("kubeconfig %s is locked by another kubectl (%s exists); remove that file if no kubectl is running", path, lock)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
