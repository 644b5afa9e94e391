/** Key bytes as DekManager handles them: strict base64 of registry fields, and wiping material after use. */
import { RecryptError } from '../util/errors.js';

/** The bytes of a registry DEK field; CRYPTO_BAD_KEY (naming the field, never its value) when not strict base64. */
export function base64ToBytes(value: string, what: string): Buffer {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw new RecryptError('CRYPTO_BAD_KEY', `${what} is not valid base64`);
  }
  return Buffer.from(value, 'base64');
}

/** Overwrites key material that is no longer needed. */
export function wipe(bytes: Uint8Array | undefined): void {
  if (bytes !== undefined) bytes.fill(0);
}
