#!/usr/bin/env bash
# Installs the host tools the tests drive for real, when missing. Debian/Ubuntu only;
# elsewhere it says what to install. Never installs dbus-x11: with it, go-keyring can
# auto-launch a bus and block forever waiting for a prompt.
set -euo pipefail
need=()
command -v dbus-run-session >/dev/null || need+=(dbus)
command -v gnome-keyring-daemon >/dev/null || need+=(gnome-keyring)
command -v openssl >/dev/null || need+=(openssl)
command -v git >/dev/null || need+=(git)
command -v softhsm2-util >/dev/null || need+=(softhsm2)
command -v pkcs11-tool >/dev/null || need+=(opensc)
command -v fish >/dev/null || need+=(fish)
command -v zsh >/dev/null || need+=(zsh)
python3 -c 'import dotenv' 2>/dev/null || need+=(python3-dotenv)   # a second reader of env --shell dotenv
command -v useradd >/dev/null || need+=(passwd)                      # the trust tests' second local user
command -v gcc >/dev/null || need+=(gcc libc6-dev)   # cgo: the PKCS#11 plugin
command -v rpm >/dev/null || need+=(rpm)             # make dist-check: rpm -qlp on the .rpm packages
command -v unzip >/dev/null || need+=(unzip)         # make dist-check: the windows .zip archives
command -v dpkg-deb >/dev/null || need+=(dpkg)       # make dist-check: the .deb packages
command -v kubectl >/dev/null || echo "note: kubectl not found; the kubectl e2e step is skipped (client-go covers the same path)" >&2
[ ${#need[@]} -eq 0 ] && exit 0
if ! command -v apt-get >/dev/null; then
  echo "install these for the tests: ${need[*]}" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "installing test dependencies: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq >/dev/null
$sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
