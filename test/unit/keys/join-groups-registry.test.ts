// Join groups over HTTP against the in-process dev registry (Confluent's DEK Registry semantics): the
// anchor protocol with a client-wrapped KEK and with a shared KEK (registry-made material), two managers
// racing, and divergence refused. The fake-based tests are in join-groups.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/index.js';
import { DekManager } from '../../../src/keys/dek-manager.js';
import { joinGroup, JoinGroups } from '../../../src/keys/join-groups.js';
import { dekRefOf } from '../../../src/keys/key-ids.js';
import { DekRegistryClient } from '../../../src/registry/index.js';
import { resolveEncryptionParams } from '../../../src/rules/encryption-params.js';
import { RecryptError } from '../../../src/util/errors.js';
import { CountingKms, SECRET } from './fakes.js';

let registry: DevRegistry;
let client: DekRegistryClient;
beforeAll(async () => {
  registry = await startDevRegistry({ port: 0, localSecret: SECRET });
  client = new DekRegistryClient({ baseUrls: [registry.url] });
});
afterAll(async () => { await registry.close(); });

const params = (kek: string) => resolveEncryptionParams({
  name: 'encryptIds', type: 'ENCRYPT', tags: ['PII'],
  params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'mykey', 'encrypt.dek.algorithm': 'AES256_SIV' },
}, undefined);

function manager(groups: JoinGroups): DekManager {
  return new DekManager({ dekRegistry: client, kms: new CountingKms(), kmsProps: { secret: SECRET }, joinGroups: groups });
}

async function materials(kek: string, subjects: readonly string[]): Promise<Array<string | undefined>> {
  return Promise.all(subjects.map(async (s) => (await client.getDek(kek, s, 1, 'AES256_SIV'))?.encryptedKeyMaterial ?? undefined));
}

describe('join groups against the dev registry', () => {
  it.each([false, true])('shared KEK %s: two racing managers leave one material under every subject, and SIV is equal across them', async (shared) => {
    const kek = `group-kek-${String(shared)}`;
    await client.createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: 'mykey', shared });
    const group = joinGroup(`ids-${String(shared)}`, [`b-${kek}-value`, `a-${kek}-value`, `c-${kek}-value`]);
    const groups = new JoinGroups([group]);
    const p = params(kek);
    const ref = dekRefOf(p, group.scope);
    const [one, two] = await Promise.all([manager(groups).dekForWrite(ref, p), manager(groups).dekForWrite(ref, p)]);
    expect(one.cipher.encrypt(Buffer.from('id-7')).equals(two.cipher.encrypt(Buffer.from('id-7')))).toBe(true);
    const found = await materials(kek, group.members);
    expect(found[0]).toBeDefined();
    expect(new Set(found).size).toBe(1);
    // A reader of one member subject alone, as a Confluent consumer does.
    const plain = manager(new JoinGroups());
    const alone = await plain.dekForRead(dekRefOf(p, group.members[2]!), p, 1);
    expect(alone.decrypt(one.cipher.encrypt(Buffer.from('id-7'))).toString()).toBe('id-7');
  });

  it('refuses a member that holds its own DEK (JOIN_GROUP_DIVERGED) and leaves it as it was', async () => {
    const kek = 'group-kek-diverged';
    const p = params(kek);
    const own = await manager(new JoinGroups()).dekForWrite(dekRefOf(p, 'z-own-value'), p);
    expect(own.version).toBe(1);
    const before = await materials(kek, ['z-own-value']);
    const group = joinGroup('ids-diverged', ['a-anchor-value', 'z-own-value']);
    const p2 = params(kek);
    const err = await manager(new JoinGroups([group])).dekForWrite(dekRefOf(p2, group.scope), p2).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(RecryptError);
    expect((err as RecryptError).code).toBe('JOIN_GROUP_DIVERGED');
    expect(await materials(kek, ['z-own-value'])).toEqual(before);
  });
});
