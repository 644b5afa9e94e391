import { describe, expect, it } from 'vitest';
import type { Rule, SchemaInfo } from '../../../src/registry/types.js';
import { resolveEncryptionParams, ruleParameter } from '../../../src/rules/encryption-params.js';
import { RecryptError } from '../../../src/util/errors.js';

const rule = (params: Record<string, string> = {}, over: Partial<Rule> = {}): Rule => ({
  name: 'encryptPII',
  kind: 'TRANSFORM',
  mode: 'WRITEREAD',
  type: 'ENCRYPT',
  tags: ['PII'],
  params,
  ...over,
});
const schema = (properties: Record<string, string> = {}): SchemaInfo => ({ schema: '{}', metadata: { properties } });

function invalid(fn: () => unknown, re?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(RecryptError);
  expect((caught as RecryptError).code).toBe('RULE_INVALID');
  if (re) expect((caught as RecryptError).message).toMatch(re);
}

describe('resolveEncryptionParams', () => {
  it('reads every param from the rule with defaults', () => {
    const p = resolveEncryptionParams(rule({ 'encrypt.kek.name': 'kek1' }), undefined);
    expect(p).toEqual({
      kekName: 'kek1',
      kmsType: undefined,
      kmsKeyId: undefined,
      algorithm: 'AES256_GCM',
      expiryDays: 0,
      alternateKmsKeyIds: [],
    });
    expect(Object.isFrozen(p)).toBe(true);
    expect(Object.isFrozen(p.alternateKmsKeyIds)).toBe(true);
  });

  it('reads all params', () => {
    const p = resolveEncryptionParams(
      rule({
        'encrypt.kek.name': 'kek1',
        'encrypt.kms.type': 'aws-kms',
        'encrypt.kms.key.id': 'arn:aws:kms:us-east-1:1:key/k',
        'encrypt.dek.algorithm': 'AES256_SIV',
        'encrypt.dek.expiry.days': '30',
        'encrypt.alternate.kms.key.ids': ' arn:a , ,arn:b ',
      }),
      undefined,
    );
    expect(p).toEqual({
      kekName: 'kek1',
      kmsType: 'aws-kms',
      kmsKeyId: 'arn:aws:kms:us-east-1:1:key/k',
      algorithm: 'AES256_SIV',
      expiryDays: 30,
      alternateKmsKeyIds: ['arn:a', 'arn:b'],
    });
  });

  it('falls back to metadata.properties for each param missing from the rule', () => {
    const p = resolveEncryptionParams(
      rule({ 'encrypt.kek.name': 'fromRule' }),
      schema({
        'encrypt.kek.name': 'fromMeta',
        'encrypt.kms.type': 'local-kms',
        'encrypt.kms.key.id': 'mykey',
        'encrypt.dek.algorithm': 'AES128_GCM',
        'encrypt.dek.expiry.days': '1',
      }),
    );
    expect(p).toMatchObject({ kekName: 'fromRule', kmsType: 'local-kms', kmsKeyId: 'mykey', algorithm: 'AES128_GCM', expiryDays: 1 });
    expect(resolveEncryptionParams(rule({}), schema({ 'encrypt.kek.name': 'meta' })).kekName).toBe('meta');
    expect(resolveEncryptionParams(rule(undefined as never), schema({ 'encrypt.kek.name': 'meta' })).kekName).toBe('meta');
  });

  it('a key present in params wins even when empty (clients\' getParameter)', () => {
    expect(ruleParameter(rule({ 'encrypt.kms.type': '' }), schema({ 'encrypt.kms.type': 'aws-kms' }), 'encrypt.kms.type')).toBe('');
    expect(resolveEncryptionParams(rule({ 'encrypt.kek.name': 'k', 'encrypt.kms.type': '' }), schema({ 'encrypt.kms.type': 'aws-kms' })).kmsType).toBeUndefined();
  });

  it('works for ENCRYPT_PAYLOAD rules', () => {
    expect(resolveEncryptionParams(rule({ 'encrypt.kek.name': 'k' }, { type: 'ENCRYPT_PAYLOAD', tags: [] }), undefined).kekName).toBe('k');
  });

  it('bad params are RULE_INVALID', () => {
    invalid(() => resolveEncryptionParams(rule({}), undefined), /encrypt\.kek\.name is required/);
    invalid(() => resolveEncryptionParams(rule({}), schema({})), /required/);
    invalid(() => resolveEncryptionParams(rule({ 'encrypt.kek.name': ' ' }), undefined), /empty/);
    for (const alg of ['AES128_SIV', 'aes256_gcm', '', 'DES']) {
      invalid(() => resolveEncryptionParams(rule({ 'encrypt.kek.name': 'k', 'encrypt.dek.algorithm': alg }), undefined), /algorithm/);
    }
    for (const days of ['-1', '1.5', 'ten', '', '1e3', '0x10', '999999999']) {
      invalid(() => resolveEncryptionParams(rule({ 'encrypt.kek.name': 'k', 'encrypt.dek.expiry.days': days }), undefined), /expiry/);
    }
    invalid(() => resolveEncryptionParams(rule({ 'encrypt.kek.name': 'k' }, { type: 'CEL_FIELD' }), undefined), /not an ENCRYPT/);
    invalid(() => resolveEncryptionParams(rule({}), schema({ 'encrypt.kek.name': 'k', 'encrypt.dek.algorithm': 'X' })), /algorithm/);
  });

  it('expiry 0 is allowed and means no rotation', () => {
    expect(resolveEncryptionParams(rule({ 'encrypt.kek.name': 'k', 'encrypt.dek.expiry.days': '0' }), undefined).expiryDays).toBe(0);
  });
});
