#!/usr/bin/env bash
# make dist-check: `make dist` in a clean clone of HEAD (uncommitted changes are not in
# it), then: SHA256SUMS verifies; every archive and package holds every binary, the
# completions and the man pages; the linux tarball and .deb of this machine's
# architecture, extracted, answer --version with one version and get a token from the
# emulator, cold and then from the cache; and `make dist` in a second clean clone, at
# another path, gives a byte-identical SHA256SUMS.
#
# DIST_PLATFORMS narrows both builds (make test runs linux/amd64 only).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
GO=${GO:-go}
MAKE=${MAKE:-make}
PLATFORMS=${DIST_PLATFORMS:-linux/amd64 linux/arm64 darwin/amd64 darwin/arm64 windows/amd64 windows/arm64}
BINARIES=(entratool entratool-engine git-credential-entra kubectl-exec-entra docker-credential-entra az-entra)
COMPLETIONS=(entratool.bash _entratool entratool.fish entratool.ps1)
# Man pages every archive and package must hold: entratool's tree (a few of its pages
# stand for all) and one page per other binary.
MANPAGES=(entratool.1 entratool-get-token.1 entratool-config-create.1 entratool-completion.1)
for b in "${BINARIES[@]:1}"; do MANPAGES+=("$b.1"); done
HOST=$($GO env GOHOSTOS)/$($GO env GOHOSTARCH)
export LC_ALL=C

