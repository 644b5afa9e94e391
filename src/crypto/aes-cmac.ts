/**
 * AES-CMAC (RFC 4493), the PRF inside AES-SIV's S2V. Node has no CMAC for arbitrary callers, so it is
 * built from AES-CBC with a zero IV: CMAC is CBC-MAC whose last block is masked with subkey K1
 * (complete block) or padded with 10* and masked with K2.
 *
 * Speed: creating a Node Cipher costs a few microseconds (more than the AES work for a field), so each
 * AesCmac keeps ONE `aes-*-cbc` Cipher for its whole life and never finalizes it. A CBC stream carries
 * its last ciphertext block as the next block's chaining value; to start every MAC from the zero IV,
 * the previous last ciphertext block (#chain) is XORed into the new message's first block, cancelling
 * the chaining: E((M1 ^ C) ^ C) = E(M1 ^ 0). The MAC stays byte-for-byte RFC 4493 (tests check the
 * vectors and compare against a fresh zero-IV CBC per message). Everything is synchronous (no await,
 * no callback), so no other MAC can interleave with the stream between the update and the #chain copy.
 */
import { createCipheriv, createSecretKey, type Cipher, type KeyObject } from 'node:crypto';
import { RecryptError } from '../util/errors.js';
import { aesCipherName, BLOCK_SIZE, dbl, xorBlockInto } from './block.js';

const ZERO_BLOCK = Buffer.alloc(BLOCK_SIZE);

export class AesCmac {
  readonly #cbc: string;
  // Key, subkeys, stream and chaining value: private fields, so they never show in inspect or JSON.
  readonly #key: KeyObject;
  readonly #k1: Buffer;
  readonly #k2: Buffer;
  /** The persistent zero-IV CBC stream (never finalized); replaced only if an update ever fails. */
  #stream: Cipher;
  /** The stream's current chaining value: its last ciphertext block, zero for a fresh stream. */
  readonly #chain = Buffer.alloc(BLOCK_SIZE);
  /** Set while #stream may be out of step with #chain; the next MAC then starts a fresh stream. */
  #suspect = false;

  /** key: 16, 24 or 32 bytes. Throws RecryptError CRYPTO_BAD_KEY otherwise. */
  constructor(key: Uint8Array) {
    const cbc = aesCipherName(key.length, 'cbc');
    if (cbc === undefined) {
      throw new RecryptError('CRYPTO_BAD_KEY', `AES-CMAC key must be 16, 24 or 32 bytes, got ${key.length}`);
    }
    this.#cbc = cbc;
    this.#key = createSecretKey(key);
    this.#stream = this.#freshStream();
    const l = this.#cbcMac(Buffer.from(ZERO_BLOCK)); // L = AES(K, 0^128)
    this.#k1 = dbl(l);
    this.#k2 = dbl(this.#k1);
  }

  /** The 16-byte CMAC tag of message. */
  mac(message: Uint8Array): Buffer {
    const len = message.length;
    const complete = len > 0 && len % BLOCK_SIZE === 0;
    const padded = complete ? len : (Math.floor(len / BLOCK_SIZE) + 1) * BLOCK_SIZE;
    const buf = Buffer.allocUnsafe(padded);
    buf.set(message, 0);
    const last = padded - BLOCK_SIZE;
    if (complete) {
      xorBlockInto(buf, last, this.#k1);
    } else {
      buf[len] = 0x80;
      for (let i = len + 1; i < padded; i++) buf[i] = 0;
      xorBlockInto(buf, last, this.#k2);
    }
    return this.#cbcMac(buf);
  }

  /**
   * CBC-MAC with a zero IV over whole blocks (consumed: its first block is modified). Returns a new
   * 16-byte buffer the caller owns; #chain stays private so no caller can disturb the stream's state.
   */
  #cbcMac(blocks: Buffer): Buffer {
    if (this.#suspect) this.#reset();
    xorBlockInto(blocks, 0, this.#chain); // cancel the stream's chaining value: as if IV = 0
    let out: Buffer;
    try {
      out = this.#stream.update(blocks);
    } catch (err) {
      this.#reset(); // the stream's state is unknown now: never chain from it again
      throw err;
    }
    if (out.length !== blocks.length) {
      // Cannot happen with padding off and whole blocks; if it ever did, #chain would be wrong.
      this.#reset();
      throw new RecryptError('INTERNAL', 'AES-CMAC: CBC stream returned a partial output');
    }
    const last = out.length - BLOCK_SIZE;
    if (last === 0) {
      for (let i = 0; i < BLOCK_SIZE; i++) this.#chain[i] = out[i]!;
      return out;
    }
    // A copy for the caller, so it does not keep the whole CBC output alive for one block.
    const tag = Buffer.allocUnsafe(BLOCK_SIZE);
    for (let i = 0; i < BLOCK_SIZE; i++) this.#chain[i] = tag[i] = out[last + i]!;
    return tag;
  }

  /** A fresh zero-IV stream; if creating it throws, #suspect stays set and the next MAC retries. */
  #reset(): void {
    this.#suspect = true;
    this.#stream = this.#freshStream();
    this.#chain.fill(0);
    this.#suspect = false;
  }

  #freshStream(): Cipher {
    const stream = createCipheriv(this.#cbc, this.#key, ZERO_BLOCK);
    stream.setAutoPadding(false);
    return stream;
  }
}
