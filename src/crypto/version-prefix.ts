/**
 * The DEK version prefix CSFLE puts in front of a field ciphertext when the rule has
 * `encrypt.dek.expiry.days` > 0: 0x00 | int32 BE dekVersion | ciphertext. Readers use the version to
 * fetch exactly that DEK; without expiry there is no prefix and the version is 1.
 */
import { RecryptError } from '../util/errors.js';

export const VERSION_PREFIX_MAGIC = 0x00;
export const VERSION_PREFIX_SIZE = 5;

export interface VersionedCiphertext {
  version: number;
  /** A view into the input, not a copy. */
  ciphertext: Buffer;
}

/** 0x00 | version (int32 BE) | ciphertext. version must be a positive int32 (DEK versions start at 1). */
export function withVersionPrefix(version: number, ciphertext: Uint8Array): Buffer {
  if (!Number.isInteger(version) || version < 1 || version > 0x7fffffff) {
    throw new RecryptError('INTERNAL', 'DEK version must be an integer in 1..2^31-1');
  }
  const out = Buffer.allocUnsafe(VERSION_PREFIX_SIZE + ciphertext.length);
  out[0] = VERSION_PREFIX_MAGIC;
  out.writeInt32BE(version, 1);
  out.set(ciphertext, VERSION_PREFIX_SIZE);
  return out;
}

/** Splits a prefixed ciphertext. CRYPTO_BAD_CIPHERTEXT when too short, the magic byte is wrong or the version is negative. */
export function splitVersionPrefix(buf: Uint8Array): VersionedCiphertext {
  if (buf.length < VERSION_PREFIX_SIZE) {
    throw new RecryptError('CRYPTO_BAD_CIPHERTEXT', 'ciphertext shorter than its DEK version prefix');
  }
  if (buf[0] !== VERSION_PREFIX_MAGIC) {
    throw new RecryptError('CRYPTO_BAD_CIPHERTEXT', 'ciphertext lacks the DEK version prefix magic byte');
  }
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const version = view.readInt32BE(1);
  if (version < 0) {
    throw new RecryptError('CRYPTO_BAD_CIPHERTEXT', 'DEK version prefix is negative');
  }
  return { version, ciphertext: view.subarray(VERSION_PREFIX_SIZE) };
}
