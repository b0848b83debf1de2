package azcli

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

func TestInstallLinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("symlinks")
	}
	dir := t.TempDir()
	target := filepath.Join(dir, "bin", "az-entra")
	writeScript(t, target, "")
	shims := filepath.Join(dir, "shims")

	got, err := Install(shims, target, false, "linux")
	if err != nil || len(got) != 2 || got[0].Status != "created" || got[1].Status != "created" {
		t.Fatalf("install: %+v %v", got, err)
	}
	for _, n := range []string{"az", "azd"} {
		if dest, err := os.Readlink(filepath.Join(shims, n)); err != nil || dest != target {
			t.Fatalf("%s -> %q, %v", n, dest, err)
		}
	}
	// Again: nothing to do.
	if got, err = Install(shims, target, false, "linux"); err != nil || got[0].Status != "unchanged" || got[1].Status != "unchanged" {
		t.Fatalf("reinstall: %+v %v", got, err)
	}
	// A newer az-entra elsewhere replaces the old links.
	newer := filepath.Join(dir, "bin2", "az-entra")
	writeScript(t, newer, "")
	if got, err = Install(shims, newer, false, "linux"); err != nil || got[0].Status != "updated" {
		t.Fatalf("update: %+v %v", got, err)
	}
	if dest, _ := os.Readlink(filepath.Join(shims, "az")); dest != newer {
		t.Fatalf("az -> %s after update", dest)
	}

	// A real az in the directory is not clobbered…
	foreign := t.TempDir()
	writeScript(t, filepath.Join(foreign, "az"), "echo real\n")
	_, err = Install(foreign, target, false, "linux")
	if !errors.Is(err, ErrNotShim) || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("foreign az: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(foreign, "az")); string(b) != "#!/bin/sh\necho real\n" {
		t.Fatal("foreign az changed")
	}
	// …and Uninstall leaves it too.
	if removed, err := Uninstall(foreign, "linux"); err != nil || len(removed) != 0 {
		t.Fatalf("uninstall foreign: %q %v", removed, err)
	}
	// --force replaces it.
	if _, err := Install(foreign, target, true, "linux"); err != nil {
		t.Fatal(err)
	}
	if dest, _ := os.Readlink(filepath.Join(foreign, "az")); dest != target {
		t.Fatalf("forced: az -> %q", dest)
	}

	removed, err := Uninstall(shims, "linux")
	if err != nil || len(removed) != 2 {
		t.Fatalf("uninstall: %q %v", removed, err)
	}
	if _, err := os.Lstat(filepath.Join(shims, "az")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("az still there")
	}
	if _, err := Install(shims, "relative/az-entra", false, "linux"); err == nil {
		t.Fatal("relative target accepted")
	}
}

// Windows gets .cmd wrappers; their content is checked here on any OS.
func TestInstallWindowsWrappers(t *testing.T) {
	dir := t.TempDir()
	target := `C:\Program Files\entratool\az-entra.exe`
	if runtime.GOOS != "windows" {
		target = filepath.Join(dir, "az-entra.exe") // an absolute path on this OS
	}
	got, err := Install(dir, target, false, "windows")
	if err != nil || len(got) != 2 {
		t.Fatalf("%+v %v", got, err)
	}
	az, _ := os.ReadFile(filepath.Join(dir, "az.cmd"))
	azd, _ := os.ReadFile(filepath.Join(dir, "azd.cmd"))
	if string(az) != "@\""+target+"\" %*\r\n" || string(azd) != "@\""+target+"\" azd %*\r\n" {
		t.Fatalf("az.cmd %q azd.cmd %q", az, azd)
	}
	if got, _ := Install(dir, target, false, "windows"); got[0].Status != "unchanged" {
		t.Fatalf("reinstall: %+v", got)
	}
	// The wrapper is recognised as the shim when looking for the real az.
	fi, _ := os.Stat(filepath.Join(dir, "az.cmd"))
	if !isShim(filepath.Join(dir, "az.cmd"), fi, []string{target}, nil) {
		t.Fatal("az.cmd not recognised as the shim")
	}
	if removed, err := Uninstall(dir, "windows"); err != nil || len(removed) != 2 {
		t.Fatalf("uninstall: %q %v", removed, err)
	}
}
