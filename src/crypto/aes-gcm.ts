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
import { startupSnapshot } from 'node:v8';
import type { DekAlgorithm } from '../model/index.js';
import { RecryptError } from '../util/errors.js';
import type { FieldCipher } from './types.js';

export const GCM_IV_SIZE = 12;
export const GCM_TAG_SIZE = 16;

export type AesGcmAlgorithm = Extract<DekAlgorithm, 'AES128_GCM' | 'AES256_GCM'>;

export const AES_GCM_KEY_SIZES: Readonly<Record<AesGcmAlgorithm, number>> = { AES128_GCM: 16, AES256_GCM: 32 };
const CIPHER_NAMES: Readonly<Record<AesGcmAlgorithm, CipherGCMTypes>> = { AES128_GCM: 'aes-128-gcm', AES256_GCM: 'aes-256-gcm' };

/**
 * IVs come from a per-process pool of CSPRNG bytes: one randomFillSync per 341 IVs instead of one per
 * field (each call costs ~2.5 us of binding and RNG-lock overhead, the AES work on a field ~0.5 us).
 * Invariants, each covered by a unit test:
 * - every pool byte is handed out at most once: ivPos only moves forward, and a refill replaces the
 *   whole pool before ivPos goes back to 0;
 * - a refill is atomic: randomFillSync writes a new buffer first, and only when it returned does that
 *   buffer become the pool; if it throws, the pool stays exhausted and nothing is handed out;
 * - no await, callback or user code runs between reading ivPos and advancing it (re-entrancy safe);
 * - the pool is module state, so per process and per worker thread (each has its own module
 *   instances); it is never filled while building a V8 startup snapshot, which would otherwise copy
 *   the same future IVs into every process started from the snapshot.
 */
const IV_POOL_SIZE = 341 * GCM_IV_SIZE; // 4092 bytes: a whole number of IVs, just under 4 KiB
let ivPool: Buffer = Buffer.alloc(0);
let ivPos = 0;

/** Writes a fresh random IV to out[offset, offset + 12). Exported for tests only (not in index.ts). */
export function drawIv(out: Buffer, offset: number): void {
  if (!(offset >= 0 && out.length - offset >= GCM_IV_SIZE)) {
    throw new RecryptError('INTERNAL', 'AES-GCM IV destination is too small');
  }
  if (ivPos + GCM_IV_SIZE > ivPool.length) {
    if (startupSnapshot.isBuildingSnapshot()) {
      randomFillSync(out, offset, GCM_IV_SIZE);
      return;
    }
    const fresh = randomFillSync(Buffer.allocUnsafeSlow(IV_POOL_SIZE)); // throws before any state change
    ivPool = fresh;
    ivPos = 0;
  }
  const at = ivPos;
  ivPos = at + GCM_IV_SIZE; // advance first: these bytes are spent whatever happens next
  // A byte loop: Buffer#copy's argument handling costs more than 12 byte moves.
  const pool = ivPool;
  for (let i = 0; i < GCM_IV_SIZE; i++) out[offset + i] = pool[at + i]!;
}

/** Where encrypt() draws each IV before handing it to OpenSSL, which copies it (saves a view per field). */
const ivScratch = Buffer.alloc(GCM_IV_SIZE);

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
    const iv = ivScratch;
    drawIv(iv, 0);
    // No options object: GCM's default tag is 16 bytes, and validating the options costs ~6% of a
    // field's encryption. The tag's length is checked below all the same.
    const cipher = createCipheriv(this.#gcm, this.#key, iv);
    const body = cipher.update(plaintext);
    const tail = cipher.final(); // empty for GCM (a stream mode); kept for the cipher's state checks
    const tag = cipher.getAuthTag();
    if (tag.length !== GCM_TAG_SIZE) throw new RecryptError('INTERNAL', 'AES-GCM produced a tag of an unexpected size');
    const n = GCM_IV_SIZE + body.length + tail.length;
    const out = Buffer.allocUnsafe(n + GCM_TAG_SIZE);
    // TypedArray#set and a byte loop: cheaper than Buffer#copy for pieces this small.
    for (let i = 0; i < GCM_IV_SIZE; i++) out[i] = iv[i]!;
    out.set(body, GCM_IV_SIZE);
    if (tail.length > 0) out.set(tail, GCM_IV_SIZE + body.length);
    out.set(tag, n);
    return out;
  }

  decrypt(ciphertext: Uint8Array): Buffer {
    if (ciphertext.length < GCM_IV_SIZE + GCM_TAG_SIZE) {
      throw new RecryptError('CRYPTO_BAD_CIPHERTEXT', `${this.algorithm} ciphertext shorter than ${GCM_IV_SIZE + GCM_TAG_SIZE} bytes`);
    }
    const tagAt = ciphertext.length - GCM_TAG_SIZE;
    // Plain Uint8Array views: Buffer#subarray goes through the species constructor, measurably slower.
    const { buffer, byteOffset } = ciphertext;
    // The tag is always exactly the last 16 bytes (sliced here), so no options object is needed to pin
    // its length (validating one costs ~6% of a field's decryption).
    const decipher = createDecipheriv(this.#gcm, this.#key, new Uint8Array(buffer, byteOffset, GCM_IV_SIZE));
    decipher.setAuthTag(new Uint8Array(buffer, byteOffset + tagAt, GCM_TAG_SIZE));
    const head = decipher.update(new Uint8Array(buffer, byteOffset + GCM_IV_SIZE, tagAt - GCM_IV_SIZE));
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
