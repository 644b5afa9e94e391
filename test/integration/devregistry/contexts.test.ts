// Schema Registry contexts in the dev registry: qualified subjects (`:.team:orders-value`) register and
// read like any subject, and KEKs are per context: `?context=.team` on the KEK endpoints (what Confluent's
// clients send), and a DEK binds to the KEK of its subject's context.
import { SchemaRegistryClient as OfficialClient } from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevRegistry } from '../../../src/devregistry/server.js';
import { DekRegistryClient } from '../../../src/registry/dek-registry-client.js';
import { SchemaRegistryClient } from '../../../src/registry/schema-registry-client.js';
import { call, start, tempDir, uniq } from './helpers.js';

let registry: DevRegistry;
const dir = tempDir();
beforeAll(async () => { registry = await start(dir.dir); });
afterAll(async () => { await registry.close(); dir.remove(); });

const AVRO = '{"type":"record","name":"Order","fields":[{"name":"id","type":"string"}]}';

describe('dev registry: contexts', () => {
  it('registers and reads a qualified subject through recrypt\'s client and the official one; GET /contexts lists the context', async () => {
    const team = `.${uniq('team')}`;
    const subject = `:${team}:orders-value`;
    const ours = new SchemaRegistryClient({ baseUrls: [registry.url] });
    const reg = await ours.register(subject, { schema: AVRO });
    expect((await ours.getLatest(subject)).id).toBe(reg.id);
    const official = new OfficialClient({ baseURLs: [registry.url], cacheCapacity: 10 });
    expect((await official.getLatestSchemaMetadata(subject)).id).toBe(reg.id);
    expect(await official.getBySubjectAndId(subject, reg.id)).toMatchObject({ schema: AVRO });
    expect((await call(registry.url, 'GET', '/subjects')).body).toContain(subject);
    const contexts = (await call(registry.url, 'GET', '/contexts')).body as string[];
    expect(contexts[0]).toBe('.');
    expect(contexts).toContain(team);
  });

  it('KEKs of the same name in two contexts are two KEKs; a DEK binds to the KEK of its subject\'s context', async () => {
    const team = `.${uniq('team')}`;
    const kek = uniq('kek');
    const deks = new DekRegistryClient({ baseUrls: [registry.url] });
    await deks.createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: 'default-key' });
    await deks.createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: 'team-key' }, team);
    expect(await deks.getKek(kek)).toMatchObject({ name: kek, kmsKeyId: 'default-key' });
    expect(await deks.getKek(kek, false, team)).toMatchObject({ name: kek, kmsKeyId: 'team-key' });
    expect(await deks.getKek(kek, false, `.${uniq('other')}`)).toBeNull();
    // the same name again in the same context is 409, as without contexts
    await expect(deks.createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: 'x' }, team)).rejects.toMatchObject({ status: 409 });
    expect((await call(registry.url, 'GET', `/dek-registry/v1/keks?context=${team}`)).body).toEqual([kek]);
    expect((await call(registry.url, 'GET', '/dek-registry/v1/keks')).body).toContain(kek);

    const material = Buffer.alloc(44, 1).toString('base64');
    const qualified = `:${team}:orders-value`;
    const created = await deks.createDek(kek, { subject: qualified, encryptedKeyMaterial: material });
    expect(created).toMatchObject({ kekName: kek, subject: qualified, version: 1 });
    expect(await deks.getDek(kek, qualified, 1, 'AES256_GCM')).toMatchObject({ kekName: kek, encryptedKeyMaterial: material });
    // the team KEK's DEK subjects; the default-context KEK has none
    expect((await call(registry.url, 'GET', `/dek-registry/v1/keks/${kek}/deks?context=${team}`)).body).toEqual([qualified]);
    expect((await call(registry.url, 'GET', `/dek-registry/v1/keks/${kek}/deks`)).body).toEqual([]);
    // a DEK of a context with no such KEK: 404
    const lonely = `:.${uniq('nokek')}:orders-value`;
    await expect(deks.createDek(kek, { subject: lonely, encryptedKeyMaterial: material })).rejects.toMatchObject({ status: 404 });
  });

  it('a context that is not `.name` is refused with 422/42271', async () => {
    const res = await call(registry.url, 'GET', `/dek-registry/v1/keks/${uniq('kek')}?context=team`);
    expect(res.status).toBe(422);
    expect(res.body).toMatchObject({ error_code: 42271 });
  });

  it('persists KEKs per context across a restart', async () => {
    const team = `.${uniq('team')}`;
    const kek = uniq('kek');
    const local = tempDir();
    const first = await start(local.dir);
    await new DekRegistryClient({ baseUrls: [first.url] }).createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: 'team-key' }, team);
    await first.close();
    const second = await start(local.dir);
    try {
      const deks = new DekRegistryClient({ baseUrls: [second.url] });
      expect(await deks.getKek(kek, false, team)).toMatchObject({ name: kek, kmsKeyId: 'team-key' });
      expect(await deks.getKek(kek)).toBeNull();
    } finally {
      await second.close();
      local.remove();
    }
  });
});
