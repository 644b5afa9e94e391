// AesCmac and AesSiv keep persistent CBC / ECB streams between messages. These properties compare them,
// message after message on the SAME instance, with a straightforward reference built the textbook way:
// a fresh zero-IV aes-*-cbc per CMAC (RFC 4493) and a fresh aes-*-ctr per SIV message (RFC 5297).
// Any chaining value left over from a previous message would show up as a mismatch.
import { createCipheriv } from 'node:crypto';
import { inspect } from 'node:util';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AesCmac } from '../../../src/crypto/aes-cmac.js';
import { AesSiv, createAesSivFieldCipher, SIV_ECB_CTR_MAX, sivCounterBlocks } from '../../../src/crypto/aes-siv.js';
import { expectRecryptError, hex } from './helpers.js';

// ---------- reference implementation (independent of src/crypto: node ciphers and plain loops) ----------

function refDbl(b: Buffer): Buffer {
  const out = Buffer.alloc(16);
  for (let i = 0; i < 15; i++) out[i] = ((b[i]! << 1) | (b[i + 1]! >>> 7)) & 0xff;
  out[15] = ((b[15]! << 1) & 0xff) ^ (b[0]! & 0x80 ? 0x87 : 0);
  return out;
}

function refXor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.from(a);
  for (let i = 0; i < b.length; i++) out[i]! ^= b[i]!;
  return out;
}

function aesBlock(key: Buffer, block: Buffer): Buffer {
  const c = createCipheriv(`aes-${key.length * 8}-ecb`, key, null);
  c.setAutoPadding(false);
  return Buffer.concat([c.update(block), c.final()]);
}

function refCmac(key: Buffer, msg: Buffer): Buffer {
  const k1 = refDbl(aesBlock(key, Buffer.alloc(16)));
  const k2 = refDbl(k1);
  const n = Math.max(1, Math.ceil(msg.length / 16));
  const complete = msg.length > 0 && msg.length % 16 === 0;
  const padded = Buffer.alloc(n * 16);
  msg.copy(padded);
  if (!complete) padded[msg.length] = 0x80;
  const last = refXor(padded.subarray((n - 1) * 16), complete ? k1 : k2);
  last.copy(padded, (n - 1) * 16);
  const cbc = createCipheriv(`aes-${key.length * 8}-cbc`, key, Buffer.alloc(16));
  cbc.setAutoPadding(false);
  const out = Buffer.concat([cbc.update(padded), cbc.final()]);
  return out.subarray(out.length - 16);
}

function refS2v(k1: Buffer, ad: Buffer[], p: Buffer): Buffer {
  let d = refCmac(k1, Buffer.alloc(16));
  for (const a of ad) d = refXor(refDbl(d), refCmac(k1, a));
  if (p.length >= 16) {
    const t = Buffer.from(p);
    refXor(t.subarray(t.length - 16), d).copy(t, t.length - 16);
    return refCmac(k1, t);
  }
  const padded = Buffer.alloc(16);
  p.copy(padded);
  padded[p.length] = 0x80;
  return refCmac(k1, refXor(refDbl(d), padded));
}

function refCtr(k2: Buffer, v: Buffer, input: Buffer): Buffer {
  const q = Buffer.from(v);
  q[8]! &= 0x7f;
  q[12]! &= 0x7f;
  const c = createCipheriv(`aes-${k2.length * 8}-ctr`, k2, q);
  return Buffer.concat([c.update(input), c.final()]);
}

function refSivEncrypt(key: Buffer, ad: Buffer[], p: Buffer): Buffer {
  const half = key.length / 2;
  const v = refS2v(key.subarray(0, half), ad, p);
  return Buffer.concat([v, refCtr(key.subarray(half), v, p)]);
}

// ---------- sanity: the reference itself reproduces the RFC vectors ----------

