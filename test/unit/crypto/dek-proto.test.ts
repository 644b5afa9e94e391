import { inspect } from 'node:util';
import { Cryptor, DekFormat } from '@confluentinc/schemaregistry/dist/rules/encryption/encrypt-executor.js';
import { describe, expect, it } from 'vitest';
import { cipherFromDekProto, dekKeySize, newDekMaterial } from '../../../src/crypto/dek-proto.js';
import type { DekAlgorithm } from '../../../src/registry/types.js';
import { expectRecryptError } from './helpers.js';

const ALGORITHMS: Array<[DekAlgorithm, number, number]> = [
  // algorithm, key size, proto tag byte (field << 3 | wire type 2)
  ['AES128_GCM', 16, 0x1a],
  ['AES256_GCM', 32, 0x1a],
  ['AES256_SIV', 64, 0x12],
];

const key = (len: number, fill = 0x42) => Buffer.alloc(len, fill);
const proto = (...parts: Array<number[] | Buffer>) => Buffer.concat(parts.map((p) => Buffer.from(p)));

describe.each(ALGORITHMS)('%s DEK material', (algorithm, size, tag) => {
  it('newDekMaterial writes the canonical Tink proto: tag, length, random key, version omitted', () => {
    const a = newDekMaterial(algorithm);
    const b = newDekMaterial(algorithm);
    expect(a.length).toBe(2 + size);
    expect([a[0], a[1]]).toEqual([tag, size]);
    expect(a.equals(b)).toBe(false);
    expect(dekKeySize(algorithm)).toBe(size);
  });

  it('round-trips through cipherFromDekProto', () => {
    const cipher = cipherFromDekProto(algorithm, newDekMaterial(algorithm));
    const pt = Buffer.from('hello world');
    expect(cipher.algorithm).toBe(algorithm);
    expect(cipher.decrypt(cipher.encrypt(pt)).equals(pt)).toBe(true);
  });

  it('accepts an explicit version 0, unknown fields of every wire type and any field order', () => {
    const k = key(size);
    const canonical = cipherFromDekProto(algorithm, proto([tag, size], k));
    const variants = [
      proto([0x08, 0x00], [tag, size], k),
      proto([tag, size], k, [0x08, 0x00]),
      proto([0x78, 0x96, 0x01], [tag, size], k), // field 15 varint
      proto([0x7a, 0x02, 0xaa, 0xbb], [tag, size], k, [0x7d, 1, 2, 3, 4]), // len-delimited, fixed32
      proto([0x79, 1, 2, 3, 4, 5, 6, 7, 8], [tag, size], k), // fixed64
      proto([0x78, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], [tag, size], k), // 10-byte varint
      proto([tag, size], key(size, 0x11), [tag, size], k), // repeated: last one wins, per protobuf
    ];
    const probe = Buffer.from('probe');
    for (const v of variants) {
      const c = cipherFromDekProto(algorithm, v);
      expect(canonical.decrypt(c.encrypt(probe)).equals(probe)).toBe(true);
    }
  });

  it.each([
    ['key too short', () => proto([tag, size - 1], key(size - 1))],
    ['key too long', () => proto([tag, size + 1], key(size + 1))],
    ['key missing', () => proto([0x08, 0x00])],
    ['empty proto', () => Buffer.alloc(0)],
    ['non-zero version', () => proto([0x08, 0x01], [tag, size], key(size))],
    ['length past the end', () => proto([tag, size + 5], key(size))],
    ['truncated varint', () => proto([tag, size], key(size), [0x78, 0x80])],
    ['key_value with varint wire type', () => proto([tag & ~0x07], [0x01])],
    ['version with len wire type', () => proto([0x0a, 0x00], [tag, size], key(size))],
    ['group wire type', () => proto([0x7b], [tag, size], key(size))],
    ['field number 0', () => proto([0x02, 0x00], [tag, size], key(size))],
  ])('rejects %s with CRYPTO_BAD_KEY', (_name, make) => {
    expectRecryptError(() => cipherFromDekProto(algorithm, make()), 'CRYPTO_BAD_KEY');
  });

  it('does not expose key bytes', () => {
    const k = key(size, 0x5a);
    const cipher = cipherFromDekProto(algorithm, proto([tag, size], k));
    const views = [JSON.stringify(cipher), inspect(cipher, { showHidden: true, depth: 10 }), Object.keys(cipher).join(',')];
    for (const view of views) expect(view).not.toContain(k.subarray(0, 16).toString('hex'));
  });
});

describe('algorithm and proto mismatches', () => {
  it('a SIV proto is not a GCM key and vice versa', () => {
    expectRecryptError(() => cipherFromDekProto('AES256_GCM', newDekMaterial('AES256_SIV')), 'CRYPTO_BAD_KEY');
    expectRecryptError(() => cipherFromDekProto('AES256_SIV', newDekMaterial('AES256_GCM')), 'CRYPTO_BAD_KEY');
    expectRecryptError(() => cipherFromDekProto('AES128_GCM', newDekMaterial('AES256_GCM')), 'CRYPTO_BAD_KEY');
  });

  it('an unknown algorithm is CRYPTO_UNKNOWN_ALGORITHM', () => {
    for (const bad of ['AES256_CBC', 'toString', '__proto__', '']) {
      expectRecryptError(() => newDekMaterial(bad as DekAlgorithm), 'CRYPTO_UNKNOWN_ALGORITHM');
      expectRecryptError(() => cipherFromDekProto(bad as DekAlgorithm, Buffer.alloc(34)), 'CRYPTO_UNKNOWN_ALGORITHM');
    }
  });
});

// The official Confluent JS client (devDependency) as oracle: same DEK proto bytes, both directions.
describe.each(ALGORITHMS)('%s interop with @confluentinc/schemaregistry', (algorithm) => {
  const oracle = new Cryptor(DekFormat[algorithm]);
  const plaintexts = ['', 'hello world', 'x'.repeat(15), 'y'.repeat(16), 'z'.repeat(17), 'ü'.repeat(100)].map((s) =>
    Buffer.from(s, 'utf8'),
  );

  it('what recrypt encrypts, the client decrypts', async () => {
    const dek = newDekMaterial(algorithm);
    const cipher = cipherFromDekProto(algorithm, dek);
    for (const pt of plaintexts) {
      expect((await oracle.decrypt(dek, cipher.encrypt(pt))).equals(pt)).toBe(true);
    }
  });

  it('what the client encrypts (with a key it generated), recrypt decrypts', async () => {
    const dek = oracle.generateKey();
    const cipher = cipherFromDekProto(algorithm, dek);
    for (const pt of plaintexts) {
      const ct = await oracle.encrypt(dek, pt);
      expect(cipher.decrypt(ct).equals(pt)).toBe(true);
      if (algorithm === 'AES256_SIV') expect(cipher.encrypt(pt).equals(ct)).toBe(true);
    }
  });
});
