package e2e

import (
	"errors"
	"go/build"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/entratool/entratool/core/version"
	"github.com/entratool/entratool/internal/testbin"
)

// Every binary answers --version with exit 0. Ours say version.Line; the docker helper
// and the az shim answer as the host tools' own helpers do (docker's one line; az's
// table), naming themselves.
func TestVersionOfEveryBinary(t *testing.T) {
	type binary struct {
		path  string
		check func(out string) bool
	}
	exact := func(name string) func(string) bool {
		return func(out string) bool { return out == version.Line(name)+"\n" }
	}
	bins := map[string]binary{}
	for _, name := range []string{"entratool", "entratool-engine", "git-credential-entra", "kubectl-exec-entra"} {
		bins[name] = binary{filepath.Join(binDir, name), exact(name)}
	}
	bins["docker-credential-entra"] = binary{filepath.Join(binDir, "docker-credential-entra"), func(out string) bool {
		return strings.HasPrefix(out, "docker-credential-entra ") && strings.HasSuffix(out, " "+version.Version+"\n") && strings.Count(out, "\n") == 1
	}}
	bins["az-entra"] = binary{filepath.Join(binDir, "az-entra"), func(out string) bool {
		return strings.HasPrefix(out, "azure-cli ") && strings.Contains(out, "az-entra")
	}}
	bins["entra-emulator"] = binary{testbin.Path(t, "./emulator/cmd/entra-emulator"), exact("entra-emulator")}
	// Every key-store plugin that builds here (the Windows certificate store's does not
	// elsewhere).
	plugins, err := filepath.Glob(filepath.Join("..", "plugins", "*"))
	if err != nil {
		t.Fatal(err)
	}
	for _, dir := range plugins {
		var noGo *build.NoGoError
		if _, err := build.Default.ImportDir(dir, 0); errors.As(err, &noGo) {
			continue
		} else if err != nil {
			t.Fatalf("%s: %v", dir, err)
		}
		name := filepath.Base(dir)
		bins[name] = binary{testbin.Path(t, "./plugins/"+name), exact(name)}
	}
	if len(bins) < 8 {
		t.Fatalf("only %d binaries: %v", len(bins), bins)
	}

	for name, b := range bins {
		cmd := exec.Command(b.path, "--version")
		// Nothing to find: no engine on PATH, no home, no profile — a version costs none.
		cmd.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir(), "ENTRATOOL_HOME=" + filepath.Join(t.TempDir(), "none")}
		var out, errOut strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		if err != nil || !b.check(out.String()) || errOut.Len() != 0 {
			t.Errorf("%s --version: %v, stdout %q, stderr %q", name, err, out.String(), errOut.String())
		}
	}
}

// The entratool front answers --version itself: it works with no engine installed.
func TestVersionFrontWithoutEngine(t *testing.T) {
	alone := testbin.Install(t, "./entratool", filepath.Join(t.TempDir(), "entratool"))
	cmd := exec.Command(alone, "--version")
	cmd.Env = []string{"PATH=" + t.TempDir(), "HOME=" + t.TempDir()}
	out, err := cmd.Output()
	if want := version.Line("entratool") + "\n"; err != nil || string(out) != want {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			t.Logf("stderr: %s", ee.Stderr)
		}
		t.Fatalf("alone: %v, %q; want %q", err, out, want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(alone), "entratool-engine")); err == nil {
		t.Fatal("an engine beside the front")
	}
}
