#!/usr/bin/env bash
# Starts the SECURE local stack beside the plain one (which it never touches): a one-node KRaft Kafka
# whose only client listener is SASL_SSL (SCRAM-SHA-512 and PLAIN), Redis behind TLS with a password,
# and the dev registry on HTTPS with basic auth (and a bearer token). A CA, the server certificate and
# every password are generated once into .stack/secure (mode 600); the env written to
# .stack/secure/env names files only (the `_FILE` variables), never a secret. Idempotent, like up.sh;
# stack/secure-down.sh stops exactly what this started. Ports: RECRYPT_SECURE_*_PORT (lib.sh).
source "$(dirname "$0")/../lib.sh"
[[ "${RECRYPT_SKIP_BOOTSTRAP:-}" == 1 ]] || bash "$ROOT/scripts/bootstrap.sh"

secure_stack
PIDS="$SECURE_DIR/pids"; LOGS="$SECURE_DIR/logs"; TLS="$SECURE_DIR/tls"; SECRETS="$SECURE_DIR/secrets"
mkdir -p "$PIDS" "$LOGS" "$TLS" "$SECRETS"
chmod 700 "$SECRETS" "$TLS"

# --- secrets: random, alphanumeric (they go into a JAAS line and a Redis config unquoted) ---
secret() {
  local file="$SECRETS/$1"
  [[ -s "$file" ]] || (umask 077; head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' > "$file")
  cat "$file"
}
KAFKA_ADMIN_PASSWORD="$(secret kafka-admin-password)"
KAFKA_PASSWORD="$(secret kafka-password)"
KEYSTORE_PASSWORD="$(secret keystore-password)"
REDIS_PASSWORD="$(secret redis-password)"
secret registry-bearer-token >/dev/null
[[ -s "$SECRETS/registry-user-info" ]] || (umask 077; printf 'recrypt:%s' "$(secret registry-password)" > "$SECRETS/registry-user-info")
[[ -s "$SECRETS/local-secret" ]] || (umask 077; head -c 32 /dev/urandom | base64 > "$SECRETS/local-secret")

# --- TLS: a self-signed CA and one server certificate for 127.0.0.1 / localhost ---
if [[ ! -s "$TLS/server.crt" ]]; then
  log "generating a CA and a server certificate in $TLS"
  (umask 077
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj "/CN=recrypt secure stack CA" \
      -keyout "$TLS/ca.key" -out "$TLS/ca.crt" 2>/dev/null
    openssl req -newkey rsa:2048 -nodes -subj "/CN=localhost" -keyout "$TLS/server.key" -out "$TLS/server.csr" 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n' > "$TLS/server.ext"
    openssl x509 -req -days 3650 -in "$TLS/server.csr" -CA "$TLS/ca.crt" -CAkey "$TLS/ca.key" -CAcreateserial \
      -extfile "$TLS/server.ext" -out "$TLS/server.crt" 2>/dev/null
    openssl pkcs12 -export -in "$TLS/server.crt" -inkey "$TLS/server.key" -certfile "$TLS/ca.crt" -name broker \
      -passout "file:$SECRETS/keystore-password" -out "$TLS/broker.p12")
  chmod 644 "$TLS/ca.crt"
fi

# --- Kafka: SASL_SSL for clients (SCRAM-SHA-512 and PLAIN); the controller stays on loopback PLAINTEXT ---
KAFKA_DIR="$SECURE_DIR/kafka"
mkdir -p "$KAFKA_DIR"
(umask 077
{
  kafka_node_properties "$KAFKA_DIR" "$SECURE_CONTROLLER_PORT"
  cat <<PROPS
listeners=SASL_SSL://127.0.0.1:$SECURE_KAFKA_PORT,CONTROLLER://127.0.0.1:$SECURE_CONTROLLER_PORT
advertised.listeners=SASL_SSL://127.0.0.1:$SECURE_KAFKA_PORT
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT
sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN
sasl.mechanism.inter.broker.protocol=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="$KAFKA_ADMIN_PASSWORD" user_admin="$KAFKA_ADMIN_PASSWORD" user_recrypt="$KAFKA_PASSWORD";
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
ssl.keystore.type=PKCS12
ssl.keystore.location=$TLS/broker.p12
ssl.keystore.password=$KEYSTORE_PASSWORD
ssl.key.password=$KEYSTORE_PASSWORD
ssl.truststore.type=PEM
ssl.truststore.location=$TLS/ca.crt
PROPS
} > "$KAFKA_DIR/server.properties")
# SCRAM credentials live in the cluster metadata: written once, when the storage is formatted.
kafka_format "$KAFKA_DIR" "$LOGS/kafka.log" \
  --add-scram "SCRAM-SHA-512=[name=recrypt,password=$KAFKA_PASSWORD]" \
  --add-scram "SCRAM-SHA-512=[name=admin,password=$KAFKA_ADMIN_PASSWORD]"
kafka_java_opts "$KAFKA_DIR"
start_service kafka "$SECURE_KAFKA_PORT" java "${KAFKA_JAVA_OPTS[@]}" kafka.Kafka "$KAFKA_DIR/server.properties"

# --- Redis: TLS only (no plain port), a password, state kept like the plain stack's ---
mkdir -p "$SECURE_DIR/redis"
(umask 077; cat > "$SECURE_DIR/redis.conf" <<CONF
bind 127.0.0.1
port 0
tls-port $SECURE_REDIS_PORT
tls-cert-file $TLS/server.crt
tls-key-file $TLS/server.key
tls-ca-cert-file $TLS/ca.crt
tls-auth-clients no
requirepass $REDIS_PASSWORD
dir $SECURE_DIR/redis
appendonly yes
save ""
protected-mode yes
CONF
)
start_service redis "$SECURE_REDIS_PORT" redis-server "$SECURE_DIR/redis.conf"

# --- dev registry: HTTPS, basic auth (recrypt:password) or the bearer token ---
LOCAL_SECRET="$(cat "$SECRETS/local-secret")" start_service registry "$SECURE_REGISTRY_PORT" \
  node --import tsx "$ROOT/src/devregistry/main.ts" --host 127.0.0.1 --port "$SECURE_REGISTRY_PORT" \
  --data "$SECURE_DIR/registry" --tls-cert "$TLS/server.crt" --tls-key "$TLS/server.key" \
  --basic-auth-file "$SECRETS/registry-user-info" --bearer-token-file "$SECRETS/registry-bearer-token"

await_service redis 30 bash -c "REDISCLI_AUTH='$REDIS_PASSWORD' redis-cli --tls --cacert '$TLS/ca.crt' -p $SECURE_REDIS_PORT ping 2>/dev/null | grep -q PONG"
# 401 without credentials: up, and refusing anonymous callers.
await_service registry 60 bash -c "[[ \$(curl -s -o /dev/null -w '%{http_code}' --cacert '$TLS/ca.crt' https://127.0.0.1:$SECURE_REGISTRY_PORT/subjects) == 401 ]]"
await_service kafka 120 port_open "$SECURE_KAFKA_PORT"
await_service kafka 120 node "$ROOT/scripts/stack/kafka-ready.mjs" "127.0.0.1:$SECURE_KAFKA_PORT" \
  security.protocol=SASL_SSL sasl.mechanisms=SCRAM-SHA-512 sasl.username=recrypt "sasl.password=@$SECRETS/kafka-password" \
  "ssl.ca.location=$TLS/ca.crt"

# Names files only: a test or a shell sources it and every secret still comes from a `_FILE` mount.
cat > "$SECURE_DIR/env" <<ENV
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$SECURE_KAFKA_PORT
KAFKA_PROP_SECURITY_PROTOCOL=SASL_SSL
KAFKA_PROP_SASL_MECHANISMS=SCRAM-SHA-512
KAFKA_PROP_SSL_CA_LOCATION=$TLS/ca.crt
KAFKA_SASL_USERNAME=recrypt
KAFKA_SASL_PASSWORD_FILE=$SECRETS/kafka-password
REDIS_URL=rediss://127.0.0.1:$SECURE_REDIS_PORT
REDIS_PASSWORD_FILE=$SECRETS/redis-password
REDIS_TLS_CA_LOCATION=$TLS/ca.crt
SCHEMA_REGISTRY_URL=https://127.0.0.1:$SECURE_REGISTRY_PORT
SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO_FILE=$SECRETS/registry-user-info
SCHEMA_REGISTRY_SSL_CA_LOCATION=$TLS/ca.crt
LOCAL_SECRET_FILE=$SECRETS/local-secret
ENV
log "secure stack is up:"
sed 's/^/    /' "$SECURE_DIR/env" >&2
