#!/usr/bin/env bash
# Stops exactly the processes stack/secure-up.sh started (recorded by pid in .stack/secure/pids); keeps
# their data, certificates and secrets. The plain stack is not touched.
source "$(dirname "$0")/../lib.sh"
secure_stack
PIDS="$SECURE_DIR/pids"
[[ -d "$PIDS" ]] || { log "secure stack is not running"; exit 0; }
stop_services registry redis kafka
rm -f "$SECURE_DIR/env"
log "secure stack is down"
