import { describe, expect, it, vi } from 'vitest';
import { DekManager, type KeysLogFields, type KeysMetric } from '../../../src/keys/dek-manager.js';
import { dekRefOf } from '../../../src/keys/key-ids.js';
import type { EncryptionParams } from '../../../src/rules/encryption-params.js';
import { resolveEncryptionParams } from '../../../src/rules/encryption-params.js';
import { RecryptError } from '../../../src/util/errors.js';
import { CountingKms, deferred, FakeDekRegistry, ManualClock } from './fakes.js';

const DAY = 86_400_000;
const SUBJECT = 'topic1-value';

function params(over: Record<string, string> = {}): EncryptionParams {
  return resolveEncryptionParams(
    {
      name: 'encryptPII',
      type: 'ENCRYPT',
      tags: ['PII'],
      params: { 'encrypt.kek.name': 'kek1', 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'mykey', ...over },
    },
    undefined,
  );
}

function setup(opts: { clock?: ManualClock; latestTtlMs?: number; maxCachedDeks?: number } = {}) {
  const clock = opts.clock ?? new ManualClock();
  const registry = new FakeDekRegistry(clock.fn);
  const kms = new CountingKms();
  const warnings: Array<{ message: string; fields?: KeysLogFields }> = [];
  const metrics: Array<[KeysMetric, string]> = [];
  const make = () =>
    new DekManager({
      dekRegistry: registry,
      kms,
      clock: clock.fn,
      ...(opts.latestTtlMs === undefined ? {} : { latestTtlMs: opts.latestTtlMs }),
      ...(opts.maxCachedDeks === undefined ? {} : { maxCachedDeks: opts.maxCachedDeks }),
      logger: { warn: (message, fields) => warnings.push({ message, ...(fields ? { fields } : {}) }) },
      metrics: (m, l) => metrics.push([m, l.outcome]),
    });
  return { clock, registry, kms, warnings, metrics, manager: make(), make };
}

async function code(p: Promise<unknown>): Promise<RecryptError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RecryptError);
    return err as RecryptError;
  }
  throw new Error('expected a RecryptError');
}

/** A registry hook that holds the first `n` calls of each named method until all `n` have arrived. */
function barrier(methods: string[], n: number) {
  const waiting = new Map(methods.map((m) => [m, { count: 0, gate: deferred() }]));
  return async (method: string): Promise<void> => {
    const w = waiting.get(method);
    if (w === undefined || w.count >= n) return;
    w.count++;
    if (w.count === n) w.gate.resolve();
    await w.gate.promise;
  };
}

const roundTrip = (enc: { encrypt(p: Uint8Array): Buffer }, dec: { decrypt(c: Uint8Array): Buffer }): string =>
  dec.decrypt(enc.encrypt(Buffer.from('hello world'))).toString('utf8');

