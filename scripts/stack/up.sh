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

# --- Kafka (KRaft combined broker + controller) ---
KAFKA_DIR="$STACK_DIR/kafka"
mkdir -p "$KAFKA_DIR"
{
  kafka_node_properties "$KAFKA_DIR" "$CONTROLLER_PORT"
  cat <<PROPS
listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT,CONTROLLER://127.0.0.1:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$KAFKA_PORT
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
PROPS
} > "$KAFKA_DIR/server.properties"
kafka_format "$KAFKA_DIR" "$LOGS/kafka.log"
kafka_java_opts "$KAFKA_DIR"
start_service kafka "$KAFKA_PORT" java "${KAFKA_JAVA_OPTS[@]}" kafka.Kafka "$KAFKA_DIR/server.properties"

# --- Redis (append-only file, so a Redis restart keeps backfill state) ---
mkdir -p "$STACK_DIR/redis"
start_service redis "$REDIS_PORT" redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STACK_DIR/redis" \
  --appendonly yes --save "" --protected-mode yes

# --- moto: the AWS KMS API ---
start_service moto "$MOTO_PORT" "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"

# --- dev registry: Schema Registry + DEK Registry (persists in .stack/registry) ---
LOCAL_SECRET_FILE="$STACK_DIR/local-secret"
[[ -s "$LOCAL_SECRET_FILE" ]] || (umask 077; head -c 32 /dev/urandom | base64 > "$LOCAL_SECRET_FILE")
if [[ -f "$ROOT/src/devregistry/main.ts" ]]; then
  LOCAL_SECRET="$(cat "$LOCAL_SECRET_FILE")" start_service registry "$REGISTRY_PORT" \
    node --import tsx "$ROOT/src/devregistry/main.ts" --host 127.0.0.1 --port "$REGISTRY_PORT" --data "$STACK_DIR/registry"
fi

await_service redis 30 bash -c "redis-cli -p $REDIS_PORT ping 2>/dev/null | grep -q PONG"
await_service moto 60 bash -c "curl -sf -o /dev/null http://127.0.0.1:$MOTO_PORT/moto-api/"
[[ -f "$ROOT/src/devregistry/main.ts" ]] && await_service registry 60 bash -c "curl -sf -o /dev/null http://127.0.0.1:$REGISTRY_PORT/subjects"
await_service kafka 120 port_open "$KAFKA_PORT"
await_service kafka 120 node "$ROOT/scripts/stack/kafka-ready.mjs" "127.0.0.1:$KAFKA_PORT"

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
