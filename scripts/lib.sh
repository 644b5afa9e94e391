# Shared shell helpers for recrypt's scripts. Sourced, not run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STACK_DIR="${RECRYPT_STACK_DIR:-$ROOT/.stack}"
# Downloads shared by every clone on this machine (CI clones afresh; caches make that cheap).
CACHE_DIR="${RECRYPT_CACHE_DIR:-$HOME/.cache/recrypt}"
KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$ROOT/stack/kafka/pom.xml")"
KAFKA_LIBS="$CACHE_DIR/kafka-$KAFKA_VERSION/libs"
MOTO_VENV="$CACHE_DIR/moto-venv"
APT_PACKAGES=(zlib1g-dev libssl-dev libsasl2-dev libzstd-dev liblz4-dev pkg-config redis-server python3-venv openssl)

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

# The secure stack (stack/secure-up.sh): its own directory and ports, beside the plain stack.
secure_stack() {
  SECURE_DIR="${RECRYPT_SECURE_STACK_DIR:-$STACK_DIR/secure}"
  SECURE_KAFKA_PORT="${RECRYPT_SECURE_KAFKA_PORT:-19092}"
  SECURE_CONTROLLER_PORT="${RECRYPT_SECURE_CONTROLLER_PORT:-19093}"
  SECURE_REDIS_PORT="${RECRYPT_SECURE_REDIS_PORT:-16379}"
  SECURE_REGISTRY_PORT="${RECRYPT_SECURE_REGISTRY_PORT:-18081}"
}

# start_service NAME PORT COMMAND...: runs COMMAND detached in its own session, its pid recorded in
# $PIDS/NAME.pid and its output appended to $LOGS/NAME.log (the caller sets PIDS and LOGS). Idempotent: a
# service this stack already started is left alone; a port held by anything else is an error.
start_service() {
  local name=$1 port=$2; shift 2
  if pid_alive "$PIDS/$name.pid"; then log "$name already running (pid $(cat "$PIDS/$name.pid"))"; return 0; fi
  if port_open "$port"; then die "$name: port $port is taken by a process this stack did not start"; fi
  setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
  log "$name starting (pid $!)"
}

# await_service NAME SECONDS COMMAND...: waits for COMMAND to succeed, else shows the log's tail and dies.
await_service() {
  local name=$1 seconds=$2; shift 2
  wait_until "$seconds" "$name" "$@" || { tail -n 30 "$LOGS/$name.log" >&2; die "$name did not come up in ${seconds}s (log: $LOGS/$name.log)"; }
}

# stop_services NAME...: stops the services recorded in $PIDS (in the order given), each process group
# by its recorded pid, SIGKILL after 30 s; removes their pid files.
stop_services() {
  local name file pid
  for name in "$@"; do
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
}

# kafka_node_properties DIR CONTROLLER_PORT: the settings of a one-node KRaft broker + controller that
# every stack shares; the caller appends its listeners. Also writes DIR/log4j2.properties.
kafka_node_properties() {
  local dir=$1 controller_port=$2
  cat <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
controller.listener.names=CONTROLLER
log.dirs=$dir/data
num.partitions=1
auto.create.topics.enable=false
# One broker: the internal topics can only have one replica, and transactions must still work.
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
PROPS
  cat > "$dir/log4j2.properties" <<'PROPS'
rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.server.name=kafka.server.KafkaRaftServer
logger.server.level=INFO
PROPS
}

# kafka_java_opts DIR: sets KAFKA_JAVA_OPTS, the JVM arguments of a stack broker whose files are in DIR.
kafka_java_opts() {
  KAFKA_JAVA_OPTS=(-Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
    "-Dlog4j2.configurationFile=$1/log4j2.properties" -cp "$KAFKA_LIBS/*")
}

# kafka_format DIR LOG [STORAGE-TOOL-ARGS...]: formats DIR/data once (extra arguments, e.g. --add-scram,
# go to kafka-storage format).
kafka_format() {
  local dir=$1 logfile=$2; shift 2
  [[ -f "$dir/data/meta.properties" ]] && return 0
  log "formatting Kafka storage in $dir"
  kafka_java_opts "$dir"
  java "${KAFKA_JAVA_OPTS[@]}" kafka.tools.StorageTool format --ignore-formatted \
    -t "$(java "${KAFKA_JAVA_OPTS[@]}" kafka.tools.StorageTool random-uuid)" \
    -c "$dir/server.properties" "$@" >>"$logfile" 2>&1
}
