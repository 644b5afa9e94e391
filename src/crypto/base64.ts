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

/** decodeBase64 over the text's ASCII bytes (a string field read straight from an encoded payload). */
export function decodeBase64Bytes(ascii: Uint8Array): Buffer {
  const len = ascii.length;
  if (len % 4 !== 0) fail('length is not a multiple of 4');
  let pads = 0;
  if (len > 0 && ascii[len - 1] === PAD) pads = ascii[len - 2] === PAD ? 2 : 1;
  const dataEnd = len - pads;
  for (let i = 0; i < dataEnd; i++) {
    const c = ascii[i]!;
    if (c >= 128 || IS_B64[c] === 0) fail('invalid character');
  }
  const view = Buffer.isBuffer(ascii) ? ascii : Buffer.from(ascii.buffer, ascii.byteOffset, ascii.byteLength);
  return Buffer.from(view.toString('latin1'), 'base64');
}

function fail(what: string): never {
  // The text itself stays out of the message: it may be ciphertext or, worse, misplaced plaintext.
  throw new RecryptError('CRYPTO_BAD_CIPHERTEXT', `field is not valid base64: ${what}`);
}
