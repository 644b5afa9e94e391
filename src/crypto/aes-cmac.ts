/**
 * AES-CMAC (RFC 4493), the PRF inside AES-SIV's S2V. Node has no CMAC for arbitrary callers, so it is
 * built from AES-CBC with a zero IV: CMAC is CBC-MAC whose last block is masked with subkey K1
 * (complete block) or padded with 10* and masked with K2. One CBC call per MAC keeps it fast.
 */
import { createCipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import { RecryptError } from '../util/errors.js';
import { aesCipherName, BLOCK_SIZE, dbl, xorBlockInto } from './block.js';

const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);

export class AesCmac {
  readonly #cbc: string;
  readonly #key: KeyObject;
  // Subkeys derive from the key: private fields, so they never show in inspect or JSON.
  readonly #k1: Buffer;
  readonly #k2: Buffer;

  /** key: 16, 24 or 32 bytes. Throws RecryptError CRYPTO_BAD_KEY otherwise. */
  constructor(key: Uint8Array) {
    const cbc = aesCipherName(key.length, 'cbc');
    if (cbc === undefined) {
      throw new RecryptError('CRYPTO_BAD_KEY', `AES-CMAC key must be 16, 24 or 32 bytes, got ${key.length}`);
    }
    this.#cbc = cbc;
    this.#key = createSecretKey(key);
    const l = this.#cbcLastBlock(ZERO_BLOCK);
    this.#k1 = dbl(l);
    this.#k2 = dbl(this.#k1);
  }

  /** The 16-byte CMAC tag of message. */
  mac(message: Uint8Array): Buffer {
    const len = message.length;
    const complete = len > 0 && len % BLOCK_SIZE === 0;
    const padded = complete ? len : (Math.floor(len / BLOCK_SIZE) + 1) * BLOCK_SIZE;
    const buf = Buffer.alloc(padded);
    buf.set(message, 0);
    const last = padded - BLOCK_SIZE;
    if (complete) {
      xorBlockInto(buf, last, this.#k1);
    } else {
      buf[len] = 0x80;
      xorBlockInto(buf, last, this.#k2);
    }
    return this.#cbcLastBlock(buf);
  }

  /** AES-CBC with zero IV over whole blocks; the last ciphertext block is the CBC-MAC. */
  #cbcLastBlock(blocks: Buffer): Buffer {
    const cipher = createCipheriv(this.#cbc, this.#key, ZERO_BLOCK);
    cipher.setAutoPadding(false);
    const head = cipher.update(blocks);
    const tail = cipher.final();
    const out = tail.length > 0 ? Buffer.concat([head, tail]) : head;
    // Copy so the caller does not keep the whole CBC output alive for one block.
    return Buffer.from(out.subarray(out.length - BLOCK_SIZE));
  }
}
