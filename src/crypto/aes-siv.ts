/**
 * AES-SIV (RFC 5297): deterministic authenticated encryption. The key splits in two equal halves:
 * K1 (left) keys CMAC inside S2V, K2 (right) keys AES-CTR. A 32-byte key is AES-SIV-CMAC-256 (the RFC
 * vectors), a 64-byte key is AES-SIV-CMAC-512 (what CSFLE's AES256_SIV DEK holds).
 * Output: SIV(16) | CTR ciphertext. Same key, associated data and plaintext give the same output.
 */
import { createCipheriv, createSecretKey, timingSafeEqual, type Cipher, type KeyObject } from 'node:crypto';
import { RecryptError } from '../util/errors.js';
import { AesCmac } from './aes-cmac.js';
import { aesCipherName, BLOCK_SIZE, dbl, xorBlockInto } from './block.js';
import type { FieldCipher } from './types.js';

/** RFC 5297 section 7: S2V over more than 127 components loses its security argument. */
export const MAX_ASSOCIATED_DATA = 126;

const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);
const EMPTY = new Uint8Array(0);

/**
 * Up to this many bytes, CTR runs as one persistent AES-ECB stream over the counter blocks plus a JS
 * XOR (no Cipher object per message: creating one costs more than the AES work on a field). Above it,
 * JS XOR and counter building cost more than a new native CTR cipher (measured crossover ~1 KiB).
 */
export const SIV_ECB_CTR_MAX = 512;

/** A deterministic AEAD with its associated data fixed in advance. */
export interface BoundSiv {
  encrypt(plaintext: Uint8Array): Buffer;
  decrypt(ciphertext: Uint8Array): Buffer;
}

export class AesSiv {
  readonly #cmac: AesCmac;
  readonly #ctr: string;
  readonly #ctrKey: KeyObject;
  /**
   * AES-ECB under K2, never finalized: ECB has no state between blocks, so keystream block i is just
   * AES(K2, Q + i) whatever came before. Private, like the key it holds.
   */
  #ecb: Cipher;
  /** Set while #ecb may hold bytes back (after a failed update); the next message then starts a fresh one. */
  #ecbSuspect = false;
  /** CMAC(K1, 0^128): the S2V starting value depends on the key only, so compute it once. */
  readonly #d0: Buffer;

  /** key: 32, 48 or 64 bytes (two AES-128, -192 or -256 keys). Throws CRYPTO_BAD_KEY otherwise. */
  constructor(key: Uint8Array) {
    const half = key.length / 2;
    const ctr = aesCipherName(half, 'ctr');
    if (ctr === undefined || !Number.isInteger(half)) {
      throw new RecryptError('CRYPTO_BAD_KEY', `AES-SIV key must be 32, 48 or 64 bytes, got ${key.length}`);
    }
    this.#cmac = new AesCmac(key.subarray(0, half));
    this.#ctr = ctr;
    this.#ctrKey = createSecretKey(key.subarray(half));
    this.#ecb = this.#freshEcb();
    this.#d0 = this.#cmac.mac(ZERO_BLOCK);
  }

  /** SIV-ENCRYPT(K, P, AD1..ADn). */
  encrypt(plaintext: Uint8Array, associatedData: readonly Uint8Array[] = []): Buffer {
    return this.#seal(this.#absorb(associatedData), plaintext);
  }

  /** SIV-DECRYPT. Throws CRYPTO_BAD_CIPHERTEXT when shorter than the SIV, CRYPTO_DECRYPT when forged. */
  decrypt(ciphertext: Uint8Array, associatedData: readonly Uint8Array[] = []): Buffer {
    return this.#open(this.#absorb(associatedData), ciphertext);
  }

  /** Fixes the associated data so its S2V work is done once, not per message (the hot path). */
  bind(associatedData: readonly Uint8Array[]): BoundSiv {
    const state = this.#absorb(associatedData);
    return {
      encrypt: (plaintext) => this.#seal(state, plaintext),
      decrypt: (ciphertext) => this.#open(state, ciphertext),
    };
  }

  /** S2V over the associated data: D = dbl(D) xor CMAC(ADi), starting from CMAC(0^128). */
  #absorb(associatedData: readonly Uint8Array[]): Buffer {
    if (associatedData.length > MAX_ASSOCIATED_DATA) {
      throw new RecryptError('INTERNAL', `AES-SIV takes at most ${MAX_ASSOCIATED_DATA} associated data components`);
    }
    let d = this.#d0;
    for (const ad of associatedData) {
      d = dbl(d);
      xorBlockInto(d, 0, this.#cmac.mac(ad));
    }
    return d;
  }

