#!/usr/bin/env bash
# Runs every fuzz target in the module for a bounded time each (default 5s);
# FUZZ_ONLY=REGEX picks some.
# Targets run FUZZJOBS at a time (default: the number of cores), each with one fuzz
# worker: the same fuzzing CPU as one target at a time with a worker per core, in a
# fraction of the wall time.
set -euo pipefail
t="${1:-5s}"
cd "$(dirname "$0")/.."
jobs="${FUZZJOBS:-$(getconf _NPROCESSORS_ONLN 2>/dev/null || echo 2)}"
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT

# fuzz_one PKG NAME runs one target; its output is shown only when it fails.
fuzz_one() {
  local pkg="$1" name="$2" log="$logs/$2.log"
  echo "fuzz $pkg $name ($t)"
  for try in 1 2; do
    if go test -run='^$' -fuzz="^${name}\$" -fuzztime="$t" -fuzzminimizetime=200x -parallel=1 "$pkg" >"$log" 2>&1; then
      return 0
    fi
    # Go 1.26's fuzz coordinator can fail a target with a bare "context deadline
    # exceeded" at the -fuzztime boundary under CPU load (golang/go#75804, fixed in Go
    # 1.27): no input failed and nothing was written. That, and only that, runs again once.
    if [ "$try" = 1 ] && grep -q 'context deadline exceeded' "$log" && ! grep -qE 'Failing input written|panic:|_test.go:[0-9]+:' "$log"; then
      echo "  $name: the coordinator's end-of-run deadline race (golang/go#75804), no failing input: running again"
      continue
    fi
    echo "FAIL: fuzz $pkg $name"
    cat "$log"
    return 1
  done
}
export -f fuzz_one
export t logs

targets="$(grep -rHo --include='*_test.go' '^func Fuzz[A-Za-z0-9_]*' . | sed 's/:func /:/' | sort | while IFS=: read -r file name; do echo "$(dirname "$file") $name"; done)"
# FUZZ_ONLY=REGEX runs only the targets whose "PKG NAME" line matches.
if [ -n "${FUZZ_ONLY:-}" ]; then targets="$(printf '%s\n' "$targets" | grep -E "$FUZZ_ONLY" || true)"; fi
found="$(printf '%s\n' "$targets" | grep -c .)"
if ! printf '%s\n' "$targets" | xargs -P "$jobs" -n 2 bash -c 'fuzz_one "$@"' _; then
  echo "fuzz: a target failed (see above)"
  exit 1
fi
echo "fuzz: $found targets ran for $t each, $jobs at a time"
