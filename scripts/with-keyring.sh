#!/usr/bin/env bash
# Runs a command inside a private D-Bus session with an unlocked gnome-keyring
# (Secret Service), so keyring code is tested against the real thing, headless.
set -euo pipefail
if [ -z "${ENTRATOOL_IN_KEYRING_SESSION:-}" ]; then
  exec env ENTRATOOL_IN_KEYRING_SESSION=1 dbus-run-session -- "$0" "$@"
fi
# A throwaway keyring home so the developer's own keyring is never touched.
export XDG_DATA_HOME="$(mktemp -d)"
export HOME_KEYRING_TMP="$XDG_DATA_HOME"
eval "$(printf 'entratool-test' | gnome-keyring-daemon --unlock --components=secrets)"
export ENTRATOOL_TEST_KEYRING=1
trap 'rm -rf "$HOME_KEYRING_TMP"' EXIT
"$@"
