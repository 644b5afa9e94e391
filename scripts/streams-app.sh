#!/usr/bin/env bash
# Builds the Kafka Streams join app (test/streams, run by test/integration/joins) and prints its Java
# classpath on stdout: `java -cp "$(bash scripts/streams-app.sh)" dev.recrypt.streams.JoinApp ...`.
# The dependencies are resolved from Maven Central like the broker's (stack/kafka/pom.xml) into
# $CACHE_DIR/streams-app/libs-<pom hash>, once per pom; the sources are compiled with javac into a jar
# named by the hash of the sources, once per change. After the first build it needs no network: the
# libs are reused, and Maven runs offline first whenever the pom changes.
source "$(dirname "$0")/lib.sh"

APP="$ROOT/test/streams"
OUT="$CACHE_DIR/streams-app"
mkdir -p "$OUT"
# Clones share the cache: one build at a time.
exec 9>"$OUT/.lock"
flock 9

started=$SECONDS
deps_sum="$(sha256sum "$APP/pom.xml" | cut -c1-16)"
LIBS="$OUT/libs-$deps_sum"
if [[ ! -f "$LIBS/.complete" ]]; then
  log "resolving the Streams app's jars (kafka-streams, avro) from Maven Central"
  rm -rf "$LIBS"
  resolve() {
    mvn -q -B "$@" -f "$APP/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIBS" >&2
  }
  resolve -o 2>/dev/null || resolve || die "could not resolve test/streams/pom.xml's dependencies"
  touch "$LIBS/.complete"
  for old in "$OUT"/libs-*; do [[ "$old" == "$LIBS" ]] || rm -rf "$old"; done
fi

# The jar's name is the hash of everything it is built from (the pom too: it sets the libs).
src_sum="$(cd "$APP" && find pom.xml src -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-16)"
JAR="$OUT/recrypt-streams-join-$src_sum.jar"
if [[ ! -f "$JAR" ]]; then
  log "compiling the Streams app (test/streams)"
  build="$(mktemp -d "$OUT/build.XXXXXX")"
  trap 'rm -rf "$build"' EXIT
  mapfile -d '' sources < <(find "$APP/src/main/java" -name '*.java' -print0)
  javac --release 17 -Xlint:all -Werror -d "$build/classes" -cp "$LIBS/*" "${sources[@]}" >&2
  cp -R "$APP/src/main/resources/." "$build/classes/"
  jar --create --file "$build/app.jar" --main-class dev.recrypt.streams.JoinApp -C "$build/classes" . >&2
  mv "$build/app.jar" "$JAR"
  for old in "$OUT"/recrypt-streams-join-*.jar; do [[ "$old" == "$JAR" ]] || rm -f "$old"; done
  log "Streams app built in $((SECONDS - started)) s: $JAR"
fi
echo "$JAR:$LIBS/*"
