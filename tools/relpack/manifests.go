package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

// The package's descriptions, as every manifest gives them.
const (
	shortDescription = "Microsoft Entra ID tokens for service principals with X.509 certificates, for people, scripts, git, kubectl, docker and the Azure SDKs"
	description      = "entratool gets Microsoft Entra ID access tokens for a service principal authenticated with an X.509 certificate (or a client secret), and gives them to git (Azure Repos), kubectl (AKS), docker, crane and helm (ACR), the Azure SDKs and Terraform through small credential helpers."
)

// archive is one release archive found in -dist.
type archive struct {
	File, OS, Arch string
	SHA256         string
	Dir            string   // its top directory
	Binaries       []string // executables at the top, by name
}

// release is what the manifest templates are filled with.
type release struct {
	Version, Tag, Repo, License, Date string
	Archives                          map[string]*archive // "os/arch"
}

// URL is where the release page serves a file.
func (r release) URL(file string) string {
	return "https://github.com/" + r.Repo + "/releases/download/" + r.Tag + "/" + file
}

// Has says whether the release has the archive for "os/arch".
func (r release) Has(p string) bool { return r.Archives[p] != nil }

// A returns the archive for "os/arch".
func (r release) A(p string) *archive { return r.Archives[p] }

var archiveName = regexp.MustCompile(`^entratool_(.+)_(linux|darwin|windows)_(amd64|arm64)\.(tar\.gz|zip)$`)

func manifestsCmd(args []string) error {
	fs := flag.NewFlagSet("manifests", flag.ContinueOnError)
	var r release
	dist := fs.String("dist", "", "directory holding the release archives")
	out := fs.String("out", "", "directory to write the manifests in")
	license := fs.String("license", "LICENSE", "the license file, whose SPDX identifier the manifests name")
	date := fs.String("date", os.Getenv("SOURCE_DATE_EPOCH"), "release date, in seconds since 1970")
	fs.StringVar(&r.Version, "version", "", "version, as in the archives' names")
	fs.StringVar(&r.Tag, "tag", "", "the release's tag, as in its download URLs (default: the version)")
	fs.StringVar(&r.Repo, "repo", "entratool/entratool", "GitHub repository the release is published in")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *dist == "" || *out == "" || r.Version == "" || fs.NArg() > 0 {
		return errors.New("usage: relpack manifests -version V [-tag T] -dist DIR -out DIR [-repo OWNER/NAME] [-license FILE] [-date EPOCH]")
	}
	if r.Tag == "" {
		r.Tag = r.Version
	}
	when, err := parseEpoch(*date)
	if err != nil {
		return fmt.Errorf("-date: %w", err)
	}
	r.Date = when.Format("2006-01-02")
	text, err := os.ReadFile(*license)
	if err != nil {
		return err
	}
	r.License = spdx(string(text))
	if r.Archives, err = findArchives(*dist, r.Version); err != nil {
		return err
	}
	type file struct {
		name, tmpl string
		want       bool
	}
	wingetDir := path.Join("winget", "manifests", "e", wingetPublisher, wingetPackage, r.Version)
	id := wingetPublisher + "." + wingetPackage
	files := []file{
		{"homebrew/entratool.rb", homebrewFormula, r.Has("darwin/amd64") || r.Has("darwin/arm64") || r.Has("linux/amd64") || r.Has("linux/arm64")},
		{"scoop/entratool.json", "", r.Has("windows/amd64") || r.Has("windows/arm64")},
		{path.Join(wingetDir, id+".yaml"), wingetVersion, r.Has("windows/amd64") || r.Has("windows/arm64")},
		{path.Join(wingetDir, id+".installer.yaml"), wingetInstaller, r.Has("windows/amd64") || r.Has("windows/arm64")},
		{path.Join(wingetDir, id+".locale.en-US.yaml"), wingetLocale, r.Has("windows/amd64") || r.Has("windows/arm64")},
	}
	for _, f := range files {
		if !f.want {
			continue
		}
		var b []byte
		if f.tmpl == "" {
			b, err = scoopManifest(r)
		} else {
			b, err = fill(f.tmpl, r)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", f.name, err)
		}
		dst := filepath.Join(*out, filepath.FromSlash(f.name))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// findArchives reads every release archive of version in dir: its checksum, top
// directory and the executables at its top.
func findArchives(dir, version string) (map[string]*archive, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	m := map[string]*archive{}
	for _, e := range ents {
		g := archiveName.FindStringSubmatch(e.Name())
		if g == nil || g[1] != version {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(data)
		a := &archive{File: e.Name(), OS: g[2], Arch: g[3], SHA256: hex.EncodeToString(sum[:])}
		if g[4] == "zip" {
			err = zipBinaries(data, a)
		} else {
			err = tarBinaries(data, a)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", e.Name(), err)
		}
		if a.Dir == "" || len(a.Binaries) == 0 {
			return nil, fmt.Errorf("%s: no top directory with executables", e.Name())
		}
		m[a.OS+"/"+a.Arch] = a
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("no entratool_%s_OS_ARCH archive in %s", version, dir)
	}
	return m, nil
}

// note records one archive entry: the top directory, and an executable directly in it.
func (a *archive) note(name string, exec bool) {
	top, rest, _ := strings.Cut(strings.TrimSuffix(name, "/"), "/")
	if a.Dir == "" {
		a.Dir = top
	}
	if exec && rest != "" && !strings.Contains(rest, "/") {
		a.Binaries = append(a.Binaries, rest)
	}
}

func tarBinaries(data []byte, a *archive) error {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return err
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		a.note(h.Name, h.Typeflag == tar.TypeReg && h.Mode&0o100 != 0)
	}
}

func zipBinaries(data []byte, a *archive) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return err
	}
	for _, f := range zr.File {
		a.note(f.Name, strings.HasSuffix(f.Name, ".exe"))
	}
	return nil
}

