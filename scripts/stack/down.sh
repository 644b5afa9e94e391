#!/usr/bin/env bash
# Stops exactly the processes stack/up.sh started (recorded by pid), newest first; keeps their data.
source "$(dirname "$0")/../lib.sh"
PIDS="$STACK_DIR/pids"
[[ -d "$PIDS" ]] || { log "stack is not running"; exit 0; }
stop_services registry moto redis kafka
rm -f "$STACK_DIR/env"
log "stack is down"
