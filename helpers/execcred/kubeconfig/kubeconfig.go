// Package kubeconfig reads and rewrites kubeconfig files so that their users get tokens
// from kubectl-exec-entra: the file-format half of `entratool kubeconfig convert`.
//
// It is a package of its own, apart from execcred, because it links client-go's
// clientcmd: kubectl-exec-entra links execcred and must link nothing from k8s.io
// (core/launch's lean test).
package kubeconfig

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// Command is the plugin a converted user runs.
const Command = "kubectl-exec-entra"

// InstallHint is what kubectl prints when Command is not installed.
// It speaks to whoever runs kubectl, who installs entratool rather than builds it.
const InstallHint = `kubectl-exec-entra gets Entra ID tokens for this cluster from an entratool profile.
Install entratool (its release archive or package, or: go install github.com/entratool/entratool/...@latest)
so that kubectl-exec-entra and entratool-engine are on PATH, then create the profile: entratool config create`

// The kinds UserKind names that choose what a conversion does.
const (
	KindAzureAuthProvider = "azure auth-provider"
	KindKubelogin         = "kubelogin"
	KindEntra             = Command
)

// UsageError is a request that cannot work as given (entratool exits 2 for it).
type UsageError struct{ Msg string }

func (e *UsageError) Error() string { return e.Msg }

func usageErr(format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...)}
}

// File is one kubeconfig file as kubectl would load it.
type File struct {
	Path   string // as listed (kubectl locks and reports this name)
	Config *clientcmdapi.Config
}

// Target is a user to rewrite, in the file that defines it.
type Target struct {
	File *File
	User string
}

// Paths lists the files kubectl would read: explicit (--kubeconfig), else each entry of
// KUBECONFIG (deduplicated, in order), else ~/.kube/config. getenv nil is os.Getenv.
func Paths(explicit string, getenv func(string) string) ([]string, error) {
	if explicit != "" {
		return []string{explicit}, nil
	}
	if getenv == nil {
		getenv = os.Getenv
	}
	if env := getenv("KUBECONFIG"); env != "" {
		var paths []string
		for _, p := range filepath.SplitList(env) {
			if p != "" && !slices.Contains(paths, p) {
				paths = append(paths, p)
			}
		}
		if len(paths) > 0 {
			return paths, nil
		}
	}
	home := getenv("HOME")
	if home == "" && runtime.GOOS == "windows" {
		home = getenv("USERPROFILE")
	}
	if home == "" {
		return nil, usageErr("no kubeconfig to convert: give --kubeconfig FILE or set KUBECONFIG (HOME is not set)")
	}
	return []string{filepath.Join(home, ".kube", "config")}, nil
}

// Decode parses a kubeconfig's content as clientcmd.LoadFromFile does for a file at
// path: every cluster, user and context has path as its origin, and the maps are never
// nil. A file that does not parse is reported as not valid.
func Decode(path string, data []byte) (*clientcmdapi.Config, error) {
	cfg, err := clientcmd.Load(data)
	if err != nil {
		return nil, loadError(path, err)
	}
	for _, u := range cfg.AuthInfos {
		if u != nil {
			u.LocationOfOrigin = path
		}
	}
	for _, c := range cfg.Clusters {
		if c != nil {
			c.LocationOfOrigin = path
		}
	}
	for _, c := range cfg.Contexts {
		if c != nil {
			c.LocationOfOrigin = path
		}
	}
	if cfg.AuthInfos == nil {
		cfg.AuthInfos = map[string]*clientcmdapi.AuthInfo{}
	}
	if cfg.Clusters == nil {
		cfg.Clusters = map[string]*clientcmdapi.Cluster{}
	}
	if cfg.Contexts == nil {
		cfg.Contexts = map[string]*clientcmdapi.Context{}
	}
	return cfg, nil
}

// LoadFiles loads every file; as kubectl does, files of KUBECONFIG that do not exist are
// skipped, but an explicit --kubeconfig must exist.
func LoadFiles(paths []string, explicit bool) ([]*File, error) {
	var files []*File
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			continue
		}
		if err != nil {
			return nil, loadError(p, err)
		}
		cfg, err := Decode(p, data)
		if err != nil {
			return nil, err
		}
		files = append(files, &File{Path: p, Config: cfg})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no kubeconfig found at %s: run `az aks get-credentials` first, or give --kubeconfig FILE", strings.Join(paths, ", "))
	}
	return files, nil
}

func loadError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("kubeconfig not found: %s", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("read kubeconfig %s: %w", path, pe.Err)
	}
	return fmt.Errorf("kubeconfig %s is not valid: %w", path, err)
}

