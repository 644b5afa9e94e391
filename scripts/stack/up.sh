#!/usr/bin/env bash
# Starts the local stack: Kafka (KRaft, one node), Redis, moto (AWS KMS API) and the dev registry.
# Idempotent: a service already started by this script is left alone. Writes .stack/env for tests and
# scripts to source. Only processes recorded in .stack/pids are ever stopped by stack/down.sh.
source "$(dirname "$0")/../lib.sh"
[[ "${RECRYPT_SKIP_BOOTSTRAP:-}" == 1 ]] || bash "$ROOT/scripts/bootstrap.sh"

PIDS="$STACK_DIR/pids"; LOGS="$STACK_DIR/logs"
mkdir -p "$PIDS" "$LOGS"

# Ports can be moved (RECRYPT_*_PORT) to run a second stack beside one that is already up.
stack_ports

# start NAME PORT COMMAND...: runs COMMAND detached in its own session, recording its pid.
start() {
  local name=$1 port=$2; shift 2
  if pid_alive "$PIDS/$name.pid"; then log "$name already running (pid $(cat "$PIDS/$name.pid"))"; return 0; fi
  if port_open "$port"; then die "$name: port $port is taken by a process this stack did not start"; fi
  setsid "$@" >>"$LOGS/$name.log" 2>&1 < /dev/null &
  echo $! > "$PIDS/$name.pid"
  log "$name starting (pid $!)"
}

await() {
  local name=$1 seconds=$2; shift 2
  wait_until "$seconds" "$name" "$@" || { tail -n 30 "$LOGS/$name.log" >&2; die "$name did not come up in ${seconds}s (log: $LOGS/$name.log)"; }
}

# --- Kafka (KRaft combined broker + controller) ---
KAFKA_DIR="$STACK_DIR/kafka"
mkdir -p "$KAFKA_DIR"
cat > "$KAFKA_DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$KAFKA_DIR/data
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
cat > "$KAFKA_DIR/log4j2.properties" <<'PROPS'
rootLogger.level=WARN
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
logger.server.name=kafka.server.KafkaRaftServer
logger.server.level=INFO
PROPS
JAVA_OPTS=(-Xms256m -Xmx1g -XX:+UseG1GC -Djava.awt.headless=true
  "-Dlog4j2.configurationFile=$KAFKA_DIR/log4j2.properties" -cp "$KAFKA_LIBS/*")
if [[ ! -f "$KAFKA_DIR/data/meta.properties" ]]; then
  log "formatting Kafka storage"
  java "${JAVA_OPTS[@]}" kafka.tools.StorageTool format --ignore-formatted \
    -t "$(java "${JAVA_OPTS[@]}" kafka.tools.StorageTool random-uuid)" \
    -c "$KAFKA_DIR/server.properties" >>"$LOGS/kafka.log" 2>&1
fi
start kafka "$KAFKA_PORT" java "${JAVA_OPTS[@]}" kafka.Kafka "$KAFKA_DIR/server.properties"

# --- Redis (append-only file, so a Redis restart keeps backfill state) ---
mkdir -p "$STACK_DIR/redis"
start redis "$REDIS_PORT" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STACK_DIR/redis" \
  --appendonly yes --save "" --protected-mode yes

# --- moto: the AWS KMS API ---
start moto "$MOTO_PORT" "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"

# --- dev registry: Schema Registry + DEK Registry (persists in .stack/registry) ---
LOCAL_SECRET_FILE="$STACK_DIR/local-secret"
[[ -s "$LOCAL_SECRET_FILE" ]] || (umask 077; head -c 32 /dev/urandom | base64 > "$LOCAL_SECRET_FILE")
if [[ -f "$ROOT/src/devregistry/main.ts" ]]; then
  LOCAL_SECRET="$(cat "$LOCAL_SECRET_FILE")" start registry "$REGISTRY_PORT" \
    node --import tsx "$ROOT/src/devregistry/main.ts" --host 127.0.0.1 --port "$REGISTRY_PORT" --data "$STACK_DIR/registry"
fi

await redis 30 bash -c "redis-cli -p $REDIS_PORT ping 2>/dev/null | grep -q PONG"
await moto 60 bash -c "curl -sf -o /dev/null http://127.0.0.1:$MOTO_PORT/moto-api/"
[[ -f "$ROOT/src/devregistry/main.ts" ]] && await registry 60 bash -c "curl -sf -o /dev/null http://127.0.0.1:$REGISTRY_PORT/subjects"
await kafka 120 port_open "$KAFKA_PORT"
await kafka 120 node "$ROOT/scripts/stack/kafka-ready.mjs" "127.0.0.1:$KAFKA_PORT"

cat > "$STACK_DIR/env" <<ENV
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT
REDIS_URL=redis://127.0.0.1:$REDIS_PORT
SCHEMA_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT
AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$MOTO_PORT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
LOCAL_SECRET_FILE=$LOCAL_SECRET_FILE
ENV
log "stack is up:"
sed 's/^/    /' "$STACK_DIR/env" >&2
