/**
 * What the engine needs from a schema format (Avro, Protobuf, JSON Schema): decode and encode payloads
 * (the bytes after the wire prefix), and walk fields with their full names and inline tags. Everything
 * schema-dependent is compiled once per schema; per record only decode, walk, encode run.
 * No network: referenced schemas are passed in already fetched.
 */
import type { SchemaInfo, SchemaType } from '../model/index.js';

export type FieldKind = 'string' | 'bytes' | 'other';

export interface FieldInfo {
  /** Field name as declared. */
  readonly name: string;
  /**
   * Full name used for `metadata.tags` matching: Avro `namespace.Record.field`,
   * Protobuf `package.Message.field`, JSON Schema `$.a.b`.
   */
  readonly fullName: string;
  /** Inline tags (`confluent:tags`, protobuf `(confluent.field_meta).tags`). */
  readonly inlineTags: readonly string[];
  /** Static type of the field: only string and bytes fields can be encrypted. */
  readonly kind: FieldKind;
}

/**
 * Called for each selected field occurrence with its current value (string, Buffer/Uint8Array, or
 * null/undefined for an absent optional value); returns the replacement. Must be synchronous: the hot
 * path never awaits per field.
 */
export type FieldVisitor = (value: unknown, field: FieldInfo) => unknown;

/**
 * Rewrites in place (or returns a new value) every occurrence of the selected fields in a decoded value,
 * including inside nested records, arrays, maps and unions. Returns the (possibly new) root value.
 */
export type FieldWalker = (value: unknown, visit: FieldVisitor) => unknown;

export interface Codec {
  readonly schemaType: SchemaType;
  /** Decodes a payload (no wire prefix). Throws RecryptError FORMAT_DECODE. */
  decode(payload: Buffer): unknown;
  /** Encodes a value. Throws RecryptError FORMAT_ENCODE. */
  encode(value: unknown): Buffer;
  /** Every field the schema declares (each named type once per distinct full name). */
  fields(): readonly FieldInfo[];
  /**
   * Compiles a walker over the fields for which `select` returns true. Returns null when the schema has
   * no selected field, so callers can skip the walk entirely.
   */
  compileWalker(select: (field: FieldInfo) => boolean): FieldWalker | null;
}

/** Already-fetched referenced schemas, by reference name (Avro full name, proto import path, JSON $id/URL). */
export type ResolvedReferences = ReadonlyMap<string, SchemaInfo>;

export interface CodecOptions {
  /** Protobuf only: the message indexes from the wire prefix (default [0]: the first message). */
  messageIndexes?: readonly number[];
}
