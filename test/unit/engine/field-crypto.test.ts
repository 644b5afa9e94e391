import { createDecipheriv, hkdfSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { cipherFromDekProto, type FieldCipher } from '../../../src/crypto/index.js';
import { decryptField, encryptField } from '../../../src/engine/field-crypto.js';
import type { FieldInfo } from '../../../src/formats/index.js';
import type { DekAlgorithm } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';

const stringField: FieldInfo = { name: 'f1', fullName: 'F1Schema.f1', inlineTags: ['PII'], kind: 'string' };
const bytesField: FieldInfo = { name: 'b', fullName: 'R.b', inlineTags: ['PII'], kind: 'bytes' };
const intField: FieldInfo = { name: 'age', fullName: 'R.age', inlineTags: ['PII'], kind: 'other' };

/** What a caller's cipherFor throws for an uncached DEK version: decryptField passes it on. */
class DekMiss {
  constructor(readonly version: number) {}
}

/** local-kms unwrap (CSFLE-NOTES section 3), done here with node's crypto alone. */
function unwrapLocal(encryptedKeyMaterial: string, secret = 'mysecret'): Buffer {
  const kek = Buffer.from(hkdfSync('sha256', Buffer.from(secret, 'utf8'), Buffer.alloc(0), Buffer.alloc(0), 16));
  const wrapped = Buffer.from(encryptedKeyMaterial, 'base64');
  const decipher = createDecipheriv('aes-128-gcm', kek, wrapped.subarray(0, 12));
  decipher.setAuthTag(wrapped.subarray(wrapped.length - 16));
  return Buffer.concat([decipher.update(wrapped.subarray(12, wrapped.length - 16)), decipher.final()]);
}

function vectorCipher(algorithm: DekAlgorithm, ekm: string): FieldCipher {
  return cipherFromDekProto(algorithm, unwrapLocal(ekm));
}

const A = vectorCipher('AES256_GCM', '07V2ndh02DA73p+dTybwZFm7DKQSZN1tEwQh+FoX1DZLk4Yj2LLu4omYjp/84tAg3BYlkfGSz+zZacJHIE4=');
const B = vectorCipher('AES256_SIV', 'YSx3DTlAHrmpoDChquJMifmPntBzxgRVdMzgYL82rgWBKn7aUSnG+WIu9ozBNS3y2vXd++mBtK07w4/W/G6w0da39X9hfOVZsGnkSvry/QRht84V8yz3dqKxGMOK5A==');
const C = vectorCipher('AES256_GCM', 'W/v6hOQYq1idVAcs1pPWz9UUONMVZW4IrglTnG88TsWjeCjxmtRQ4VaNe/I5dCfm2zyY9Cu0nqdvqImtUk4=');

/** A cipherFor that serves one version and signals a miss for any other. */
function only(version: number, cipher: FieldCipher): (v: number) => FieldCipher {
  return (v) => {
    if (v !== version) throw new DekMiss(v);
    return cipher;
  };
}

function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

describe('CSFLE-NOTES section 7 field vectors', () => {
  it('A: decrypts the AES256_GCM field', () => {
    expect(decryptField('zgy/jFNMV/eFilaHrMyeBgdaVzrR0udGeotW8cA/Jal7ukr+M/yz', stringField, false, only(1, A))).toBe('hello world');
  });

  it('B: AES256_SIV encryption reproduces the field; it decrypts back', () => {
    const field = 'D6YtxrlBnkTWW9N6Vbk3IInjWH81xmYh3k4d';
    expect(encryptField('hello world', stringField, B, undefined)).toBe(field);
    expect(decryptField(field, stringField, false, only(1, B))).toBe('hello world');
  });

  it('C: reads the version prefix (version 1) before decrypting', () => {
    const field = 'AAAAAAG4HI6b1nXPXqLyG8cII35NHQseqqUCd+IeLeFVAeNpSS3fxPnJ32A=';
    expect(decryptField(field, stringField, true, only(1, C))).toBe('hello world');
  });
});

describe('encryptField', () => {
  it('string: base64 of IV|ct|tag; bytes: raw ciphertext; both decrypt back', () => {
    const s = encryptField('héllo wörld', stringField, A, undefined) as string;
    expect(s).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(s, 'base64').length).toBe(Buffer.byteLength('héllo wörld') + 28);
    expect(decryptField(s, stringField, false, only(1, A))).toBe('héllo wörld');

    const raw = Buffer.from([0, 1, 2, 255]);
    const b = encryptField(raw, bytesField, A, undefined) as Uint8Array;
    expect(b).toBeInstanceOf(Uint8Array);
    expect(b.length).toBe(4 + 28);
    expect(Buffer.from(decryptField(b, bytesField, false, only(1, A)) as Uint8Array)).toEqual(raw);
  });

  it('with a version: 0x00 | int32 BE version before the ciphertext', () => {
    const s = encryptField('x', stringField, A, 7) as string;
    const ct = Buffer.from(s, 'base64');
    expect([...ct.subarray(0, 5)]).toEqual([0, 0, 0, 0, 7]);
    expect(decryptField(s, stringField, true, only(7, A))).toBe('x');
    const b = encryptField(new Uint8Array([9]), bytesField, A, 0x01020304) as Uint8Array;
    expect([...b.subarray(0, 5)]).toEqual([0, 1, 2, 3, 4]);
  });

  it('the empty string and empty bytes are encrypted too', () => {
    const s = encryptField('', stringField, A, undefined) as string;
    expect(Buffer.from(s, 'base64').length).toBe(28);
    expect(decryptField(s, stringField, false, only(1, A))).toBe('');
    expect(encryptField('', stringField, B, undefined)).toBe(encryptField('', stringField, B, undefined));
  });

  it('null and undefined pass through', () => {
    expect(encryptField(null, stringField, A, undefined)).toBeNull();
    expect(encryptField(undefined, stringField, A, 3)).toBeUndefined();
  });

  it('other types are RULE_UNSUPPORTED_FIELD_TYPE naming the field, never the value', () => {
    for (const value of [41, 12.5, true, { nested: 'CANARY-v' }, ['CANARY-v'], 10n]) {
      const err = thrown(() => encryptField(value, intField, A, undefined));
      expect(err).toBeInstanceOf(RecryptError);
      expect((err as RecryptError).code).toBe('RULE_UNSUPPORTED_FIELD_TYPE');
      expect((err as RecryptError).message).toContain('R.age');
      expect((err as RecryptError).message).not.toContain('CANARY');
      expect((err as RecryptError).message).not.toContain('41');
    }
  });
});