describe('KEKs', () => {
  it('auto-registers a missing KEK when the rule names kms type and key id', async () => {
    const { manager, registry } = setup();
    const kek = await manager.getOrCreateKek(params(), { create: true });
    expect(kek).toMatchObject({ name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false });
    expect(registry.keks.get('kek1')).toBeDefined();
  });

  it('KEK_NOT_FOUND when missing and not creatable', async () => {
    const { manager, registry } = setup();
    expect((await code(manager.getOrCreateKek(params(), { create: false }))).code).toBe('KEK_NOT_FOUND');
    const noKms = resolveEncryptionParams({ name: 'r', type: 'ENCRYPT', params: { 'encrypt.kek.name': 'kek1' } }, undefined);
    expect((await code(manager.getOrCreateKek(noKms, { create: true }))).code).toBe('KEK_NOT_FOUND');
    expect((await code(manager.dekForWrite(dekRefOf(noKms, SUBJECT), noKms))).code).toBe('KEK_NOT_FOUND');
    expect(registry.calls['createKek']).toBe(0);
  });

  it('KEK_MISMATCH when the registered kms type or key id differ from the rule', async () => {
    const { manager, registry } = setup();
    registry.keks.set('kek1', { name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'otherkey', shared: false });
    const e1 = await code(manager.dekForWrite(dekRefOf(params(), SUBJECT), params()));
    expect(e1.code).toBe('KEK_MISMATCH');
    expect(e1.transient).toBe(false);
    expect((await code(manager.getOrCreateKek(params({ 'encrypt.kms.type': 'aws-kms', 'encrypt.kms.key.id': 'otherkey' }), { create: false }))).code).toBe(
      'KEK_MISMATCH',
    );
    // a rule without kms type / key id uses whatever is registered
    const bare = resolveEncryptionParams({ name: 'r', type: 'ENCRYPT', params: { 'encrypt.kek.name': 'kek1' } }, undefined);
    expect((await manager.dekForWrite(dekRefOf(bare, SUBJECT), bare)).version).toBe(1);
    // cached entries do not bypass the check
    expect(manager.peekWrite(dekRefOf(params(), SUBJECT), params())).toBeUndefined();
    expect((await code(manager.dekForWrite(dekRefOf(params(), SUBJECT), params()))).code).toBe('KEK_MISMATCH');
    expect((await code(manager.dekForRead(dekRefOf(params(), SUBJECT), params(), 1))).code).toBe('KEK_MISMATCH');
  });

  it('two managers racing to create the KEK and the DEK end with the same DEK (409 -> use theirs)', async () => {
    const { registry, make } = setup();
    const a = make();
    const b = make();
    // Force the worst interleaving: both see "missing" before either creates.
    registry.hook = barrier(['getKek', 'getDek'], 2);
    const [da, db] = await Promise.all([a.dekForWrite(dekRefOf(params(), SUBJECT), params()), b.dekForWrite(dekRefOf(params(), SUBJECT), params())]);
    registry.hook = undefined;
    expect(registry.calls['createKek']).toBe(2);
    expect(registry.calls['createDek']).toBe(2);
    expect(registry.conflicts).toBe(2);
    expect(registry.keks.size).toBe(1);
    expect(registry.deks.size).toBe(1);
    expect(da.version).toBe(1);
    expect(db.version).toBe(1);
    expect(roundTrip(da.cipher, db.cipher)).toBe('hello world');
    expect(roundTrip(db.cipher, da.cipher)).toBe('hello world');
    // and a third, fresh reader decrypts both
    const reader = make();
    expect(roundTrip(da.cipher, await reader.dekForRead(dekRefOf(params(), SUBJECT), params(), 1))).toBe('hello world');
  });
});

