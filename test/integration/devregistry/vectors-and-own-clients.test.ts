// The CSFLE-NOTES cross-client vector decrypts through the dev registry with the official deserializer,
// and recrypt's own registry clients work against it.
import { AvroDeserializer, FieldEncryptionExecutor, LocalKmsDriver, RuleRegistry, SchemaRegistryClient as OfficialClient, SerdeType } from '@confluentinc/schemaregistry';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/server.js';
import { DekRegistryClient } from '../../../src/registry/dek-registry-client.js';
import { SchemaRegistryClient } from '../../../src/registry/schema-registry-client.js';
import { LOCAL_SECRET, tempDir, uniq, start } from './helpers.js';

const open: DevRegistry[] = [];
const dirs: Array<ReturnType<typeof tempDir>> = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((r) => r.close()));
  for (const d of dirs.splice(0)) d.remove();
});
beforeAll(() => {
  process.env['LOCAL_SECRET'] ??= LOCAL_SECRET;
  LocalKmsDriver.register();
});

describe('CSFLE vector A (AES256_GCM) through the dev registry', () => {
  it('the official deserializer decrypts the shared vector with the DEK stored here', async () => {
    const registry = await startDevRegistry({ port: 0, localSecret: LOCAL_SECRET }); // in memory: the schema gets id 1
    open.push(registry);
    const schema = '{"name":"F1Schema","type":"record","fields":[{"name":"f1","type":"string","confluent:tags":["PII"]}]}';
    const client = new SchemaRegistryClient({ baseUrls: registry.url });
    const reg = await client.register('topic1-value', {
      schemaType: 'AVRO',
      schema,
      ruleSet: {
        domainRules: [
          { name: 'test-encrypt', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'kek1', 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'mykey' }, onFailure: 'ERROR,NONE' },
        ],
      },
    });
    expect(reg.id).toBe(1);
    const deks = new DekRegistryClient({ baseUrls: registry.url });
    await deks.createKek({ name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey' });
    await deks.createDek('kek1', {
      subject: 'topic1-value',
      version: 1,
      algorithm: 'AES256_GCM',
      encryptedKeyMaterial: '07V2ndh02DA73p+dTybwZFm7DKQSZN1tEwQh+FoX1DZLk4Yj2LLu4omYjp/84tAg3BYlkfGSz+zZacJHIE4=',
    });

    const rules = new RuleRegistry();
    rules.registerExecutor(new FieldEncryptionExecutor());
    const deserializer = new AvroDeserializer(new OfficialClient({ baseURLs: [registry.url] }), SerdeType.VALUE, { ruleConfig: { secret: LOCAL_SECRET } }, rules);
    const message = Buffer.from(
      '0000000001687a67792f6a464e4d562f6546696c6148724d796542676461567a725230756447656f74573863412f4a616c37756b722b4d2f797a',
      'hex',
    );
    expect(await deserializer.deserialize('topic1', message)).toEqual({ f1: 'hello world' });
  });
});

describe("recrypt's registry clients against the dev registry", () => {
  it('register, lookup, by id, by GUID, latest, version, metadata', async () => {
    const data = tempDir();
    dirs.push(data);
    const registry = await start(data.dir);
    open.push(registry);
    const c = new SchemaRegistryClient({ baseUrls: registry.url });
    const subject = `${uniq('own')}-value`;
    const info = { schemaType: 'JSON' as const, schema: '{"type":"object","properties":{"a":{"type":"string"}}}', metadata: { properties: { team: 'x' } } };
    const r = await c.register(subject, info);
    expect(r).toMatchObject({ id: expect.any(Number), version: 1, subject, schemaType: 'JSON' });
    expect(r.guid).toBeDefined();
    await expect(c.lookup(subject, info)).resolves.toMatchObject({ id: r.id, version: 1 });
    await expect(c.getById(r.id, subject)).resolves.toMatchObject({ id: r.id, schemaType: 'JSON', guid: r.guid });
    await expect(c.getByGuid(r.guid as string)).resolves.toMatchObject({ id: r.id });
    await expect(c.getLatest(subject)).resolves.toMatchObject({ id: r.id, version: 1 });
    await expect(c.getVersion(subject, 1)).resolves.toMatchObject({ id: r.id });
    await expect(c.getLatestWithMetadata(subject, { team: 'x' })).resolves.toMatchObject({ id: r.id });
    await expect(c.getLatestWithMetadata(subject, { team: 'y' })).rejects.toMatchObject({ code: 'REGISTRY_NOT_FOUND', errorCode: 40403 });
    await expect(c.getIdVersions(r.id)).resolves.toEqual([{ subject, version: 1 }]);
    await expect(c.getLatest(uniq('none'))).rejects.toMatchObject({ code: 'REGISTRY_NOT_FOUND', status: 404, errorCode: 40401 });
    await expect(c.updateConfig({ compatibility: 'NONE' }, subject)).resolves.toMatchObject({ compatibility: 'NONE' });
    await expect(c.getConfig(subject)).resolves.toMatchObject({ compatibilityLevel: 'NONE' });
  });

  it('KEK and DEK lifecycle: create, list, soft delete, undelete, permanent delete', async () => {
    const data = tempDir();
    dirs.push(data);
    const registry = await start(data.dir);
    open.push(registry);
    const c = new DekRegistryClient({ baseUrls: registry.url });
    const kek = uniq('kek');
    const subject = `${uniq('t')}-value`;
    expect(await c.getKek(kek)).toBeNull();
    await c.createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: 'mykey', shared: true, doc: 'demo' });
    await expect(c.createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: 'mykey', shared: true, doc: 'demo' })).rejects.toMatchObject({ code: 'REGISTRY_CONFLICT' });
    expect(await c.listKeks()).toContain(kek);
    const d1 = await c.createDek(kek, { subject });
    expect(d1).toMatchObject({ version: 1, algorithm: 'AES256_GCM' });
    expect(Buffer.from(d1.keyMaterial as string, 'base64').subarray(0, 2)).toEqual(Buffer.from([0x1a, 0x20]));
    await c.createDek(kek, { subject, version: 2 });
    expect(await c.listDekSubjects(kek)).toEqual([subject]);
    expect(await c.listDekVersions(kek, subject)).toEqual([1, 2]);
    expect((await c.getDek(kek, subject, -1, 'AES256_GCM'))?.version).toBe(2);
    expect(await c.getDek(kek, subject, 1, 'AES128_GCM')).toBeNull();

    await expect(c.deleteKek(kek)).rejects.toMatchObject({ code: 'REGISTRY_INVALID', errorCode: 42272 });
    await c.deleteDekVersion(kek, subject, 2);
    expect((await c.getDek(kek, subject, -1, 'AES256_GCM'))?.version).toBe(1);
    expect(await c.getDek(kek, subject, 2, 'AES256_GCM', true)).toMatchObject({ version: 2, deleted: true });
    await c.undeleteDekVersion(kek, subject, 2);
    await c.deleteDek(kek, subject);
    expect(await c.getDek(kek, subject, -1, 'AES256_GCM')).toBeNull();
    await c.undeleteDek(kek, subject);
    expect(await c.listDekVersions(kek, subject)).toEqual([1, 2]);
    await c.deleteDek(kek, subject);
    await c.deleteDek(kek, subject, undefined, true);
    await c.deleteKek(kek);
    expect(await c.getKek(kek)).toBeNull();
    expect(await c.getKek(kek, true)).toMatchObject({ deleted: true });
    await c.undeleteKek(kek);
    expect(await c.updateKek(kek, { doc: 'changed', kmsProps: { a: 'b' } })).toMatchObject({ doc: 'changed', kmsProps: { a: 'b' }, shared: true });
    await c.deleteKek(kek);
    await c.deleteKek(kek, true);
    expect(await c.getKek(kek, true)).toBeNull();
  });
});
