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
# The benchmark binary is built once and run BENCH_COUNT times over all
# contenders (rounds), so that each benchmark's samples are spread over the
# whole run and a burst of load from elsewhere on a noisy machine hits every
# contender alike; the tables show the median of the rounds.
#
# Knobs (environment): BENCH_COUNT (rounds, default 5),
# BENCH_TIME (-benchtime per benchmark per round, default 300ms), LOAD_N (requests per load run,
# default 20000), LOAD_C (connections, default 16), LOAD_RUNS (default 3).
set -euo pipefail
cd "$(dirname "$0")/../bench"

count=${BENCH_COUNT:-5}
benchtime=${BENCH_TIME:-300ms}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
raw=$tmp/bench.txt

if ! command -v memcached >/dev/null 2>&1; then
  echo "bench.sh: memcached is not installed (apt-get install memcached); the memcached contenders will be skipped" >&2
fi

echo "## securesession benchmarks"
echo
echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(go version | cut -d' ' -f3-), $(date -u +%Y-%m-%d)."
echo "Command: \`bash scripts/bench.sh\`: $count rounds of go test -bench . -benchmem -benchtime $benchtime over every contender; medians of the rounds."
echo "Load average at start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo

go test -c -o "$tmp/bench.test" .
for ((i = 1; i <= count; i++)); do
  "$tmp/bench.test" -test.run '^$' -test.bench . -test.benchmem -test.count 1 -test.benchtime "$benchtime" -test.timeout 30m >>"$raw"
done
go run ./cmd/benchreport <"$raw"

echo "## Load test over real HTTP on 127.0.0.1"
echo
go run ./cmd/loadtest -n "${LOAD_N:-20000}" -c "${LOAD_C:-16}" -runs "${LOAD_RUNS:-3}" -max 15s
echo
echo "Load average at end: $(cut -d' ' -f1-3 /proc/loadavg)."
echo
echo "<details><summary>Raw go test -bench output</summary>"
echo
echo '```'
cat "$raw"
echo '```'
echo "</details>"
