// The KEK check that runs before anything is registered (issue 21 #4): the KMS key must wrap and unwrap
// a probe; a registered KEK must match the rule; nothing is ever created; errors keep the KMS code and
// name the KEK and key id, never the probe.
import { describe, expect, it } from 'vitest';
import { checkKek, checkRuleSetKeks, DekManager, type KekCheck } from '../../../src/keys/index.js';
import type { KmsDriver } from '../../../src/kms/kms-driver.js';
import type { Rule } from '../../../src/registry/types.js';
import { resolveEncryptionParams } from '../../../src/rules/index.js';
import { RecryptError } from '../../../src/util/errors.js';
import { CountingKms, FakeDekRegistry, SECRET } from './fakes.js';

function rule(kek: string, keyId: string, extra: Partial<Rule> = {}): Rule {
  return {
    name: 'enc', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'],
    params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': keyId }, ...extra,
  };
}
const params = (kek: string, keyId: string) => resolveEncryptionParams(rule(kek, keyId), undefined);

async function failure(work: Promise<unknown>): Promise<RecryptError> {
  try {
    await work;
  } catch (err) {
    if (err instanceof RecryptError) return err;
    throw err;
  }
  throw new Error('expected a RecryptError');
}

describe('checkKek', () => {
  it('an unregistered KEK: probes the rule key (wrap and unwrap) and registers nothing', async () => {
    const registry = new FakeDekRegistry();
    const kms = new CountingKms();
    const check = await checkKek({ dekRegistry: registry, kms, kmsProps: { secret: SECRET } }, params('k1', 'key-a'));
    expect(check).toEqual({ kek: 'k1', kmsType: 'local-kms', kmsKeyId: 'key-a', status: 'new' });
    expect(kms.calls).toEqual([{ op: 'wrap', kmsType: 'local-kms', keyId: 'key-a' }, { op: 'unwrap', kmsType: 'local-kms', keyId: 'key-a' }]);
    expect(registry.calls.createKek).toBe(0);
    expect(registry.keks.size).toBe(0);
  });

  it('a permanent KMS refusal keeps its code and names the KEK and key id, not the probe', async () => {
    const seen: Uint8Array[] = [];
    const refusing: KmsDriver = {
      kmsType: 'local-kms',
      wrap: async (keyId, plaintext) => {
        seen.push(Uint8Array.from(plaintext));
        throw new RecryptError('KMS_KEY_NOT_FOUND', `local-kms wrap with key ${keyId} failed: key not found`);
      },
      unwrap: async () => { throw new Error('not reached'); },
    };
    const err = await failure(checkKek({ dekRegistry: new FakeDekRegistry(), kms: new CountingKms([refusing]) }, params('k2', 'typo-key')));
    expect(err.code).toBe('KMS_KEY_NOT_FOUND');
    expect(err.transient).toBe(false);
    expect(err.message).toContain('KEK k2');
    expect(err.message).toContain('typo-key');
    const probe = Buffer.from(seen[0]!);
    expect(probe.length).toBe(32);
    expect(probe.every((b) => b === 0)).toBe(false);
    for (const text of [probe.toString('base64'), probe.toString('hex')]) expect(`${err.message} ${String(err.cause ?? '')}`).not.toContain(text);
  });

  it('a transient KMS failure stays transient', async () => {
    const kms = new CountingKms();
    kms.failKeyIds.add('key-b');
    const err = await failure(checkKek({ dekRegistry: new FakeDekRegistry(), kms, kmsProps: { secret: SECRET } }, params('k3', 'key-b')));
    expect(err.code).toBe('KMS_UNAVAILABLE');
    expect(err.transient).toBe(true);
  });

  it('a KMS outage does not stop a job whose KEK is registered and matches (unverified, not cached), but a new KEK stays refused', async () => {
    const registry = new FakeDekRegistry();
    await registry.createKek({ name: 'k9', kmsType: 'local-kms', kmsKeyId: 'key-f', shared: false });
    const kms = new CountingKms();
    kms.failKeyIds.add('key-f');
    const deps = { dekRegistry: registry, kms, kmsProps: { secret: SECRET } };
    expect(await checkKek(deps, params('k9', 'key-f'))).toEqual({ kek: 'k9', kmsType: 'local-kms', kmsKeyId: 'key-f', status: 'unverified', code: 'KMS_UNAVAILABLE' });
    const passed = new Map<string, KekCheck>();
    await checkRuleSetKeks(deps, { domainRules: [rule('k9', 'key-f')] }, undefined, passed);
    expect(passed.size).toBe(0);
    kms.failKeyIds.delete('key-f');
    expect((await checkRuleSetKeks(deps, { domainRules: [rule('k9', 'key-f')] }, undefined, passed))[0]!.status).toBe('registered');
    expect(passed.size).toBe(1);
    expect(registry.calls.createKek).toBe(1);
  });

  it('an unwrap that does not give the probe back is KMS_UNWRAP_FAILED', async () => {
    const lying: KmsDriver = { kmsType: 'local-kms', wrap: async (_k, p) => Uint8Array.from(p), unwrap: async (_k, c) => Uint8Array.from(c).reverse() };
    const err = await failure(checkKek({ dekRegistry: new FakeDekRegistry(), kms: new CountingKms([lying]) }, params('k4', 'key-c')));
    expect(err.code).toBe('KMS_UNWRAP_FAILED');
  });

  it('a registered KEK with another key id is KEK_MISMATCH naming both ids and the runbook, before any KMS call', async () => {
    const registry = new FakeDekRegistry();
    await registry.createKek({ name: 'k5', kmsType: 'local-kms', kmsKeyId: 'wrong-key', shared: false });
    const kms = new CountingKms();
    const err = await failure(checkKek({ dekRegistry: registry, kms, kmsProps: { secret: SECRET } }, params('k5', 'right-key')));
    expect(err.code).toBe('KEK_MISMATCH');
    expect(err.message).toContain('wrong-key');
    expect(err.message).toContain('right-key');
    expect(err.message).toContain('KEK registered with the wrong key id');
    expect(kms.calls).toEqual([]);
  });

  it('a registered matching KEK is probed with its keys; a shared one is not probed', async () => {
    const registry = new FakeDekRegistry();
    await registry.createKek({ name: 'k6', kmsType: 'local-kms', kmsKeyId: 'key-d', shared: false });
    await registry.createKek({ name: 'k7', kmsType: 'local-kms', kmsKeyId: 'key-e', shared: true });
    const kms = new CountingKms();
    const deps = { dekRegistry: registry, kms, kmsProps: { secret: SECRET } };
    expect((await checkKek(deps, params('k6', 'key-d'))).status).toBe('registered');
    expect(kms.calls).toHaveLength(2);
    expect((await checkKek(deps, params('k7', 'key-e'))).status).toBe('shared');
    expect(kms.calls).toHaveLength(2);
  });

  it('an unregistered KEK that the rule cannot create is KEK_NOT_FOUND', async () => {
    const bare: Rule = { name: 'enc', type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'k8' } };
    const err = await failure(checkKek({ dekRegistry: new FakeDekRegistry(), kms: new CountingKms() }, resolveEncryptionParams(bare, undefined)));
    expect(err.code).toBe('KEK_NOT_FOUND');
  });
});

