#!/usr/bin/env bash
# `npm run demo`: installs what is missing, starts the local stack, and runs the bundled example: a
# backfill of a plaintext topic into an encrypted one, showing records before and after.
source "$(dirname "$0")/lib.sh"
bash "$ROOT/scripts/bootstrap.sh"
RECRYPT_SKIP_BOOTSTRAP=1 bash "$ROOT/scripts/stack/up.sh"
set -a; source "$STACK_DIR/env"; set +a
cd "$ROOT"
LOG_LEVEL=warn node --import tsx demo/demo.ts
