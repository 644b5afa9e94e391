#!/usr/bin/env bash
# `npm run soak`: installs what is missing (scripts/bootstrap.sh, a no-op when all is there), then runs
# soak/run.ts: an hour of re-encryption (GCM -> SIV under a new KEK) by two `recrypt serve` instances at
# a fixed produce rate with periodic SIGKILLs, on a PRIVATE stack (scripts/stack/private-up.sh, its own
# ports; the shared stack is never touched). Samples RSS, heap, event-loop delay and lag; checks exactly
# once and that RSS stays flat after warm-up. Output: .soak/soak-<date>.json and .svg; exit 0 on PASS.
# Options go to the runner, e.g. `npm run soak -- --minutes 5`, `npm run soak -- --rate 1000 --publish`
# (node --import tsx soak/run.ts --help lists them).
source "$(dirname "$0")/lib.sh"
[[ "${RECRYPT_SKIP_BOOTSTRAP:-0}" == 1 ]] || bash "$ROOT/scripts/bootstrap.sh"
cd "$ROOT"
exec node --import tsx soak/run.ts "$@"