describe('checkRuleSetKeks / DekManager.checkKeks', () => {
  it('checks write-side ENCRYPT rules only, each key once per manager; disabled and READ rules are skipped', async () => {
    const registry = new FakeDekRegistry();
    const kms = new CountingKms();
    const ruleSet = {
      domainRules: [
        rule('a', 'key-a'), rule('a', 'key-a', { name: 'enc2', tags: ['OTHER'] }),
        rule('b', 'key-b', { name: 'off', disabled: true }), rule('c', 'key-c', { name: 'readonly', mode: 'READ' }),
        { name: 'cel', type: 'CEL_FIELD', expr: 'true' },
      ],
      encodingRules: [rule('p', 'key-p', { name: 'payload', type: 'ENCRYPT_PAYLOAD', tags: [] })],
    };
    const passed = new Map<string, KekCheck>();
    const checks = await checkRuleSetKeks({ dekRegistry: registry, kms, kmsProps: { secret: SECRET } }, ruleSet, undefined, passed);
    expect(checks.map((c) => c.kek)).toEqual(['a', 'p']);
    expect(kms.count('wrap')).toBe(2);

    const keys = new DekManager({ dekRegistry: registry, kms, kmsProps: { secret: SECRET } });
    await keys.checkKeks(ruleSet, undefined);
    await keys.checkKeks(ruleSet, undefined);
    expect(kms.count('wrap')).toBe(4);
    expect(registry.calls.createKek).toBe(0);
  });
});
