package launch

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The front ends must link nothing a cache hit does not need; these packages each cost
// a Go program a large share of its start-up time even when unused.
var heavy = []string{
	"crypto/x509", "crypto/tls", "net/http",
	"github.com/AzureAD/microsoft-authentication-library-for-go",
	"software.sslmate.com/src/go-pkcs12",
	"github.com/zalando/go-keyring", "github.com/godbus/dbus",
	"github.com/spf13/cobra", "github.com/hashicorp/go-plugin",
	"k8s.io/", "google.golang.org/grpc",
	// go-jmespath's package-level maps (lexer tokens, binding powers, the function
	// table) cost az-entra ~2.3% of every call: azcli answers bare identifiers itself
	// and any other --query runs in the engine (helpers/azcli/azjmes).
	"github.com/jmespath/go-jmespath",
	// net/url imports net/netip, whose package init runs unique.Make in every process
	// (~5–7% of a front's CPU) even if no URL is parsed: fronts use core/weburl.
	"net/url", "net/netip", "unique",
}

func TestFrontEndsLinkNothingHeavy(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, fe := range []string{"entratool", "git-credential-entra", "kubectl-exec-entra", "docker-credential-entra", "az-entra"} {
		if _, err := os.Stat(filepath.Join(root, fe)); err != nil {
			continue
		}
		cmd := exec.Command("go", "list", "-deps", "./"+fe)
		cmd.Dir = root
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", fe, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, h := range heavy {
				if dep == h || strings.HasPrefix(dep, h+"/") || (strings.HasSuffix(h, "/") && strings.HasPrefix(dep, h)) {
					t.Errorf("%s links %s: move that work to %s", fe, dep, EngineName)
				}
			}
		}
		checked++
	}
	if checked == 0 {
		t.Fatal("no front end found")
	}
}

// A front reaches the engine only through this package — Token (typed Request and
// Response, one decoder), Delegate or Replace — and never decodes the engine's output
// itself: three hand-written decoders with three different checks were how the fronts
// drifted apart.
func TestFrontsUseTheContract(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, fe := range []string{"entratool", "git-credential-entra", "kubectl-exec-entra", "docker-credential-entra", "az-entra"} {
		files, _ := filepath.Glob(filepath.Join(root, fe, "*.go"))
		if len(files) == 0 {
			t.Fatalf("%s: no sources", fe)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			fset := token.NewFileSet()
			file, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, imp := range file.Imports {
				if p := strings.Trim(imp.Path.Value, `"`); p == "encoding/json" {
					t.Errorf("%s imports %s: decode the engine's answer with launch.Token / DecodeResponse", fset.Position(imp.Pos()), p)
				}
			}
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if id, ok := sel.X.(*ast.Ident); ok && id.Name == "launch" && sel.Sel.Name == "Engine" {
					t.Errorf("%s runs the engine itself: use launch.Token, Delegate or Replace", fset.Position(sel.Pos()))
				}
				return true
			})
		}
	}
}

// Package init runs on every start of every front, and each init function is code (and
// often heap) the start pages in, wherever it lies in the binary. None of this module's
// packages a front links may need one: tables are constants or static data, maps are
// switches, a value from another package is used where it is, not copied into a
// variable of ours.
func TestFrontsRunNoInitOfOurs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every front")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, fe := range []string{"entratool", "git-credential-entra", "kubectl-exec-entra", "docker-credential-entra", "az-entra"} {
		bin := filepath.Join(dir, fe)
		build := exec.Command("go", "build", "-o", bin, "./"+fe)
		build.Dir = root
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build %s: %v\n%s", fe, err, out)
		}
		out, err := exec.Command("go", "tool", "nm", bin).Output()
		if err != nil {
			t.Fatalf("go tool nm %s: %v", fe, err)
		}
		for _, line := range strings.Split(string(out), "\n") {
			f := strings.Fields(line)
			if len(f) < 3 || f[1] != "T" {
				continue
			}
			name := f[len(f)-1]
			if strings.HasPrefix(name, "github.com/entratool/entratool/") && isInit(name) {
				t.Errorf("%s runs %s at every start: make what it sets static (see this test's comment)", fe, name)
			}
		}
	}
}

// isInit reports whether a symbol is a package's init function (pkg.init, pkg.init.0, …),
// not a method named init.
func isInit(sym string) bool {
	i := strings.LastIndex(sym, "/")
	rest := sym[i+1:]
	_, after, ok := strings.Cut(rest, ".init")
	return ok && !strings.Contains(rest, ").") && (after == "" || strings.Trim(after, ".0123456789") == "")
}