work=$(mktemp -d "${TMPDIR:-/tmp}/entratool-dist-check.XXXXXX")
emulator_pid='' ca=''
cleanup() { [ -z "$emulator_pid" ] || kill "$emulator_pid" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
fail() { echo "dist-check: FAIL: $*" >&2; exit 1; }
say() { echo "dist-check: $*"; }

head=$(git rev-parse HEAD)
[ -z "$(git status --porcelain --untracked-files=no)" ] || say "note: uncommitted changes are not checked: this builds HEAD ($(git rev-parse --short HEAD))"

# clone_build DIR: a clean clone of HEAD in DIR, and make dist in it.
clone_build() {
  git clone -q --no-checkout "$ROOT" "$1"
  git -C "$1" -c advice.detachedHead=false checkout -q --detach "$head"
  local t0=$SECONDS
  "$MAKE" -s -C "$1" dist DIST_PLATFORMS="$PLATFORMS" >"$1.log" 2>&1 || { cat "$1.log" >&2; fail "make dist in $1"; }
  say "make dist in a clean clone: $((SECONDS - t0))s ($PLATFORMS)"
}

clone_build "$work/a"
dist=$work/a/dist
# The version, as the files are named (entratool_<V>.cdx.json is the one file per build).
V=$(cd "$dist" && ls entratool_*.cdx.json 2>/dev/null | sed -n 's/^entratool_\(.*\)\.cdx\.json$/\1/p')
[ -n "$V" ] && [ "$(wc -l <<<"$V")" -eq 1 ] || fail "no single entratool_<version>.cdx.json in dist/"

# 1. Checksums.
(cd "$dist" && sha256sum --quiet -c SHA256SUMS) || fail "sha256sum -c SHA256SUMS"
unlisted=$(cd "$dist" && comm -23 <(find . -type f ! -name SHA256SUMS | sed 's|^\./||' | sort) <(awk '{print $2}' SHA256SUMS | sort))
[ -z "$unlisted" ] || fail "not in SHA256SUMS: $unlisted"
say "SHA256SUMS: $(wc -l <"$dist/SHA256SUMS") files verified"

# expect_all WHAT LISTING NAME...: every NAME is a line of LISTING.
expect_all() {
  local what=$1 listing=$2 n
  shift 2
  for n in "$@"; do grep -qxF -- "$n" <<<"$listing" || fail "$what has no $n"; done
}

# 2. Archives: one per platform, each with every binary, plugin, completion and page.
for p in $PLATFORMS; do
  os=${p%/*} arch=${p#*/} top=entratool_${V}_${os}_${arch} ext='' bins=("${BINARIES[@]}")
  [ "$os" = windows ] && ext=.exe
  [ "$os" = windows ] && bins+=(entratool-keystore-wincert)
  [ "$p" = linux/amd64 ] && [ "$HOST" = linux/amd64 ] && bins+=(entratool-keystore-pkcs11)
  if [ "$os" = windows ]; then
    f=$top.zip
    [ -f "$dist/$f" ] || fail "no $f"
    listing=$(unzip -Z1 "$dist/$f")
  else
    f=$top.tar.gz
    [ -f "$dist/$f" ] || fail "no $f"
    listing=$(tar tzf "$dist/$f")
  fi
  want=("$top/LICENSE" "$top/README.md")
  for b in "${bins[@]}"; do want+=("$top/$b$ext"); done
  for c in "${COMPLETIONS[@]}"; do want+=("$top/completions/$c"); done
  for m in "${MANPAGES[@]}"; do want+=("$top/man/man1/$m"); done
  expect_all "$f" "$listing" "${want[@]}"
  # and the same man pages as every other archive and package
  man=$(sed -n "s|^$top/man/man1/\([^/]*\.1\)$|\1|p" <<<"$listing" | sort)
  [ -n "${ref_man:-}" ] || ref_man=$man
  [ "$man" = "$ref_man" ] || fail "$f: its man pages differ from another archive's: $(diff <(echo "$ref_man") <(echo "$man") | grep '^[<>]' | tr '\n' ' ')"
  if [ "$os" != windows ]; then
    # the binaries must be executable once unpacked
    bad=$(tar tvzf "$dist/$f" | awk -v t="$top/" '$1 !~ /^-rwx/ && $6 ~ "^"t"[^/]+$" && $6 !~ /(LICENSE|README.md)$/ {print $6}')
    [ -z "$bad" ] || fail "$f: not executable: $bad"
  fi
  say "$f: $(grep -c . <<<"$listing") entries; ${bins[*]}, LICENSE, README.md, ${#COMPLETIONS[@]} completions, $(grep -c '/man/man1/.*\.1$' <<<"$listing") man pages"
done

# 3. Packages: .deb and .rpm for each linux platform, with files where the system looks.
for p in $PLATFORMS; do
  [ "${p%/*}" = linux ] || continue
  arch=${p#*/} bins=("${BINARIES[@]}")
  [ "$p" = linux/amd64 ] && [ "$HOST" = linux/amd64 ] && bins+=(entratool-keystore-pkcs11)
  for fmt in deb rpm; do
    if [ $fmt = deb ]; then
      f=$(cd "$dist" && ls entratool_*_"$arch".deb 2>/dev/null) || fail "no .deb for $arch"
      listing=$(dpkg-deb -c "$dist/$f" | awk '{print $6}' | sed 's|^\./|/|')
      zsh=/usr/share/zsh/vendor-completions/_entratool
      lic=/usr/share/doc/entratool/copyright
    else
      rarch=$([ "$arch" = amd64 ] && echo x86_64 || echo aarch64)
      f=$(cd "$dist" && ls entratool-*."$rarch".rpm 2>/dev/null) || fail "no .rpm for $arch"
      listing=$(rpm -qlp "$dist/$f" 2>/dev/null)
      zsh=/usr/share/zsh/site-functions/_entratool
      lic=/usr/share/licenses/entratool/LICENSE
    fi
    want=(/usr/share/bash-completion/completions/entratool "$zsh" /usr/share/fish/vendor_completions.d/entratool.fish "$lic")
    for b in "${bins[@]}"; do want+=("/usr/bin/$b"); done
    for m in "${MANPAGES[@]}"; do want+=("/usr/share/man/man1/$m.gz"); done
    expect_all "$f" "$listing" "${want[@]}"
    man=$(sed -n 's|^/usr/share/man/man1/\([^/]*\.1\)\.gz$|\1|p' <<<"$listing" | sort)
    [ "$man" = "$ref_man" ] || fail "$f: its man pages differ from the archives': $(diff <(echo "$ref_man") <(echo "$man") | grep '^[<>]' | tr '\n' ' ')"
    say "$f: ${bins[*]} in /usr/bin, completions, $(grep -c '^/usr/share/man/man1/.*\.1\.gz$' <<<"$listing") man pages"
  done
done

# 4. The SBOM and the packaging manifests.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["bomFormat"]=="CycloneDX" and d["components"], "empty"' "$dist/entratool_${V}.cdx.json" \
  || fail "entratool_${V}.cdx.json is not a CycloneDX SBOM with components"
for p in $PLATFORMS; do
  case ${p%/*} in
    windows) pk=(scoop/entratool.json "winget/manifests/e/Entratool/Entratool/$V/Entratool.Entratool.yaml" \
                 "winget/manifests/e/Entratool/Entratool/$V/Entratool.Entratool.installer.yaml" \
                 "winget/manifests/e/Entratool/Entratool/$V/Entratool.Entratool.locale.en-US.yaml") ;;
    *) pk=(homebrew/entratool.rb) ;;
  esac
  for f in "${pk[@]}"; do
    [ -f "$dist/packaging/$f" ] || fail "no packaging/$f"
    a=entratool_${V}_${p%/*}_${p#*/}
    sum=$(awk -v f="$a.tar.gz" -v z="$a.zip" '$2==f || $2==z {print $1}' "$dist/SHA256SUMS")
    case $f in *.locale.*|*Entratool.yaml) continue ;; esac
    grep -qi "$sum" "$dist/packaging/$f" || fail "packaging/$f does not name $a's checksum"
  done
done
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$dist/packaging/scoop/entratool.json" 2>/dev/null || [ ! -f "$dist/packaging/scoop/entratool.json" ] || fail "scoop manifest is not JSON"
say "SBOM and packaging manifests: present, with the archives' checksums"

# 5. This machine's linux tarball and .deb, extracted: --version, and a cold then a
# cached token from the emulator.
case $HOST in linux/amd64|linux/arm64) ;; *) say "not a linux host: skipping the run of the extracted binaries"; HOST= ;; esac
if [ -n "$HOST" ] && [[ " $PLATFORMS " == *" $HOST "* ]]; then
  arch=${HOST#*/}
  mkdir -p "$work/tgz" "$work/deb"
  tar xzf "$dist/entratool_${V}_linux_${arch}.tar.gz" -C "$work/tgz"
  dpkg-deb -x "$dist"/entratool_*_"$arch".deb "$work/deb"
  sets=("$work/tgz/entratool_${V}_linux_${arch}" "$work/deb/usr/bin")
  for d in "${sets[@]}"; do
    for b in entratool entratool-engine; do
      line=$("$d/$b" --version) || fail "$d/$b --version"
      read -r name got _ <<<"$line"
      [ "$name" = "$b" ] && [ "${got#v}" = "$V" ] || fail "$d/$b --version: '$line', want $b $V"
      version=$got
    done
  done
  say "tarball and .deb: entratool and entratool-engine --version say $version"

  (cd "$work/a" && "$GO" build -o "$work/entra-emulator" ./emulator/cmd/entra-emulator)
  TENANT=87654321-4321-4321-4321-cba987654321
  clients=(12345678-1234-1234-1234-123456789abc 12345678-1234-1234-1234-123456789abd)
  labels=(tarball .deb)
  # run I ARGS...: set I's entratool, in its own home, with nothing else of this environment.
  run() {
    local i=$1
    shift
    env -i PATH=/usr/bin:/bin HOME="$work/user$i" ENTRATOOL_HOME="$work/home$i" ${ca:+SSL_CERT_FILE="$ca"} "${sets[$i]}/entratool" "$@"
  }
  apps=()
  for i in 0 1; do
    mkdir -p "$work/user$i"
    printf 'pw-%s' "$i" | run "$i" cert create --subject "CN=dist-check-$i" --days 365 --out "$work/home$i/certs/c.pfx" \
      --password-stdin >/dev/null || fail "${labels[$i]}: entratool cert create"
    apps+=(--app "$TENANT:${clients[$i]}:$work/home$i/certs/c.cer")
  done
  "$work/entra-emulator" "${apps[@]}" --verbose --dir "$work/emulator" --ready-file "$work/ready.json" >"$work/emulator.log" 2>&1 &
  emulator_pid=$!
  for _ in $(seq 100); do [ -s "$work/ready.json" ] && break; sleep 0.1; done
  [ -s "$work/ready.json" ] || { cat "$work/emulator.log" >&2; fail "the emulator did not start"; }
  field() { sed -n "s/.*\"$1\":\"\([^\"]*\)\".*/\1/p" "$work/ready.json"; }
  authority=$(field authority) ca=$(field caFile)
  tokens() { grep -c 'POST /.*/oauth2/v2.0/token' "$work/emulator.log" || true; }
  for i in 0 1; do
    l=${labels[$i]}
    printf 'pw-%s' "$i" | run "$i" config create --name check --client-id "${clients[$i]}" --tenant-id "$TENANT" \
      --certificate "$work/home$i/certs/c.pfx" --certificate-password-stdin --authority-host "$authority" --secret-store file --default >/dev/null \
      || fail "$l: entratool config create"
    before=$(tokens)
    cold=$(run "$i" get-token --debug 2>"$work/cold.err") || { cat "$work/cold.err" >&2; fail "$l: entratool get-token (cold)"; }
    [ "$(tokens)" -eq $((before + 1)) ] || fail "$l: the cold get-token made $(($(tokens) - before)) token requests, want 1"
    grep -q 'cache miss' "$work/cold.err" || fail "$l: the cold get-token's debug log has no cache miss"
    warm=$(run "$i" get-token --debug 2>"$work/warm.err") || { cat "$work/warm.err" >&2; fail "$l: entratool get-token (cached)"; }
    [ "$(tokens)" -eq $((before + 1)) ] || fail "$l: the second get-token asked the emulator again"
    grep -q 'token from cache' "$work/warm.err" || fail "$l: the second get-token's debug log has no 'token from cache'"
    [ "$warm" = "$cold" ] && [ "${#cold}" -gt 100 ] || fail "$l: the cached token differs from the cold one"
    say "$l: get-token cold (1 token request to the emulator), then from the cache (none)"
  done
  kill "$emulator_pid" 2>/dev/null || true
  wait "$emulator_pid" 2>/dev/null || true
  emulator_pid=
fi

# 6. Reproducible: a second clean clone, elsewhere, builds the same bytes.
clone_build "$work/second/b"
if ! cmp -s "$dist/SHA256SUMS" "$work/second/b/dist/SHA256SUMS"; then
  diff "$dist/SHA256SUMS" "$work/second/b/dist/SHA256SUMS" >&2 || true
  fail "the second build's SHA256SUMS differs"
fi
say "second clean build: SHA256SUMS identical ($(sha256sum <"$dist/SHA256SUMS" | cut -c1-16)…)"
say "ok"
