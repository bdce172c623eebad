#!/usr/bin/env bash
# Benchmarks securesession against gin-contrib/sessions and scs, the way a
# browser uses them, and regenerates from that one run:
#   bench/RESULTS.md    full tables, targets, floors, load test, method
#   bench/results.json  every round of every measurement (cmd/benchrun)
#   bench/load.json     every run of the load test (cmd/loadtest)
#   README.md           the text between <!-- bench:start --> and
#                       <!-- bench:end -->, if it has those markers (if not,
#                       it is left alone and the section is printed instead)
#
# Run it on a quiet machine: it prints the load average and CPU model at
# the start and the end, and RESULTS.md records them. On 2 cores the
# default run takes about 10 minutes (in-process rounds, then the load test).
#
# Everything runs in the separate bench/ module, so the compared libraries
# never enter the root module's dependencies. The harness starts its own
# memcached (Debian package memcached) on a free loopback port and stops it
# after; SQLite files live in a temporary directory, in WAL mode.
#
# Knobs (environment):
#   BENCH_ROUNDS  rounds of the in-process benchmarks (default 9; at least 7)
#   BENCH_TIME    measured time per contender per group per round (default
#                 250ms), or Nx for N operations
#   BENCH_SLICES  interleaved batches per contender per round (default 4)
#   BENCH_RUN     only the groups whose family/kind matches this regexp
#   LOAD_N LOAD_C LOAD_RUNS LOAD_MAX   load test: requests per run (15000),
#                 virtual users (16), runs (3, 0 skips it), time limit per
#                 run (5s)
#   BENCH_SMOKE=1 a quick check that everything works (2 rounds of 200
#                 operations, a tiny load test); it writes to a temporary
#                 directory and never touches bench/ or README.md
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

if [ "${BENCH_SMOKE:-}" = 1 ]; then
  : "${BENCH_ROUNDS:=2}" "${BENCH_TIME:=200x}" "${LOAD_N:=500}" "${LOAD_RUNS:=1}"
  out=$(mktemp -d)
  readme=""
else
  out=$root/bench
  readme=$root/README.md
fi
rounds=${BENCH_ROUNDS:-9}
benchtime=${BENCH_TIME:-250ms}
slices=${BENCH_SLICES:-4}
load_runs=${LOAD_RUNS:-3}

machine() {
  echo "$1: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
}
machine "bench.sh start"
if ! command -v memcached >/dev/null 2>&1 && [ ! -x /usr/bin/memcached ]; then
  echo "bench.sh: memcached is not installed (apt-get install memcached); the memcached contenders will be left out" >&2
fi
if [ "$rounds" -lt 7 ] && [ "${BENCH_SMOKE:-}" != 1 ]; then
  echo "bench.sh: BENCH_ROUNDS=$rounds is under 7: the results will be marked as a smoke run" >&2
fi

commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
git diff --quiet HEAD 2>/dev/null || commit="$commit+changes"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cd bench
go build -o "$tmp/benchrun" ./cmd/benchrun
go build -o "$tmp/benchreport" ./cmd/benchreport
go build -o "$tmp/loadtest" ./cmd/loadtest

start=$SECONDS
"$tmp/benchrun" -rounds "$rounds" -benchtime "$benchtime" -slices "$slices" -run "${BENCH_RUN:-}" \
  -commit "$commit" -o "$tmp/results.json"
echo "bench.sh: in-process benchmarks took $((SECONDS - start))s"

cp "$tmp/results.json" "$out/results.json"
args=(-results "$out/results.json" -o "$out/RESULTS.md" -section "$tmp/section.md")
wrote="$out/RESULTS.md and $out/results.json"
if [ "$load_runs" != 0 ]; then
  start=$SECONDS
  "$tmp/loadtest" -root "$root" -n "${LOAD_N:-15000}" -c "${LOAD_C:-16}" -runs "$load_runs" \
    -max "${LOAD_MAX:-5s}" -o "$tmp/load.json"
  echo "bench.sh: load test took $((SECONDS - start))s"
  cp "$tmp/load.json" "$out/load.json"
  args+=(-load "$out/load.json")
  wrote="$wrote and $out/load.json"
else
  rm -f "$out/load.json" # a stale load test must not be reported with this run
fi
if [ -n "$readme" ]; then
  args+=(-readme "$readme")
fi
"$tmp/benchreport" "${args[@]}"

echo
echo "bench.sh: wrote $wrote"
if [ -z "$readme" ] || ! grep -q '<!-- bench:start -->' "$readme"; then
  echo "bench.sh: README section (not written to README.md):"
  echo
  cat "$tmp/section.md"
  echo
else
  echo "bench.sh: updated the benchmark section of $readme"
fi
machine "bench.sh end"
