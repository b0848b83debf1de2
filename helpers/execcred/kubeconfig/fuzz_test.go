package kubeconfig

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"k8s.io/client-go/tools/clientcmd"
)

// FuzzKubeconfigConvert feeds arbitrary kubeconfig files (and context names) through
// what `kubeconfig convert` does with them: parse, pick the users, rewrite them, write
// the file. It must never panic, and a converted user must carry no credential.
func FuzzKubeconfigConvert(f *testing.F) {
	for _, name := range []string{"aks-azure-legacy.yaml", "aks-kubelogin.yaml", "multi-context.yaml"} {
		data, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, "")
	}
	f.Add([]byte("apiVersion: v1\nkind: Config\ncontexts:\n- name: c\n  context: {user: u}\nusers:\n- name: u\n  user: {token: t0k3n, username: a, password: pw}\n"), "c")
	f.Add([]byte("users:\n- name: u\n  user:\n    exec: {command: kubelogin, args: [get-token, --server-id]}\n"), "")
	f.Add([]byte("contexts:\n- name: c\n  context: {}\n"), "c")
	f.Add([]byte("users:\n- name: u\n  user:\n    auth-provider: {name: azure}\n"), "")
	f.Add([]byte("{"), "")
	f.Add([]byte("users: [null]\ncontexts: [{name: c, context: null}]\n"), "c")
	f.Fuzz(func(t *testing.T, data []byte, kubeContext string) {
		if len(data) > 64<<10 {
			return
		}
		cfg, err := clientcmd.Load(data)
		if err != nil {
			return
		}
		files := []*File{{Path: "fuzz", Config: cfg}}
		targets, _, err := PickUsers(files, kubeContext)
		if err != nil {
			return
		}
		o := Options{Profile: "p"}
		for _, tg := range targets {
			old := cfg.AuthInfos[tg.User]
			n, _ := ConvertUser(old, o)
			if n.Token != "" || n.TokenFile != "" || n.Password != "" || len(n.ClientKeyData) > 0 || n.ClientKey != "" || n.AuthProvider != nil || len(n.Exec.Env) > 0 {
				t.Fatalf("converted user %q keeps a credential", tg.User)
			}
			if _, err := SameUser(old, n); err != nil {
				continue
			}
			cfg.AuthInfos[tg.User] = n
		}
		out, err := clientcmd.Write(*cfg)
		if err != nil {
			return
		}
		if _, err := clientcmd.Load(out); err != nil {
			t.Fatalf("convert writes a kubeconfig it cannot read back: %v\n%s", err, out)
		}
		// The whole conversion on a real file, once the in-memory pass held.
		if len(targets) == 0 {
			return
		}
		path := filepath.Join(t.TempDir(), "config")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		_ = Convert(context.Background(), Options{Profile: "p", Kubeconfig: path, Context: kubeContext, Getenv: func(string) string { return "" }}, io.Discard)
	})
}
