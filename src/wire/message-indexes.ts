/**
 * Protobuf message indexes: which message of the .proto file a payload holds, as a path of indexes
 * (e.g. [1, 0] = first nested message of the second top-level message). Wire grammar:
 *   count: zig-zag varint, then count x index: zig-zag varint
 * with the special case that [0] (the first top-level message, by far the most common) is written as the
 * single byte 0x00, i.e. count 0; reading count 0 therefore yields [0].
 */
import { RecryptError } from '../util/errors.js';

/** At most 5 bytes for a 32-bit varint; longer means corrupt input. */
const MAX_VARINT_BYTES = 5;
const INT32_MAX = 0x7fffffff;

export interface ReadIndexes {
  indexes: number[];
  /** Bytes consumed from the input. */
  bytesRead: number;
}

/** Reads message indexes from the start of buf. WIRE_BAD_INDEXES when truncated, negative or oversized. */
export function readMessageIndexes(buf: Uint8Array): ReadIndexes {
  const r = { buf, pos: 0 };
  const count = readZigZag(r);
  if (count === 0) return { indexes: [0], bytesRead: r.pos };
  // Each index takes at least one byte: a count beyond what is left cannot be real (and would let a
  // corrupt byte make us allocate a huge array).
  if (count < 0 || count > buf.length - r.pos) bad('count is negative or exceeds the payload');
  const indexes = new Array<number>(count);
  for (let i = 0; i < count; i++) {
    const index = readZigZag(r);
    if (index < 0) bad('negative index');
    indexes[i] = index;
  }
  return { indexes, bytesRead: r.pos };
}

/** Serializes message indexes; [0] becomes 0x00. WIRE_BAD_INDEXES for an empty list or a negative index. */
export function writeMessageIndexes(indexes: readonly number[]): Buffer {
  if (indexes.length === 0) bad('an empty index path names no message');
  if (indexes.length === 1 && indexes[0] === 0) return Buffer.from([0]);
  const out = Buffer.allocUnsafe((indexes.length + 1) * MAX_VARINT_BYTES);
  let pos = writeZigZag(out, 0, indexes.length);
  for (const index of indexes) {
    if (!Number.isInteger(index) || index < 0 || index > INT32_MAX) bad('index must be an int32 >= 0');
    pos = writeZigZag(out, pos, index);
  }
  return out.subarray(0, pos);
}

function readZigZag(r: { buf: Uint8Array; pos: number }): number {
  let raw = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    if (r.pos >= r.buf.length) bad('truncated varint');
    const b = r.buf[r.pos++]!;
    raw += (b & 0x7f) * 2 ** (7 * i);
    if ((b & 0x80) === 0) {
      if (raw > 0xffffffff) bad('varint exceeds 32 bits');
      // Zig-zag: even -> n/2, odd -> -(n+1)/2. Arithmetic, not bit ops, to stay exact above 2^31.
      return raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
    }
  }
  return bad('varint too long');
}

function writeZigZag(out: Buffer, pos: number, n: number): number {
  // n >= 0 here (counts and indexes), so zig-zag is 2n.
  let raw = n * 2;
  while (raw >= 0x80) {
    out[pos++] = (raw % 0x80) | 0x80;
    raw = Math.floor(raw / 0x80);
  }
  out[pos++] = raw;
  return pos;
}

function bad(what: string): never {
  throw new RecryptError('WIRE_BAD_INDEXES', `protobuf message indexes are malformed: ${what}`);
}
