/**
 * Standard base64 (RFC 4648 section 4, with padding), as CSFLE stores encrypted string fields.
 * Buffer.from(s, 'base64') skips junk and accepts url-safe letters, so a corrupted field would decode
 * to different bytes and fail later as a confusing auth error; validate first and fail as bad input.
 */
import { RecryptError } from '../util/errors.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const IS_B64 = new Uint8Array(128);
for (let i = 0; i < ALPHABET.length; i++) IS_B64[ALPHABET.charCodeAt(i)] = 1;
const PAD = 0x3d; // '='

export function encodeBase64(bytes: Uint8Array): string {
  // Most callers hand over a Buffer (cipher output): no view to build then.
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return buf.toString('base64');
}

/** Strict decode: length a multiple of 4, alphabet only, `=` only as 1 or 2 final characters. */
export function decodeBase64(text: string): Buffer {
  const len = text.length;
  if (len % 4 !== 0) fail('length is not a multiple of 4');
  let pads = 0;
  if (len > 0 && text.charCodeAt(len - 1) === PAD) pads = text.charCodeAt(len - 2) === PAD ? 2 : 1;
  const dataEnd = len - pads;
  for (let i = 0; i < dataEnd; i++) {
    const c = text.charCodeAt(i);
    if (c >= 128 || IS_B64[c] === 0) fail('invalid character');
  }
  return Buffer.from(text, 'base64');
}

/** Alphabet value of each byte, -1 for anything else ('=' included: padding is handled apart). */
const DECODE = new Int8Array(256).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) DECODE[ALPHABET.charCodeAt(i)] = i;

/**
 * decodeBase64 over the text's ASCII bytes (a string field read straight from an encoded payload), with
 * the same strictness, decoded in one pass without an intermediate string.
 */
export function decodeBase64Bytes(ascii: Uint8Array): Buffer {
  const len = ascii.length;
  if (len % 4 !== 0) fail('length is not a multiple of 4');
  if (len === 0) return Buffer.alloc(0);
  const pads = ascii[len - 1] === PAD ? (ascii[len - 2] === PAD ? 2 : 1) : 0;
  const out = Buffer.allocUnsafe((len / 4) * 3 - pads);
  const full = pads === 0 ? len : len - 4;
  let o = 0;
  for (let i = 0; i < full; i += 4) {
    const a = DECODE[ascii[i]!]!;
    const b = DECODE[ascii[i + 1]!]!;
    const c = DECODE[ascii[i + 2]!]!;
    const d = DECODE[ascii[i + 3]!]!;
    if ((a | b | c | d) < 0) fail('invalid character');
    const v = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = v >>> 16;
    out[o++] = (v >>> 8) & 0xff;
    out[o++] = v & 0xff;
  }
  if (pads > 0) {
    const a = DECODE[ascii[full]!]!;
    const b = DECODE[ascii[full + 1]!]!;
    const c = pads === 1 ? DECODE[ascii[full + 2]!]! : 0;
    if ((a | b | c) < 0) fail('invalid character');
    const v = (a << 18) | (b << 12) | (c << 6);
    out[o++] = v >>> 16;
    if (pads === 1) out[o++] = (v >>> 8) & 0xff;
  }
  return out;
}

function fail(what: string): never {
  // The text itself stays out of the message: it may be ciphertext or, worse, misplaced plaintext.
  throw new RecryptError('CRYPTO_BAD_CIPHERTEXT', `field is not valid base64: ${what}`);
}
