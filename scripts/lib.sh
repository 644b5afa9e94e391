# Shared shell helpers for recrypt's scripts. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${RECRYPT_STACK_DIR:-$ROOT/.stack}"
# Downloads shared by every clone on this machine (CI clones afresh; caches make that cheap).
CACHE_DIR="${RECRYPT_CACHE_DIR:-$HOME/.cache/recrypt}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/stack/kafka/pom.xml")"
KAFKA_LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
MOTO_VENV="$CACHE_DIR/moto-venv"
APT_PACKAGES=(zlib1g-dev libssl-dev libsasl2-dev libzstd-dev liblz4-dev pkg-config redis-server python3-venv)

log() { printf '\033[1m[recrypt]\033[0m %s\n' "$*" >&2; }
die() { printf '\033[31m[recrypt] %s\033[0m\n' "$*" >&2; exit 1; }

# port_open PORT: true when something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# pid_alive FILE: true when FILE holds the pid of a running process.
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# wait_until SECONDS DESCRIPTION COMMAND...: polls COMMAND every 0.5 s.
wait_until() {
  local limit=$1 what=$2; shift 2
  local deadline=$((SECONDS + limit))
  until "$@"; do
    (( SECONDS < deadline )) || return 1
    sleep 0.5
  done
}

# The stack's ports (overridable, e.g. to run CI beside a developer's stack).
stack_ports() {
  KAFKA_PORT="${RECRYPT_KAFKA_PORT:-9092}"
  CONTROLLER_PORT="${RECRYPT_CONTROLLER_PORT:-9093}"
  REDIS_PORT="${RECRYPT_REDIS_PORT:-6379}"
  MOTO_PORT="${RECRYPT_MOTO_PORT:-4566}"
  REGISTRY_PORT="${RECRYPT_REGISTRY_PORT:-8081}"
}
