import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createAesGcmFieldCipher, GCM_IV_SIZE, GCM_TAG_SIZE, type AesGcmAlgorithm } from '../../../src/crypto/aes-gcm.js';
import { expectRecryptError, flipBit, hex } from './helpers.js';

// McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 3 (AES-128) and 15 (AES-256):
// 96-bit IV, no AAD, so IV | C | T is exactly the CSFLE layout.
const P = hex(`d9313225 f88406e5 a55909c5 aff5269a 86a7a953 1534f7da 2e4c303d 8a318a72
               1c3c0c95 95680953 2fcf0e24 49a6b525 b16aedf5 aa0de657 ba637b39 1aafd255`);
const IV = hex('cafebabe facedbad decaf888');
const VECTORS: Array<[AesGcmAlgorithm, Buffer, Buffer, Buffer]> = [
  [
    'AES128_GCM',
    hex('feffe992 8665731c 6d6a8f94 67308308'),
    hex(`42831ec2 21777424 4b7221b7 84d0d49c e3aa212f 2c02a4e0 35c17e23 29aca12e
         21d514b2 5466931c 7d8f6a5a ac84aa05 1ba30b39 6a0aac97 3d58e091 473f5985`),
    hex('4d5c2af3 27cd64a6 2cf35abd 2ba6fab4'),
  ],
  [
    'AES256_GCM',
    hex('feffe992 8665731c 6d6a8f94 67308308 feffe992 8665731c 6d6a8f94 67308308'),
    hex(`522dc1f0 99567d07 f47f37a3 2a84427d 643a8cdc bfe5c0c9 7598a2bd 2555d1aa
         8cb08e48 590dbb3d a7b08b10 56828838 c5f61e63 93ba7a0a bcc9f662 898015ad`),
    hex('b094dac5 d93471bd ec1a5022 70e3cc6c'),
  ],
];

describe.each(VECTORS)('%s', (algorithm, key, ciphertext, tag) => {
  const cipher = createAesGcmFieldCipher(algorithm, key);
  const wire = Buffer.concat([IV, ciphertext, tag]);

  it('decrypts the published vector laid out as IV | ciphertext | tag', () => {
    expect(cipher.decrypt(wire).equals(P)).toBe(true);
    expect(cipher.algorithm).toBe(algorithm);
  });

  it('decrypts a ciphertext that is a view into a larger buffer (Buffer or plain Uint8Array), at any offset', () => {
    for (const offset of [0, 1, 7, 100]) {
      const backing = Buffer.alloc(offset + wire.length + 9, 0xee);
      wire.copy(backing, offset);
      const view = backing.subarray(offset, offset + wire.length);
      expect(cipher.decrypt(view).equals(P)).toBe(true);
      expect(cipher.decrypt(new Uint8Array(backing.buffer, backing.byteOffset + offset, wire.length)).equals(P)).toBe(true);
      // The bytes around the view are not the ciphertext's: a decryption reading them would fail.
      expectRecryptError(() => cipher.decrypt(backing.subarray(offset, offset + wire.length - 1)), 'CRYPTO_DECRYPT');
    }
  });

  it('encrypts to IV(12) | ciphertext | tag(16) with a fresh IV each time', () => {
    const a = cipher.encrypt(P);
    const b = cipher.encrypt(P);
    expect(a.length).toBe(GCM_IV_SIZE + P.length + GCM_TAG_SIZE);
    expect(a.subarray(0, GCM_IV_SIZE).equals(b.subarray(0, GCM_IV_SIZE))).toBe(false);
    expect(cipher.decrypt(a).equals(P)).toBe(true);
    expect(cipher.decrypt(b).equals(P)).toBe(true);
  });

  it('round-trips any plaintext, including empty (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (pt) => {
        expect(cipher.decrypt(cipher.encrypt(pt)).equals(Buffer.from(pt))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('detects a flipped bit in IV, ciphertext or tag', () => {
    for (let i = 0; i < wire.length; i++) {
      expectRecryptError(() => cipher.decrypt(flipBit(wire, i, i % 8)), 'CRYPTO_DECRYPT');
    }
  });

  it('detects truncation and appended bytes', () => {
    expectRecryptError(() => cipher.decrypt(wire.subarray(0, wire.length - 1)), 'CRYPTO_DECRYPT');
    expectRecryptError(() => cipher.decrypt(Buffer.concat([wire, Buffer.from([0])])), 'CRYPTO_DECRYPT');
  });

  it('rejects input shorter than IV + tag with CRYPTO_BAD_CIPHERTEXT', () => {
    expectRecryptError(() => cipher.decrypt(Buffer.alloc(GCM_IV_SIZE + GCM_TAG_SIZE - 1)), 'CRYPTO_BAD_CIPHERTEXT');
    expectRecryptError(() => cipher.decrypt(Buffer.alloc(0)), 'CRYPTO_BAD_CIPHERTEXT');
  });

  it('fails with CRYPTO_DECRYPT under another key', () => {
    const other = createAesGcmFieldCipher(algorithm, Buffer.alloc(key.length, 7));
    expectRecryptError(() => other.decrypt(wire), 'CRYPTO_DECRYPT');
  });

  it('does not expose key bytes through enumeration, JSON or inspect', () => {
    const views = [JSON.stringify(cipher), inspect(cipher, { showHidden: true, depth: 10 }), Object.keys(cipher).join(',')];
    for (const view of views) expect(view).not.toContain(key.toString('hex'));
  });
});

describe('createAesGcmFieldCipher key checks', () => {
  it.each([
    ['AES128_GCM', 32],
    ['AES128_GCM', 24],
    ['AES256_GCM', 16],
    ['AES256_GCM', 64],
  ] as const)('%s with a %i-byte key is CRYPTO_BAD_KEY', (algorithm, len) => {
    expectRecryptError(() => createAesGcmFieldCipher(algorithm, Buffer.alloc(len)), 'CRYPTO_BAD_KEY');
  });

  it('an algorithm that is not GCM is CRYPTO_UNKNOWN_ALGORITHM', () => {
    expectRecryptError(
      () => createAesGcmFieldCipher('AES256_SIV' as AesGcmAlgorithm, Buffer.alloc(32)),
      'CRYPTO_UNKNOWN_ALGORITHM',
    );
  });
});