describe('dekForWrite', () => {
  it('no expiry: get-or-create version 1 without version prefix semantics; cached afterwards', async () => {
    const { manager, registry, kms } = setup();
    expect(manager.peekWrite(dekRefOf(params(), SUBJECT), params())).toBeUndefined();
    const d = await manager.dekForWrite(dekRefOf(params(), SUBJECT), params());
    expect(d.version).toBe(1);
    expect(registry.getDekCalls[0]).toMatchObject({ version: 1, deleted: false, algorithm: 'AES256_GCM' });
    expect(registry.createDekRequests[0]?.request).toMatchObject({ subject: SUBJECT, version: 1, algorithm: 'AES256_GCM' });
    expect(typeof registry.createDekRequests[0]?.request.encryptedKeyMaterial).toBe('string');
    // our own fresh DEK needs no unwrap
    expect(kms.count('wrap')).toBe(1);
    expect(kms.count('unwrap')).toBe(0);
    const again = manager.peekWrite(dekRefOf(params(), SUBJECT), params());
    expect(again?.cipher).toBe(d.cipher);
    expect((await manager.dekForWrite(dekRefOf(params(), SUBJECT), params())).cipher).toBe(d.cipher);
    expect(registry.calls['getDek']).toBe(1);
  });

  it('uses an existing version 1 (one unwrap), per algorithm', async () => {
    const { registry, kms, make } = setup();
    await make().dekForWrite(dekRefOf(params(), SUBJECT), params());
    const m = make();
    const d = await m.dekForWrite(dekRefOf(params(), SUBJECT), params());
    expect(d.version).toBe(1);
    expect(kms.count('unwrap')).toBe(1);
    const siv = await m.dekForWrite(dekRefOf(params({ 'encrypt.dek.algorithm': 'AES256_SIV' }), SUBJECT), params({ 'encrypt.dek.algorithm': 'AES256_SIV' }));
    expect(siv.cipher.algorithm).toBe('AES256_SIV');
    expect(registry.deks.size).toBe(2);
  });

  it('expiry N days: v1, then after N days v2 (injected clock); reads of v1 still work', async () => {
    const clock = new ManualClock();
    const { manager, registry } = setup({ clock, latestTtlMs: 60_000 });
    const p = params({ 'encrypt.dek.expiry.days': '2' });
    const v1 = await manager.dekForWrite(dekRefOf(p, SUBJECT), p);
    expect(v1.version).toBe(1);
    expect(registry.getDekCalls[0]).toMatchObject({ version: -1, deleted: false });

    // within the TTL and not expired: cached
    clock.advance(30_000);
    expect(manager.peekWrite(dekRefOf(p, SUBJECT), p)?.version).toBe(1);
    // TTL passed but the DEK not yet expired: latest is re-read and still v1
    clock.advance(2 * DAY - 1 - 30_000);
    registry.getDekCalls.length = 0;
    expect(manager.peekWrite(dekRefOf(p, SUBJECT), p)).toBeUndefined();
    expect((await manager.dekForWrite(dekRefOf(p, SUBJECT), p)).version).toBe(1);
    expect(registry.getDekCalls.map((c) => c.version)).toEqual([-1]);

    clock.advance(1); // exactly 2 days: (now - ts) / day >= 2
    expect(manager.peekWrite(dekRefOf(p, SUBJECT), p)).toBeUndefined();
    const v2 = await manager.dekForWrite(dekRefOf(p, SUBJECT), p);
    expect(v2.version).toBe(2);
    expect(registry.createDekRequests.map((r) => r.request.version)).toEqual([1, 2]);
    expect(manager.peekWrite(dekRefOf(p, SUBJECT), p)?.version).toBe(2);
    expect(manager.peekRead({ kekName: 'kek1', scope: SUBJECT, algorithm: 'AES256_GCM' }, 1)).toBe(v1.cipher);
    expect(roundTrip(v1.cipher, await manager.dekForRead(dekRefOf(p, SUBJECT), p, 1))).toBe('hello world');
    expect(() => roundTrip(v2.cipher, v1.cipher)).toThrow();
  });

  it('two managers rotating at once both end on the same new version', async () => {
    const clock = new ManualClock();
    const { registry, make } = setup({ clock });
    const p = params({ 'encrypt.dek.expiry.days': '1' });
    await make().dekForWrite(dekRefOf(p, SUBJECT), p);
    clock.advance(DAY);
    registry.hook = barrier(['getDek'], 2);
    const [a, b] = await Promise.all([make().dekForWrite(dekRefOf(p, SUBJECT), p), make().dekForWrite(dekRefOf(p, SUBJECT), p)]);
    expect([a.version, b.version]).toEqual([2, 2]);
    expect(registry.conflicts).toBe(1);
    expect(roundTrip(a.cipher, b.cipher)).toBe('hello world');
  });

  it('a failed rotation keeps the older DEK, warns without key material, and backs off until the TTL', async () => {
    const clock = new ManualClock();
    const { manager, registry, warnings } = setup({ clock, latestTtlMs: 60_000 });
    const p = params({ 'encrypt.dek.expiry.days': '1' });
    const v1 = await manager.dekForWrite(dekRefOf(p, SUBJECT), p);
    clock.advance(3 * DAY);
    registry.hook = (method) => {
      if (method === 'createDek') throw new RecryptError('REGISTRY_UNAVAILABLE', 'registry down');
    };
    const kept = await manager.dekForWrite(dekRefOf(p, SUBJECT), p);
    expect(kept.version).toBe(1);
    expect(kept.cipher).toBe(v1.cipher);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.fields).toEqual({ kekName: 'kek1', subject: SUBJECT, version: 1, newVersion: 2, code: 'REGISTRY_UNAVAILABLE' });
    // served from cache (no retry storm) until the TTL passes
    const creates = registry.calls['createDek'];
    expect(manager.peekWrite(dekRefOf(p, SUBJECT), p)?.version).toBe(1);
    expect(registry.calls['createDek']).toBe(creates);
    clock.advance(60_000);
    expect(manager.peekWrite(dekRefOf(p, SUBJECT), p)).toBeUndefined();
    registry.hook = undefined;
    expect((await manager.dekForWrite(dekRefOf(p, SUBJECT), p)).version).toBe(2);
  });

  it('a failed wrap during rotation also keeps the older DEK; with no older DEK the failure is thrown', async () => {
    const clock = new ManualClock();
    const { manager, kms, make } = setup({ clock });
    const p = params({ 'encrypt.dek.expiry.days': '1' });
    await manager.dekForWrite(dekRefOf(p, SUBJECT), p);
    clock.advance(DAY);
    kms.failKeyIds.add('mykey');
    expect((await manager.dekForWrite(dekRefOf(p, SUBJECT), p)).version).toBe(1);
    const err = await code(make().dekForWrite(dekRefOf(params({ 'encrypt.dek.expiry.days': '1' }), 'other-subject'), params({ 'encrypt.dek.expiry.days': '1' })));
    expect(err.code).toBe('KMS_UNAVAILABLE');
    expect(err.transient).toBe(true);
  });

  it('shared KEK: the registry makes the material; zero KMS calls to write or read', async () => {
    const { registry, kms, make } = setup();
    registry.keks.set('kek1', { name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: true });
    const w = await make().dekForWrite(dekRefOf(params(), SUBJECT), params());
    expect(registry.createDekRequests[0]?.request.encryptedKeyMaterial).toBeUndefined();
    const r = await make().dekForRead(dekRefOf(params(), SUBJECT), params(), 1);
    const w2 = await make().dekForWrite(dekRefOf(params(), SUBJECT), params());
    expect(roundTrip(w.cipher, r)).toBe('hello world');
    expect(roundTrip(w2.cipher, r)).toBe('hello world');
    expect(kms.calls).toEqual([]);
  });

  it('tries alternate kms key ids in order when the primary fails (wrap and unwrap)', async () => {
    const { kms, make } = setup();
    kms.failKeyIds.add('mykey');
    const p = params({ 'encrypt.alternate.kms.key.ids': 'alt1, alt2' });
    kms.failKeyIds.add('alt1');
    const w = await make().dekForWrite(dekRefOf(p, SUBJECT), p);
    expect(kms.calls.map((c) => `${c.op}:${c.keyId}`)).toEqual(['wrap:mykey', 'wrap:alt1', 'wrap:alt2']);
    kms.calls.length = 0;
    const r = await make().dekForRead(dekRefOf(p, SUBJECT), p, 1);
    expect(kms.calls.map((c) => `${c.op}:${c.keyId}`)).toEqual(['unwrap:mykey', 'unwrap:alt1', 'unwrap:alt2']);
    expect(roundTrip(w.cipher, r)).toBe('hello world');
    // the KEK's kmsProps alternates take precedence over the rule's
    kms.calls.length = 0;
    const { registry: reg2, kms: kms2, make: make2 } = setup();
    reg2.keks.set('kek1', { name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false, kmsProps: { 'encrypt.alternate.kms.key.ids': 'kekalt' } });
    kms2.failKeyIds.add('mykey');
    await make2().dekForWrite(dekRefOf(p, SUBJECT), p);
    expect(kms2.calls.map((c) => c.keyId)).toEqual(['mykey', 'kekalt']);
  });
});

