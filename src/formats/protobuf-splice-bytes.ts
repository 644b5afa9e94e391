/**
 * Byte helpers of the Protobuf splicer's writer: varint sizes and writes for lengths, short copies
 * (base64 and leaf values: base64-writer.ts, shared with the other splicers).
 */

/** Bytes of `value` (a non-negative length below 2^31) as a varint. */
export function varintSize(value: number): number {
  return value < 0x80 ? 1 : value < 0x4000 ? 2 : value < 0x200000 ? 3 : value < 0x10000000 ? 4 : 5;
}

/** Writes `value` (a non-negative length below 2^31) as a varint at out[pos]; returns the end. */
export function writeVarint(out: Buffer, pos: number, value: number): number {
  while (value >= 0x80) {
    out[pos++] = (value & 0x7f) | 0x80;
    value >>>= 7;
  }
  out[pos++] = value;
  return pos;
}

/** src[from, to) to out[pos]; returns the end. A byte loop for short runs, where Buffer#copy's call costs more than the move. */
export function copyRange(src: Uint8Array, from: number, to: number, out: Buffer, pos: number): number {
  if (to - from > 64) {
    out.set(src.subarray(from, to), pos);
    return pos + to - from;
  }
  for (let i = from; i < to; i++) out[pos++] = src[i]!;
  return pos;
}

