#!/usr/bin/env bash
# Builds the Go conformance oracle (test/conformance/go: Confluent's Go client behind a JSON-lines
# protocol, used by test/integration/conformance) into test/conformance/go/bin/, git-ignored. Cached:
# rebuilt only when go.mod, go.sum or a .go source changed. Modules come from the Go module proxy into
# Go's own module cache (pinned by go.mod/go.sum); nothing is installed system-wide. The serde packages
# import confluent-kafka-go's kafka package, which links the bundled static librdkafka through cgo:
# gcc is needed (it is on every machine that builds recrypt's native Kafka client).
# Prints the binary's path on stdout.
source "$(dirname "$0")/lib.sh"

SRC="$ROOT/test/conformance/go"
OUT="$SRC/bin"
BIN="$OUT/recrypt-conformance"
command -v go >/dev/null || die "go-conformance: no Go toolchain on PATH"

stamp="$(cd "$SRC" && cat go.mod go.sum ./*.go | sha256sum | cut -d' ' -f1) $(go env GOVERSION)"
if [[ -x "$BIN" && "$(cat "$OUT/.stamp" 2>/dev/null)" == "$stamp" ]]; then
  echo "$BIN"
  exit 0
fi
log "go-conformance: building the Go client oracle (first build about a minute)"
mkdir -p "$OUT"
(cd "$SRC" && CGO_ENABLED=1 GOFLAGS=-mod=mod go build -trimpath -o "$BIN.tmp" .) >&2 \
  || die "go-conformance: go build failed"
mv "$BIN.tmp" "$BIN"
echo "$stamp" > "$OUT/.stamp"
echo "$BIN"
