#!/usr/bin/env bash
# Runs every fuzz target in the module for a bounded time each (default 5s).
set -euo pipefail
t="${1:-5s}"
cd "$(dirname "$0")/.."
found=0
while IFS=: read -r file name; do
  pkg="$(dirname "$file")"
  found=$((found+1))
  echo "fuzz $pkg $name ($t)"
  go test -run='^$' -fuzz="^${name}\$" -fuzztime="$t" -fuzzminimizetime=200x "$pkg" >/tmp/fuzz.$$.log 2>&1 || { cat /tmp/fuzz.$$.log; rm -f /tmp/fuzz.$$.log; exit 1; }
done < <(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed 's/:func /:/' | sort)
rm -f /tmp/fuzz.$$.log
echo "fuzz: $found targets ran for $t each"