// spdx names the license text's SPDX identifier, for the licenses this project may
// carry; any other is LicenseRef-LICENSE (the file shipped in every archive).
func spdx(text string) string {
	t := strings.Join(strings.Fields(text), " ")
	switch {
	case strings.Contains(t, "Apache License") && strings.Contains(t, "Version 2.0"):
		return "Apache-2.0"
	case strings.Contains(t, "Permission is hereby granted, free of charge"):
		return "MIT"
	case strings.Contains(t, "Mozilla Public License Version 2.0"):
		return "MPL-2.0"
	case strings.Contains(t, "Redistribution and use in source and binary forms") && strings.Contains(t, "Neither the name"):
		return "BSD-3-Clause"
	case strings.Contains(t, "Redistribution and use in source and binary forms"):
		return "BSD-2-Clause"
	case strings.Contains(t, "Permission to use, copy, modify, and/or distribute this software"):
		return "ISC"
	}
	return "LicenseRef-LICENSE"
}

func fill(tmpl string, r release) ([]byte, error) {
	t, err := template.New("").Funcs(template.FuncMap{
		"winArch": func(arch string) string { return map[string]string{"amd64": "x64", "arm64": "arm64"}[arch] },
		"upper":   strings.ToUpper,
		"rbq":     func(s string) string { b, _ := json.Marshal(s); return string(b) },
		"known":   func(s string) bool { return !strings.HasPrefix(s, "LicenseRef-") },
		"trimExe": func(s string) string { return strings.TrimSuffix(s, ".exe") },
		"list":    func(s ...string) []string { return s },
	}).Parse(tmpl)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	err = t.Execute(&b, r)
	return b.Bytes(), err
}

// homebrewFormula is a formula for a tap (e.g. entratool/homebrew-tap/Formula/entratool.rb).
// Homebrew enters the archive's one top directory before install runs.
const homebrewFormula = `# Homebrew formula for entratool {{.Version}}, generated by make dist (tools/relpack).
# Publish it in a tap, e.g. Formula/entratool.rb of {{.Repo}}'s homebrew-tap.
class Entratool < Formula
  desc "Entra ID tokens for service principals with X.509 certificates"
  homepage "https://github.com/{{.Repo}}"
  version {{rbq .Version}}
{{- if known .License}}
  license {{rbq .License}}
{{- end}}
{{- if or (.Has "darwin/amd64") (.Has "darwin/arm64")}}

  on_macos do
{{- with .A "darwin/arm64"}}
    on_arm do
      url {{rbq ($.URL .File)}}
      sha256 "{{.SHA256}}"
    end
{{- end}}
{{- with .A "darwin/amd64"}}
    on_intel do
      url {{rbq ($.URL .File)}}
      sha256 "{{.SHA256}}"
    end
{{- end}}
  end
{{- end}}
{{- if or (.Has "linux/amd64") (.Has "linux/arm64")}}

  on_linux do
{{- with .A "linux/arm64"}}
    on_arm do
      url {{rbq ($.URL .File)}}
      sha256 "{{.SHA256}}"
    end
{{- end}}
{{- with .A "linux/amd64"}}
    on_intel do
      url {{rbq ($.URL .File)}}
      sha256 "{{.SHA256}}"
    end
{{- end}}
  end
{{- end}}

  def install
    # Every binary, entratool-engine included: the others start it from beside them.
    bin.install Dir["*"].select { |f| File.file?(f) && File.executable?(f) }
    bash_completion.install "completions/entratool.bash" => "entratool"
    zsh_completion.install "completions/_entratool"
    fish_completion.install "completions/entratool.fish"
    man1.install Dir["man/man1/*.1"]
  end

  test do
    assert_match version.to_s, shell_output("#{bin}/entratool --version")
    assert_match version.to_s, shell_output("#{bin}/entratool-engine --version")
  end
end
`

