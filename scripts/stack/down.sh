#!/usr/bin/env bash
# Stops exactly the processes stack/up.sh started (recorded by pid), newest first; keeps their data.
source "$(dirname "$0")/../lib.sh"
PIDS="$STACK_DIR/pids"
[[ -d "$PIDS" ]] || { log "stack is not running"; exit 0; }
for name in registry moto redis kafka; do
  file="$PIDS/$name.pid"
  [[ -f "$file" ]] || continue
  pid="$(cat "$file")"
  if kill -0 "$pid" 2>/dev/null; then
    log "stopping $name (pid $pid)"
    # Each service runs in its own session (setsid): signal the whole process group.
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    wait_until 30 "$name to exit" bash -c "! kill -0 $pid 2>/dev/null" || { log "$name ignored SIGTERM; killing"; kill -KILL -- "-$pid" 2>/dev/null || true; }
  fi
  rm -f "$file"
done
rm -f "$STACK_DIR/env"
log "stack is down"
