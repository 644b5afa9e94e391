package dev.recrypt.streams;

import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * left and right topics -> (join field value, source position) -> repartitioned by the join field ->
 * inner KStream-KStream join within a time window -> one JSON record per joined pair.
 *
 * Why a windowed KStream-KStream join and not KStream-KTable: both sides are buffered in window stores,
 * so a pair joins whichever side the task happens to read first. A KStream-KTable join drops every
 * stream record that arrives before its table row, and the two repartition topics fill in no guaranteed
 * order: the result would depend on timing, and a test comparing counts would flake. With a window
 * wider than the inputs' time span the windowed join equals the relational inner join.
 */
final class JoinTopology {
  private static final Logger LOG = LoggerFactory.getLogger(JoinTopology.class);

  /** What the run saw, for its summary and for telling when it has gone idle. */
  static final class Counters {
    final AtomicLong leftRead = new AtomicLong();
    final AtomicLong rightRead = new AtomicLong();
    /** Records without a join value (null record or field) or not readable: they cannot join. */
    final AtomicLong leftSkipped = new AtomicLong();
    final AtomicLong rightSkipped = new AtomicLong();
    /** Records that reached the join after the repartition. */
    final AtomicLong leftAtJoin = new AtomicLong();
    final AtomicLong rightAtJoin = new AtomicLong();
    final AtomicLong joined = new AtomicLong();
    final AtomicLong lastActivityMs = new AtomicLong(System.currentTimeMillis());

    void touch() {
      lastActivityMs.set(System.currentTimeMillis());
    }

    /** Every readable input record has reached the join (nothing is still in a repartition topic). */
    boolean drained() {
      return leftRead.get() - leftSkipped.get() == leftAtJoin.get() && rightRead.get() - rightSkipped.get() == rightAtJoin.get();
    }

    String summaryJson() {
      return "{\"leftRead\":" + leftRead + ",\"rightRead\":" + rightRead + ",\"leftSkipped\":" + leftSkipped
          + ",\"rightSkipped\":" + rightSkipped + ",\"leftAtJoin\":" + leftAtJoin + ",\"rightAtJoin\":" + rightAtJoin
          + ",\"joined\":" + joined + "}";
    }
  }

  private JoinTopology() {}

  static Topology build(JoinOptions options, Counters counters) throws IOException {
    StreamsBuilder builder = new StreamsBuilder();
    Serde<SourcePosition> positions = SourcePosition.serde();
    KStream<String, SourcePosition> left = byJoinField(builder, options, options.left(), counters.leftRead, counters.leftSkipped, counters)
        .peek((key, position) -> { counters.leftAtJoin.incrementAndGet(); counters.touch(); }, Named.as("left-at-join"));
    KStream<String, SourcePosition> right = byJoinField(builder, options, options.right(), counters.rightRead, counters.rightSkipped, counters)
        .peek((key, position) -> { counters.rightAtJoin.incrementAndGet(); counters.touch(); }, Named.as("right-at-join"));
    left.join(right, SourcePosition::pairJson,
            JoinWindows.ofTimeDifferenceWithNoGrace(options.joinWindow()),
            StreamJoined.with(Serdes.String(), positions, positions).withName("join").withStoreName("join"))
        .peek((key, pair) -> { counters.joined.incrementAndGet(); counters.touch(); }, Named.as("joined"))
        .to(options.outputTopic(), Produced.with(Serdes.String(), Serdes.String()).withName("output"));
    return builder.build();
  }

  /** One side, keyed by its join field's value and co-partitioned with the other side through a repartition topic. */
  private static KStream<String, SourcePosition> byJoinField(StreamsBuilder builder, JoinOptions options, JoinOptions.Side side,
      AtomicLong read, AtomicLong skipped, Counters counters) throws IOException {
    ConfluentAvroField field = new ConfluentAvroField(side.schemaFile(), side.field());
    Repartitioned<String, SourcePosition> repartitioned = Repartitioned
        .with(Serdes.String(), SourcePosition.serde()).withName(side.name() + "-by-join-field");
    if (options.repartitionPartitions() != null) repartitioned = repartitioned.withNumberOfPartitions(options.repartitionPartitions());
    return builder.stream(side.topic(), Consumed.with(Serdes.ByteArray(), Serdes.ByteArray()).withName(side.name() + "-source"))
        .processValues(() -> new JoinFieldReader(side, field, read, skipped, counters), Named.as(side.name() + "-join-field"))
        .filter((key, keyed) -> keyed != null, Named.as(side.name() + "-joinable"))
        .map((key, keyed) -> KeyValue.pair(keyed.key, keyed.position), Named.as(side.name() + "-rekey"))
        .repartition(repartitioned);
  }

  /** A source record's join value and position (null when it has no join value). */
  private record Keyed(String key, SourcePosition position) {}

  private static final class JoinFieldReader implements FixedKeyProcessor<byte[], byte[], Keyed> {
    private final JoinOptions.Side side;
    private final ConfluentAvroField field;
    private final AtomicLong read;
    private final AtomicLong skipped;
    private final Counters counters;
    private FixedKeyProcessorContext<byte[], Keyed> context;

    JoinFieldReader(JoinOptions.Side side, ConfluentAvroField field, AtomicLong read, AtomicLong skipped, Counters counters) {
      this.side = side;
      this.field = field;
      this.read = read;
      this.skipped = skipped;
      this.counters = counters;
    }

    @Override
    public void init(FixedKeyProcessorContext<byte[], Keyed> context) {
      this.context = context;
    }

    @Override
    public void process(FixedKeyRecord<byte[], byte[]> record) {
      read.incrementAndGet();
      counters.touch();
      var metadata = context.recordMetadata().orElseThrow();
      SourcePosition position = new SourcePosition(metadata.partition(), metadata.offset());
      String key = null;
      try {
        key = field.read(record.value(), record.headers());
      } catch (Exception e) {
        // Position and reason only: a record's content never goes to a log.
        LOG.warn("{} {}-{}@{}: skipped, join field not readable: {}", side.name(), metadata.topic(), position.partition(),
            position.offset(), e.getClass().getSimpleName());
      }
      if (key == null) skipped.incrementAndGet();
      context.forward(record.withValue(key == null ? null : new Keyed(key, position)));
    }
  }
}
