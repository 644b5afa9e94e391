#!/usr/bin/env bash
# `npm run bench`: installs what is missing (scripts/bootstrap.sh, a no-op when all is there), then runs
# the benchmark suites: node --import tsx bench/run.ts, once per suite. Extra arguments go to the
# runner, e.g. `npm run bench -- --only engine`, `npm run bench -- --only e2e`, `npm run bench -- --only backfill`,
# `npm run bench -- --only startup`
# or `npm run bench -- --quick`
# (a smoke run). Results land in .bench/<suite>-<timestamp>.json.
#
# - engine: one core, pinned to one CPU with taskset when it exists (BENCH_CPU picks which,
#   BENCH_CPU=none disables pinning).
# - e2e: `recrypt run` against the pipe copy and Confluent's libraries, per format (Avro, Protobuf, JSON
#   Schema) and path (encrypt, decrypt, GCM->SIV), then the scale rows (Avro encrypt with 1/6/24
#   partitions, 100-byte and 10-KiB records), on the local stack, never pinned (both cores). The stack
#   is started when it is not up, and stopped again afterwards (only when this script started it).
#   Defaults: 200,000 records per topic, 3 rounds (about 30 min on 2 cores); --quick: 30,000, 1 round.
#   Bigger or narrower runs: BENCH_E2E_RECORDS, BENCH_E2E_REPETITIONS, BENCH_E2E_BASELINE_SECONDS,
#   BENCH_E2E_FORMATS=avro,json, BENCH_E2E_PATHS=encrypt, BENCH_E2E_SCALE_PARTITIONS=1,6,24|none,
#   BENCH_E2E_SCALE_BYTES=100,10240|none (bench/e2e.ts).
# - startup: time from process start to the first committed record of the demo-size `recrypt run`
#   (2,000 records), median of 7 starts, and the CLI's module import time, on the local stack.
# - backfill: 1, 2 and 4 `recrypt worker` processes vs one `recrypt run`, and the takeover after a
#   SIGKILL, on the local stack (Redis too), never pinned. BENCH_BACKFILL_RECORDS sets the size.
# - engine-protobuf, engine-json: the engine's Protobuf and JSON Schema rows (bench/engine-protobuf.ts,
#   bench/engine-json.ts: in-place path, general path, Confluent's serdes, a raw loop), pinned like
#   engine; their tables are also written to .bench/<suite>-<timestamp>.txt. BENCH_FORMAT_RECORDS and
#   BENCH_FORMAT_REPETITIONS set the size (20000 and 7; --quick: 4000 and 3).
#
# Exit status: non-zero only when a suite fails; missed targets are reported, not fatal.
source "$(dirname "$0")/lib.sh"
[[ "${RECRYPT_SKIP_BOOTSTRAP:-0}" == 1 ]] || bash "$ROOT/scripts/bootstrap.sh"

cd "$ROOT"
ALL_SUITES=(engine engine-protobuf engine-json e2e backfill startup)   # bench/run.ts's suites, then the format scripts
PINNED_SUITES=" engine engine-protobuf engine-json "
STACK_SUITES=" e2e backfill startup "

# --only NAME / --only=NAME select suites (in the order given); every other argument is passed on.
suites=()
rest=()
while (($#)); do
  case "$1" in
    --only) [[ $# -ge 2 ]] || die "--only needs a suite name"; suites+=("$2"); shift 2 ;;
    --only=*) suites+=("${1#--only=}"); shift ;;
    *) rest+=("$1"); shift ;;
  esac
done
((${#suites[@]})) || suites=("${ALL_SUITES[@]}")

pin=()
cpu="${BENCH_CPU:-0}"
if [[ "$cpu" != none ]] && command -v taskset >/dev/null; then
  pin=(taskset -c "$cpu")
fi

started_stack=0
cleanup() { ((started_stack)) && bash "$ROOT/scripts/stack/down.sh" || true; }
trap cleanup EXIT
for suite in "${suites[@]}"; do
  if [[ "$STACK_SUITES" == *" $suite "* ]] && { [[ ! -f "$STACK_DIR/env" ]] || ! pid_alive "$STACK_DIR/pids/kafka.pid"; }; then
    RECRYPT_SKIP_BOOTSTRAP=1 bash "$ROOT/scripts/stack/up.sh"
    started_stack=1
  fi
done

status=0
quick=0
for arg in "${rest[@]}"; do [[ "$arg" == --quick ]] && quick=1; done
for suite in "${suites[@]}"; do
  if [[ "$suite" == engine-protobuf || "$suite" == engine-json ]]; then
    records="${BENCH_FORMAT_RECORDS:-$( ((quick)) && echo 4000 || echo 20000)}"
    repetitions="${BENCH_FORMAT_REPETITIONS:-$( ((quick)) && echo 3 || echo 7)}"
    mkdir -p .bench
    out=".bench/$suite-$(date -u +%Y-%m-%dT%H-%M-%SZ).txt"
    cmd=("${pin[@]}" node --expose-gc --import tsx "bench/$suite.ts" "$records" "$repetitions")
    "${cmd[@]}" | tee "$out"
    ((PIPESTATUS[0] == 0)) || status=1
    continue
  fi
  cmd=(node --expose-gc --import tsx bench/run.ts --only "$suite" "${rest[@]}")
  # --expose-gc: the runner collects garbage between timed runs, so one run's garbage is not billed to the next.
  if [[ "$PINNED_SUITES" == *" $suite "* ]]; then cmd=("${pin[@]}" "${cmd[@]}"); fi
  "${cmd[@]}" || status=$?
done
exit "$status"
