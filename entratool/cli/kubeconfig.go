package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/entratool/entratool/core/fsutil"
	"github.com/entratool/entratool/helpers/execcred"
)

// kubeExecCommand is the plugin a converted user runs.
const kubeExecCommand = "kubectl-exec-entra"

const kubeInstallHint = `kubectl-exec-entra gets Entra ID tokens for this cluster from an entratool profile.
Install entratool (make build puts kubectl-exec-entra in ./bin) and put kubectl-exec-entra on PATH.`

func (a *App) kubeconfigCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kubeconfig",
		Short: "Wire kubectl-exec-entra into kubeconfig files (AKS)",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(a.kubeconfigConvertCmd())
	return cmd
}

func (a *App) kubeconfigConvertCmd() *cobra.Command {
	var o kubeConvertOptions
	cmd := &cobra.Command{
		Use:   "convert -p NAME [--kubeconfig FILE] [--context NAME] [--server-id ID]",
		Short: "Make AKS users in a kubeconfig get their tokens from kubectl-exec-entra",
		Long: "Rewrites kubeconfig users to run `kubectl-exec-entra --profile NAME --server-id ID` (exec API v1,\n" +
			"interactiveMode IfAvailable). Without --context it converts every user of the legacy azure\n" +
			"auth-provider and every kubelogin get-token user; with --context it converts that context's user,\n" +
			"whatever it was. The server id comes from --server-id, else the old entry (kubelogin --server-id,\n" +
			"auth-provider apiserver-id), else AKS's " + execcred.DefaultServerID + ".\n" +
			"Files come from --kubeconfig, else $KUBECONFIG (each user is rewritten in the file that defines it,\n" +
			"as kubectl merges them), else ~/.kube/config. Everything else in the files is kept; cached tokens\n" +
			"and other credentials of converted users are dropped, and no secret is written.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, _, err := a.loadProfile()
			if err != nil {
				return err
			}
			o.profile = p.Name
			o.serverIDSet = cmd.Flags().Changed("server-id")
			if o.serverIDSet && strings.TrimSpace(o.serverID) == "" {
				return usageErr("--server-id is empty")
			}
			return a.convertKubeconfig(cmd.Context(), &o)
		},
	}
	cmd.Flags().StringVar(&o.kubeconfig, "kubeconfig", "", "kubeconfig file to convert (default: $KUBECONFIG, then ~/.kube/config)")
	cmd.Flags().StringVar(&o.context, "context", "", "convert the user of this context, whatever it is")
	cmd.Flags().StringVar(&o.serverID, "server-id", "", "AKS server application id (default: the old entry's, else "+execcred.DefaultServerID+")")
	return cmd
}

type kubeConvertOptions struct {
	profile     string
	kubeconfig  string
	context     string
	serverID    string
	serverIDSet bool
}

// kubeFile is one kubeconfig file as kubectl would load it.
type kubeFile struct {
	path string // as listed (kubectl locks and reports this name)
	cfg  *clientcmdapi.Config
}

// kubeTarget is a user to rewrite, in the file that defines it.
type kubeTarget struct {
	file *kubeFile
	user string
}

func (a *App) convertKubeconfig(ctx context.Context, o *kubeConvertOptions) error {
	paths, err := a.kubeconfigPaths(o.kubeconfig)
	if err != nil {
		return err
	}
	files, err := loadKubeFiles(paths, o.kubeconfig != "")
	if err != nil {
		return err
	}
	targets, skipped, err := pickKubeUsers(files, o.context)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		fmt.Fprintf(a.Out, "· user '%s' in %s already uses %s\n", s.user, s.file.path, kubeExecCommand)
	}
	if len(targets) == 0 {
		if len(skipped) > 0 {
			return nil
		}
		return fmt.Errorf("no azure auth-provider or kubelogin users in %s: name the context to convert with --context", strings.Join(paths, ", "))
	}

	// Group by file, keeping the order kubectl reads them in.
	byFile := map[*kubeFile][]string{}
	var order []*kubeFile
	for _, t := range targets {
		if _, ok := byFile[t.file]; !ok {
			order = append(order, t.file)
		}
		byFile[t.file] = append(byFile[t.file], t.user)
	}
	for _, f := range order {
		results, err := rewriteKubeFile(ctx, f.path, byFile[f], o)
		if err != nil {
			return err
		}
		for _, r := range results {
			if !r.changed {
				fmt.Fprintf(a.Out, "· user '%s' in %s already runs %s --profile %s --server-id %s\n", r.user, f.path, kubeExecCommand, o.profile, r.serverID)
				continue
			}
			fmt.Fprintf(a.Out, "✓ user '%s' in %s: %s → %s --profile %s --server-id %s\n", r.user, f.path, r.from, kubeExecCommand, o.profile, r.serverID)
		}
	}
	if !onPath(kubeExecCommand, a.Getenv("PATH")) {
		a.warn(fmt.Sprintf("warning: %s is not on PATH; kubectl needs it there to run it", kubeExecCommand))
	}
	return nil
}

