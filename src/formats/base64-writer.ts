/**
 * Base64 written straight into a splicer's output buffer (no intermediate string), and the one way the
 * splicers write a leaf's new value: a plaintext string as UTF-8, ciphertext due as base64 text, else the
 * bytes as they are. Shared by the Avro, Protobuf and JSON in-place rewrites.
 */
const ALPHABET = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');
const PAD = 0x3d;

/** Length of the padded base64 text of `bytes` bytes. */
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

/**
 * A leaf's value at out[pos] (`size`: its encoded length, already computed by the splicer): a string as
 * UTF-8, bytes flagged `asBase64` as their base64 text, other bytes as they are. Returns the end.
 */
export function writeLeafValue(out: Buffer, pos: number, value: string | Uint8Array, size: number, asBase64: boolean): number {
  if (typeof value === 'string') return pos + out.write(value, pos, size, 'utf8');
  if (asBase64) return writeBase64(value, out, pos);
  out.set(value, pos);
  return pos + size;
}
