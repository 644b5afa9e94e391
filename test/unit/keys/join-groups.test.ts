// Join groups (issue #23): one DEK per version registered with the same wrapped material under every
// member subject, created at the anchor (the first member, sorted) and copied; concurrent writers
// converge; a member with other material is refused with JOIN_GROUP_DIVERGED; rotation moves the group.
import { describe, expect, it } from 'vitest';
import { newDekMaterial } from '../../../src/crypto/dek-proto.js';
import { DekManager } from '../../../src/keys/dek-manager.js';
import { joinGroup, joinGroupScope, JoinGroups } from '../../../src/keys/join-groups.js';
import { dekRefOf } from '../../../src/keys/key-ids.js';
import { LocalKmsDriver } from '../../../src/kms/local-kms.js';
import type { Dek } from '../../../src/registry/types.js';
import { resolveEncryptionParams, type EncryptionParams } from '../../../src/rules/encryption-params.js';
import { RecryptError } from '../../../src/util/errors.js';
import { CountingKms, deferred, FakeDekRegistry, ManualClock, SECRET } from './fakes.js';

const DAY = 86_400_000;
const ORDERS = 'orders.siv-value';
const CUSTOMERS = 'customers.siv-value';
const PAYMENTS = 'payments.siv-value';
const GROUP = joinGroup('customer-ids', [ORDERS, CUSTOMERS, PAYMENTS]);
const ANCHOR = CUSTOMERS; // first sorted

function params(over: Record<string, string> = {}): EncryptionParams {
  return resolveEncryptionParams(
    {
      name: 'encryptIds',
      type: 'ENCRYPT',
      tags: ['PII'],
      params: { 'encrypt.kek.name': 'kek1', 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'mykey', 'encrypt.dek.algorithm': 'AES256_SIV', ...over },
    },
    undefined,
  );
}

function setup(clock = new ManualClock()) {
  const registry = new FakeDekRegistry(clock.fn);
  const kms = new CountingKms();
  const make = (groups: JoinGroups = new JoinGroups([GROUP])) =>
    new DekManager({ dekRegistry: registry, kms, clock: clock.fn, latestTtlMs: 60_000, joinGroups: groups });
  return { clock, registry, kms, make, manager: make() };
}

async function failure(p: Promise<unknown>): Promise<RecryptError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(RecryptError);
    return err as RecryptError;
  }
  throw new Error('expected a RecryptError');
}

function dekOf(registry: FakeDekRegistry, subject: string, version: number): Dek | undefined {
  return registry.deks.get(FakeDekRegistry.dekKey('kek1', subject, 'AES256_SIV', version));
}

/** A DEK for `subject` wrapped by the local KMS as another client would register it. */
async function wrappedDek(subject: string, version: number, material: Uint8Array, ts: number): Promise<Dek> {
  const wrapped = await new LocalKmsDriver({ secret: SECRET }).wrap('mykey', material, {});
  return { kekName: 'kek1', subject, version, algorithm: 'AES256_SIV', encryptedKeyMaterial: Buffer.from(wrapped).toString('base64'), ts, deleted: false };
}

const groupRef = (p: EncryptionParams) => dekRefOf(p, GROUP.scope);

