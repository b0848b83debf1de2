package azcli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// BinaryName is the shim's executable name (without .exe).
const BinaryName = "az-entra"

// ShimFile is one entry `entratool az-shim install` makes in its directory.
type ShimFile struct {
	Name string // az, azd; az.cmd, azd.cmd on Windows
	// Mode is the first argument a Windows wrapper passes ("azd"), since a .cmd cannot
	// give the binary another argv[0]; symlinks carry the mode in their name.
	Mode string
}

// ShimFiles lists the entries for an OS: symlinks on Unix, .cmd wrappers on Windows
// (symlinks there need a privilege most users lack).
func ShimFiles(goos string) []ShimFile {
	if goos == "windows" {
		return []ShimFile{{Name: "az.cmd"}, {Name: "azd.cmd", Mode: "azd"}}
	}
	return []ShimFile{{Name: "az"}, {Name: "azd"}}
}

// Installed reports one entry of an install.
type Installed struct {
	Path   string
	Target string
	Status string // "created", "updated" (replaced an older shim) or "unchanged"
}

// ErrNotShim is returned (wrapped) when an entry exists and is not an az-entra shim.
var ErrNotShim = errors.New("exists and is not entratool's az shim")

// Install makes dir/az and dir/azd point at target (the az-entra binary, an absolute
// path). An existing shim entry is replaced; anything else is left alone unless force.
func Install(dir, target string, force bool, goos string) ([]Installed, error) {
	if !filepath.IsAbs(target) {
		return nil, fmt.Errorf("az-entra path %s is not absolute", target)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	var out []Installed
	for _, f := range ShimFiles(goos) {
		path := filepath.Join(dir, f.Name)
		status := "created"
		if _, err := os.Lstat(path); err == nil {
			ours, same := inspect(path, target, f, goos)
			switch {
			case same:
				out = append(out, Installed{Path: path, Target: target, Status: "unchanged"})
				continue
			case !ours && !force:
				return out, fmt.Errorf("%s %w: remove it, choose another --dir, or pass --force", path, ErrNotShim)
			}
			status = "updated"
		} else if !errors.Is(err, fs.ErrNotExist) {
			return out, fmt.Errorf("inspect %s: %w", path, err)
		}
		if err := place(path, target, f, goos); err != nil {
			return out, err
		}
		out = append(out, Installed{Path: path, Target: target, Status: status})
	}
	return out, nil
}

// Uninstall removes the shim entries of dir that point at an az-entra binary and
// returns their paths; other files of those names are left in place.
func Uninstall(dir, goos string) ([]string, error) {
	var removed []string
	for _, f := range ShimFiles(goos) {
		path := filepath.Join(dir, f.Name)
		if _, err := os.Lstat(path); err != nil {
			continue
		}
		if ours, _ := inspect(path, "", f, goos); !ours {
			continue
		}
		if err := os.Remove(path); err != nil {
			return removed, fmt.Errorf("remove %s: %w", path, err)
		}
		removed = append(removed, path)
	}
	return removed, nil
}

// cmdWrapper is the Windows .cmd that runs the shim with the caller's arguments.
func cmdWrapper(target string, f ShimFile) string {
	mode := ""
	if f.Mode != "" {
		mode = " " + f.Mode
	}
	return fmt.Sprintf("@\"%s\"%s %%*\r\n", target, mode)
}

// inspect says whether path is an az-entra shim entry, and whether it already is
// exactly the one Install would make for target.
func inspect(path, target string, f ShimFile, goos string) (ours, same bool) {
	if goos == "windows" {
		b, err := os.ReadFile(path)
		if err != nil || len(b) > 4096 {
			return false, false
		}
		s := strings.ToLower(string(b))
		ours = strings.Contains(s, strings.ToLower(BinaryName))
		return ours, target != "" && string(b) == cmdWrapper(target, f)
	}
	dest, err := os.Readlink(path)
	if err != nil {
		return false, false
	}
	base := strings.TrimSuffix(filepath.Base(dest), ".exe")
	ours = strings.HasPrefix(base, BinaryName)
	if target != "" {
		if dest == target {
			return true, true
		}
		a, errA := os.Stat(path)
		b, errB := os.Stat(target)
		if errA == nil && errB == nil && os.SameFile(a, b) && filepath.IsAbs(dest) {
			return true, false
		}
	}
	return ours, false
}

// place writes the entry beside its final name and renames it over, so a concurrent
// `az` never finds the name missing.
func place(path, target string, f ShimFile, goos string) error {
	tmp := filepath.Join(filepath.Dir(path), fmt.Sprintf(".%s.%d.tmp", f.Name, os.Getpid()))
	_ = os.Remove(tmp)
	var err error
	if goos == "windows" {
		err = os.WriteFile(tmp, []byte(cmdWrapper(target, f)), 0o755)
	} else {
		err = os.Symlink(target, tmp)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// ModeFor decides from argv whether the binary acts as az or azd: a program name of
// azd (the link), or a first argument "azd" (the Windows wrapper, or a person typing
// `az-entra azd auth token …`). It returns the mode and the arguments after the
// program name (and after the mode argument).
func ModeFor(argv []string) (string, []string) {
	if len(argv) == 0 {
		return "az", nil
	}
	name := strings.ToLower(filepath.Base(argv[0]))
	name = strings.TrimSuffix(strings.TrimSuffix(name, ".exe"), ".cmd")
	args := argv[1:]
	if name == "azd" {
		return "azd", args
	}
	if len(args) > 0 && args[0] == "azd" {
		return "azd", args[1:]
	}
	return "az", args
}
