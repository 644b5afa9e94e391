/**
 * AES-GCM field cipher for AES128_GCM / AES256_GCM DEKs (and the local-kms KEK).
 * Layout: IV(12) | ciphertext | tag(16), empty associated data, no Tink output prefix.
 * The IV is drawn here, never passed in: callers cannot reuse a nonce by mistake.
 */
import {
  createCipheriv,
  createDecipheriv,
  createSecretKey,
  randomFillSync,
  type CipherGCMTypes,
  type KeyObject,
} from 'node:crypto';
import type { DekAlgorithm } from '../registry/types.js';
import { RecryptError } from '../util/errors.js';
import type { FieldCipher } from './types.js';

export const GCM_IV_SIZE = 12;
export const GCM_TAG_SIZE = 16;

export type AesGcmAlgorithm = Extract<DekAlgorithm, 'AES128_GCM' | 'AES256_GCM'>;

export const AES_GCM_KEY_SIZES: Readonly<Record<AesGcmAlgorithm, number>> = { AES128_GCM: 16, AES256_GCM: 32 };
const CIPHER_NAMES: Readonly<Record<AesGcmAlgorithm, CipherGCMTypes>> = { AES128_GCM: 'aes-128-gcm', AES256_GCM: 'aes-256-gcm' };

class AesGcm implements FieldCipher {
  readonly algorithm: AesGcmAlgorithm;
  readonly #gcm: CipherGCMTypes;
  readonly #key: KeyObject;

  constructor(algorithm: AesGcmAlgorithm, key: Uint8Array) {
    const gcm = Object.hasOwn(CIPHER_NAMES, algorithm) ? CIPHER_NAMES[algorithm] : undefined;
    if (gcm === undefined) {
      throw new RecryptError('CRYPTO_UNKNOWN_ALGORITHM', 'AES-GCM algorithm must be AES128_GCM or AES256_GCM');
    }
    if (key.length !== AES_GCM_KEY_SIZES[algorithm]) {
      throw new RecryptError('CRYPTO_BAD_KEY', `${algorithm} key must be ${AES_GCM_KEY_SIZES[algorithm]} bytes, got ${key.length}`);
    }
    this.algorithm = algorithm;
    this.#gcm = gcm;
    this.#key = createSecretKey(key);
  }

  encrypt(plaintext: Uint8Array): Buffer {
    const out = Buffer.allocUnsafe(GCM_IV_SIZE + plaintext.length + GCM_TAG_SIZE);
    const iv = randomFillSync(out, 0, GCM_IV_SIZE).subarray(0, GCM_IV_SIZE);
    const cipher = createCipheriv(this.#gcm, this.#key, iv, { authTagLength: GCM_TAG_SIZE });
    let n = GCM_IV_SIZE + cipher.update(plaintext).copy(out, GCM_IV_SIZE);
    n += cipher.final().copy(out, n);
    cipher.getAuthTag().copy(out, n);
    return out;
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    if (ciphertext.length < GCM_IV_SIZE + GCM_TAG_SIZE) {
      throw new RecryptError('CRYPTO_BAD_CIPHERTEXT', `${this.algorithm} ciphertext shorter than ${GCM_IV_SIZE + GCM_TAG_SIZE} bytes`);
    }
    const tagAt = ciphertext.length - GCM_TAG_SIZE;
    const decipher = createDecipheriv(this.#gcm, this.#key, ciphertext.subarray(0, GCM_IV_SIZE), {
      authTagLength: GCM_TAG_SIZE,
    });
    decipher.setAuthTag(ciphertext.subarray(tagAt));
    const head = decipher.update(ciphertext.subarray(GCM_IV_SIZE, tagAt));
    let tail: Buffer;
    try {
      tail = decipher.final();
    } catch {
      head.fill(0); // unauthenticated plaintext must not linger
      // No cause: OpenSSL's message adds nothing and we keep errors value-free by construction.
      throw new RecryptError('CRYPTO_DECRYPT', `${this.algorithm} authentication failed`);
    }
    return tail.length > 0 ? Buffer.concat([head, tail]) : head;
  }
}

/** A FieldCipher over a raw 16 (AES128_GCM) or 32 (AES256_GCM) byte key; CRYPTO_BAD_KEY otherwise. */
export function createAesGcmFieldCipher(algorithm: AesGcmAlgorithm, key: Uint8Array): FieldCipher {
  return new AesGcm(algorithm, key);
}
