// Durability: a restart (graceful or SIGKILL) on the same dataDir keeps every schema, KEK and DEK,
// and the official deserializer still decrypts what was written before.
import {
  AvroDeserializer,
  AvroSerializer,
  DekRegistryClient,
  FieldEncryptionExecutor,
  LocalKmsDriver,
  RuleRegistry,
  SchemaRegistryClient,
  SerdeType,
  type Rule,
} from '@confluentinc/schemaregistry';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DekRegistryClient as OurDekClient } from '../../../src/registry/dek-registry-client.js';
import { SchemaRegistryClient as OurSchemaClient } from '../../../src/registry/schema-registry-client.js';
import { LOCAL_SECRET, call, spawnRegistry, start, tempDir, uniq, type ChildRegistry } from './helpers.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});
beforeAll(() => {
  process.env['LOCAL_SECRET'] ??= LOCAL_SECRET;
  LocalKmsDriver.register();
});

const schema = JSON.stringify({
  type: 'record',
  name: 'Customer',
  fields: [
    { name: 'id', type: 'int' },
    { name: 'ssn', type: 'string', 'confluent:tags': ['PII'] },
  ],
});

function serdes(url: string) {
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const client = new SchemaRegistryClient({ baseURLs: [url] });
  return {
    client,
    serializer: new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true, ruleConfig: { secret: LOCAL_SECRET } }, rules),
    deserializer: new AvroDeserializer(client, SerdeType.VALUE, { ruleConfig: { secret: LOCAL_SECRET } }, rules),
  };
}

const rule = (kek: string): Rule =>
  ({
    name: 'enc',
    kind: 'TRANSFORM',
    mode: 'WRITEREAD',
    type: 'ENCRYPT',
    tags: ['PII'],
    params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'mykey' },
  }) as Rule;

/** Writes a bit of everything; returns what to check after the restart. */
async function writeEverything(url: string) {
  const topic = uniq('cust');
  const kek = uniq('kek');
  const sharedKek = uniq('shared');
  const { client, serializer } = serdes(url);
  const reg = await client.registerFullResponse(`${topic}-value`, { schemaType: 'AVRO', schema, ruleSet: { domainRules: [rule(kek)] } });
  const message = await serializer.serialize(topic, { id: 1, ssn: '123-45-6789' });
  const dekClient = new DekRegistryClient({ baseURLs: [url] });
  await dekClient.registerKek(sharedKek, 'local-kms', 'mykey', true);
  const sharedDek = await dekClient.registerDek(sharedKek, 'other-value', 'AES128_GCM' as never, 1);
  const ours = new OurDekClient({ baseUrls: url });
  await ours.deleteDekVersion(sharedKek, 'other-value', 1, 'AES128_GCM'); // a soft delete must survive too
  await client.updateCompatibility(`${topic}-value`, 'NONE' as never);
  return { topic, kek, sharedKek, reg, message, sharedDek };
}

async function checkEverything(url: string, w: Awaited<ReturnType<typeof writeEverything>>) {
  const { client, deserializer } = serdes(url);
  expect(await client.getBySubjectAndId(`${w.topic}-value`, w.reg.id as number)).toMatchObject({ schema });
  expect(await client.getByGuid(w.reg.guid as string)).toMatchObject({ schema });
  expect(await client.getLatestSchemaMetadata(`${w.topic}-value`)).toMatchObject({ id: w.reg.id, version: 1 });
  expect(await client.getCompatibility(`${w.topic}-value`)).toBe('NONE');
  expect(await deserializer.deserialize(w.topic, w.message)).toEqual({ id: 1, ssn: '123-45-6789' });
  const ours = new OurDekClient({ baseUrls: url });
  expect(await ours.getKek(w.kek)).toMatchObject({ name: w.kek, shared: false });
  expect(await ours.getDek(w.sharedKek, 'other-value', 1, 'AES128_GCM')).toBeNull();
  const dek = await ours.getDek(w.sharedKek, 'other-value', 1, 'AES128_GCM', true);
  expect(dek).toMatchObject({ deleted: true, encryptedKeyMaterial: w.sharedDek.encryptedKeyMaterial, keyMaterial: w.sharedDek.keyMaterial });
  // ids keep increasing after a restart
  const next = await new OurSchemaClient({ baseUrls: url }).register(`${uniq('after')}-value`, { schema: '"bytes"' });
  expect(next.id).toBeGreaterThan(w.reg.id as number);
}

describe('dev registry persistence', () => {
  it('keeps everything across a graceful restart on the same dataDir', async () => {
    const data = tempDir();
    cleanups.push(data.remove);
    const first = await start(data.dir);
    const written = await writeEverything(first.url);
    await first.close();
    const second = await start(data.dir);
    cleanups.push(() => second.close());
    await checkEverything(second.url, written);
  });

  it('loses nothing acknowledged when the process is SIGKILLed', async () => {
    const data = tempDir();
    cleanups.push(data.remove);
    const first: ChildRegistry = await spawnRegistry(data.dir);
    cleanups.push(() => {
      if (first.child.exitCode === null && first.child.signalCode === null) first.child.kill('SIGKILL');
    });
    const written = await writeEverything(first.url);
    first.child.kill('SIGKILL');
    expect(await first.exited).toBe('SIGKILL');

    const second = await spawnRegistry(data.dir);
    cleanups.push(async () => {
      second.child.kill('SIGTERM');
      expect(await second.exited).toBe(0); // graceful shutdown on SIGTERM
    });
    await checkEverything(second.url, written);
  });

  it('serves /schemas/ids/{id} for ids from before the restart and 40403 for unknown ones', async () => {
    const data = tempDir();
    cleanups.push(data.remove);
    const a = await start(data.dir);
    const { id } = await new OurSchemaClient({ baseUrls: a.url }).register(`${uniq('x')}-value`, { schema: '"string"' });
    await a.close();
    const b = await start(data.dir);
    cleanups.push(() => b.close());
    expect(await call(b.url, 'GET', `/schemas/ids/${id}`)).toMatchObject({ status: 200, body: { schema: '"string"' } });
    expect(await call(b.url, 'GET', `/schemas/ids/${id + 1000}`)).toMatchObject({ status: 404, body: { error_code: 40403 } });
  });
});
