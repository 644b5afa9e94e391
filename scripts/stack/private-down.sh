#!/usr/bin/env bash
# Stops what private-up.sh NAME started (recorded by pid in .stack/private/NAME/pids): every service,
# or only the ones named (a test restarts its broker with `private-down.sh NAME kafka` and private-up.sh
# again). With --purge (all services only), also removes the stack's directory. Never touches the shared
# stack or another private one.
# Usage: private-down.sh NAME [--purge | SERVICE...]   (services: registry moto kafka)
source "$(dirname "$0")/../lib.sh"
[[ $# -ge 1 && "$1" =~ ^[A-Za-z0-9_.-]+$ ]] || die "usage: private-down.sh NAME [--purge | SERVICE...]"
NAME=$1; shift
DIR="${RECRYPT_PRIVATE_STACK_DIR:-$STACK_DIR/private}/$NAME"
PIDS="$DIR/pids"
[[ -d "$PIDS" ]] || { log "private stack $NAME is not running"; exit 0; }
purge=0
if [[ "${1:-}" == --purge ]]; then purge=1; shift; fi
(( $# == 0 )) || (( purge == 0 )) || die "--purge stops every service: name none"
for service in "$@"; do [[ "$service" =~ ^(registry|moto|kafka)$ ]] || die "unknown service $service"; done
if (( $# )); then
  stop_services "$@"
else
  stop_services registry moto kafka
  rm -f "$DIR/env"
fi
(( purge )) && rm -rf "$DIR"
log "private stack $NAME: stopped ${*:-everything}"
