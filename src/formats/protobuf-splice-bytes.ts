/**
 * Byte helpers of the Protobuf splicer's writer: varint sizes and writes for lengths, base64 text of a
 * string field's ciphertext written straight into the output, short copies.
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

const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const PAD = 0x3d;

export const base64Size = (bytes: number): number => Math.ceil(bytes / 3) * 4;

/** Standard padded base64 (RFC 4648 section 4) of `src` at out[pos]; returns the end. */
export function writeBase64(src: Uint8Array, out: Buffer, pos: number): number {
  const a = ALPHABET;
  const n = src.length;
  let i = 0;
  for (; i + 3 <= n; i += 3) {
    const v = (src[i]! << 16) | (src[i + 1]! << 8) | src[i + 2]!;
    out[pos++] = a[v >>> 18]!;
    out[pos++] = a[(v >>> 12) & 63]!;
    out[pos++] = a[(v >>> 6) & 63]!;
    out[pos++] = a[v & 63]!;
  }
  const rest = n - i;
  if (rest > 0) {
    const v = (src[i]! << 16) | (rest === 2 ? src[i + 1]! << 8 : 0);
    out[pos++] = a[v >>> 18]!;
    out[pos++] = a[(v >>> 12) & 63]!;
    out[pos++] = rest === 2 ? a[(v >>> 6) & 63]! : PAD;
    out[pos++] = PAD;
  }
  return pos;
}
