#!/usr/bin/env bash
# `npm test`: everything the tests need, stack included. Installs what is missing, starts the local
# stack when it is not already up (and stops it again afterwards), type-checks, then runs the unit and
# integration suites. Extra arguments go to vitest (e.g. `npm test -- --project unit`).
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/bootstrap.sh"
bash "$ROOT/scripts/tools.sh"  # helm, hadolint, kubernetes-validate: the chart checks (test/unit/ship) need them
bash "$ROOT/scripts/go-conformance.sh" >/dev/null  # Confluent's Go client as a test oracle (test/integration/conformance)

started_stack=0
if [[ ! -f "$STACK_DIR/env" ]] || ! pid_alive "$STACK_DIR/pids/kafka.pid"; then
  RECRYPT_SKIP_BOOTSTRAP=1 bash "$ROOT/scripts/stack/up.sh"
  started_stack=1
fi
cleanup() { ((started_stack)) && bash "$ROOT/scripts/stack/down.sh" || true; }
trap cleanup EXIT

cd "$ROOT"
log "type-checking"
npx tsc -p tsconfig.json --noEmit
log "running tests"
report="$STACK_DIR/vitest-report.json"
status=0
npx vitest run --reporter=default --reporter=json --outputFile.json="$report" "$@" || status=$?
# One plain closing line that any CI reads: "tests: N passed, N failed, N skipped".
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  const skipped = r.numPendingTests + r.numTodoTests;
  console.log(`tests: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${skipped} skipped`);
  if (r.numTotalTests === 0) { console.error("no test ran"); process.exit(1); }
' "$report" || status=1
exit "$status"
