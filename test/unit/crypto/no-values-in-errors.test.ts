/**
 * Errors end up in logs, metrics labels and DLQ headers, so no failure path may echo record bytes.
 * A canary plaintext is pushed through every failure we can provoke; its text, hex and base64 forms
 * must not show up in the message, the rendering, the cause or the JSON of the error.
 */
import { describe, expect, it } from 'vitest';
import { createAesGcmFieldCipher } from '../../../src/crypto/aes-gcm.js';
import { createAesSivFieldCipher } from '../../../src/crypto/aes-siv.js';
import { decodeBase64 } from '../../../src/crypto/base64.js';
import { cipherFromDekProto } from '../../../src/crypto/dek-proto.js';
import { splitVersionPrefix } from '../../../src/crypto/version-prefix.js';
import { isRecryptError } from '../../../src/util/errors.js';
import { decodeFrame } from '../../../src/wire/framing.js';
import { parseGuid } from '../../../src/wire/guid.js';
import { readMessageIndexes } from '../../../src/wire/message-indexes.js';
import { flipBit } from './helpers.js';

const CANARY = 'CANARY-4111111111111111-secret-ssn';
const canary = Buffer.from(CANARY, 'utf8');
const forms = [CANARY, canary.toString('hex'), canary.toString('base64'), canary.subarray(0, 12).toString('hex')];

function caught(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    expect(isRecryptError(err)).toBe(true);
    return err as Error;
  }
  throw new Error('expected a failure');
}

function renderings(err: Error): string {
  return [err.message, String(err), String(err.cause ?? ''), JSON.stringify(err), JSON.stringify(err.cause ?? null)].join('\n');
}

describe('errors never carry the plaintext canary', () => {
  const gcm = createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, 1));
  const siv = createAesSivFieldCipher(Buffer.alloc(64, 2));
  const gcmCt = gcm.encrypt(canary);
  const sivCt = siv.encrypt(canary);

  const failures: Array<[string, () => unknown]> = [
    ['GCM tampered', () => gcm.decrypt(flipBit(gcmCt, 20))],
    ['GCM wrong key', () => createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, 9)).decrypt(gcmCt)],
    ['GCM plaintext given as ciphertext', () => gcm.decrypt(canary)],
    ['SIV tampered', () => siv.decrypt(flipBit(sivCt, 30))],
    ['SIV plaintext given as ciphertext', () => siv.decrypt(canary)],
    ['SIV too short', () => siv.decrypt(canary.subarray(0, 10))],
    ['base64 of a plaintext string', () => decodeBase64(CANARY)],
    ['base64 with padding junk', () => decodeBase64(`${canary.toString('base64')}==`)],
    ['version prefix on plaintext', () => splitVersionPrefix(canary)],
    ['DEK proto made of plaintext', () => cipherFromDekProto('AES256_GCM', canary)],
    ['DEK proto with the canary as key', () => cipherFromDekProto('AES256_SIV', Buffer.concat([Buffer.from([0x12, canary.length]), canary]))],
    ['wire: plaintext payload', () => decodeFrame(canary)],
    ['wire: plaintext header', () => decodeFrame(canary, { header: canary })],
    ['wire: plaintext as indexes', () => readMessageIndexes(canary)],
    ['wire: plaintext as GUID', () => parseGuid(CANARY)],
  ];

  it.each(failures)('%s', (_name, fn) => {
    const text = renderings(caught(fn));
    for (const form of forms) expect(text).not.toContain(form);
  });
});
