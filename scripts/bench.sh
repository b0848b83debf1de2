#!/usr/bin/env bash
# make bench: Go benchmarks of the hot path, then whole-process figures (bench/main.go).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "## Go benchmarks (hot path)"
echo '```'
go test -run="^$" -bench=. -benchmem -benchtime=2000x ./entratool/ ./core/tokencache/ ./core/profile/ 2>&1 | grep -E '^(Benchmark|ok|PASS)' || true
echo '```'
echo
go run ./bench -bin ./bin -n "${BENCH_RUNS:-100}" -herds "${BENCH_HERDS:-32,64,128}" ${BENCH_BASELINE:+-baseline "$BENCH_BASELINE"}

echo
echo "## Plugin-signed cold token ($((11)) runs each, alternated, medians)"
echo
echo "| case | median |"
echo "|---|---|"
ENTRATOOL_BENCH=1 go test -count=1 -run '^TestKeyStoreColdCost$' -v ./e2e/ 2>&1 | grep '^| ' || echo "| plugin measurement unavailable (needs softhsm2 and cgo: make test-deps) | |"
