/**
 * Confluent wire framing: which schema a Kafka key or value was written with.
 *   v0 prefix:  0x00 | int32 BE schema id | [protobuf message indexes] | payload
 *   v1 prefix:  0x01 | 16-byte schema GUID | [indexes] | payload          (read only; clients put v1 in a header)
 *   header:     `__value_schema_id` / `__key_schema_id` = 0x01 | GUID | [indexes]  (or 0x00 | id | [indexes]);
 *               the payload then carries no prefix at all.
 * Readers take the header when present, else the payload prefix. Message indexes exist only for
 * Protobuf, which the caller learns from the schema: peekSchemaRef first, then decodeFrame.
 */
import { RecryptError, type ErrorCode } from '../util/errors.js';
import { formatGuid, GUID_SIZE, parseGuid } from './guid.js';
import { readMessageIndexes, writeMessageIndexes } from './message-indexes.js';

export const MAGIC_V0 = 0x00;
export const MAGIC_V1 = 0x01;
export const VALUE_SCHEMA_ID_HEADER = '__value_schema_id';
export const KEY_SCHEMA_ID_HEADER = '__key_schema_id';

const V0_SIZE = 1 + 4;
const V1_SIZE = 1 + GUID_SIZE;

export type SchemaRef = { readonly id: number } | { readonly guid: string };

/** A Kafka header value as clients hand it over; strings are taken as UTF-8 bytes (as the JS client does). */
export type SchemaIdHeaderValue = Uint8Array | string | null | undefined;

export interface DecodeFrameOptions {
  /** The record's schema id header (key or value, see schemaIdHeaderName); when present it wins. */
  header?: SchemaIdHeaderValue;
  /** True for Protobuf schemas: message indexes follow the schema id (in the header if the id is there). */
  messageIndexes?: boolean;
}

export interface Frame {
  schemaRef: SchemaRef;
  /** Present only when messageIndexes was requested. */
  indexes?: number[];
  /** The serialized record after all framing: a view into the input, not a copy. */
  payload: Buffer;
  /** Where the schema id came from; a writer that mirrors the input uses the same place. */
  idSource: 'payload' | 'header';
}

export function schemaIdHeaderName(isKey: boolean): string {
  return isKey ? KEY_SCHEMA_ID_HEADER : VALUE_SCHEMA_ID_HEADER;
}

export function isIdRef(ref: SchemaRef): ref is { readonly id: number } {
  return 'id' in ref;
}

/** The schema reference alone, without reading indexes: enough to fetch the schema and learn its type. */
export function peekSchemaRef(data: Uint8Array, header?: SchemaIdHeaderValue): SchemaRef {
  const headerBytes = headerToBytes(header);
  return headerBytes !== undefined ? readRef(headerBytes, 'WIRE_BAD_HEADER').ref : readRef(data, 'WIRE_TRUNCATED').ref;
}

/** Splits framing from payload. Errors: WIRE_TRUNCATED, WIRE_UNKNOWN_MAGIC, WIRE_BAD_INDEXES, WIRE_BAD_HEADER. */
export function decodeFrame(data: Uint8Array, options: DecodeFrameOptions = {}): Frame {
  const buf = asBuffer(data);
  const headerBytes = headerToBytes(options.header);
  const { ref, size } = headerBytes !== undefined ? readRef(headerBytes, 'WIRE_BAD_HEADER') : readRef(buf, 'WIRE_TRUNCATED');
  return frameAfterRef(buf, headerBytes, ref, size, options.messageIndexes === true);
}

/**
 * The frame once the schema reference is read: `refEnd` is where it ends, in `header` when there is one
 * (then nothing but message indexes may follow it there), else in `bytes`.
 */
