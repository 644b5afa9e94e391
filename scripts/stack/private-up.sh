#!/usr/bin/env bash
# Starts a PRIVATE stack beside the shared one (which it never touches), for a test that must stop,
# freeze or restart its services: a one-node KRaft Kafka, moto (AWS KMS API) and the dev registry, all
# on 127.0.0.1 at PORT_BASE.. PORT_BASE+3 (Kafka, its controller, moto, registry), with their own data,
# pid and log files under .stack/private/NAME (RECRYPT_PRIVATE_STACK_DIR moves it). Idempotent, like
# up.sh: a service still running is left alone, one stopped by private-down.sh NAME SERVICE is started
# again with its data (a broker or registry restart). Writes .stack/private/NAME/env.
# Usage: private-up.sh NAME PORT_BASE
source "$(dirname "$0")/../lib.sh"
[[ $# -eq 2 && "$1" =~ ^[A-Za-z0-9_.-]+$ && "$2" =~ ^[0-9]+$ ]] || die "usage: private-up.sh NAME PORT_BASE"
NAME=$1; BASE=$2
(( BASE >= 1024 && BASE + 3 <= 65535 )) || die "PORT_BASE must be in 1024..65532"
[[ -d "$KAFKA_LIBS" && -x "$MOTO_VENV/bin/moto_server" ]] || die "Kafka or moto missing: run scripts/bootstrap.sh (npm run stack:up does)"

DIR="${RECRYPT_PRIVATE_STACK_DIR:-$STACK_DIR/private}/$NAME"
PIDS="$DIR/pids"; LOGS="$DIR/logs"
mkdir -p "$PIDS" "$LOGS"
KAFKA_PORT=$BASE; CONTROLLER_PORT=$((BASE + 1)); MOTO_PORT=$((BASE + 2)); REGISTRY_PORT=$((BASE + 3))

# --- Kafka (KRaft combined broker + controller), a smaller heap than the shared one's ---
KAFKA_DIR="$DIR/kafka"
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
# A test restarts this broker: log when its shutdown starts and ends, to see what a slow one waited for.
cat >> "$KAFKA_DIR/log4j2.properties" <<'PROPS'
logger.brokerserver.name=kafka.server.BrokerServer
logger.brokerserver.level=INFO
logger.controllerserver.name=kafka.server.ControllerServer
logger.controllerserver.level=INFO
PROPS
kafka_format "$KAFKA_DIR" "$LOGS/kafka.log"
kafka_java_opts "$KAFKA_DIR"
KAFKA_JAVA_OPTS=("${KAFKA_JAVA_OPTS[@]/-Xmx1g/-Xmx512m}")
start_service kafka "$KAFKA_PORT" java "${KAFKA_JAVA_OPTS[@]}" kafka.Kafka "$KAFKA_DIR/server.properties"

# --- moto: the AWS KMS API (state in memory: a test that freezes it sends SIGSTOP/SIGCONT, never a restart) ---
start_service moto "$MOTO_PORT" "$MOTO_VENV/bin/moto_server" -H 127.0.0.1 -p "$MOTO_PORT"

# --- dev registry (persists in DIR/registry, so a restart keeps schemas and DEKs) ---
LOCAL_SECRET_FILE="$DIR/local-secret"
[[ -s "$LOCAL_SECRET_FILE" ]] || (umask 077; head -c 32 /dev/urandom | base64 > "$LOCAL_SECRET_FILE")
LOCAL_SECRET="$(cat "$LOCAL_SECRET_FILE")" start_service registry "$REGISTRY_PORT" \
  node --import tsx "$ROOT/src/devregistry/main.ts" --host 127.0.0.1 --port "$REGISTRY_PORT" --data "$DIR/registry"

await_service moto 60 bash -c "curl -sf -o /dev/null http://127.0.0.1:$MOTO_PORT/moto-api/"
await_service registry 60 bash -c "curl -sf -o /dev/null http://127.0.0.1:$REGISTRY_PORT/subjects"
await_service kafka 120 port_open "$KAFKA_PORT"
await_service kafka 120 node "$ROOT/scripts/stack/kafka-ready.mjs" "127.0.0.1:$KAFKA_PORT"

cat > "$DIR/env" <<ENV
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT
SCHEMA_REGISTRY_URL=http://127.0.0.1:$REGISTRY_PORT
AWS_ENDPOINT_URL_KMS=http://127.0.0.1:$MOTO_PORT
AWS_REGION=us-east-1
AWS_ACCESS_KEY_ID=testing
AWS_SECRET_ACCESS_KEY=testing
LOCAL_SECRET_FILE=$LOCAL_SECRET_FILE
ENV
log "private stack $NAME is up ($DIR/env)"
