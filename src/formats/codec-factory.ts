/**
 * One entry point for the engine: the codec for a registered schema, whatever its format, and the
 * conversion of values from a writer schema to a target schema.
 */
import type { SchemaInfo } from '../model/index.js';
import { RecryptError } from '../util/errors.js';
import { createAvroCodec, createAvroResolver } from './avro.js';
import { createJsonCodec } from './json.js';
import { createProtobufCodec } from './protobuf.js';
import type { Codec, CodecOptions, ResolvedReferences } from './types.js';

/** Compiles a schema of any type (absent schemaType = AVRO). Throws RecryptError FORMAT_SCHEMA. */
export function createCodec(schema: SchemaInfo, refs: ResolvedReferences = new Map(), options: CodecOptions = {}): Codec {
  const type = schema.schemaType ?? 'AVRO';
  switch (type) {
    case 'AVRO':
      return createAvroCodec(schema, refs);
    case 'PROTOBUF':
      return createProtobufCodec(schema, refs, options);
    case 'JSON':
      return createJsonCodec(schema, refs);
    default:
      throw new RecryptError('FORMAT_SCHEMA', `unsupported schema type ${String(type)}`);
  }
}

/** Converts a value decoded with one codec into the shape of another. */
export type ValueConverter = (value: unknown) => unknown;

/**
 * How a value decoded with `writer` becomes a value of `target` (used when the target schema differs
 * from the writer schema): Avro schema resolution (defaults, dropped fields, promotions); Protobuf by
 * re-encoding with the writer and decoding with the target (fields matched by number); JSON unchanged.
 * Throws FORMAT_RESOLUTION when the formats differ or Avro resolution fails.
 */
export function createValueConverter(writer: Codec, target: Codec): ValueConverter {
  if (writer === target) return (v) => v;
  if (writer.schemaType !== target.schemaType) {
    throw new RecryptError('FORMAT_RESOLUTION', `cannot convert ${writer.schemaType} values to ${target.schemaType}`);
  }
  switch (writer.schemaType) {
    case 'AVRO':
      return createAvroResolver(writer, target).convert;
    case 'PROTOBUF':
      return (v) => target.decode(writer.encode(v));
    default:
      return (v) => v;
  }
}
