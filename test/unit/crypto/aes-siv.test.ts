import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AesSiv, createAesSivFieldCipher, MAX_ASSOCIATED_DATA } from '../../../src/crypto/aes-siv.js';
import { expectRecryptError, flipBit, hex } from './helpers.js';

// RFC 5297 appendix A.1: deterministic authenticated encryption (AES-SIV-CMAC-256, one AD component).
const A1 = {
  key: hex('fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff'),
  ad: [hex('10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627')],
  plaintext: hex('11223344 55667788 99aabbcc ddee'),
  output: hex('85632d07 c6e8f37f 950acd32 0a2ecc93 40c02b96 90c4dc04 daef7f6a fe5c'),
};

// RFC 5297 appendix A.2: nonce-based, several AD components (AD1, AD2, nonce), 47-byte plaintext.
const A2 = {
  key: hex('7f7e7d7c 7b7a7978 77767574 73727170 40414243 44454647 48494a4b 4c4d4e4f'),
  ad: [
    hex(`00112233 44556677 8899aabb ccddeeff deaddada deaddada ffeeddcc bbaa9988 77665544 33221100`),
    hex('10203040 50607080 90a0'),
    hex('09f91102 9d74e35b d84156c5 635688c0'),
  ],
  plaintext: hex(`74686973 20697320 736f6d65 20706c61 696e7465 78742074 6f20656e 63727970
                  74207573 696e6720 5349562d 414553`),
  output: hex(`7bdb6e3b 432667eb 06f4d14b ff2fbd0f cb900f2f ddbe4043 26601965 c889bf17
               dba77ceb 094fa663 b7a3f748 ba8af829 ea64ad54 4a272e9c 485b62a3 fd5c0d`),
};

// AES-SIV-CMAC-512 (two AES-256 keys, the CSFLE key size): the NIST-style vectors the miscreant
// project publishes alongside the RFC ones, same AD/plaintext as A.1 and A.2 with 64-byte keys.
const SIV512 = [
  {
    key: hex(`fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 6f6e6d6c 6b6a6968 67666564 63626160
              f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff 00010203 04050607 08090a0b 0c0d0e0f`),
    ad: A1.ad,
    plaintext: A1.plaintext,
    output: hex('f125274c 598065cf c26b0e71 57502908 8b035217 e380cac8 919ee800 c126'),
  },
  {
    key: hex(`7f7e7d7c 7b7a7978 77767574 73727170 6f6e6d6c 6b6a6968 67666564 63626160
              40414243 44454647 48494a4b 4c4d4e4f 50515253 54555657 58595a5b 5b5d5e5f`),
    ad: A2.ad,
    plaintext: A2.plaintext,
    output: hex(`85b81673 10038db7 dc4692c0 281ca358 68181b27 62f3c24f 2efa5fb8 0cb14351
                 6ce6c434 b898a6fd 8eb98a41 8842f51f 66fc67de 43ac185a 66dd7247 5bbb08`),
  },
];

describe('AesSiv against RFC 5297 appendix A', () => {
  it.each([
    ['A.1 deterministic', A1],
    ['A.2 nonce-based, 3 AD components', A2],
    ['512-bit key #1', SIV512[0]!],
    ['512-bit key #2', SIV512[1]!],
  ])('%s: encrypts to the published output and decrypts back', (_name, v) => {
    const siv = new AesSiv(v.key);
    expect(siv.encrypt(v.plaintext, v.ad).toString('hex')).toBe(v.output.toString('hex'));
    expect(siv.decrypt(v.output, v.ad).toString('hex')).toBe(v.plaintext.toString('hex'));
  });

  it('no AD and empty plaintext (S2V over the plaintext only)', () => {
    const siv = new AesSiv(A1.key);
    expect(siv.encrypt(Buffer.alloc(0)).toString('hex')).toBe('f2007a5beb2b8900c588a7adf599f172');
    expect(siv.encrypt(hex('00112233445566778899aabbccddeeff')).toString('hex')).toBe(
      'f304f912863e303d5b540e5057c7010c942ffaf45b0e5ca5fb9a56a5263bb065',
    );
  });

  it('bind() gives the same bytes as encrypt() with the same AD', () => {
    const siv = new AesSiv(A2.key);
    const bound = siv.bind(A2.ad);
    expect(bound.encrypt(A2.plaintext).equals(A2.output)).toBe(true);
    expect(bound.decrypt(A2.output).equals(A2.plaintext)).toBe(true);
  });
});

