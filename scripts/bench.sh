#!/usr/bin/env bash
# Benchmarks side by side with gin-contrib/sessions and scs, and a load test
# of the examples over real HTTP on loopback (issue 6). Prints markdown;
# keep it with:  bash scripts/bench.sh | tee bench/RESULTS.md
#
# Everything runs in the separate bench/ module, so the compared libraries
# never enter the root module's dependencies. memcached (Debian package
# memcached) is started by the benchmarks on 127.0.0.1 on a free port and
# stopped after; SQLite files live in a temporary directory, in WAL mode.
#
# Knobs (environment): BENCH_COUNT (runs per benchmark, default 5),
# BENCH_TIME (-benchtime, default 300ms), LOAD_N (requests per load run,
# default 20000), LOAD_C (connections, default 16), LOAD_RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/../bench"

count=${BENCH_COUNT:-5}
benchtime=${BENCH_TIME:-300ms}
raw=$(mktemp)
trap 'rm -f "$raw"' EXIT

if ! command -v memcached >/dev/null 2>&1; then
  echo "bench.sh: memcached is not installed (apt-get install memcached); the memcached contenders will be skipped" >&2
fi

echo "## securesession benchmarks"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3-), $(date -u +%Y-%m-%d)."
echo "Command: \`bash scripts/bench.sh\` (go test -bench . -benchmem -count $count -benchtime $benchtime; medians of the $count runs)."
echo

go test -run '^$' -bench . -benchmem -count "$count" -benchtime "$benchtime" -timeout 30m . >"$raw"
go run ./cmd/benchreport <"$raw"

echo "## Load test over real HTTP on 127.0.0.1"
echo
go run ./cmd/loadtest -n "${LOAD_N:-20000}" -c "${LOAD_C:-16}" -runs "${LOAD_RUNS:-3}" -max 15s
echo
echo "<details><summary>Raw go test -bench output</summary>"
echo
echo '```'
cat "$raw"
echo '```'
echo "</details>"
