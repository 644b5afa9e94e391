package dev.recrypt.streams;

import java.nio.ByteBuffer;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Where a record was read from its input topic. The join carries positions instead of values: after the
 * repartition a record's own offset is the repartition topic's, so the source position is the value.
 */
record SourcePosition(int partition, long offset) {

  static Serde<SourcePosition> serde() {
    Serializer<SourcePosition> serializer = (topic, position) -> position == null ? null
        : ByteBuffer.allocate(Integer.BYTES + Long.BYTES).putInt(position.partition).putLong(position.offset).array();
    Deserializer<SourcePosition> deserializer = (topic, bytes) -> {
      if (bytes == null) return null;
      ByteBuffer buffer = ByteBuffer.wrap(bytes);
      return new SourcePosition(buffer.getInt(), buffer.getLong());
    };
    return Serdes.serdeFrom(serializer, deserializer);
  }

  /** The output record's value: both sides' positions, which is all a reader needs to find and decrypt them. */
  static String pairJson(SourcePosition left, SourcePosition right) {
    return "{\"leftPartition\":" + left.partition + ",\"leftOffset\":" + left.offset
        + ",\"rightPartition\":" + right.partition + ",\"rightOffset\":" + right.offset + "}";
  }
}