describe('AesSiv failure modes', () => {
  const siv = new AesSiv(A2.key);

  it('detects a flipped bit anywhere (SIV or ciphertext)', () => {
    for (let i = 0; i < A2.output.length; i++) {
      expectRecryptError(() => siv.decrypt(flipBit(A2.output, i, i % 8), A2.ad), 'CRYPTO_DECRYPT');
    }
  });

  it('detects different associated data, order and count of components', () => {
    expectRecryptError(() => siv.decrypt(A2.output, [A2.ad[1]!, A2.ad[0]!, A2.ad[2]!]), 'CRYPTO_DECRYPT');
    expectRecryptError(() => siv.decrypt(A2.output, A2.ad.slice(0, 2)), 'CRYPTO_DECRYPT');
    expectRecryptError(() => siv.decrypt(A2.output, []), 'CRYPTO_DECRYPT');
  });

  it('rejects input shorter than the SIV with CRYPTO_BAD_CIPHERTEXT; exactly 16 bytes is an empty plaintext', () => {
    expectRecryptError(() => siv.decrypt(Buffer.alloc(15)), 'CRYPTO_BAD_CIPHERTEXT');
    expectRecryptError(() => siv.decrypt(Buffer.alloc(0)), 'CRYPTO_BAD_CIPHERTEXT');
    expect(siv.decrypt(siv.encrypt(Buffer.alloc(0))).length).toBe(0);
  });

  it.each([0, 16, 31, 33, 63, 65])('rejects a %i-byte key with CRYPTO_BAD_KEY', (len) => {
    expectRecryptError(() => new AesSiv(Buffer.alloc(len)), 'CRYPTO_BAD_KEY');
  });

  it(`refuses more than ${MAX_ASSOCIATED_DATA} AD components`, () => {
    const ad = Array.from({ length: MAX_ASSOCIATED_DATA + 1 }, () => Buffer.alloc(1));
    expectRecryptError(() => siv.encrypt(Buffer.alloc(1), ad), 'INTERNAL');
    expect(siv.encrypt(Buffer.alloc(1), ad.slice(1)).length).toBe(17);
  });
});

describe('createAesSivFieldCipher (CSFLE AES256_SIV)', () => {
  const key = SIV512[1]!.key;
  const cipher = createAesSivFieldCipher(key);

  it('is AES-SIV with exactly one associated data component, the empty string', () => {
    const pt = Buffer.from('hello world');
    const expected = new AesSiv(key).encrypt(pt, [Buffer.alloc(0)]);
    expect(cipher.encrypt(pt).equals(expected)).toBe(true);
    // Not the same as no AD at all: the easiest interop mistake to make.
    expect(cipher.encrypt(pt).equals(new AesSiv(key).encrypt(pt, []))).toBe(false);
    expect(cipher.algorithm).toBe('AES256_SIV');
  });

  it('requires a 64-byte key', () => {
    expectRecryptError(() => createAesSivFieldCipher(A1.key), 'CRYPTO_BAD_KEY');
  });

  it('is deterministic and round-trips (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.uint8Array({ maxLength: 300 }), (k, pt) => {
        const c = createAesSivFieldCipher(k);
        const ct1 = c.encrypt(pt);
        const ct2 = createAesSivFieldCipher(k).encrypt(pt);
        expect(ct1.equals(ct2)).toBe(true);
        expect(ct1.length).toBe(pt.length + 16);
        expect(c.decrypt(ct1).equals(Buffer.from(pt))).toBe(true);
      }),
      { numRuns: 200 },
    );
  });

  it('maps distinct plaintexts to distinct ciphertexts (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.uint8Array({ maxLength: 64 }), (a, b) => {
        fc.pre(!Buffer.from(a).equals(Buffer.from(b)));
        expect(cipher.encrypt(a).equals(cipher.encrypt(b))).toBe(false);
      }),
    );
  });

  it('round-trips with the generic AesSiv for every plaintext length around block boundaries', () => {
    const siv = new AesSiv(key);
    for (let len = 0; len <= 50; len++) {
      const pt = Buffer.alloc(len, len);
      const ct = cipher.encrypt(pt);
      expect(siv.decrypt(ct, [Buffer.alloc(0)]).equals(pt)).toBe(true);
    }
  });

  it('does not expose key bytes through enumeration, JSON or inspect', () => {
    const keyHexes = [key.toString('hex'), key.subarray(0, 32).toString('hex'), key.subarray(32).toString('hex')];
    const views = [JSON.stringify(cipher), inspect(cipher, { showHidden: true, depth: 10 }), Object.keys(cipher).join(',')];
    for (const view of views) for (const k of keyHexes) expect(view).not.toContain(k);
    expect(Object.isFrozen(cipher)).toBe(true);
  });
});