export function frameAfterRef(bytes: Buffer, header: Uint8Array | undefined, ref: SchemaRef, refEnd: number, messageIndexes: boolean): Frame {
  if (header !== undefined) {
    let end = refEnd;
    let indexes: number[] | undefined;
    if (messageIndexes) {
      const read = readMessageIndexes(header.subarray(refEnd));
      indexes = read.indexes;
      end += read.bytesRead;
    }
    if (end !== header.length) {
      throw new RecryptError('WIRE_BAD_HEADER', 'schema id header has unexpected trailing bytes');
    }
    return withIndexes({ schemaRef: ref, payload: bytes, idSource: 'header' }, indexes);
  }
  if (!messageIndexes) {
    return { schemaRef: ref, payload: bytes.subarray(refEnd), idSource: 'payload' };
  }
  const read = readMessageIndexes(bytes.subarray(refEnd));
  return { schemaRef: ref, indexes: read.indexes, payload: bytes.subarray(refEnd + read.bytesRead), idSource: 'payload' };
}

/** v0 framing: 0x00 | int32 BE id | [indexes] | payload (one copy, unavoidable for a prefix). */
export function encodeFrame(schemaId: number, payload: Uint8Array, indexes?: readonly number[]): Buffer {
  const prefix = refBytes({ id: schemaId }, indexes);
  return Buffer.concat([prefix, payload]);
}

/** The header value for v1 (GUID) or v0 (id) header framing; the payload is then written as is. */
export function encodeSchemaIdHeader(schemaRef: SchemaRef, indexes?: readonly number[]): Buffer {
  return refBytes(schemaRef, indexes);
}

function refBytes(ref: SchemaRef, indexes: readonly number[] | undefined): Buffer {
  let head: Buffer;
  if (isIdRef(ref)) {
    if (!Number.isInteger(ref.id) || ref.id < 0 || ref.id > 0x7fffffff) {
      throw new RecryptError('INTERNAL', 'schema id must be an int32 >= 0');
    }
    head = Buffer.allocUnsafe(V0_SIZE);
    head[0] = MAGIC_V0;
    head.writeInt32BE(ref.id, 1);
  } else {
    head = Buffer.concat([Buffer.from([MAGIC_V1]), parseGuid(ref.guid)]);
  }
  return indexes === undefined ? head : Buffer.concat([head, writeMessageIndexes(indexes)]);
}

/** Reads magic + id/GUID. In a header every problem is WIRE_BAD_HEADER; in a payload it is specific. */
export function readRef(bytes: Uint8Array, shortCode: ErrorCode): { ref: SchemaRef; size: number } {
  const inHeader = shortCode === 'WIRE_BAD_HEADER';
  const where = inHeader ? 'schema id header' : 'payload';
  if (bytes.length < 1) throw new RecryptError(shortCode, `${where} is empty`);
  const magic = bytes[0];
  if (magic === MAGIC_V0) {
    if (bytes.length < V0_SIZE) throw new RecryptError(shortCode, `${where} shorter than a v0 schema id`);
    return { ref: { id: asBuffer(bytes).readInt32BE(1) }, size: V0_SIZE };
  }
  if (magic === MAGIC_V1) {
    if (bytes.length < V1_SIZE) throw new RecryptError(shortCode, `${where} shorter than a v1 schema GUID`);
    return { ref: { guid: formatGuid(bytes.subarray(1, V1_SIZE)) }, size: V1_SIZE };
  }
  throw new RecryptError(inHeader ? 'WIRE_BAD_HEADER' : 'WIRE_UNKNOWN_MAGIC', `${where} starts with an unknown magic byte (not 0x00 or 0x01)`);
}

function headerToBytes(header: SchemaIdHeaderValue): Uint8Array | undefined {
  if (header === null || header === undefined) return undefined;
  return typeof header === 'string' ? Buffer.from(header, 'utf8') : header;
}

export function asBuffer(data: Uint8Array): Buffer {
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function withIndexes(frame: Frame, indexes: number[] | undefined): Frame {
  return indexes === undefined ? frame : { ...frame, indexes };
}
