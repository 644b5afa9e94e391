import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { splitVersionPrefix, withVersionPrefix } from '../../../src/crypto/version-prefix.js';
import { expectRecryptError, hex } from './helpers.js';

describe('DEK version prefix', () => {
  it('writes 0x00 | int32 BE version | ciphertext', () => {
    expect(withVersionPrefix(1, hex('aabb')).toString('hex')).toBe('0000000001aabb');
    expect(withVersionPrefix(0x01020304, hex('')).toString('hex')).toBe('0001020304');
  });

  it('splits without copying', () => {
    const buf = hex('000000002a 0102');
    const { version, ciphertext } = splitVersionPrefix(buf);
    expect(version).toBe(42);
    expect(ciphertext.toString('hex')).toBe('0102');
    expect(ciphertext.buffer).toBe(buf.buffer);
  });

  it('round-trips (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 0x7fffffff }), fc.uint8Array({ maxLength: 64 }), (v, ct) => {
        const split = splitVersionPrefix(withVersionPrefix(v, ct));
        expect(split.version).toBe(v);
        expect(split.ciphertext.equals(Buffer.from(ct))).toBe(true);
      }),
    );
  });

  it('accepts a plain Uint8Array view with an offset', () => {
    const backing = new Uint8Array([9, 9, 0, 0, 0, 0, 3, 7]);
    const split = splitVersionPrefix(backing.subarray(2));
    expect(split.version).toBe(3);
    expect([...split.ciphertext]).toEqual([7]);
  });

  it.each([
    ['empty', ''],
    ['shorter than the prefix', '00000000'],
    ['wrong magic byte', '0100000001aa'],
    ['negative version', '00ffffffffaa'],
  ])('rejects %s with CRYPTO_BAD_CIPHERTEXT', (_name, input) => {
    expectRecryptError(() => splitVersionPrefix(hex(input)), 'CRYPTO_BAD_CIPHERTEXT');
  });

  it.each([0, -1, 1.5, 2 ** 31, Number.NaN])('refuses to write version %s', (v) => {
    expectRecryptError(() => withVersionPrefix(v, hex('aa')), 'INTERNAL');
  });
});
