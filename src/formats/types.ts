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

/** Which fields a rule selects. */
export type FieldSelect = (field: FieldInfo) => boolean;

/** One selected leaf as a rule sees it: its position among a splicer's leaves and its field info on that side. */
export interface SelectedLeaf {
  readonly index: number;
  readonly info: FieldInfo;
}

/** A splicer's per-record scratch space (one per plan: the engine's per-record path is synchronous). */
export interface SpliceState {
  /**
   * The leaves' encoded values, replaced in place by the rules: null, or the bytes (a string field's
   * UTF-8; scan() hands out views of the payload), or for a string field a JavaScript string.
   */
  readonly values: unknown[];
  /**
   * 1 where values[i] holds bytes to be written as their base64 text (a string field's ciphertext,
   * encoded straight into the output without an intermediate string); scan() clears it.
   */
  readonly base64: Uint8Array;
}

/**
 * Field surgery on an encoded payload: scan finds the selected string and bytes fields without decoding
 * the rest, the rules replace their values in the state, splice writes the new payload with every other
 * byte copied. A format offers one (Codec.compileSplicer) where its encoding allows it.
 */
export interface FieldSplicer<S extends SpliceState = SpliceState> {
  /*
   * `leafCount`, `read` and `write` describe the payload the last `scan` read: fixed for Avro, per record
   * for Protobuf (repeated and optional fields) and JSON (array items). Read them after each scan, before
   * the next one, never cached across records.
   */
  readonly leafCount: number;
  /** Per read selector, the leaves it selects, in payload order, with the read schema's field infos. */
  readonly read: readonly (readonly SelectedLeaf[])[];
  /** Per write selector, likewise with the target schema's field infos. */
  readonly write: readonly (readonly SelectedLeaf[])[];
  newState(): S;
  /** Finds the leaves and their encoded values; false when the payload does not scan (left to the general path). */
  scan(payload: Buffer, state: S): boolean;
  /**
   * `prefix` then the payload with the leaves' current values; undefined when a value does not fit its
   * leaf's type (left to the general path, which reports it).
   */
  splice(payload: Buffer, state: S, prefix: Buffer): Buffer | undefined;
}

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
  compileWalker(select: FieldSelect): FieldWalker | null;
  /**
   * The in-place rewrite of payloads written with this schema into payloads of `target`, for the rules'
   * field selectors on each side (null entries: steps that select nothing). Null, or absent, when the
   * format has none or it does not apply (schemas that do not encode alike, selected fields it cannot
   * reach): the engine then decodes, walks and encodes.
   */
  compileSplicer?(target: Codec, readSelects: readonly (FieldSelect | null)[], writeSelects: readonly (FieldSelect | null)[]): FieldSplicer | null;
}

/** Already-fetched referenced schemas, by reference name (Avro full name, proto import path, JSON $id/URL). */
export type ResolvedReferences = ReadonlyMap<string, SchemaInfo>;

export interface CodecOptions {
  /** Protobuf only: the message indexes from the wire prefix (default [0]: the first message). */
  messageIndexes?: readonly number[];
}