describe('join groups', () => {
  it('sorts the members, anchors on the first, resolves members to the group scope and refuses bad groups', () => {
    expect(GROUP.members).toEqual([CUSTOMERS, ORDERS, PAYMENTS]);
    expect(GROUP.anchor).toBe(CUSTOMERS);
    expect(GROUP.scope).toBe(joinGroupScope('customer-ids'));
    const groups = new JoinGroups([GROUP]);
    expect(groups.scopeOf(ORDERS)).toBe(GROUP.scope);
    expect(groups.scopeOf('other-value')).toBe('other-value');
    expect(groups.byScope(GROUP.scope)).toBe(GROUP);
    expect(groups.byScope(ORDERS)).toBeUndefined();
    expect(() => joinGroup('g', [])).toThrow(/at least one/);
    expect(() => joinGroup('g', [ORDERS, ORDERS])).toThrow(/twice/);
    expect(() => new JoinGroups([GROUP, joinGroup('other', [ORDERS])])).toThrow(/two join groups/);
    expect(() => new JoinGroups([GROUP, joinGroup('customer-ids', [ORDERS])])).toThrow(/defined twice/);
  });

  it('creates the DEK once, at the anchor, and registers the same material, algorithm and version under every member', async () => {
    const { manager, registry, make } = setup();
    const p = params();
    const dek = await manager.dekForWrite(groupRef(p), p);
    expect(dek.version).toBe(1);
    expect(registry.createDekRequests[0]?.request.subject).toBe(ANCHOR);
    const anchor = dekOf(registry, ANCHOR, 1)!;
    for (const subject of GROUP.members) {
      expect(dekOf(registry, subject, 1)).toMatchObject({ version: 1, algorithm: 'AES256_SIV', encryptedKeyMaterial: anchor.encryptedKeyMaterial });
    }
    // A client reading under each member's own subject (no group) gets the same key: SIV is equal across topics.
    const plain = make(new JoinGroups());
    const ciphertexts = await Promise.all(
      GROUP.members.map(async (s) => (await plain.dekForRead(dekRefOf(p, s), p, 1)).encrypt(Buffer.from('customer-42')).toString('base64')),
    );
    expect(new Set(ciphertexts).size).toBe(1);
    expect(ciphertexts[0]).toBe(dek.cipher.encrypt(Buffer.from('customer-42')).toString('base64'));
    // Cached under the group ref afterwards: no more registry calls.
    const calls = registry.calls['getDek']! + registry.calls['createDek']!;
    expect(manager.peekWrite(groupRef(p), p)?.version).toBe(1);
    await manager.dekForWrite(groupRef(p), p);
    expect(registry.calls['getDek']! + registry.calls['createDek']!).toBe(calls);
  });

  it('two managers creating at once converge on one material (409 at the anchor and at the members)', async () => {
    const { registry, make } = setup();
    const a = make();
    const b = make();
    const gate = deferred();
    let creates = 0;
    registry.hook = async (method) => {
      if (method !== 'createDek') return;
      creates += 1;
      if (creates === 2) gate.resolve();
      await gate.promise;
    };
    const p = params();
    const [da, db] = await Promise.all([a.dekForWrite(groupRef(p), p), b.dekForWrite(groupRef(p), p)]);
    registry.hook = undefined;
    expect(registry.conflicts).toBeGreaterThanOrEqual(1);
    const plaintext = Buffer.from('same id');
    expect(da.cipher.encrypt(plaintext).equals(db.cipher.encrypt(plaintext))).toBe(true);
    const anchor = dekOf(registry, ANCHOR, 1)!;
    for (const subject of GROUP.members) expect(dekOf(registry, subject, 1)?.encryptedKeyMaterial).toBe(anchor.encryptedKeyMaterial);
    expect([...registry.deks.keys()]).toHaveLength(3);
  });

  it('refuses a member that already holds other DEK material: JOIN_GROUP_DIVERGED, permanent, nothing cached, no key bytes in the message', async () => {
    const { manager, registry, clock } = setup();
    const p = params();
    await manager.getOrCreateKek(p, { create: true });
    const own = await wrappedDek(ORDERS, 1, newDekMaterial('AES256_SIV'), clock.now);
    registry.put(own);
    const err = await failure(manager.dekForWrite(groupRef(p), p));
    expect(err.code).toBe('JOIN_GROUP_DIVERGED');
    expect(err.transient).toBe(false);
    expect(err.message).toContain(ORDERS);
    expect(err.message).toContain('customer-ids');
    expect(err.message).not.toContain(own.encryptedKeyMaterial!);
    expect(err.message).not.toContain(dekOf(registry, ANCHOR, 1)!.encryptedKeyMaterial!);
    expect(manager.peekWrite(groupRef(p), p)).toBeUndefined();
    expect((await failure(manager.dekForWrite(groupRef(p), p))).code).toBe('JOIN_GROUP_DIVERGED');
    expect(dekOf(registry, ORDERS, 1)?.encryptedKeyMaterial).toBe(own.encryptedKeyMaterial);
  });

  it('accepts a member holding the same key wrapped again (compared unwrapped, in memory)', async () => {
    const { manager, registry, clock } = setup();
    const p = params();
    await manager.getOrCreateKek(p, { create: true });
    const material = newDekMaterial('AES256_SIV');
    const anchor = await wrappedDek(ANCHOR, 1, material, clock.now);
    const member = await wrappedDek(ORDERS, 1, material, clock.now);
    expect(member.encryptedKeyMaterial).not.toBe(anchor.encryptedKeyMaterial);
    registry.put(anchor);
    registry.put(member);
    const dek = await manager.dekForWrite(groupRef(p), p);
    expect(dek.version).toBe(1);
    expect(dekOf(registry, PAYMENTS, 1)?.encryptedKeyMaterial).toBe(anchor.encryptedKeyMaterial);
  });

  it('rotates the group together: the anchor decides, the new version is created there and copied', async () => {
    const { manager, registry, clock } = setup();
    const p = params({ 'encrypt.dek.expiry.days': '1' });
    expect((await manager.dekForWrite(groupRef(p), p)).version).toBe(1);
    clock.advance(DAY + 1);
    const rotated = await manager.dekForWrite(groupRef(p), p);
    expect(rotated.version).toBe(2);
    const anchor2 = dekOf(registry, ANCHOR, 2)!;
    expect(anchor2.encryptedKeyMaterial).not.toBe(dekOf(registry, ANCHOR, 1)!.encryptedKeyMaterial);
    for (const subject of GROUP.members) {
      expect(dekOf(registry, subject, 2)).toMatchObject({ version: 2, algorithm: 'AES256_SIV', encryptedKeyMaterial: anchor2.encryptedKeyMaterial });
    }
    const creates = registry.createDekRequests.filter((r) => r.request.version === 2).map((r) => r.request.subject);
    expect(creates[0]).toBe(ANCHOR);
    expect(creates.sort()).toEqual([...GROUP.members]);
  });

  it('refuses a member rotated alone (a newer version the anchor lacks)', async () => {
    const { manager, registry, clock } = setup();
    const p = params({ 'encrypt.dek.expiry.days': '30' });
    await manager.dekForWrite(groupRef(p), p);
    registry.put(await wrappedDek(PAYMENTS, 2, newDekMaterial('AES256_SIV'), clock.now));
    manager.clear();
    expect((await failure(manager.dekForWrite(groupRef(p), p))).code).toBe('JOIN_GROUP_DIVERGED');
  });

  it('reads a group ref from its members: the anchor first, else any member that has the version', async () => {
    const { manager, registry, clock, make } = setup();
    const p = params();
    const written = await make().dekForWrite(groupRef(p), p);
    const ciphertext = written.cipher.encrypt(Buffer.from('x'));
    expect((await manager.dekForRead(groupRef(p), p, 1)).decrypt(ciphertext).toString()).toBe('x');
    expect(manager.peekRead(groupRef(p), 1)).toBeDefined();

    const material = newDekMaterial('AES256_SIV');
    registry.put(await wrappedDek(PAYMENTS, 7, material, clock.now));
    const onlyAtMember = await manager.dekForRead(groupRef(p), p, 7);
    const fromMember = await make(new JoinGroups()).dekForRead(dekRefOf(p, PAYMENTS), p, 7);
    expect(onlyAtMember.encrypt(Buffer.from('y')).equals(fromMember.encrypt(Buffer.from('y')))).toBe(true);
    const missing = await failure(manager.dekForRead(groupRef(p), p, 9));
    expect(missing.code).toBe('DEK_NOT_FOUND');
    expect(missing.message).toContain('join group customer-ids');
  });

  it('shared KEK: the registry makes the anchor material once; members get the same encryptedKeyMaterial', async () => {
    const { manager, registry } = setup();
    registry.keks.set('kek1', { name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: true });
    const p = params();
    await manager.dekForWrite(groupRef(p), p);
    const anchor = dekOf(registry, ANCHOR, 1)!;
    expect(registry.createDekRequests[0]?.request.encryptedKeyMaterial).toBeUndefined();
    for (const subject of GROUP.members) expect(dekOf(registry, subject, 1)?.encryptedKeyMaterial).toBe(anchor.encryptedKeyMaterial);
  });

  it('checks at start, registering nothing: a member holding its own DEK while the anchor has none is refused', async () => {
    const { manager, registry, clock } = setup();
    const p = params();
    await manager.checkJoinGroup(groupRef(p), p); // no KEK yet: nothing to diverge
    await manager.getOrCreateKek(p, { create: true });
    await manager.checkJoinGroup(groupRef(p), p);
    registry.put(await wrappedDek(PAYMENTS, 1, newDekMaterial('AES256_SIV'), clock.now));
    const creates = registry.calls['createDek'];
    const err = await failure(manager.checkJoinGroup(groupRef(p), p));
    expect(err.code).toBe('JOIN_GROUP_DIVERGED');
    expect(err.message).toContain(`subject ${PAYMENTS} holds DEK version 1 of KEK kek1 (AES256_SIV) while the anchor subject has none yet`);
    expect(registry.calls['createDek']).toBe(creates);
    // A plain subject ref is not a group's: nothing to check.
    await manager.checkJoinGroup(dekRefOf(p, PAYMENTS), p);
  });

  it('checks at start: members that hold the anchor material pass, other material or a member ahead (expiry) is refused', async () => {
    const { manager, registry, clock } = setup();
    const p = params({ 'encrypt.dek.expiry.days': '30' });
    await manager.dekForWrite(groupRef(p), p);
    await manager.checkJoinGroup(groupRef(p), p);
    registry.put(await wrappedDek(ORDERS, 2, newDekMaterial('AES256_SIV'), clock.now));
    expect((await failure(manager.checkJoinGroup(groupRef(p), p))).code).toBe('JOIN_GROUP_DIVERGED');

    const fresh = setup();
    const q = params();
    await fresh.manager.getOrCreateKek(q, { create: true });
    fresh.registry.put(await wrappedDek(ANCHOR, 1, newDekMaterial('AES256_SIV'), fresh.clock.now));
    fresh.registry.put(await wrappedDek(ORDERS, 1, newDekMaterial('AES256_SIV'), fresh.clock.now));
    const err = await failure(fresh.manager.checkJoinGroup(groupRef(q), q));
    expect(err.message).toContain(`subject ${ORDERS} holds DEK version 1 of KEK kek1 (AES256_SIV) with other key material than the anchor subject`);
  });

  it('a plain subject ref is unchanged by the groups (one DEK under that subject only)', async () => {
    const { manager, registry } = setup();
    const p = params();
    await manager.dekForWrite(dekRefOf(p, ORDERS), p);
    expect([...registry.deks.values()].map((d) => d.subject)).toEqual([ORDERS]);
  });
});
