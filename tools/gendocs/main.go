// Command gendocs writes what `make dist` ships beside the binaries, generated rather
// than written by hand so that it cannot drift from the code:
//
//	OUT/completions/entratool.bash, _entratool, entratool.fish, entratool.ps1
//	OUT/man/man1/entratool.1, entratool-<command>….1  (cobra/doc, from the command tree)
//	OUT/man/man1/<helper>.1                             (the other binaries, from --help)
//
// The pages carry a fixed date (-date, SOURCE_DATE_EPOCH in scripts/dist.sh) and no
// "auto generated" line, so the same commit gives the same bytes.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/cpuguy83/go-md2man/v2/md2man"
	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/entratool/entratool/entratool/cli"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "gendocs: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("gendocs", flag.ContinueOnError)
	out := fs.String("out", "", "output directory (completions/ and man/man1/ are made in it)")
	ver := fs.String("version", "dev", "version named in the pages' footer")
	date := fs.String("date", os.Getenv("SOURCE_DATE_EPOCH"), "the pages' date, in seconds since 1970 (default $SOURCE_DATE_EPOCH)")
	helpBin := fs.String("helpbin", "", "directory holding host builds of the helper binaries, whose --help the helper pages quote")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" || *helpBin == "" || fs.NArg() > 0 {
		return errors.New("usage: gendocs -out DIR -helpbin DIR [-version V] [-date EPOCH]")
	}
	secs, err := strconv.ParseInt(*date, 10, 64)
	if err != nil {
		return fmt.Errorf("-date %q: want seconds since 1970 (SOURCE_DATE_EPOCH)", *date)
	}
	when := time.Unix(secs, 0).UTC()
	manDir := filepath.Join(*out, "man", "man1")
	compDir := filepath.Join(*out, "completions")
	for _, d := range []string{manDir, compDir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	root := cli.CommandTree()
	if err := completions(root, compDir); err != nil {
		return err
	}
	disableAutoGenTag(root)
	header := &doc.GenManHeader{Section: "1", Date: &when, Source: "entratool " + *ver, Manual: "entratool manual"}
	if err := doc.GenManTree(root, header, manDir); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	for _, h := range helpers {
		if err := helperPage(h, *helpBin, manDir, header); err != nil {
			return fmt.Errorf("%s.1: %w", h.name, err)
		}
	}
	return nil
}