describe('the reference implementation', () => {
  it('gives RFC 4493 CMAC and RFC 5297 A.1', () => {
    const m = hex('6bc1bee2 2e409f96 e93d7e11 7393172a ae2d8a57 1e03ac9c 9eb76fac 45af8e51 30c81c46 a35ce411');
    expect(refCmac(hex('2b7e1516 28aed2a6 abf71588 09cf4f3c'), m).toString('hex')).toBe('dfa66747de9ae63030ca32611497c827');
    const key = hex('fffefdfc fbfaf9f8 f7f6f5f4 f3f2f1f0 f0f1f2f3 f4f5f6f7 f8f9fafb fcfdfeff');
    const ad = [hex('10111213 14151617 18191a1b 1c1d1e1f 20212223 24252627')];
    expect(refSivEncrypt(key, ad, hex('11223344 55667788 99aabbcc ddee')).toString('hex')).toBe(
      '85632d07c6e8f37f950acd320a2ecc9340c02b9690c4dc04daef7f6afe5c',
    );
  });
});

// ---------- properties ----------

const aesKey = fc.constantFrom(16, 24, 32).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
const sivKey = fc.constantFrom(32, 48, 64).chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));
/** Lengths biased to the edges that matter: empty, block boundaries, the ECB/CTR switch. */
const length = fc.oneof(
  fc.integer({ min: 0, max: 80 }),
  fc.constantFrom(15, 16, 17, 31, 32, 33, SIV_ECB_CTR_MAX - 1, SIV_ECB_CTR_MAX, SIV_ECB_CTR_MAX + 1),
  fc.integer({ min: 0, max: 1500 }),
);
const bytes = length.chain((n) => fc.uint8Array({ minLength: n, maxLength: n }));

