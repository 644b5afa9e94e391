/**
 * Record parts: a Kafka record's key and its value are each framed on their own, each with its own
 * schema id header (`__key_schema_id`, `__value_schema_id`; framing.ts): when the part's header is there
 * it names the schema and the part's bytes carry no prefix, else the bytes start with the prefix.
 *
 * locate() reads a part's framing once: which bytes, which header, which schema, where the reference
 * ends. The schema's type then says whether message indexes follow (protobuf): frameOf() reads them and
 * gives the payload, without reading the reference again.
 */
import { frameAfterRef, KEY_SCHEMA_ID_HEADER, readRef, VALUE_SCHEMA_ID_HEADER, type Frame, type SchemaRef } from './framing.js';

export type RecordPart = 'key' | 'value';

/** What a part is read from (util/records.ts's SourceRecord has it). */
export interface PartRecord {
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly { readonly key: string; readonly value: Buffer }[];
}

/** A part whose schema reference has been read. */
export interface Located {
  readonly part: RecordPart;
  /** The part's bytes as the record holds them. */
  readonly bytes: Buffer;
  /** The part's schema id header, when the record has one (the last of that name). */
  readonly header: Buffer | undefined;
  readonly ref: SchemaRef;
  /** Where the reference ends: in `header` when there is one, else in `bytes`. */
  readonly refEnd: number;
}

export function partHeaderName(part: RecordPart): string {
  return part === 'key' ? KEY_SCHEMA_ID_HEADER : VALUE_SCHEMA_ID_HEADER;
}

/** The part's bytes; null when the record has none (a tombstone value, a null key). */
export function partBytes(record: PartRecord, part: RecordPart): Buffer | null {
  return part === 'key' ? record.key : record.value;
}

/** The part's schema id header (the last one when a record repeats it). */
export function partHeader(record: PartRecord, part: RecordPart): Buffer | undefined {
  const name = partHeaderName(part);
  const headers = record.headers;
  for (let i = headers.length - 1; i >= 0; i--) if (headers[i]!.key === name) return headers[i]!.value;
  return undefined;
}

/**
 * Reads the part's schema reference; null when the record has no such part. Errors: WIRE_TRUNCATED,
 * WIRE_UNKNOWN_MAGIC, WIRE_BAD_HEADER.
 */
export function locate(record: PartRecord, part: RecordPart): Located | null {
  const bytes = partBytes(record, part);
  return bytes === null ? null : locateBytes(part, bytes, partHeader(record, part));
}

/** locate() on a part's bytes and header already in hand. */
export function locateBytes(part: RecordPart, bytes: Buffer, header: Buffer | undefined): Located {
  const { ref, size } = header !== undefined ? readRef(header, 'WIRE_BAD_HEADER') : readRef(bytes, 'WIRE_TRUNCATED');
  return { part, bytes, header, ref, refEnd: size };
}

/**
 * The located part's message indexes (when `messageIndexes`: protobuf) and payload. Errors:
 * WIRE_BAD_INDEXES, WIRE_BAD_HEADER (a header with bytes after what it should hold).
 */
export function frameOf(located: Located, messageIndexes: boolean): Frame {
  return frameAfterRef(located.bytes, located.header, located.ref, located.refEnd, messageIndexes);
}

/** The schema id (decimal) or GUID a located part names, as DLQ headers carry it. */
export function schemaRefText(ref: SchemaRef): string {
  return 'id' in ref ? String(ref.id) : ref.guid;
}