describe('DEK refs', () => {
  it('registers and caches a DEK under its ref\'s scope, not the rule\'s subject', async () => {
    const { manager, registry } = setup();
    const p = params();
    const shared = await manager.dekForWrite({ kekName: 'kek1', scope: 'join-group-1', algorithm: 'AES256_GCM' }, p);
    expect(registry.createDekRequests.map((r) => r.request.subject)).toEqual(['join-group-1']);
    expect(manager.peekRead({ kekName: 'kek1', scope: 'join-group-1', algorithm: 'AES256_GCM' }, 1)).toBe(shared.cipher);
    expect(manager.peekRead(dekRefOf(p, SUBJECT), 1)).toBeUndefined();
    expect((await manager.dekForWrite(dekRefOf(p, SUBJECT), p)).cipher).not.toBe(shared.cipher);
  });

  it('refuses a ref whose KEK or algorithm differs from its params (a caller bug, not a key miss)', async () => {
    const { manager } = setup();
    const err = await code(manager.dekForWrite({ kekName: 'other', scope: SUBJECT, algorithm: 'AES256_GCM' }, params()));
    expect(err.code).toBe('INTERNAL');
    const err2 = await code(manager.dekForRead({ kekName: 'kek1', scope: SUBJECT, algorithm: 'AES256_SIV' }, params(), 1));
    expect(err2.code).toBe('INTERNAL');
  });
});

