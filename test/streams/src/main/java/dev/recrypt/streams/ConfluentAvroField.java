package dev.recrypt.streams;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Base64;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * Reads one field of a record value written in Confluent's wire format, Avro flavour:
 *   - `0x00 | int32 schema id | Avro binary` (v0 prefix), or `0x01 | 16-byte GUID | Avro binary` (v1 prefix);
 *   - or a `__value_schema_id` header holding the id, with the Avro binary alone as the value.
 * The schema comes from a file instead of the registry: the caller knows which schema wrote the topic.
 * The field's value is taken as it is stored: a string as is (an encrypted string field holds the base64
 * of its ciphertext), bytes as base64, other types as their text. Nothing is ever decrypted.
 */
final class ConfluentAvroField {
  static final String VALUE_SCHEMA_ID_HEADER = "__value_schema_id";

  private final String[] path;
  private final GenericDatumReader<GenericRecord> reader;
  private BinaryDecoder decoder;

  ConfluentAvroField(Path schemaFile, String field) throws IOException {
    Schema schema = new Schema.Parser().parse(schemaFile.toFile());
    this.path = field.split("\\.");
    this.reader = new GenericDatumReader<>(schema);
    requireField(schema, field);
  }

  /** The join field's value, or null when the record or the field is null. */
  String read(byte[] value, Headers headers) throws IOException {
    if (value == null) return null;
    int start = payloadStart(value, headers);
    decoder = DecoderFactory.get().binaryDecoder(value, start, value.length - start, decoder);
    Object current = reader.read(null, decoder);
    for (String name : path) {
      if (!(current instanceof GenericRecord record)) return null;
      current = record.get(name);
    }
    return text(current);
  }

  private static int payloadStart(byte[] value, Headers headers) {
    Header header = headers.lastHeader(VALUE_SCHEMA_ID_HEADER);
    if (header != null && header.value() != null) return 0;
    if (value.length >= 5 && value[0] == 0x00) return 5;
    if (value.length >= 17 && value[0] == 0x01) return 17;
    throw new IllegalArgumentException("not Confluent wire format: no schema id header and no 0x00/0x01 prefix");
  }

  private static String text(Object value) {
    if (value == null) return null;
    if (value instanceof ByteBuffer bytes) {
      ByteBuffer copy = bytes.duplicate();
      byte[] raw = new byte[copy.remaining()];
      copy.get(raw);
      return Base64.getEncoder().encodeToString(raw);
    }
    return value.toString();
  }

  private static void requireField(Schema schema, String field) {
    Schema current = schema;
    for (String name : field.split("\\.")) {
      Schema record = recordOf(current);
      if (record == null || record.getField(name) == null) {
        throw new IllegalArgumentException("schema " + schema.getFullName() + " has no field " + field);
      }
      current = record.getField(name).schema();
    }
  }

  /** The record type of a field, looking through a nullable union. */
  private static Schema recordOf(Schema schema) {
    if (schema.getType() == Schema.Type.RECORD) return schema;
    if (schema.getType() == Schema.Type.UNION) {
      for (Schema branch : schema.getTypes()) if (branch.getType() == Schema.Type.RECORD) return branch;
    }
    return null;
  }
}
