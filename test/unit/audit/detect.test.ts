import { describe, expect, it } from 'vitest';
import { createAesGcmFieldCipher, createAesSivFieldCipher, withVersionPrefix } from '../../../src/crypto/index.js';
import { classifyBytes, classifyValue, isStrictBase64 } from '../../../src/audit/detect.js';
import { parseOffsetSpec } from '../../../src/audit/topic-reader.js';

const gcm = createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, 7));
const siv = createAesSivFieldCipher(Buffer.alloc(64, 9));

describe('classifyValue', () => {
  it('takes real ciphertext as ciphertext, with and without a version prefix', () => {
    const ct = gcm.encrypt(Buffer.from('hello world'));
    expect(classifyValue(ct.toString('base64'), 'AES256_GCM', false)).toEqual({ kind: 'ciphertext', version: 1 });
    expect(classifyValue(ct, 'AES128_GCM', false)).toEqual({ kind: 'ciphertext', version: 1 });
    expect(classifyValue(withVersionPrefix(7, ct).toString('base64'), 'AES256_GCM', true)).toEqual({ kind: 'ciphertext', version: 7 });
    // Empty plaintext still has IV + tag; SIV output is at least 16 bytes.
    expect(classifyValue(gcm.encrypt(Buffer.alloc(0)).toString('base64'), 'AES256_GCM', false).kind).toBe('ciphertext');
    expect(classifyValue(siv.encrypt(Buffer.alloc(0)).toString('base64'), 'AES256_SIV', false).kind).toBe('ciphertext');
  });

  it('matches the CSFLE vectors', () => {
    expect(classifyValue('zgy/jFNMV/eFilaHrMyeBgdaVzrR0udGeotW8cA/Jal7ukr+M/yz', 'AES256_GCM', false).kind).toBe('ciphertext');
    expect(classifyValue('D6YtxrlBnkTWW9N6Vbk3IInjWH81xmYh3k4d', 'AES256_SIV', false).kind).toBe('ciphertext');
    expect(classifyValue('AAAAAAG4HI6b1nXPXqLyG8cII35NHQseqqUCd+IeLeFVAeNpSS3fxPnJ32A=', 'AES256_GCM', true)).toEqual({ kind: 'ciphertext', version: 1 });
  });

  it('takes names, e-mails, short base64 and unprefixed ciphertext as plaintext', () => {
    expect(classifyValue('Jane Doe', 'AES256_GCM', false)).toEqual({ kind: 'plaintext', reason: 'not-base64' });
    expect(classifyValue('jane@example.com', 'AES256_GCM', false)).toEqual({ kind: 'plaintext', reason: 'not-base64' });
    expect(classifyValue('JaneDoe1', 'AES256_GCM', false)).toEqual({ kind: 'plaintext', reason: 'too-short' });
    expect(classifyValue('', 'AES256_GCM', false)).toEqual({ kind: 'plaintext', reason: 'too-short' });
    const ct = gcm.encrypt(Buffer.from('hello world'));
    expect(classifyValue(ct.toString('base64'), 'AES256_GCM', true)).toEqual({ kind: 'plaintext', reason: 'no-version-prefix' });
    expect(classifyValue(Buffer.from('plain bytes'), 'AES256_SIV', false)).toEqual({ kind: 'plaintext', reason: 'too-short' });
    expect(classifyValue(42, 'AES256_GCM', false)).toEqual({ kind: 'plaintext', reason: 'not-string-or-bytes' });
    expect(classifyValue(null, 'AES256_GCM', false)).toEqual({ kind: 'null' });
    expect(classifyValue(undefined, 'AES256_GCM', true)).toEqual({ kind: 'null' });
  });

  it('reads the version prefix as an unsigned-safe int32', () => {
    const body = Buffer.alloc(28);
    expect(classifyBytes(Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body]), 'AES256_GCM', true)).toEqual({ kind: 'ciphertext', version: 1 });
    expect(classifyBytes(Buffer.concat([Buffer.from([0, 0x80, 0, 0, 0]), body]), 'AES256_GCM', true).kind).toBe('plaintext');
    expect(classifyBytes(Buffer.concat([Buffer.from([1, 0, 0, 0, 2]), body]), 'AES256_GCM', true)).toEqual({ kind: 'plaintext', reason: 'no-version-prefix' });
    expect(classifyBytes(Buffer.from([0, 0, 0, 0, 2, 1, 2]), 'AES256_GCM', true)).toEqual({ kind: 'plaintext', reason: 'too-short' });
  });

  it('checks base64 strictly', () => {
    expect(isStrictBase64('QUJD')).toBe(true);
    expect(isStrictBase64('QUI=')).toBe(true);
    expect(isStrictBase64('QQ==')).toBe(true);
    expect(isStrictBase64('QUJ')).toBe(false);
    expect(isStrictBase64('QU=D')).toBe(false);
    expect(isStrictBase64('QU_D')).toBe(false);
    expect(isStrictBase64('QUJD\n')).toBe(false);
  });
});

describe('parseOffsetSpec', () => {
  it('parses earliest, end, offsets and ISO times; rejects the rest', () => {
    expect(parseOffsetSpec('earliest')).toEqual({ kind: 'earliest' });
    expect(parseOffsetSpec('end')).toEqual({ kind: 'end' });
    expect(parseOffsetSpec('42')).toEqual({ kind: 'offset', offset: 42 });
    expect(parseOffsetSpec('2024-05-01T00:00:00Z')).toEqual({ kind: 'timestamp', ms: Date.UTC(2024, 4, 1) });
    expect(parseOffsetSpec('2024-05-01')).toEqual({ kind: 'timestamp', ms: Date.UTC(2024, 4, 1) });
    expect(parseOffsetSpec('-1')).toBeUndefined();
    expect(parseOffsetSpec('yesterday')).toBeUndefined();
    expect(parseOffsetSpec('99999999999999999999')).toBeUndefined();
  });
});