describe('decryptField', () => {
  it('non-string, non-bytes values pass unchanged (as the clients do on read)', () => {
    for (const value of [41, true, { a: 1 }, null, undefined]) {
      expect(decryptField(value, intField, false, () => { throw new Error('no cipher needed'); })).toBe(value);
    }
  });

  it('without expiry the DEK version is 1; with expiry the prefix picks it (DekMiss for an uncached one)', () => {
    const versions: number[] = [];
    const s = encryptField('v', stringField, A, undefined) as string;
    decryptField(s, stringField, false, (v) => { versions.push(v); return A; });
    const p = encryptField('v', stringField, A, 99) as string;
    const miss = thrown(() => decryptField(p, stringField, true, only(1, A)));
    expect(miss).toBeInstanceOf(DekMiss);
    expect((miss as DekMiss).version).toBe(99);
    decryptField(p, stringField, true, (v) => { versions.push(v); return A; });
    expect(versions).toEqual([1, 99]);
  });

  it('bad input: non-base64, short, missing prefix, tampered, wrong key -> stable codes, no value in messages', () => {
    const cases: [unknown, boolean, FieldCipher, string][] = [
      ['CANARY not base64!', false, A, 'CRYPTO_BAD_CIPHERTEXT'],
      ['CANARY==', false, A, 'CRYPTO_BAD_CIPHERTEXT'],
      [Buffer.from('CANARY').toString('base64'), false, A, 'CRYPTO_BAD_CIPHERTEXT'], // shorter than IV + tag
      [encryptField('CANARY', stringField, A, undefined), true, A, 'CRYPTO_BAD_CIPHERTEXT'], // no version prefix
      [encryptField('CANARY-secret', stringField, B, undefined), false, A, 'CRYPTO_DECRYPT'], // other key
      [encryptField('CANARY-secret', stringField, A, undefined), false, C, 'CRYPTO_DECRYPT'],
    ];
    const tampered = Buffer.from(encryptField('CANARY-secret', stringField, B, undefined) as string, 'base64');
    tampered[tampered.length - 1]! ^= 1;
    cases.push([tampered.toString('base64'), false, B, 'CRYPTO_DECRYPT']);
    const tamperedBytes = Buffer.from(encryptField(Buffer.from('CANARY-secret'), bytesField, A, undefined) as Uint8Array);
    tamperedBytes[0]! ^= 1;
    cases.push([tamperedBytes, false, A, 'CRYPTO_DECRYPT']);
    for (const [value, versioned, cipher, code] of cases) {
      const field = typeof value === 'string' ? stringField : bytesField;
      const err = thrown(() => decryptField(value, field, versioned, () => cipher));
      expect(err, String(code)).toBeInstanceOf(RecryptError);
      expect((err as RecryptError).code).toBe(code);
      expect(`${(err as RecryptError).message} ${String((err as RecryptError).cause ?? '')}`).not.toContain('CANARY');
    }
  });

  it('a version prefix of 0 is read as version 0 and handed to cipherFor (the DEK manager maps it to 1)', () => {
    const ct = Buffer.from(encryptField('v', stringField, A, undefined) as string, 'base64');
    const withZero = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), ct]).toString('base64');
    const seen: number[] = [];
    expect(decryptField(withZero, stringField, true, (v) => { seen.push(v); return A; })).toBe('v');
    expect(seen).toEqual([0]);
  });
});