// PickUsers chooses the users to rewrite, each in the file that defines it (the first
// file naming a user wins, as in kubectl's merge). Without a context: every azure
// auth-provider and kubelogin user; users that already run kubectl-exec-entra are
// returned as skipped. With a context: that context's user, whatever it is.
func PickUsers(files []*File, context string) (targets, skipped []Target, err error) {
	if context != "" {
		t, err := contextUser(files, context)
		if err != nil {
			return nil, nil, err
		}
		return []Target{t}, nil, nil
	}
	seen := map[string]bool{}
	for _, f := range files {
		for _, name := range sortedUsers(f.Config) {
			if seen[name] {
				continue // shadowed by an earlier file: kubectl never uses this entry
			}
			seen[name] = true
			switch UserKind(f.Config.AuthInfos[name]) {
			case KindAzureAuthProvider, KindKubelogin:
				targets = append(targets, Target{File: f, User: name})
			case KindEntra:
				skipped = append(skipped, Target{File: f, User: name})
			}
		}
	}
	return targets, skipped, nil
}

// contextUser is the user of the named context, in the file that defines the user; a
// user no file defines is created beside the context (kubectl would run that context
// with no credentials).
func contextUser(files []*File, context string) (Target, error) {
	var ctxFile *File
	var c *clientcmdapi.Context
	var have []string
	for _, f := range files {
		if fc, ok := f.Config.Contexts[context]; ok && ctxFile == nil {
			ctxFile, c = f, fc
		}
		for name := range f.Config.Contexts {
			if !slices.Contains(have, name) {
				have = append(have, name)
			}
		}
	}
	if c == nil {
		slices.Sort(have)
		return Target{}, usageErr("no context %q in the kubeconfig (have: %s)", context, strings.Join(have, ", "))
	}
	if c.AuthInfo == "" {
		return Target{}, fmt.Errorf("context %q names no user: set one with `kubectl config set-context %s --user NAME`", context, context)
	}
	for _, f := range files {
		if _, ok := f.Config.AuthInfos[c.AuthInfo]; ok {
			return Target{File: f, User: c.AuthInfo}, nil
		}
	}
	return Target{File: ctxFile, User: c.AuthInfo}, nil
}

func sortedUsers(cfg *clientcmdapi.Config) []string {
	names := make([]string, 0, len(cfg.AuthInfos))
	for name := range cfg.AuthInfos {
		names = append(names, name)
	}
	slices.Sort(names)
	return names
}

// UserKind names how a kubeconfig user authenticates, for the report and for choosing
// what to convert.
func UserKind(u *clientcmdapi.AuthInfo) string {
	switch {
	case u == nil:
		return "no credentials"
	case u.AuthProvider != nil && u.AuthProvider.Name == "azure":
		return KindAzureAuthProvider
	case u.AuthProvider != nil:
		return u.AuthProvider.Name + " auth-provider"
	case u.Exec != nil && CommandIs(u.Exec.Command, "kubelogin") && slices.Contains(u.Exec.Args, "get-token"):
		return KindKubelogin
	case u.Exec != nil && CommandIs(u.Exec.Command, Command):
		return KindEntra
	case u.Exec != nil:
		return "exec " + u.Exec.Command
	case u.Token != "" || u.TokenFile != "":
		return "token"
	case len(u.ClientCertificateData) > 0 || u.ClientCertificate != "":
		return "client certificate"
	case u.Username != "":
		return "basic auth"
	default:
		return "no credentials"
	}
}

// CommandIs reports whether an exec command runs the program name, given as a bare name
// or a path (either separator: kubeconfigs travel between systems), with or without
// .exe.
func CommandIs(command, name string) bool {
	base := command[strings.LastIndexAny(command, `/\`)+1:]
	if len(base) > 4 && strings.EqualFold(base[len(base)-4:], ".exe") {
		base = base[:len(base)-4]
	}
	return strings.EqualFold(base, name)
}

// FlagValue returns the value of --name in args (`--name V` or `--name=V`).
func FlagValue(args []string, name string) string {
	for i, a := range args {
		if a == name && i+1 < len(args) {
			return args[i+1]
		}
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v
		}
	}
	return ""
}

// ServerIDOf finds the AKS server id an existing user asks tokens for, or "".
func ServerIDOf(u *clientcmdapi.AuthInfo) string {
	switch UserKind(u) {
	case KindAzureAuthProvider:
		return u.AuthProvider.Config["apiserver-id"]
	case KindKubelogin:
		return FlagValue(u.Exec.Args, "--server-id")
	case KindEntra:
		if id := FlagValue(u.Exec.Args, "--server-id"); id != "" {
			return id
		}
		return strings.TrimSuffix(FlagValue(u.Exec.Args, "--scope"), "/.default")
	}
	return ""
}
