/**
 * Field-level encryption as Confluent's FieldEncryptionExecutor does it (CSFLE-NOTES section 2):
 * string fields carry base64 of the ciphertext, bytes fields the raw ciphertext; with DEK expiry the
 * ciphertext carries a 0x00|int32 version prefix. Null passes through. Synchronous: DEKs are resolved
 * before the walk (write) or on demand through a cache lookup that signals a miss (read).
 */
import { decodeBase64, encodeBase64, splitVersionPrefix, withVersionPrefix, type FieldCipher } from '../crypto/index.js';
import type { FieldInfo } from '../formats/index.js';
import { RecryptError } from '../util/errors.js';

/** Thrown by a read visitor when a DEK version is not cached yet; the engine fetches it and retries. */
export class DekMiss {
  constructor(readonly version: number) {}
}

function unsupported(field: FieldInfo, direction: string): RecryptError {
  return new RecryptError('RULE_UNSUPPORTED_FIELD_TYPE', `field ${field.fullName} is tagged for encryption but is neither string nor bytes (${direction})`);
}

function asBytes(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

export function encryptField(value: unknown, field: FieldInfo, cipher: FieldCipher, version: number | undefined): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') {
    const ct = cipher.encrypt(Buffer.from(value, 'utf8'));
    return encodeBase64(version === undefined ? ct : withVersionPrefix(version, ct));
  }
  const bytes = asBytes(value);
  if (bytes) {
    const ct = cipher.encrypt(bytes);
    return version === undefined ? ct : withVersionPrefix(version, ct);
  }
  throw unsupported(field, 'write');
}

/**
 * Decrypts one field. `cipherFor(version)` returns the cached cipher or throws DekMiss. Values of other
 * types pass unchanged, as in Confluent's clients (a tagged int is not ciphertext).
 */
export function decryptField(value: unknown, field: FieldInfo, versioned: boolean, cipherFor: (version: number) => FieldCipher): unknown {
  if (value === null || value === undefined) return value;
  let ciphertext: Uint8Array;
  const isString = typeof value === 'string';
  if (isString) ciphertext = decodeBase64(value);
  else {
    const bytes = asBytes(value);
    if (!bytes) return value;
    ciphertext = bytes;
  }
  let version = 1;
  if (versioned) {
    const split = splitVersionPrefix(ciphertext);
    version = split.version;
    ciphertext = split.ciphertext;
  }
  const plaintext = cipherFor(version).decrypt(ciphertext);
  return isString ? plaintext.toString('utf8') : plaintext;
}
