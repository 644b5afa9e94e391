package dev.recrypt.streams;

import java.io.IOException;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.avro.SchemaParseException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;

/**
 * Runs the join (JoinTopology) until the inputs have gone quiet, then exits; or until SIGTERM.
 * Exactly-once processing, so the output is written in transactions: read it with read_committed.
 * On exit, one JSON line on stdout says what the run saw (counts only); errors go to stderr.
 * Exit codes: 0 done (inputs idle), 1 the Streams client failed, 2 bad arguments, 3 max runtime reached;
 * on SIGTERM the client closes (committing what was joined), the summary is printed, and the JVM exits 143.
 */
public final class JoinApp {
  private JoinApp() {}

  public static void main(String[] args) throws Exception {
    JoinOptions options;
    JoinTopology.Counters counters = new JoinTopology.Counters();
    Topology topology;
    try {
      options = JoinOptions.parse(args);
      topology = JoinTopology.build(options, counters);
    } catch (IllegalArgumentException | IOException | SchemaParseException e) {
      // A missing option, an unreadable schema file, a join field the schema lacks.
      System.err.println(e.getMessage());
      System.err.println(JoinOptions.USAGE);
      System.exit(2);
      return;
    }
    KafkaStreams streams = new KafkaStreams(topology, config(options));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    streams.setUncaughtExceptionHandler(e -> {
      failure.set(e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
    });

    // SIGTERM: the hook only flags it and waits for main to close the client and print the summary.
    AtomicBoolean signalled = new AtomicBoolean();
    CountDownLatch finished = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      signalled.set(true);
      try {
        finished.await(60, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "join-app-shutdown"));

    int exitCode;
    try {
      streams.start();
      exitCode = awaitEnd(streams, options, counters, failure, signalled);
      // close() commits the open transaction: everything joined so far is in the output.
      streams.close(Duration.ofSeconds(30));
      streams.cleanUp();
      System.out.println(counters.summaryJson());
      System.out.flush();
      if (failure.get() != null) {
        System.err.println("streams failed: " + failure.get());
        exitCode = 1;
      }
    } finally {
      finished.countDown();
    }
    // During a SIGTERM the JVM is already exiting: System.exit would block on the shutdown hook.
    if (!signalled.get()) System.exit(exitCode);
  }

  /**
   * Idle means: no record for `idle`, and every record read has reached the join (nothing left in a
   * repartition topic), or no record for three times `idle` whatever the counts say.
   */
  private static int awaitEnd(KafkaStreams streams, JoinOptions options, JoinTopology.Counters counters,
      AtomicReference<Throwable> failure, AtomicBoolean signalled) throws InterruptedException {
    long deadline = System.currentTimeMillis() + options.maxRuntime().toMillis();
    long idleMs = options.idle().toMillis();
    for (;;) {
      Thread.sleep(100);
      if (signalled.get()) return 0;
      KafkaStreams.State state = streams.state();
      if (failure.get() != null || state == KafkaStreams.State.ERROR || state == KafkaStreams.State.PENDING_ERROR) return 1;
      if (System.currentTimeMillis() > deadline) {
        System.err.println("max runtime reached before the inputs went idle");
        return 3;
      }
      // The idle clock runs only while tasks are assigned: a rebalance is a pause, not the end of the inputs.
      if (state != KafkaStreams.State.RUNNING) {
        counters.touch();
        continue;
      }
      long quiet = System.currentTimeMillis() - counters.lastActivityMs.get();
      if ((quiet >= idleMs && counters.drained()) || quiet >= 3 * idleMs) return 0;
    }
  }

  private static Properties config(JoinOptions options) {
    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, options.applicationId());
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, options.bootstrapServers());
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    // Small commits: repartitioned records become visible to the join (read_committed) quickly.
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, 100);
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    props.put(StreamsConfig.STATE_DIR_CONFIG, options.stateDir().toString());
    // In-memory window stores: RocksDB's native library is never loaded.
    props.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
    props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
    // Kafka 5.0's default, set now: without it every start warns (by name: its constant is deprecated already).
    props.put("processing.exception.handler.global.enabled", true);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    return props;
  }
}
