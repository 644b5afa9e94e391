import { describe, expect, it } from 'vitest';
import { RecryptError } from '../../../src/util/errors.js';
import { canaryDek, expectNoLeak } from './leak-check.js';

describe('leak-check (the canary itself)', () => {
  it('finds a DEK in hex, base64, base64url or raw, in the message or the cause chain', () => {
    const dek = canaryDek();
    const forms = [dek.toString('hex'), dek.toString('base64'), dek.toString('base64url'), dek.subarray(2).toString('hex'), dek.subarray(1).toString('base64')];
    for (const form of forms) {
      expect(() => expectNoLeak(new Error(`x ${form} y`), dek)).toThrow();
      expect(() => expectNoLeak(new RecryptError('KMS_CONFIG', 'clean', { cause: new Error(form) }), dek)).toThrow();
      expect(() => expectNoLeak(Object.assign(new Error('clean'), { request: { body: form } }), dek)).toThrow();
    }
    expect(() => expectNoLeak(new Error('clean'), dek)).not.toThrow();
  });
});
