#!/usr/bin/env bash
# make dist (SPEC §16): release archives, .deb and .rpm, a CycloneDX SBOM, packaging
# manifests and SHA256SUMS in dist/. The same commit gives the same bytes: every time
# is SOURCE_DATE_EPOCH (the commit's time), builds are -trimpath, and the archives are
# written by tools/relpack (sorted names, owner 0, fixed modes, gzip without name or
# time). Offline once the module caches hold both modules (go mod download; cd tools &&
# go mod download). The release tools are pinned in tools/go.mod, not the product's.
#
# Environment (the Makefile passes the first two):
#   VERSION         version stamped and named (default: git describe)
#   LDFLAGS         -ldflags for every binary (default: version.Version only)
#   DIST_PLATFORMS  GOOS/GOARCH list (default: linux, darwin, windows × amd64, arm64)
#   DIST            output directory (default: dist)
#   DIST_REPO       GitHub repository the manifests download from (default: entratool/entratool)
#   DIST_MAINTAINER the packages' Maintainer field
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GO=${GO:-go}
VERSION=${VERSION:-$(git describe --tags --always --dirty 2>/dev/null || echo dev)}
LDFLAGS=${LDFLAGS:-"-s -w -X github.com/entratool/entratool/core/version.Version=$VERSION"}
PLATFORMS=${DIST_PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}
DIST=$(realpath -m "${DIST:-$ROOT/dist}")
REPO=${DIST_REPO:-entratool/entratool}
MAINTAINER=${DIST_MAINTAINER:-entratool maintainers <entratool@users.noreply.github.com>}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct)}
export TZ=UTC LC_ALL=C
umask 022

# What every archive and package holds: these binaries, and the plugins that build for
# the platform (plugin_cgo below).
BINARIES=(entratool entratool-engine git-credential-entra kubectl-exec-entra docker-credential-entra az-entra)