describe('AesCmac keeps one CBC stream yet equals a fresh zero-IV CBC per message', () => {
  it('a sequence of messages on one instance (property)', () => {
    fc.assert(
      fc.property(aesKey, fc.array(bytes, { minLength: 1, maxLength: 12 }), (key, messages) => {
        const k = Buffer.from(key);
        const cmac = new AesCmac(k);
        for (const m of messages) {
          const msg = Buffer.from(m);
          const copy = Buffer.from(msg);
          expect(cmac.mac(msg).toString('hex')).toBe(refCmac(k, msg).toString('hex'));
          expect(msg.equals(copy)).toBe(true); // the message is never modified
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the returned tag is the caller\'s: mutating it does not change later tags', () => {
    const key = Buffer.alloc(16, 9);
    const cmac = new AesCmac(key);
    for (const len of [0, 16, 5, 32, 40]) {
      const msg = Buffer.alloc(len, len);
      const tag = cmac.mac(msg);
      tag.fill(0xff);
      expect(cmac.mac(msg).equals(refCmac(key, msg))).toBe(true);
    }
  });

  it('two instances on the same key do not disturb each other', () => {
    const key = Buffer.alloc(32, 3);
    const a = new AesCmac(key);
    const b = new AesCmac(key);
    for (let i = 0; i < 50; i++) {
      const msg = Buffer.alloc(i, i);
      expect((i % 3 === 0 ? a : b).mac(msg).equals(refCmac(key, msg))).toBe(true);
    }
  });
});

describe('AesSiv keeps persistent streams yet equals RFC 5297 built from fresh ciphers', () => {
  const ads = fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 4 });

  it('encrypt and decrypt, interleaved on one instance, including forged input (property)', () => {
    fc.assert(
      fc.property(
        sivKey,
        fc.array(fc.tuple(ads, bytes, fc.boolean()), { minLength: 1, maxLength: 8 }),
        (key, ops) => {
          const k = Buffer.from(key);
          const siv = new AesSiv(k);
          for (const [adRaw, ptRaw, forge] of ops) {
            const ad = adRaw.map((a) => Buffer.from(a));
            const pt = Buffer.from(ptRaw);
            const expected = refSivEncrypt(k, ad, pt);
            const ct = siv.encrypt(pt, ad);
            expect(ct.toString('hex')).toBe(expected.toString('hex'));
            if (forge) {
              const bad = Buffer.from(ct);
              bad[bad.length - 1]! ^= 1;
              expectRecryptError(() => siv.decrypt(bad, ad), 'CRYPTO_DECRYPT');
            }
            expect(siv.decrypt(ct, ad).equals(pt)).toBe(true);
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the CSFLE field cipher (64-byte key, one empty AD) over many messages (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.array(bytes, { minLength: 1, maxLength: 10 }), (key, pts) => {
        const k = Buffer.from(key);
        const cipher = createAesSivFieldCipher(k);
        for (const p of pts) {
          const pt = Buffer.from(p);
          const ct = cipher.encrypt(pt);
          expect(ct.equals(refSivEncrypt(k, [Buffer.alloc(0)], pt))).toBe(true);
          expect(cipher.decrypt(ct).equals(pt)).toBe(true);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('decrypting a ciphertext from a plaintext of every length 0..600 on one instance', () => {
    const key = Buffer.alloc(64, 0x5c);
    const siv = new AesSiv(key);
    for (let n = 0; n <= 600; n++) {
      const pt = Buffer.alloc(n, n & 0xff);
      const ct = refSivEncrypt(key, [], pt);
      expect(siv.decrypt(ct).equals(pt)).toBe(true);
      expect(siv.encrypt(pt).equals(ct)).toBe(true);
    }
  });
});

describe('sivCounterBlocks (the ECB path\'s counters) equals a 128-bit counter increment', () => {
  function refCounters(v: Buffer, blocks: number): Buffer {
    const q = Buffer.from(v);
    q[8]! &= 0x7f;
    q[12]! &= 0x7f;
    let x = BigInt(`0x${q.toString('hex')}`);
    const out: Buffer[] = [];
    for (let i = 0; i < blocks; i++) {
      out.push(Buffer.from(x.toString(16).padStart(32, '0'), 'hex'));
      x = (x + 1n) % (1n << 128n);
    }
    return Buffer.concat(out);
  }

  it.each([
    ['all ones', 'ff'.repeat(16)],
    ['low word 7fffffff after clearing', '00112233445566778899aabbffffffff'],
    ['low word just below the top', '0'.repeat(24) + '7fffffe0'],
    ['all zeros', '00'.repeat(16)],
  ])('%s', (_name, vHex) => {
    const v = Buffer.from(vHex, 'hex');
    for (const blocks of [0, 1, 2, 33, 100]) {
      expect(sivCounterBlocks(v, blocks).toString('hex')).toBe(refCounters(v, blocks).toString('hex'));
    }
  });

  it('random V (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 0, max: 40 }), (v, blocks) => {
        expect(sivCounterBlocks(v, blocks).equals(refCounters(Buffer.from(v), blocks))).toBe(true);
      }),
    );
  });

  it('does not modify V', () => {
    const v = Buffer.alloc(16, 0xff);
    sivCounterBlocks(v, 3);
    expect(v.equals(Buffer.alloc(16, 0xff))).toBe(true);
  });

  it('refuses a short V or a bad block count (INTERNAL)', () => {
    expectRecryptError(() => sivCounterBlocks(Buffer.alloc(15), 1), 'INTERNAL');
    expectRecryptError(() => sivCounterBlocks(Buffer.alloc(16), -1), 'INTERNAL');
    expectRecryptError(() => sivCounterBlocks(Buffer.alloc(16), 1.5), 'INTERNAL');
  });
});

describe('the persistent streams stay private', () => {
  it('inspect, JSON and enumeration of AesCmac / AesSiv show neither key bytes nor a Cipher object', () => {
    const key = Buffer.from('000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'hex');
    for (const obj of [new AesCmac(key), new AesSiv(key)]) {
      if (obj instanceof AesCmac) obj.mac(Buffer.alloc(3));
      else obj.encrypt(Buffer.alloc(3));
      const shown = `${inspect(obj, { showHidden: true, depth: 5 })} ${JSON.stringify(obj)} ${Object.keys(obj).join()}`;
      expect(shown).not.toMatch(/Cipher|Cipheriv|KeyObject|0001020304|<Buffer/);
    }
  });
});