describe('dekForRead', () => {
  it('fetches exactly the version with deleted=true and never creates', async () => {
    const clock = new ManualClock();
    const { registry, make } = setup({ clock });
    const p = params({ 'encrypt.dek.expiry.days': '1' });
    const writer = make();
    const v1 = await writer.dekForWrite(dekRefOf(p, SUBJECT), p);
    clock.advance(DAY);
    await writer.dekForWrite(dekRefOf(p, SUBJECT), p);
    registry.softDelete('kek1', SUBJECT, 'AES256_GCM', 1);
    registry.getDekCalls.length = 0;
    const creates = registry.calls['createDek'];
    const kekCreates = registry.calls['createKek'];
    const cipher = await make().dekForRead(dekRefOf(p, SUBJECT), p, 1);
    expect(registry.getDekCalls).toEqual([{ kekName: 'kek1', subject: SUBJECT, version: 1, algorithm: 'AES256_GCM', deleted: true }]);
    expect(roundTrip(v1.cipher, cipher)).toBe('hello world');
    expect(registry.calls['createDek']).toBe(creates);
    expect(registry.calls['createKek']).toBe(kekCreates);
  });

  it('a missing version is DEK_NOT_FOUND (permanent); a missing KEK is KEK_NOT_FOUND; nothing is created', async () => {
    const { manager, registry } = setup();
    expect((await code(manager.dekForRead(dekRefOf(params(), SUBJECT), params(), 1))).code).toBe('KEK_NOT_FOUND');
    await manager.dekForWrite(dekRefOf(params(), SUBJECT), params());
    const err = await code(manager.dekForRead(dekRefOf(params(), SUBJECT), params(), 7));
    expect(err.code).toBe('DEK_NOT_FOUND');
    expect(err.transient).toBe(false);
    expect((await code(manager.dekForRead(dekRefOf(params(), SUBJECT), params(), -1))).code).toBe('DEK_NOT_FOUND');
    expect(registry.calls['createDek']).toBe(1);
    expect(registry.calls['createKek']).toBe(1);
  });

  it('version 0 reads version 1, as the Confluent clients do', async () => {
    const { manager } = setup();
    const w = await manager.dekForWrite(dekRefOf(params(), SUBJECT), params());
    expect(await manager.dekForRead(dekRefOf(params(), SUBJECT), params(), 0)).toBe(w.cipher);
    expect(manager.peekRead({ kekName: 'kek1', scope: SUBJECT, algorithm: 'AES256_GCM' }, 0)).toBe(w.cipher);
  });

  it('single-flight: 50 concurrent reads of one DEK make one registry fetch and one unwrap', async () => {
    const { registry, kms, make } = setup();
    await make().dekForWrite(dekRefOf(params(), SUBJECT), params());
    registry.getDekCalls.length = 0;
    const reader = make();
    const ciphers = await Promise.all(Array.from({ length: 50 }, () => reader.dekForRead(dekRefOf(params(), SUBJECT), params(), 1)));
    expect(new Set(ciphers).size).toBe(1);
    expect(kms.count('unwrap')).toBe(1);
    expect(registry.getDekCalls).toHaveLength(1);
    expect(reader.peekRead({ kekName: 'kek1', scope: SUBJECT, algorithm: 'AES256_GCM' }, 1)).toBe(ciphers[0]);
  });

  it('a slow fetch of DEK A does not block DEK B', async () => {
    const { registry, make } = setup();
    const writer = make();
    await writer.dekForWrite(dekRefOf(params(), 'a-value'), params());
    await writer.dekForWrite(dekRefOf(params(), 'b-value'), params());
    const reader = make();
    await reader.getOrCreateKek(params(), { create: false });
    const gate = deferred();
    registry.hook = async (method, args) => {
      if (method === 'getDek' && args[1] === 'a-value') await gate.promise;
    };
    let aDone = false;
    const a = reader.dekForRead(dekRefOf(params(), 'a-value'), params(), 1).then((c) => {
      aDone = true;
      return c;
    });
    const b = await reader.dekForRead(dekRefOf(params(), 'b-value'), params(), 1);
    expect(b).toBeDefined();
    expect(aDone).toBe(false);
    gate.resolve();
    expect(await a).toBeDefined();
  });

  it('failed promises are not cached: the next call retries', async () => {
    const { registry, make } = setup();
    await make().dekForWrite(dekRefOf(params(), SUBJECT), params());
    const reader = make();
    let fail = true;
    registry.hook = (method) => {
      if (method === 'getDek' && fail) throw new RecryptError('REGISTRY_UNAVAILABLE', 'flaky');
    };
    const results = await Promise.allSettled([reader.dekForRead(dekRefOf(params(), SUBJECT), params(), 1), reader.dekForRead(dekRefOf(params(), SUBJECT), params(), 1)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(reader.peekRead({ kekName: 'kek1', scope: SUBJECT, algorithm: 'AES256_GCM' }, 1)).toBeUndefined();
    fail = false;
    expect(await reader.dekForRead(dekRefOf(params(), SUBJECT), params(), 1)).toBeDefined();
  });

  it('decrypts the CSFLE-NOTES vectors A (AES256_GCM) and C (expiry, version prefix)', async () => {
    const { registry, manager } = setup();
    registry.keks.set('kek1', { name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false });
    registry.put({
      kekName: 'kek1',
      subject: SUBJECT,
      version: 1,
      algorithm: 'AES256_GCM',
      encryptedKeyMaterial: '07V2ndh02DA73p+dTybwZFm7DKQSZN1tEwQh+FoX1DZLk4Yj2LLu4omYjp/84tAg3BYlkfGSz+zZacJHIE4=',
      ts: 0,
    });
    const a = await manager.dekForRead(dekRefOf(params(), SUBJECT), params(), 1);
    expect(a.decrypt(Buffer.from('zgy/jFNMV/eFilaHrMyeBgdaVzrR0udGeotW8cA/Jal7ukr+M/yz', 'base64')).toString()).toBe('hello world');

    const { registry: r2, manager: m2 } = setup();
    r2.keks.set('kek1', { name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false });
    r2.put({
      kekName: 'kek1',
      subject: SUBJECT,
      version: 1,
      algorithm: 'AES256_GCM',
      encryptedKeyMaterial: 'W/v6hOQYq1idVAcs1pPWz9UUONMVZW4IrglTnG88TsWjeCjxmtRQ4VaNe/I5dCfm2zyY9Cu0nqdvqImtUk4=',
      ts: 0,
    });
    const field = Buffer.from('AAAAAAG4HI6b1nXPXqLyG8cII35NHQseqqUCd+IeLeFVAeNpSS3fxPnJ32A=', 'base64');
    expect(field.subarray(0, 5)).toEqual(Buffer.from([0, 0, 0, 0, 1]));
    const c = await m2.dekForRead(dekRefOf(params({ 'encrypt.dek.expiry.days': '1' }), SUBJECT), params({ 'encrypt.dek.expiry.days': '1' }), field.readInt32BE(1));
    expect(c.decrypt(field.subarray(5)).toString()).toBe('hello world');
  });

  it('decrypts vector B (AES256_SIV) and re-encrypts it byte for byte', async () => {
    const { registry, manager } = setup();
    registry.keks.set('kek1', { name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false });
    registry.put({
      kekName: 'kek1',
      subject: SUBJECT,
      version: 1,
      algorithm: 'AES256_SIV',
      encryptedKeyMaterial:
        'YSx3DTlAHrmpoDChquJMifmPntBzxgRVdMzgYL82rgWBKn7aUSnG+WIu9ozBNS3y2vXd++mBtK07w4/W/G6w0da39X9hfOVZsGnkSvry/QRht84V8yz3dqKxGMOK5A==',
      ts: 0,
    });
    const p = params({ 'encrypt.dek.algorithm': 'AES256_SIV' });
    const w = await manager.dekForWrite(dekRefOf(p, SUBJECT), p);
    expect(w.cipher.encrypt(Buffer.from('hello world')).toString('base64')).toBe('D6YtxrlBnkTWW9N6Vbk3IInjWH81xmYh3k4d');
  });
});

describe('caches and metrics', () => {
  it('the cipher cache is a bounded LRU: an evicted DEK is unwrapped again', async () => {
    const { kms, make } = setup({ maxCachedDeks: 2 });
    const writer = make();
    for (const s of ['s1', 's2', 's3']) await writer.dekForWrite(dekRefOf(params(), s), params());
    const reader = make();
    await reader.dekForRead(dekRefOf(params(), 's1'), params(), 1);
    await reader.dekForRead(dekRefOf(params(), 's2'), params(), 1);
    await reader.dekForRead(dekRefOf(params(), 's1'), params(), 1); // s1 most recent
    await reader.dekForRead(dekRefOf(params(), 's3'), params(), 1); // evicts s2
    expect(kms.count('unwrap')).toBe(3);
    expect(reader.peekRead({ kekName: 'kek1', scope: 's1', algorithm: 'AES256_GCM' }, 1)).toBeDefined();
    expect(reader.peekRead({ kekName: 'kek1', scope: 's2', algorithm: 'AES256_GCM' }, 1)).toBeUndefined();
    await reader.dekForRead(dekRefOf(params(), 's2'), params(), 1);
    expect(kms.count('unwrap')).toBe(4);
  });

  it('counts registry calls and KMS operations through the metrics hook', async () => {
    const { manager, metrics, kms } = setup();
    kms.failKeyIds.add('mykey');
    await code(manager.dekForWrite(dekRefOf(params(), SUBJECT), params()));
    kms.failKeyIds.clear();
    await manager.dekForWrite(dekRefOf(params(), SUBJECT), params());
    expect(metrics).toEqual([
      ['registry_get_kek', 'ok'],
      ['registry_create_kek', 'ok'],
      ['registry_get_dek', 'ok'],
      ['kms_wrap', 'error'],
      ['registry_get_dek', 'ok'],
      ['kms_wrap', 'ok'],
      ['registry_create_dek', 'ok'],
    ]);
  });

  it('rejects bad options', () => {
    const registry = new FakeDekRegistry();
    const kms = new CountingKms();
    expect(() => new DekManager({ dekRegistry: registry, kms, maxCachedDeks: 0 })).toThrow(RecryptError);
    expect(() => new DekManager({ dekRegistry: registry, kms, latestTtlMs: -1 })).toThrow(RecryptError);
  });
});

describe('no key material in errors or logs (canary)', () => {
  function texts(err: unknown): string {
    const out: string[] = [];
    let e: unknown = err;
    for (let depth = 0; e !== undefined && e !== null && depth < 10; depth++) {
      out.push(String(e));
      if (e instanceof Error) {
        out.push(e.message, e.stack ?? '', JSON.stringify(e));
        e = e.cause;
      } else break;
    }
    return out.join('\n');
  }

  function forms(bytes: Buffer): string[] {
    return [bytes.toString('hex'), bytes.toString('base64'), bytes.subarray(2).toString('hex'), bytes.subarray(2).toString('base64')];
  }

  it('failure paths never echo DEK material, wrapped material or the KMS secret', async () => {
    const canary = Buffer.concat([Buffer.from([0x1a, 0x20]), Buffer.from('CANARY-KEY-MATERIAL-0123456789ab', 'utf8')]);
    const wrongSize = Buffer.concat([Buffer.from([0x1a, 0x10]), Buffer.from('CANARY-16-BYTES!', 'utf8')]);
    const { registry, manager, warnings } = setup();
    registry.keks.set('kek1', { name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: true });
    const errors: unknown[] = [];
    const grab = async (p: Promise<unknown>): Promise<void> => {
      try {
        await p;
        errors.push(new Error('no error'));
      } catch (err) {
        errors.push(err);
      }
    };
    // keyMaterial with the wrong size for the algorithm
    registry.put({ kekName: 'kek1', subject: 's1', version: 1, algorithm: 'AES256_GCM', keyMaterial: wrongSize.toString('base64'), ts: 0 });
    await grab(manager.dekForRead(dekRefOf(params(), 's1'), params(), 1));
    // keyMaterial that is the right size but read as SIV
    registry.put({ kekName: 'kek1', subject: 's2', version: 1, algorithm: 'AES256_SIV', keyMaterial: canary.toString('base64'), ts: 0 });
    await grab(manager.dekForRead(dekRefOf(params({ 'encrypt.dek.algorithm': 'AES256_SIV' }), 's2'), params({ 'encrypt.dek.algorithm': 'AES256_SIV' }), 1));
    // not base64
    registry.put({ kekName: 'kek1', subject: 's3', version: 1, algorithm: 'AES256_GCM', keyMaterial: `${canary.toString('hex')}!`, ts: 0 });
    await grab(manager.dekForRead(dekRefOf(params(), 's3'), params(), 1));
    // wrapped material the KMS cannot unwrap
    registry.keks.set('kek2', { name: 'kek2', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false });
    const wrapped = Buffer.concat([Buffer.alloc(12, 7), canary, Buffer.alloc(16, 9)]);
    registry.put({ kekName: 'kek2', subject: 's4', version: 1, algorithm: 'AES256_GCM', encryptedKeyMaterial: wrapped.toString('base64'), ts: 0 });
    await grab(manager.dekForRead(dekRefOf(params({ 'encrypt.kek.name': 'kek2' }), 's4'), params({ 'encrypt.kek.name': 'kek2' }), 1));

    expect(errors.map((e) => (e as RecryptError).code)).toEqual(['CRYPTO_BAD_KEY', 'CRYPTO_BAD_KEY', 'CRYPTO_BAD_KEY', 'KMS_UNWRAP_FAILED']);
    const all = errors.map(texts).join('\n') + JSON.stringify(warnings);
    for (const f of [...forms(canary), ...forms(wrongSize), wrapped.toString('base64'), 'CANARY', 'mysecret']) {
      expect(all).not.toContain(f);
    }
  });

  it('rotation warnings carry names, versions and codes only', async () => {
    const clock = new ManualClock();
    const { manager, registry, warnings } = setup({ clock });
    const p = params({ 'encrypt.dek.expiry.days': '1' });
    await manager.dekForWrite(dekRefOf(p, SUBJECT), p);
    const stored = [...registry.deks.values()][0]!;
    clock.advance(DAY);
    registry.hook = (m) => {
      if (m === 'createDek') throw new RecryptError('REGISTRY_INVALID', 'nope');
    };
    await manager.dekForWrite(dekRefOf(p, SUBJECT), p);
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings)).not.toContain(stored.encryptedKeyMaterial!);
    for (const v of Object.values(warnings[0]!.fields ?? {})) expect(['string', 'number', 'boolean']).toContain(typeof v);
  });
});

it('clear() drops every cache', async () => {
  const { manager, kms } = setup();
  await manager.dekForWrite(dekRefOf(params(), SUBJECT), params());
  manager.clear();
  expect(manager.peekWrite(dekRefOf(params(), SUBJECT), params())).toBeUndefined();
  await manager.dekForWrite(dekRefOf(params(), SUBJECT), params());
  expect(kms.count('unwrap')).toBe(1);
  vi.restoreAllMocks();
});
