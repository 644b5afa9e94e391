#!/usr/bin/env bash
# Installs what a clean machine lacks, and nothing that is already there: Debian packages (build deps
# of librdkafka, redis-server), moto's KMS emulator in a venv, Kafka's jars from Maven Central, and
# node_modules (building @confluentinc/kafka-javascript from its bundled librdkafka sources). Not the
# chart checks' tools (helm, hadolint, kubernetes-validate): only test/unit/ship needs them, so
# scripts/test.sh (`npm test`, and so .ci/run) installs them with scripts/tools.sh; the demo never does.
source "$(dirname "$0")/lib.sh"

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ ! -x "$MOTO_VENV/bin/moto_server" ]]; then
  log "installing moto (AWS KMS emulator) into $MOTO_VENV"
  python3 -m venv "$MOTO_VENV"
  "$MOTO_VENV/bin/pip" install -q --disable-pip-version-check 'moto[server]>=5.1,<6'
fi

if [[ ! -f "$KAFKA_LIBS/.complete" ]]; then
  log "resolving Apache Kafka $KAFKA_VERSION jars from Maven Central"
  rm -rf "$KAFKA_LIBS"
  mvn -q -B -f "$ROOT/stack/kafka/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS" >/dev/null
  touch "$KAFKA_LIBS/.complete"
fi

# node_modules is current when it was installed from this exact package-lock.json.
lock_sum="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
if [[ "$(cat "$ROOT/node_modules/.recrypt-lock" 2>/dev/null)" != "$lock_sum" ]]; then
  log "installing node modules (builds librdkafka from source, about 90 s the first time)"
  # CKJS_LINKING=dynamic: link librdkafka against Debian's zlib/OpenSSL/SASL instead of downloading them.
  (cd "$ROOT" && CKJS_LINKING=dynamic npm ci --no-audit --no-fund --loglevel=error)
  echo "$lock_sum" > "$ROOT/node_modules/.recrypt-lock"
fi