// scoopManifest is a manifest for a Scoop bucket (bucket/entratool.json).
func scoopManifest(r release) ([]byte, error) {
	type arch struct {
		URL        string `json:"url"`
		Hash       string `json:"hash"`
		ExtractDir string `json:"extract_dir"`
	}
	type autoArch struct {
		URL        string `json:"url"`
		ExtractDir string `json:"extract_dir"`
	}
	m := struct {
		Version      string                         `json:"version"`
		Description  string                         `json:"description"`
		Homepage     string                         `json:"homepage"`
		License      string                         `json:"license"`
		Notes        string                         `json:"notes"`
		Architecture map[string]arch                `json:"architecture"`
		Bin          []string                       `json:"bin"`
		Checkver     string                         `json:"checkver"`
		Autoupdate   map[string]map[string]autoArch `json:"autoupdate"`
	}{
		Version:      r.Version,
		Description:  shortDescription,
		Homepage:     "https://github.com/" + r.Repo,
		License:      r.License,
		Notes:        "PowerShell completion: add 'entratool completion powershell | Out-String | Invoke-Expression' to $PROFILE.",
		Architecture: map[string]arch{},
		Checkver:     "github",
		Autoupdate:   map[string]map[string]autoArch{"architecture": {}},
	}
	seen := map[string]bool{}
	for _, p := range []struct{ goarch, scoop string }{{"amd64", "64bit"}, {"arm64", "arm64"}} {
		a := r.A("windows/" + p.goarch)
		if a == nil {
			continue
		}
		m.Architecture[p.scoop] = arch{URL: r.URL(a.File), Hash: a.SHA256, ExtractDir: a.Dir}
		m.Autoupdate["architecture"][p.scoop] = autoArch{
			URL:        "https://github.com/" + r.Repo + "/releases/download/v$version/entratool_$version_windows_" + p.goarch + ".zip",
			ExtractDir: "entratool_$version_windows_" + p.goarch,
		}
		for _, b := range a.Binaries {
			if !seen[b] {
				seen[b] = true
				m.Bin = append(m.Bin, b)
			}
		}
	}
	b, err := json.MarshalIndent(m, "", "    ")
	return append(b, '\n'), err
}

// winget's identifiers: PackageIdentifier is Publisher.Package.
const (
	wingetPublisher = "Entratool"
	wingetPackage   = "Entratool"
	wingetManifest  = "1.6.0"
)

const wingetVersion = `# Generated by make dist (tools/relpack).
# yaml-language-server: $schema=https://aka.ms/winget-manifest.version.` + wingetManifest + `.schema.json
PackageIdentifier: ` + wingetPublisher + `.` + wingetPackage + `
PackageVersion: {{.Version}}
DefaultLocale: en-US
ManifestType: version
ManifestVersion: ` + wingetManifest + `
`

const wingetInstaller = `# Generated by make dist (tools/relpack).
# yaml-language-server: $schema=https://aka.ms/winget-manifest.installer.` + wingetManifest + `.schema.json
PackageIdentifier: ` + wingetPublisher + `.` + wingetPackage + `
PackageVersion: {{.Version}}
InstallerType: zip
NestedInstallerType: portable
ReleaseDate: {{.Date}}
Installers:
{{- range $p := (list "windows/amd64" "windows/arm64")}}{{with $a := $.A $p}}
- Architecture: {{winArch .Arch}}
  InstallerUrl: {{$.URL .File}}
  InstallerSha256: {{upper .SHA256}}
  NestedInstallerFiles:
{{- range .Binaries}}
  - RelativeFilePath: {{$a.Dir}}\{{.}}
    PortableCommandAlias: {{trimExe .}}
{{- end}}
{{- end}}{{end}}
ManifestType: installer
ManifestVersion: ` + wingetManifest + `
`

const wingetLocale = `# Generated by make dist (tools/relpack).
# yaml-language-server: $schema=https://aka.ms/winget-manifest.defaultLocale.` + wingetManifest + `.schema.json
PackageIdentifier: ` + wingetPublisher + `.` + wingetPackage + `
PackageVersion: {{.Version}}
PackageLocale: en-US
Publisher: entratool
PublisherUrl: https://github.com/{{.Repo}}
PackageName: entratool
PackageUrl: https://github.com/{{.Repo}}
License: {{.License}}
LicenseUrl: https://github.com/{{.Repo}}/blob/{{.Tag}}/LICENSE
ShortDescription: ` + shortDescription + `
Description: ` + description + `
Moniker: entratool
Tags:
- entra-id
- azure
- oauth
- certificate
- credential-helper
ReleaseNotesUrl: https://github.com/{{.Repo}}/releases/tag/{{.Tag}}
ManifestType: defaultLocale
ManifestVersion: ` + wingetManifest + `
`
