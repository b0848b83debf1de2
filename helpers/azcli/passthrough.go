package azcli

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// SeenEnv lists (with the OS's path-list separator) the shim executables a command has
// already passed through. Each shim adds itself before handing a command on and skips
// every listed one, so two shims on PATH hand a command on once each and never loop.
const SeenEnv = "ENTRATOOL_AZ_SHIM_SEEN"

// FindNext looks on path (a PATH value) for the real program called name ("az" or
// "azd"): the first executable of that name that is not one of skip (the shim's own
// executable and those in SeenEnv, compared as files, so links and hard links to them
// are skipped too). Relative PATH entries are ignored, as os/exec does: a command
// found through them depends on the working directory.
func FindNext(path, name string, skip []string) (string, bool) {
	var skipInfo []os.FileInfo
	for _, s := range skip {
		if s == "" {
			continue
		}
		if fi, err := os.Stat(s); err == nil {
			skipInfo = append(skipInfo, fi)
		}
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" || !filepath.IsAbs(dir) {
			continue
		}
		for _, cand := range candidates(dir, name) {
			fi, err := os.Stat(cand)
			if err != nil || !fi.Mode().IsRegular() || !executable(cand, fi) {
				continue
			}
			if isShim(cand, fi, skip, skipInfo) {
				continue
			}
			return cand, true
		}
	}
	return "", false
}

func candidates(dir, name string) []string {
	if runtime.GOOS != "windows" {
		return []string{filepath.Join(dir, name)}
	}
	exts := strings.Split(strings.ToLower(os.Getenv("PATHEXT")), ";")
	if os.Getenv("PATHEXT") == "" {
		exts = []string{".com", ".exe", ".bat", ".cmd"}
	}
	var out []string
	for _, e := range exts {
		if e != "" {
			out = append(out, filepath.Join(dir, name+e))
		}
	}
	return out
}

func executable(path string, fi os.FileInfo) bool {
	if runtime.GOOS == "windows" {
		return true
	}
	return fi.Mode().Perm()&0o111 != 0
}

// isShim reports whether cand is the shim itself: the same file as a skipped executable,
// or (on Windows, where az-shim install writes az.cmd wrappers) a small script that
// names one of them.
func isShim(cand string, fi os.FileInfo, skip []string, skipInfo []os.FileInfo) bool {
	for _, s := range skipInfo {
		if os.SameFile(fi, s) {
			return true
		}
	}
	ext := strings.ToLower(filepath.Ext(cand))
	if ext != ".cmd" && ext != ".bat" {
		return false
	}
	f, err := os.Open(cand)
	if err != nil {
		return false
	}
	defer f.Close()
	head, _ := io.ReadAll(io.LimitReader(f, 4096))
	head = bytes.ToLower(head)
	for _, s := range skip {
		if s != "" && bytes.Contains(head, []byte(strings.ToLower(s))) {
			return true
		}
	}
	return false
}

// SkipList is the shim's own executable plus those named in SeenEnv's value.
func SkipList(self, seen string) []string {
	list := []string{self}
	for _, s := range filepath.SplitList(seen) {
		if s != "" {
			list = append(list, s)
		}
	}
	return list
}

// Self is Env.Self for a real process: this executable with links resolved, so that
// the search for the real az skips it however it was reached.
func Self() string {
	p, err := os.Executable()
	if err != nil {
		return ""
	}
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