die() { echo "dist: $*" >&2; exit 1; }
for f in LICENSE README.md; do [ -f "$f" ] || die "$f is missing: every archive and package ships it"; done
case $VERSION in */*|*' '*|'') die "VERSION '$VERSION' cannot name a file" ;; esac
V=${VERSION#v}                                  # in file names: entratool_1.5.0_linux_amd64.tar.gz
HOST=$($GO env GOHOSTOS)/$($GO env GOHOSTARCH)

# Packages need a version that dpkg and rpm order: a tag (1.5.0, 1.5.0-rc.1) is taken as
# semver (prerelease → 1.5.0~rc.1); anything else (a commit) sorts before every release.
if [[ $V =~ ^[0-9]+\.[0-9]+\.[0-9]+ ]]; then
  PKGVER=$V PKGSCHEMA=semver
else
  PKGVER="0.0.0~git${V//[^A-Za-z0-9.]/.}" PKGSCHEMA=none
fi

stage=$(mktemp -d "${TMPDIR:-/tmp}/entratool-dist.XXXXXX")
trap 'rm -rf "$stage"' EXIT
case $DIST in /|"$ROOT"|"$HOME") die "DIST=$DIST: it is emptied first, so it must be a directory of its own" ;; esac
rm -rf "$DIST"
mkdir -p "$DIST"

# tools/go.mod's tools, run through the go command (built once, then cached by it).
# -trimpath: the SBOM names cyclonedx-gomod's own hashes, which must not depend on paths.
tool() { GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath -buildvcs=false" "$GO" -C "$ROOT/tools" tool "$@"; }
echo "dist: building the release tools (tools/go.mod)"
GOFLAGS="${GOFLAGS:+$GOFLAGS }-trimpath -buildvcs=false" "$GO" -C "$ROOT/tools" build tool

# plugin_cgo NAME OS/ARCH prints the CGO_ENABLED to build the plugin with there, or
# nothing when it is not shipped there. PKCS#11 modules are C libraries: that plugin
# needs cgo, so it is built natively only (linux/amd64 on a linux/amd64 host; cross
# compiling it would need a C cross toolchain). wincert is Windows-only, pure Go.
plugin_cgo() {
  case $1 in
    entratool-keystore-pkcs11) [ "$2" = linux/amd64 ] && [ "$HOST" = linux/amd64 ] && echo 1 ;;
    entratool-keystore-wincert) [ "${2%/*}" = windows ] && echo 0 ;;
    *) echo 0 ;;
  esac
  return 0
}

build() { # build OS/ARCH DIR
  local os=${1%/*} arch=${1#*/} dir=$2 pkgs=() p name cgo
  for b in "${BINARIES[@]}"; do pkgs+=("./$b"); done
  echo "dist: go build $1: ${BINARIES[*]}"
  mkdir -p "$dir"
  env CGO_ENABLED=0 GOOS="$os" GOARCH="$arch" "$GO" build -trimpath -buildvcs=false -ldflags "$LDFLAGS" -o "$dir/" "${pkgs[@]}"
  for p in plugins/*/; do
    name=$(basename "$p")
    cgo=$(plugin_cgo "$name" "$1")
    [ -n "$cgo" ] || continue
    if [ "$cgo" = 1 ] && ! command -v "$($GO env CC)" >/dev/null; then
      die "$name needs cgo and a C compiler ($($GO env CC)): install gcc (make test-deps)"
    fi
    # A plugin with no Go files for the platform (and no build rule above) is skipped.
    [ -n "$(env CGO_ENABLED="$cgo" GOOS="$os" GOARCH="$arch" "$GO" list -f '{{.GoFiles}}' "./$p" 2>/dev/null | tr -d '[]')" ] || continue
    echo "dist: go build $1: $name (CGO_ENABLED=$cgo)"
    env CGO_ENABLED="$cgo" GOOS="$os" GOARCH="$arch" "$GO" build -trimpath -buildvcs=false -ldflags "$LDFLAGS" -o "$dir/" "./$p"
  done
}

for p in $PLATFORMS; do
  case $p in linux/amd64|linux/arm64|darwin/amd64|darwin/arm64|windows/amd64|windows/arm64) ;; *) die "unknown platform $p" ;; esac
  build "$p" "$stage/bin/${p/\//_}"
done

# Man pages and completions come from the command tree, and the helpers' pages quote
# their --help: that needs them built for this machine.
helpbin=$stage/bin/${HOST/\//_}
[ -d "$helpbin" ] || { helpbin=$stage/bin/host; build "$HOST" "$helpbin" >/dev/null; }
echo "dist: man pages and completions (tools/gendocs)"
tool gendocs -out "$stage/docs" -helpbin "$helpbin" -version "$VERSION" -date "$SOURCE_DATE_EPOCH"
mkdir -p "$stage/manz"
tool relpack gzip -d "$stage/manz" "$stage"/docs/man/man1/*.1

# Archives: one top directory holding the binaries, LICENSE, README.md, completions/, man/.
for p in $PLATFORMS; do
  os=${p%/*} arch=${p#*/} name=entratool_${V}_${os}_${arch}
  tree=$stage/tree/${os}_${arch}/$name
  mkdir -p "$tree"
  cp "$stage/bin/${os}_${arch}"/* "$tree/"
  cp LICENSE README.md "$tree/"
  cp -r "$stage/docs/completions" "$stage/docs/man" "$tree/"
  chmod -R u+rwX,go+rX,go-w "$tree"
  if [ "$os" = windows ]; then
    tool relpack zip -mtime "$SOURCE_DATE_EPOCH" -o "$DIST/$name.zip" "$tree"
  else
    tool relpack tar -mtime "$SOURCE_DATE_EPOCH" -o "$DIST/$name.tar.gz" "$tree"
  fi
  echo "dist: $(basename "$DIST")/$name.$([ "$os" = windows ] && echo zip || echo tar.gz)"
done

# .deb and .rpm for linux (nfpm): binaries in /usr/bin, completions and man pages where
# each distribution's shells and man look.
LICENSE_ID=$(tool relpack spdx "$ROOT/LICENSE")
mtime=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
for p in $PLATFORMS; do
  [ "${p%/*}" = linux ] || continue
  arch=${p#*/} tree=$stage/tree/linux_${p#*/}/entratool_${V}_linux_${p#*/}
  for fmt in deb rpm; do
    zsh_dir=/usr/share/zsh/vendor-completions    # Debian's
    [ $fmt = rpm ] && zsh_dir=/usr/share/zsh/site-functions
    cfg=$stage/nfpm-$fmt-$arch.yaml
    {
      cat <<EOF
name: entratool
arch: $arch
platform: linux
version: "$PKGVER"
version_schema: $PKGSCHEMA
release: "1"
section: utils
priority: optional
maintainer: "$MAINTAINER"
description: |-
  Microsoft Entra ID tokens for service principals with X.509 certificates
  entratool gets Entra ID access tokens for a service principal authenticated with
  a certificate (or a client secret), for people and scripts, and through small
  credential helpers for git (Azure Repos), kubectl (AKS), docker, crane and helm
  (ACR), the Azure SDKs and Terraform.
vendor: entratool
homepage: https://github.com/$REPO
license: $LICENSE_ID
mtime: "$mtime"
rpm:
  summary: Microsoft Entra ID tokens for service principals with X.509 certificates
  group: Applications/System
  buildhost: entratool-dist
contents:
EOF
      for f in "$tree"/*; do
        [ -f "$f" ] && [ -x "$f" ] || continue
        printf -- '- src: %s\n  dst: /usr/bin/%s\n  file_info: {mode: 0755}\n' "$f" "$(basename "$f")"
      done
      printf -- '- src: %s\n  dst: /usr/share/bash-completion/completions/entratool\n  file_info: {mode: 0644}\n' "$tree/completions/entratool.bash"
      printf -- '- src: %s\n  dst: %s/_entratool\n  file_info: {mode: 0644}\n' "$tree/completions/_entratool" "$zsh_dir"
      printf -- '- src: %s\n  dst: /usr/share/fish/vendor_completions.d/entratool.fish\n  file_info: {mode: 0644}\n' "$tree/completions/entratool.fish"
      for m in "$stage"/manz/*.gz; do
        printf -- '- src: %s\n  dst: /usr/share/man/man1/%s\n  file_info: {mode: 0644}\n' "$m" "$(basename "$m")"
      done
      printf -- '- src: %s\n  dst: /usr/share/doc/entratool/README.md\n  file_info: {mode: 0644}\n' "$tree/README.md"
      if [ $fmt = deb ]; then
        printf -- '- src: %s\n  dst: /usr/share/doc/entratool/copyright\n  file_info: {mode: 0644}\n' "$tree/LICENSE"
      else
        printf -- '- src: %s\n  dst: /usr/share/licenses/entratool/LICENSE\n  type: license\n  file_info: {mode: 0644}\n' "$tree/LICENSE"
      fi
    } >"$cfg"
    tool nfpm package --config "$cfg" --packager $fmt --target "$DIST/" >"$stage/nfpm.log" 2>&1 || { cat "$stage/nfpm.log" >&2; die "nfpm $fmt $arch failed"; }
    echo "dist: $(basename "$DIST")/$(sed -n 's/.*created package: .*\/\([^/]*\)$/\1/p' "$stage/nfpm.log")"
  done
done

# The SBOM: every module the product's go.mod selects for its packages (not test-only
# ones), with detected licenses; no serial number or timestamp, so it is reproducible.
echo "dist: $(basename "$DIST")/entratool_${V}.cdx.json (cyclonedx-gomod)"
tool cyclonedx-gomod mod -json -licenses -noserial -notimestamp -output "$DIST/entratool_${V}.cdx.json" "$ROOT" 2>"$stage/sbom.log" \
  || { cat "$stage/sbom.log" >&2; die "cyclonedx-gomod failed"; }

# Homebrew formula, Scoop manifest and winget manifests for the archives just made.
tool relpack manifests -version "$V" -tag "$VERSION" -dist "$DIST" -out "$DIST/packaging" -repo "$REPO" -license "$ROOT/LICENSE" -date "$SOURCE_DATE_EPOCH"

# SHA256SUMS: every file in dist/, sorted by name.
(cd "$DIST" && find . -type f ! -name SHA256SUMS | sed 's|^\./||' | sort | xargs sha256sum >SHA256SUMS)
echo "dist: $(basename "$DIST")/SHA256SUMS ($(wc -l <"$DIST/SHA256SUMS") files)"