  /** The last S2V step, over the plaintext: xorend for 16+ bytes, else dbl and 10* padding. */
  #s2vFinal(d: Buffer, plaintext: Uint8Array): Buffer {
    if (plaintext.length >= BLOCK_SIZE) {
      const t = Buffer.from(plaintext);
      xorBlockInto(t, t.length - BLOCK_SIZE, d);
      return this.#cmac.mac(t);
    }
    const t = dbl(d);
    for (let i = 0; i < plaintext.length; i++) t[i]! ^= plaintext[i]!;
    t[plaintext.length]! ^= 0x80;
    return this.#cmac.mac(t);
  }

  #seal(state: Buffer, plaintext: Uint8Array): Buffer {
    const v = this.#s2vFinal(state, plaintext);
    const out = Buffer.allocUnsafe(BLOCK_SIZE + plaintext.length);
    v.copy(out, 0);
    this.#ctrInto(v, plaintext, out, BLOCK_SIZE);
    return out;
  }

  #open(state: Buffer, ciphertext: Uint8Array): Buffer {
    if (ciphertext.length < BLOCK_SIZE) {
      throw new RecryptError('CRYPTO_BAD_CIPHERTEXT', `AES-SIV ciphertext shorter than ${BLOCK_SIZE} bytes`);
    }
    const v = ciphertext.subarray(0, BLOCK_SIZE);
    const plaintext = Buffer.allocUnsafe(ciphertext.length - BLOCK_SIZE);
    this.#ctrInto(v, ciphertext.subarray(BLOCK_SIZE), plaintext, 0);
    if (!timingSafeEqual(this.#s2vFinal(state, plaintext), v)) {
      plaintext.fill(0); // unauthenticated plaintext must not linger
      throw new RecryptError('CRYPTO_DECRYPT', 'AES-SIV authentication failed');
    }
    return plaintext;
  }

  /**
   * AES-CTR from Q = V with bits 63 and 31 cleared (RFC 5297 2.5): a native CTR cipher above
   * SIV_ECB_CTR_MAX bytes, else the persistent ECB stream over sivCounterBlocks XORed in JS.
   */
  #ctrInto(v: Uint8Array, input: Uint8Array, out: Buffer, offset: number): void {
    const len = input.length;
    if (len === 0) return;
    if (len > SIV_ECB_CTR_MAX) {
      const q = Buffer.from(v.subarray(0, BLOCK_SIZE));
      q[8]! &= 0x7f;
      q[12]! &= 0x7f;
      const cipher = createCipheriv(this.#ctr, this.#ctrKey, q);
      const n = cipher.update(input).copy(out, offset);
      cipher.final().copy(out, offset + n);
      return;
    }
    const counters = sivCounterBlocks(v, (len + BLOCK_SIZE - 1) >>> 4);
    if (this.#ecbSuspect) this.#resetEcb();
    let keystream: Buffer;
    try {
      keystream = this.#ecb.update(counters);
    } catch (err) {
      this.#resetEcb(); // never reuse a stream whose state is unknown
      throw err;
    }
    if (keystream.length !== counters.length) {
      // Cannot happen with padding off and whole blocks; a stream holding bytes back would misalign.
      this.#resetEcb();
      throw new RecryptError('INTERNAL', 'AES-SIV: ECB stream returned a partial output');
    }
    for (let i = 0; i < len; i++) {
      out[offset + i] = input[i]! ^ keystream[i]!;
      keystream[i] = 0; // keystream XOR ciphertext is the plaintext: do not leave it around
    }
    for (let i = len; i < keystream.length; i++) keystream[i] = 0;
  }

  /** If creating the new stream throws, #ecbSuspect stays set and the next message retries. */
  #resetEcb(): void {
    this.#ecbSuspect = true;
    this.#ecb = this.#freshEcb();
    this.#ecbSuspect = false;
  }

  #freshEcb(): Cipher {
    const ecb = createCipheriv(this.#ctr.replace('-ctr', '-ecb'), this.#ctrKey, null);
    ecb.setAutoPadding(false);
    return ecb;
  }
}

/**
 * The CTR counter blocks Q, Q+1, ..., Q+blocks-1 where Q is V with bits 63 and 31 cleared (RFC 5297
 * 2.5). Clearing bit 31 keeps the low 32-bit word below 2^31, so adding fewer than 2^31 blocks never
 * carries out of it: incrementing the low word alone equals OpenSSL's 128-bit CTR increment.
 * Exported for tests only (not in index.ts); holds no key.
 */
export function sivCounterBlocks(v: Uint8Array, blocks: number): Buffer {
  if (v.length < BLOCK_SIZE || !(Number.isInteger(blocks) && blocks >= 0 && blocks <= 2 ** 27)) {
    throw new RecryptError('INTERNAL', 'AES-SIV counter blocks: bad arguments');
  }
  const counters = Buffer.allocUnsafe(blocks * BLOCK_SIZE);
  if (blocks === 0) return counters;
  for (let i = 0; i < 12; i++) counters[i] = v[i]!;
  counters[8]! &= 0x7f;
  const low = (((v[12]! & 0x7f) << 24) | (v[13]! << 16) | (v[14]! << 8) | v[15]!) >>> 0;
  for (let b = 0, o = 0; b < blocks; b++, o += BLOCK_SIZE) {
    if (b > 0) for (let i = 0; i < 12; i++) counters[o + i] = counters[i]!;
    const c = low + b; // < 2^31 + 2^27: never carries out of the low word
    counters[o + 12] = c >>> 24;
    counters[o + 13] = (c >>> 16) & 0xff;
    counters[o + 14] = (c >>> 8) & 0xff;
    counters[o + 15] = c & 0xff;
  }
  return counters;
}

/**
 * The CSFLE AES256_SIV field cipher: 64-byte key, exactly one associated data component (empty),
 * as Confluent's clients call Tink/miscreant. Only the bound closures keep the key.
 */
export function createAesSivFieldCipher(key: Uint8Array): FieldCipher {
  if (key.length !== 64) {
    throw new RecryptError('CRYPTO_BAD_KEY', `AES256_SIV key must be 64 bytes, got ${key.length}`);
  }
  const bound = new AesSiv(key).bind([EMPTY]);
  return Object.freeze({
    algorithm: 'AES256_SIV' as const,
    encrypt: (plaintext: Uint8Array) => bound.encrypt(plaintext),
    decrypt: (ciphertext: Uint8Array) => bound.decrypt(ciphertext),
  });
}