// kubeconfigPaths lists the files kubectl would read: --kubeconfig, else each entry of
// KUBECONFIG (deduplicated, in order), else ~/.kube/config.
func (a *App) kubeconfigPaths(explicit string) ([]string, error) {
	if explicit != "" {
		return []string{explicit}, nil
	}
	if env := a.Getenv("KUBECONFIG"); env != "" {
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
	home := a.Getenv("HOME")
	if home == "" && runtime.GOOS == "windows" {
		home = a.Getenv("USERPROFILE")
	}
	if home == "" {
		return nil, usageErr("no kubeconfig to convert: give --kubeconfig FILE or set KUBECONFIG (HOME is not set)")
	}
	return []string{filepath.Join(home, ".kube", "config")}, nil
}

// loadKubeFiles loads every file; as kubectl does, files of KUBECONFIG that do not
// exist are skipped, but an explicit --kubeconfig must exist.
func loadKubeFiles(paths []string, explicit bool) ([]*kubeFile, error) {
	var files []*kubeFile
	for _, p := range paths {
		cfg, err := clientcmd.LoadFromFile(p)
		if errors.Is(err, fs.ErrNotExist) && !explicit {
			continue
		}
		if err != nil {
			return nil, kubeLoadError(p, err)
		}
		files = append(files, &kubeFile{path: p, cfg: cfg})
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no kubeconfig found at %s: run `az aks get-credentials` first, or give --kubeconfig FILE", strings.Join(paths, ", "))
	}
	return files, nil
}

func kubeLoadError(path string, err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("kubeconfig not found: %s", path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("read kubeconfig %s: %w", path, pe.Err)
	}
	return fmt.Errorf("kubeconfig %s is not valid: %w", path, err)
}

// pickKubeUsers chooses the users to rewrite, each in the file that defines it (the
// first file naming a user wins, as in kubectl's merge). Without a context: every
// azure auth-provider and kubelogin user; users that already run kubectl-exec-entra
// are reported as skipped. With a context: that context's user, whatever it is.
func pickKubeUsers(files []*kubeFile, context string) (targets, skipped []kubeTarget, err error) {
	owner := func(user string) *kubeFile {
		for _, f := range files {
			if _, ok := f.cfg.AuthInfos[user]; ok {
				return f
			}
		}
		return nil
	}
	if context != "" {
		var ctxFile *kubeFile
		var c *clientcmdapi.Context
		var have []string
		for _, f := range files {
			if fc, ok := f.cfg.Contexts[context]; ok && ctxFile == nil {
				ctxFile, c = f, fc
			}
			for name := range f.cfg.Contexts {
				if !slices.Contains(have, name) {
					have = append(have, name)
				}
			}
		}
		if c == nil {
			slices.Sort(have)
			return nil, nil, usageErr("no context %q in the kubeconfig (have: %s)", context, strings.Join(have, ", "))
		}
		if c.AuthInfo == "" {
			return nil, nil, fmt.Errorf("context %q names no user: set one with `kubectl config set-context %s --user NAME`", context, context)
		}
		f := owner(c.AuthInfo)
		if f == nil {
			// kubectl would run this context with no credentials; define the user
			// beside the context.
			f = ctxFile
		}
		return []kubeTarget{{file: f, user: c.AuthInfo}}, nil, nil
	}
	seen := map[string]bool{}
	for _, f := range files {
		names := make([]string, 0, len(f.cfg.AuthInfos))
		for name := range f.cfg.AuthInfos {
			names = append(names, name)
		}
		slices.Sort(names)
		for _, name := range names {
			if seen[name] {
				continue // shadowed by an earlier file: kubectl never uses this entry
			}
			seen[name] = true
			switch kubeUserKind(f.cfg.AuthInfos[name]) {
			case "azure auth-provider", "kubelogin":
				targets = append(targets, kubeTarget{file: f, user: name})
			case kubeExecCommand:
				skipped = append(skipped, kubeTarget{file: f, user: name})
			}
		}
	}
	return targets, skipped, nil
}

// kubeUserKind names how a kubeconfig user authenticates, for the report and for
// choosing what to convert.
func kubeUserKind(u *clientcmdapi.AuthInfo) string {
	switch {
	case u == nil:
		return "no credentials"
	case u.AuthProvider != nil && u.AuthProvider.Name == "azure":
		return "azure auth-provider"
	case u.AuthProvider != nil:
		return u.AuthProvider.Name + " auth-provider"
	case u.Exec != nil && commandIs(u.Exec.Command, "kubelogin") && slices.Contains(u.Exec.Args, "get-token"):
		return "kubelogin"
	case u.Exec != nil && commandIs(u.Exec.Command, kubeExecCommand):
		return kubeExecCommand
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

// commandIs reports whether an exec command runs the program name, given as a bare
// name or a path (either separator: kubeconfigs travel between systems), with or
// without .exe.
func commandIs(command, name string) bool {
	base := command[strings.LastIndexAny(command, `/\`)+1:]
	if len(base) > 4 && strings.EqualFold(base[len(base)-4:], ".exe") {
		base = base[:len(base)-4]
	}
	return strings.EqualFold(base, name)
}

// flagValue returns the value of --name in args (`--name V` or `--name=V`).
func flagValue(args []string, name string) string {
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

// serverIDOf finds the AKS server id an existing user asks tokens for, or "".
func serverIDOf(u *clientcmdapi.AuthInfo) string {
	switch kubeUserKind(u) {
	case "azure auth-provider":
		return u.AuthProvider.Config["apiserver-id"]
	case "kubelogin":
		return flagValue(u.Exec.Args, "--server-id")
	case kubeExecCommand:
		if id := flagValue(u.Exec.Args, "--server-id"); id != "" {
			return id
		}
		return strings.TrimSuffix(flagValue(u.Exec.Args, "--scope"), "/.default")
	}
	return ""
}

// convertedUser is old rewritten to run kubectl-exec-entra. Credentials (tokens, the
// auth-provider's cached tokens, keys, passwords, the old exec entry and its env) are
// dropped; impersonation and extensions are kept.
func convertedUser(old *clientcmdapi.AuthInfo, o *kubeConvertOptions) (*clientcmdapi.AuthInfo, string) {
	if old == nil {
		old = clientcmdapi.NewAuthInfo()
	}
	serverID := execcred.DefaultServerID
	if o.serverIDSet {
		serverID = strings.TrimSpace(o.serverID)
	} else if id := serverIDOf(old); id != "" {
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
			Command:         kubeExecCommand,
			Args:            []string{"--profile", o.profile, "--server-id", serverID},
			InteractiveMode: clientcmdapi.IfAvailableExecInteractiveMode,
			InstallHint:     kubeInstallHint,
		},
	}, serverID
}

type kubeResult struct {
	user, from, serverID string
	changed              bool
}

// rewriteKubeFile converts users in one file under kubectl's lock (FILE.lock), reading
// the file again under it so that a concurrent `kubectl config set-…` is not lost. The
// file is replaced atomically with its mode kept, and not written at all when nothing
// changed. A symlinked kubeconfig stays a symlink: its target is rewritten.
func rewriteKubeFile(ctx context.Context, path string, users []string, o *kubeConvertOptions) ([]kubeResult, error) {
	unlock, err := lockKubeconfig(ctx, path)
	if err != nil {
		return nil, err
	}
	defer unlock()
	cfg, err := clientcmd.LoadFromFile(path)
	if err != nil {
		return nil, kubeLoadError(path, err)
	}
	var results []kubeResult
	dirty := false
	for _, name := range users {
		old := cfg.AuthInfos[name]
		n, serverID := convertedUser(old, o)
		same, err := sameKubeUser(old, n)
		if err != nil {
			return nil, fmt.Errorf("kubeconfig %s: user %q: %w", path, name, err)
		}
		results = append(results, kubeResult{user: name, from: kubeUserKind(old), serverID: serverID, changed: !same})
		if !same {
			cfg.AuthInfos[name] = n
			dirty = true
		}
	}
	if !dirty {
		return results, nil
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return nil, fmt.Errorf("encode kubeconfig %s: %w", path, err)
	}
	target, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	fi, err := os.Stat(target)
	if err != nil {
		return nil, fmt.Errorf("kubeconfig %s: %w", path, err)
	}
	if err := fsutil.WriteFileAtomic(target, data, fi.Mode().Perm()); err != nil {
		return nil, err
	}
	return results, nil
}

// sameKubeUser compares two users as they would be written.
func sameKubeUser(a, b *clientcmdapi.AuthInfo) (bool, error) {
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

// lockKubeconfig takes kubectl's lock on a kubeconfig: FILE.lock created exclusively,
// removed when done. A lock left behind by a crashed kubectl blocks kubectl as well, so
// the error says to remove it.
func lockKubeconfig(ctx context.Context, path string) (func(), error) {
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

// onPath reports whether name is an executable file in one of PATH's directories.
func onPath(name, path string) bool {
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			continue
		}
		candidates := []string{filepath.Join(dir, name)}
		if runtime.GOOS == "windows" {
			candidates = append(candidates, filepath.Join(dir, name+".exe"))
		}
		for _, c := range candidates {
			if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() && (runtime.GOOS == "windows" || fi.Mode().Perm()&0o111 != 0) {
				return true
			}
		}
	}
	return false
}
