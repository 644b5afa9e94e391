package dev.recrypt.streams;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The app's settings: `--name value` arguments, with the bootstrap servers also taken from the
 * KAFKA_BOOTSTRAP_SERVERS environment variable (what the local stack's env file sets).
 */
record JoinOptions(
    String bootstrapServers,
    String applicationId,
    Side left,
    Side right,
    String outputTopic,
    Integer repartitionPartitions,
    Duration joinWindow,
    Duration idle,
    Duration maxRuntime,
    Path stateDir) {

  /** One input of the join: its topic, the field joined on (dotted for nested records), its Avro schema. */
  record Side(String name, String topic, String field, Path schemaFile) {}

  static final String USAGE = String.join("\n",
      "usage: java -cp <classpath> dev.recrypt.streams.JoinApp",
      "  --application-id ID                 Streams application id (unique per run: it names groups and internal topics)",
      "  --left-topic T --left-field F --left-schema FILE      left input, join field, Avro schema (JSON file)",
      "  --right-topic T --right-field F --right-schema FILE   right input, join field, Avro schema (JSON file)",
      "  --output-topic T                    where the joined pairs go (must exist)",
      "  [--bootstrap-servers HOST:PORT]     default: env KAFKA_BOOTSTRAP_SERVERS",
      "  [--repartition-partitions N]        partitions of both repartition topics (default: Streams' choice)",
      "  [--join-window-ms MS]               records join when their timestamps differ by at most this (default 1 day)",
      "  [--idle-ms MS]                      stop after this long without a record (default 5000)",
      "  [--max-runtime-ms MS]               stop after this long in any case (default 300000)",
      "  [--state-dir DIR]                   Streams' state directory (default: a new temporary directory)");

  static JoinOptions parse(String[] args) throws IOException {
    Map<String, String> values = new HashMap<>();
    for (int i = 0; i < args.length; i++) {
      String name = args[i];
      if (!name.startsWith("--") || i + 1 >= args.length) throw new IllegalArgumentException("expected --name value, got " + name);
      values.put(name.substring(2), args[++i]);
    }
    String bootstrap = values.getOrDefault("bootstrap-servers", System.getenv("KAFKA_BOOTSTRAP_SERVERS"));
    String stateDir = values.get("state-dir");
    JoinOptions options = new JoinOptions(
        required("bootstrap-servers", bootstrap),
        required("application-id", values.get("application-id")),
        side("left", values),
        side("right", values),
        required("output-topic", values.get("output-topic")),
        values.containsKey("repartition-partitions") ? Integer.valueOf(values.get("repartition-partitions")) : null,
        Duration.ofMillis(Long.parseLong(values.getOrDefault("join-window-ms", String.valueOf(Duration.ofDays(1).toMillis())))),
        Duration.ofMillis(Long.parseLong(values.getOrDefault("idle-ms", "5000"))),
        Duration.ofMillis(Long.parseLong(values.getOrDefault("max-runtime-ms", "300000"))),
        stateDir != null ? Path.of(stateDir) : temporaryStateDir());
    values.keySet().removeAll(java.util.List.of("bootstrap-servers", "application-id", "left-topic", "left-field",
        "left-schema", "right-topic", "right-field", "right-schema", "output-topic", "repartition-partitions",
        "join-window-ms", "idle-ms", "max-runtime-ms", "state-dir"));
    if (!values.isEmpty()) throw new IllegalArgumentException("unknown options: " + values.keySet());
    return options;
  }

  /** Streams' cleanUp() empties it at the end; the JVM removes the empty directory on exit. */
  private static Path temporaryStateDir() throws IOException {
    Path dir = Files.createTempDirectory("recrypt-streams-state-");
    dir.toFile().deleteOnExit();
    return dir;
  }

  private static Side side(String name, Map<String, String> values) {
    return new Side(name,
        required(name + "-topic", values.get(name + "-topic")),
        required(name + "-field", values.get(name + "-field")),
        Path.of(required(name + "-schema", values.get(name + "-schema"))));
  }

  private static String required(String name, String value) {
    if (value == null || value.isEmpty()) throw new IllegalArgumentException("--" + name + " is required");
    return value;
  }
}
