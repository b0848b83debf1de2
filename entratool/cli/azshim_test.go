package cli

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestAzShimInstall(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	e := newTestEnv(t)
	// An az-entra on PATH (the test binary has none beside it).
	binDir := filepath.Join(e.dir, "bin")
	os.MkdirAll(binDir, 0o755)
	bin := filepath.Join(binDir, "az-entra")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	e.vars["PATH"] = "relative/dir" + string(os.PathListSeparator) + binDir
	shims := filepath.Join(e.dir, "shims")

	r := e.ok("", "az-shim", "install", "--dir", shims)
	for _, n := range []string{"az", "azd"} {
		dest, err := os.Readlink(filepath.Join(shims, n))
		if err != nil || dest != bin {
			t.Fatalf("%s -> %q (%v), want %s", n, dest, err, bin)
		}
		if !strings.Contains(r.out, "✓ "+filepath.Join(shims, n)+" -> "+bin+" (created)") {
			t.Fatalf("output: %s", r)
		}
	}
	if !strings.Contains(r.out, `export PATH="`+shims+`:$PATH"`) {
		t.Fatalf("no PATH advice: %s", r)
	}
	// Idempotent; and once first on PATH, says so.
	e.vars["PATH"] = shims + string(os.PathListSeparator) + binDir
	r = e.ok("", "az-shim", "install", "--dir", shims)
	if !strings.Contains(r.out, "(unchanged)") || !strings.Contains(r.out, "is first on PATH") {
		t.Fatalf("reinstall: %s", r)
	}

	// A relative --dir is made absolute (the SDKs run az from /bin).
	wd, _ := os.Getwd()
	rel, err := filepath.Rel(wd, filepath.Join(e.dir, "rel-shims"))
	if err != nil {
		t.Fatal(err)
	}
	e.ok("", "az-shim", "install", "--dir", rel, "--binary", bin)
	if dest, _ := os.Readlink(filepath.Join(e.dir, "rel-shims", "az")); dest != bin {
		t.Fatalf("relative dir: az -> %q", dest)
	}

	// A real az in DIR is left alone unless --force.
	foreign := filepath.Join(e.dir, "foreign")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "az"), []byte("#!/bin/sh\necho real\n"), 0o755)
	e.expect(1, "exists and is not entratool's az shim", "", "az-shim", "install", "--dir", foreign)
	e.ok("", "az-shim", "install", "--dir", foreign, "--force")
	if dest, _ := os.Readlink(filepath.Join(foreign, "az")); dest != bin {
		t.Fatalf("--force: az -> %q", dest)
	}

	r = e.ok("", "az-shim", "uninstall", "--dir", shims)
	if !strings.Contains(r.out, "removed "+filepath.Join(shims, "az")) {
		t.Fatalf("uninstall: %s", r)
	}
	if _, err := os.Lstat(filepath.Join(shims, "azd")); !os.IsNotExist(err) {
		t.Fatal("azd still installed")
	}

	e.expect(2, "needs --dir DIR", "", "az-shim", "install")
	e.expect(2, "is not an executable file", "", "az-shim", "install", "--dir", shims, "--binary", filepath.Join(e.dir, "nope"))
	e.vars["PATH"] = "/nonexistent"
	e.expect(1, "az-entra not found next to entratool or on PATH", "", "az-shim", "install", "--dir", shims)
}
