#!/usr/bin/env bash
# `npm run bench`: installs what is missing (scripts/bootstrap.sh, a no-op when all is there), then runs
# the benchmark suites in one process: node --import tsx bench/run.ts. Extra arguments go to the
# runner, e.g. `npm run bench -- --only engine` or `npm run bench -- --quick` (a smoke run).
# The engine suite runs on one core: pinned to one CPU with taskset when it exists (BENCH_CPU picks
# which, BENCH_CPU=none disables pinning). Results land in .bench/<suite>-<timestamp>.json.
# Exit status: non-zero only when a suite fails; missed targets are reported, not fatal.
source "$(dirname "$0")/lib.sh"
[[ "${RECRYPT_SKIP_BOOTSTRAP:-0}" == 1 ]] || bash "$ROOT/scripts/bootstrap.sh"

cd "$ROOT"
pin=()
cpu="${BENCH_CPU:-0}"
if [[ "$cpu" != none ]] && command -v taskset >/dev/null; then
  pin=(taskset -c "$cpu")
fi
# --expose-gc: the runner collects garbage between timed runs, so one run's garbage is not billed to the next.
exec "${pin[@]}" node --expose-gc --import tsx bench/run.ts "$@"
