/**
 * One field's encryption and decryption as Confluent's FieldEncryptionExecutor does it (CSFLE-NOTES
 * section 2), in two forms: on decoded values (`encryptField`, `decryptField`: a string field carries
 * the base64 of its ciphertext, a bytes field the raw ciphertext) and on a field's encoded bytes as a
 * format's splicer hands them over (`encryptEncoded`, `decryptEncoded`: a string field's UTF-8 bytes,
 * a bytes field's bytes; formats/types.ts FieldSplicer).
 * With DEK expiry the ciphertext carries a 0x00|int32 DEK version prefix; without it the version is 1.
 * Null passes through; a tagged value that is neither string nor bytes is RULE_UNSUPPORTED_FIELD_TYPE
 * on write and passes unchanged on read.
 * Synchronous, and no key lookup here: the caller hands in the write cipher, or on read a
 * `cipherFor(version)` that returns a cipher in hand or undefined; decryption then returns DEK_MISSING
 * (the kernel's visitors note the miss, the DLQ view leaves the value opaque) and the caller fetches the
 * DEK and tries again. Errors of the ciphertext are thrown as RecryptError (CRYPTO_*).
 */
import { decodeBase64, decodeBase64Bytes, encodeBase64, splitVersionPrefix, withVersionPrefix, type FieldCipher } from '../crypto/index.js';
import type { FieldInfo } from '../formats/index.js';
import { RecryptError } from '../util/errors.js';

/** What decryption returns when `cipherFor` has no cipher for the ciphertext's DEK version. */
export const DEK_MISSING: unique symbol = Symbol('DEK missing');

/** A read step's cipher per DEK version; undefined when that version is not in hand. */
export type CipherFor = (version: number) => FieldCipher | undefined;

function unsupported(field: FieldInfo, direction: string): RecryptError {
  return new RecryptError('RULE_UNSUPPORTED_FIELD_TYPE', `field ${field.fullName} is tagged for encryption but is neither string nor bytes (${direction})`);
}

function asBytes(value: unknown): Uint8Array | undefined {
  return value instanceof Uint8Array ? value : undefined;
}

export function encryptField(value: unknown, field: FieldInfo, cipher: FieldCipher, version: number | undefined): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') return encodeBase64(encryptBytes(Buffer.from(value, 'utf8'), cipher, version));
  const bytes = asBytes(value);
  if (bytes) return encryptBytes(bytes, cipher, version);
  throw unsupported(field, 'write');
}

/**
 * Decrypts one field; DEK_MISSING when `cipherFor` has no cipher for its version. Values of other types
 * pass unchanged, as in Confluent's clients (a tagged int is not ciphertext).
 */
export function decryptField(value: unknown, field: FieldInfo, versioned: boolean, cipherFor: CipherFor): unknown {
  if (value === null || value === undefined) return value;
  if (typeof value === 'string') {
    const plaintext = decryptBytes(decodeBase64(value), versioned, cipherFor);
    return plaintext === DEK_MISSING ? plaintext : plaintext.toString('utf8');
  }
  const bytes = asBytes(value);
  return bytes ? decryptBytes(bytes, versioned, cipherFor) : value;
}

/**
 * The same two operations on a field's encoded form, as a splicer hands it over: a string field's UTF-8
 * bytes, a bytes field's bytes. Encryption returns the ciphertext bytes; the caller writes a string
 * field's as base64 text. Decryption returns the plaintext's bytes (or DEK_MISSING).
 */
export function encryptEncoded(encoded: Buffer | null, cipher: FieldCipher, version: number | undefined): Buffer | null {
  return encoded === null ? null : encryptBytes(encoded, cipher, version);
}

export function decryptEncoded(
  encoded: Buffer | null, field: FieldInfo, versioned: boolean, cipherFor: CipherFor,
): Buffer | null | typeof DEK_MISSING {
  if (encoded === null) return null;
  return decryptBytes(field.kind === 'string' ? decodeBase64Bytes(encoded) : encoded, versioned, cipherFor);
}

function encryptBytes(plaintext: Uint8Array, cipher: FieldCipher, version: number | undefined): Buffer {
  const ciphertext = cipher.encrypt(plaintext);
  return version === undefined ? ciphertext : withVersionPrefix(version, ciphertext);
}

function decryptBytes(ciphertext: Uint8Array, versioned: boolean, cipherFor: CipherFor): Buffer | typeof DEK_MISSING {
  let version = 1;
  if (versioned) {
    const split = splitVersionPrefix(ciphertext);
    version = split.version;
    ciphertext = split.ciphertext;
  }
  const cipher = cipherFor(version);
  return cipher === undefined ? DEK_MISSING : cipher.decrypt(ciphertext);
}