// completions writes entratool's completion scripts, as `entratool completion SHELL`
// prints them, under the names the shells look for.
func completions(root *cobra.Command, dir string) error {
	for _, c := range []struct {
		file string
		gen  func(*bytes.Buffer) error
	}{
		{"entratool.bash", func(b *bytes.Buffer) error { return root.GenBashCompletionV2(b, true) }},
		{"_entratool", func(b *bytes.Buffer) error { return root.GenZshCompletion(b) }},
		{"entratool.fish", func(b *bytes.Buffer) error { return root.GenFishCompletion(b, true) }},
		{"entratool.ps1", func(b *bytes.Buffer) error { return root.GenPowerShellCompletionWithDesc(b) }},
	} {
		var b bytes.Buffer
		if err := c.gen(&b); err != nil {
			return fmt.Errorf("completion %s: %w", c.file, err)
		}
		if err := os.WriteFile(filepath.Join(dir, c.file), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func disableAutoGenTag(c *cobra.Command) {
	c.DisableAutoGenTag = true
	for _, sub := range c.Commands() {
		disableAutoGenTag(sub)
	}
}

// helper is the page of a binary that has no cobra tree: a NAME line and a SYNOPSIS
// kept here, the binary's own --help as the description (when it says more than its
// usage), and what the page should add to it.
type helper struct {
	name, short string
	synopsis    []string
	about       string // before the --help text; markdown
	quoteHelp   bool   // quote `NAME --help` (false: it is entratool's, or only a usage line)
	seeAlso     string
}

var helpers = []helper{
	{
		name:      "git-credential-entra",
		short:     "git credential helper that answers Azure Repos with Entra ID tokens",
		synopsis:  []string{"git-credential-entra [--profile NAME] [--bearer] [--timeout 30s] [--debug] get|store|erase|capability", "git-credential-entra --version"},
		quoteHelp: true,
		about:     "git runs this helper; set it up with **entratool git setup** rather than by hand. Its own help:",
		seeAlso:   "**entratool**(1), **entratool-git-setup**(1), **gitcredentials**(7)",
	},
	{
		name:      "kubectl-exec-entra",
		short:     "client-go exec credential plugin giving kubectl Entra ID tokens for AKS",
		synopsis:  []string{"kubectl-exec-entra [--profile NAME] [--server-id ID | --scope SCOPE]", "kubectl-exec-entra --version"},
		quoteHelp: true,
		about:     "kubectl (or any client-go program) runs this plugin from a kubeconfig's exec section; **entratool kubeconfig convert** writes that section. Its own help:",
		seeAlso:   "**entratool**(1), **entratool-kubeconfig-convert**(1), **kubectl**(1)",
	},
	{
		name:     "docker-credential-entra",
		short:    "docker credential helper for Azure Container Registry with Entra ID tokens",
		synopsis: []string{"docker-credential-entra get|store|erase|list|version", "docker-credential-entra --version"},
		about: "docker, buildkit, crane and helm run this helper with an action and the registry on stdin, " +
			"as the docker credential helper protocol has it. For a registry of the profile's **registries** it " +
			"exchanges an Entra ID token for an ACR refresh token and answers with that; anything else gets no " +
			"credentials. **store** (docker login) is refused, as there is nothing to store; **erase** (docker logout) " +
			"forgets the cached refresh token; **list** names the registries the profiles serve.\n\n" +
			"Set it up with **entratool docker setup -p NAME --registry NAME.azurecr.io**, which writes " +
			"`credHelpers` into docker's config.json.",
		seeAlso: "**entratool**(1), **entratool-docker-setup**(1)",
	},
	{
		name:      "az-entra",
		short:     "Azure CLI shim answering az's token commands from an entratool profile",
		synopsis:  []string{"az account get-access-token [--resource R | --scope S | --resource-type T] [--tenant T] [--subscription S]", "az account show | az account list | az version", "azd auth token --scope S [--tenant-id T] -o json", "az-entra --version"},
		quoteHelp: true,
		about:     "Installed under the names **az** and **azd** (links made by **entratool az-shim install --dir DIR**), it answers what the Azure SDKs' AzureCLICredential, Terraform's use_cli and scripts ask the Azure CLI. Its own help:",
		seeAlso:   "**entratool**(1), **entratool-az-shim-install**(1)",
	},
	{
		name:     "entratool-engine",
		short:    "the entratool binary that does the work on a cache miss",
		synopsis: []string{"entratool-engine [ENTRATOOL-ARGUMENTS...]", "entratool-engine --version"},
		about: "**entratool**, **git-credential-entra**, **kubectl-exec-entra**, **docker-credential-entra** and " +
			"**az-entra** answer a cached token themselves and start **entratool-engine** for everything else: " +
			"a token request to Entra ID, the keyring, PKCS#12 files, key-store plugins and every entratool " +
			"command other than a cached **get-token**. It is not meant to be run by hand; run with " +
			"entratool's arguments, it is **entratool**.\n\n" +
			"Install it in the same directory as the other binaries (they look beside themselves first, then " +
			"on PATH), and from the same release: **entratool version** and **entratool doctor** report an " +
			"engine that is missing or of another version.",
		seeAlso: "**entratool**(1), **entratool-version**(1), **entratool-doctor**(1)",
	},
}

// helperPage writes DIR/NAME.1 for h, in the layout cobra/doc gives entratool's pages.
func helperPage(h helper, helpBin, dir string, header *doc.GenManHeader) error {
	var md strings.Builder
	fmt.Fprintf(&md, "%% %q %q %q %q %q\n", strings.ToUpper(h.name), header.Section, header.Date.Format("Jan 2006"), header.Source, header.Manual)
	fmt.Fprintf(&md, "# NAME\n%s \\- %s\n\n", h.name, h.short)
	md.WriteString("# SYNOPSIS\n")
	for _, s := range h.synopsis {
		fmt.Fprintf(&md, "**%s**\n\n", strings.NewReplacer("[", "\\[", "]", "\\]", "*", "\\*", "_", "\\_").Replace(s))
	}
	fmt.Fprintf(&md, "# DESCRIPTION\n%s\n\n", h.about)
	if h.quoteHelp {
		text, err := helpText(filepath.Join(helpBin, h.name))
		if err != nil {
			return err
		}
		md.WriteString("```\n" + text + "\n```\n\n")
	}
	md.WriteString("# ENVIRONMENT\n" +
		"**ENTRATOOL\\_HOME** (default ~/.entratool), **ENTRATOOL\\_PROFILE**, **ENTRATOOL\\_CACHE\\_DIR**, " +
		"**ENTRATOOL\\_SECRET\\_STORE**, **ENTRATOOL\\_DEBUG**: as for **entratool**(1).\n\n")
	fmt.Fprintf(&md, "# SEE ALSO\n%s\n", h.seeAlso)
	return os.WriteFile(filepath.Join(dir, h.name+".1"), md2man.Render([]byte(md.String())), 0o644)
}

// helpText runs `BIN --help` in an empty home and returns what it printed, tabs and
// trailing space removed. A binary that is missing or fails is an error: the page would
// otherwise ship without it.
func helpText(bin string) (string, error) {
	home, err := os.MkdirTemp("", "gendocs-home-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(home)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--help")
	cmd.Env = []string{"HOME=" + home, "ENTRATOOL_HOME=" + filepath.Join(home, ".entratool"), "PATH=/usr/bin:/bin", "LC_ALL=C"}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s --help: %v: %s", bin, err, out.String())
	}
	var lines []string
	for _, l := range strings.Split(strings.ReplaceAll(out.String(), "\t", "    "), "\n") {
		lines = append(lines, strings.TrimRight(l, " "))
	}
	text := strings.TrimSpace(strings.Join(lines, "\n"))
	if text == "" {
		return "", fmt.Errorf("%s --help printed nothing", bin)
	}
	return text, nil
}
