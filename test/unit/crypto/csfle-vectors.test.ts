/**
 * CSFLE-NOTES section 7: the cross-client vectors (local-kms `mysecret`, KEK kek1, subject topic1-value,
 * schema id 1, Avro record with one string field f1 = "hello world"). These tie local-kms, the DEK proto,
 * both ciphers, the version prefix, base64 and v0 framing to what every Confluent client produces.
 */
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from '../../../src/crypto/base64.js';
import { cipherFromDekProto } from '../../../src/crypto/dek-proto.js';
import { splitVersionPrefix, withVersionPrefix } from '../../../src/crypto/version-prefix.js';
import { LocalKmsDriver } from '../../../src/kms/local-kms.js';
import type { DekAlgorithm } from '../../../src/registry/types.js';
import { decodeFrame } from '../../../src/wire/framing.js';
import { expectRecryptError, hex } from './helpers.js';

const kms = new LocalKmsDriver({ secret: 'mysecret' });
const PLAINTEXT = 'hello world';

interface Vector {
  algorithm: DekAlgorithm;
  encryptedKeyMaterial: string;
  message: string;
  field: string;
  versionPrefix: boolean;
}

const A: Vector = {
  algorithm: 'AES256_GCM',
  encryptedKeyMaterial: '07V2ndh02DA73p+dTybwZFm7DKQSZN1tEwQh+FoX1DZLk4Yj2LLu4omYjp/84tAg3BYlkfGSz+zZacJHIE4=',
  message:
    '0000000001687a67792f6a464e4d562f6546696c6148724d796542676461567a725230756447656f74573863412f4a616c37756b722b4d2f797a',
  field: 'zgy/jFNMV/eFilaHrMyeBgdaVzrR0udGeotW8cA/Jal7ukr+M/yz',
  versionPrefix: false,
};
const B: Vector = {
  algorithm: 'AES256_SIV',
  encryptedKeyMaterial:
    'YSx3DTlAHrmpoDChquJMifmPntBzxgRVdMzgYL82rgWBKn7aUSnG+WIu9ozBNS3y2vXd++mBtK07w4/W/G6w0da39X9hfOVZsGnkSvry/QRht84V8yz3dqKxGMOK5A==',
  message: '0000000001484436597478726c426e6b545757394e3656626b3349496e6a57483831786d5968336b3464',
  field: 'D6YtxrlBnkTWW9N6Vbk3IInjWH81xmYh3k4d',
  versionPrefix: false,
};
const C: Vector = {
  algorithm: 'AES256_GCM',
  encryptedKeyMaterial: 'W/v6hOQYq1idVAcs1pPWz9UUONMVZW4IrglTnG88TsWjeCjxmtRQ4VaNe/I5dCfm2zyY9Cu0nqdvqImtUk4=',
  message:
    '000000000178414141414141473448493662316e585058714c79473863494933354e4851736571715543642b49654c65465641654e705353336678506e4a3332413d',
  field: 'AAAAAAG4HI6b1nXPXqLyG8cII35NHQseqqUCd+IeLeFVAeNpSS3fxPnJ32A=',
  versionPrefix: true,
};

/** Avro `string`: zig-zag varint byte length, then UTF-8. Enough of Avro for a one-field record. */
function readAvroString(buf: Buffer): string {
  let raw = 0;
  let pos = 0;
  for (let shift = 0; ; shift += 7) {
    const b = buf[pos++]!;
    raw += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) break;
  }
  const len = raw % 2 === 0 ? raw / 2 : -(raw + 1) / 2;
  expect(pos + len).toBe(buf.length); // the record holds nothing else
  return buf.subarray(pos, pos + len).toString('utf8');
}

async function cipherOf(v: Vector) {
  const dek = await kms.unwrap('mykey', decodeBase64(v.encryptedKeyMaterial), {});
  return cipherFromDekProto(v.algorithm, dek);
}

describe.each([
  ['A (AES256_GCM)', A],
  ['B (AES256_SIV)', B],
  ['C (AES256_GCM, dek expiry: version prefix)', C],
])('vector %s', (_name, v) => {
  it('the message is v0 framing, schema id 1, an Avro string holding the base64 field', () => {
    const frame = decodeFrame(hex(v.message));
    expect(frame.schemaRef).toEqual({ id: 1 });
    expect(frame.idSource).toBe('payload');
    expect(readAvroString(frame.payload)).toBe(v.field);
  });

  it('local-kms unwraps the DEK to a Tink key proto of the right kind', async () => {
    const dek = Buffer.from(await kms.unwrap('mykey', decodeBase64(v.encryptedKeyMaterial), {}));
    expect(dek.subarray(0, 2).toString('hex')).toBe(v.algorithm === 'AES256_SIV' ? '1240' : '1a20');
  });

  it(`decrypts the field to "${PLAINTEXT}"`, async () => {
    const cipher = await cipherOf(v);
    let ciphertext = decodeBase64(v.field);
    if (v.versionPrefix) {
      const split = splitVersionPrefix(ciphertext);
      expect(split.version).toBe(1);
      ciphertext = split.ciphertext;
    }
    expect(cipher.decrypt(ciphertext).toString('utf8')).toBe(PLAINTEXT);
  });

  it('what recrypt encrypts with this DEK decrypts back', async () => {
    const cipher = await cipherOf(v);
    const ct = cipher.encrypt(Buffer.from(PLAINTEXT));
    const field = encodeBase64(v.versionPrefix ? withVersionPrefix(1, ct) : ct);
    const back = v.versionPrefix ? splitVersionPrefix(decodeBase64(field)).ciphertext : decodeBase64(field);
    expect(cipher.decrypt(back).toString('utf8')).toBe(PLAINTEXT);
  });
});

describe('vector B is reproduced exactly (deterministic encryption)', () => {
  it('encrypting "hello world" gives the published field and message bytes', async () => {
    const cipher = await cipherOf(B);
    const field = encodeBase64(cipher.encrypt(Buffer.from(PLAINTEXT, 'utf8')));
    expect(field).toBe(B.field);
    // Rebuild the whole message: v0 header for schema id 1 + Avro string of the field.
    const utf8 = Buffer.from(field, 'utf8');
    const message = Buffer.concat([hex('0000000001'), Buffer.from([utf8.length * 2]), utf8]);
    expect(message.toString('hex')).toBe(B.message);
  });
});

describe('vector C needs its prefix', () => {
  it('decrypting C without stripping the prefix fails authentication', async () => {
    const cipher = await cipherOf(C);
    expectRecryptError(() => cipher.decrypt(decodeBase64(C.field)), 'CRYPTO_DECRYPT');
  });

  it('vector A has no prefix: reading one from it is CRYPTO_BAD_CIPHERTEXT', () => {
    const raw = decodeBase64(A.field);
    expect(raw[0]).not.toBe(0); // A's ciphertext starts with its random IV, here 0xce
    expectRecryptError(() => splitVersionPrefix(raw), 'CRYPTO_BAD_CIPHERTEXT');
  });
});

describe('wrong secret', () => {
  it('unwrap with another secret is KMS_UNWRAP_FAILED', async () => {
    const other = new LocalKmsDriver({ secret: 'not-mysecret' });
    await expect(other.unwrap('mykey', decodeBase64(A.encryptedKeyMaterial), {})).rejects.toMatchObject({
      code: 'KMS_UNWRAP_FAILED',
    });
  });
});
