// Contract tests: the official @confluentinc/schemaregistry clients work against the dev registry,
// unchanged: SchemaRegistryClient, DekRegistryClient, and Avro serdes with field encryption.
import {
  AvroDeserializer,
  AvroSerializer,
  Clock,
  DekRegistryClient,
  FieldEncryptionExecutor,
  LocalKmsDriver,
  RuleRegistry,
  SchemaRegistryClient,
  SerdeType,
  type ClientConfig,
  type Rule,
  type SchemaInfo,
} from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DevRegistry } from '../../../src/devregistry/server.js';
import { LOCAL_SECRET, start, tempDir, uniq } from './helpers.js';

let registry: DevRegistry;
let data: ReturnType<typeof tempDir>;

beforeAll(async () => {
  process.env['LOCAL_SECRET'] ??= LOCAL_SECRET;
  LocalKmsDriver.register();
  data = tempDir();
  registry = await start(data.dir);
});
afterAll(async () => {
  await registry.close();
  data.remove();
});

const config = (): ClientConfig => ({ baseURLs: [registry.url], cacheCapacity: 1000 });

const piiSchema = (name: string) =>
  JSON.stringify({
    type: 'record',
    name,
    namespace: 'test.recrypt',
    fields: [
      { name: 'id', type: 'int' },
      { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
      { name: 'note', type: ['null', 'string'], default: null },
    ],
  });

function encryptRule(kek: string, extra: Record<string, string> = {}): Rule {
  return {
    name: 'encryptPII',
    kind: 'TRANSFORM',
    mode: 'WRITEREAD',
    type: 'ENCRYPT',
    tags: ['PII'],
    params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'mykey', ...extra },
    onFailure: 'ERROR,ERROR',
  } as Rule;
}

class ManualClock extends Clock {
  t = Date.now();
  override now(): number {
    return this.t;
  }
}

/** A serializer/deserializer pair with their own rule registry and encryption executor. */
function serdes(clock: Clock = new Clock()) {
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor(clock));
  const client = new SchemaRegistryClient(config());
  const serializer = new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: true, ruleConfig: { secret: LOCAL_SECRET } }, rules);
  const deserializer = new AvroDeserializer(client, SerdeType.VALUE, { ruleConfig: { secret: LOCAL_SECRET } }, rules);
  return { client, serializer, deserializer };
}

describe('SchemaRegistryClient against the dev registry', () => {
  it('registers, dedups ids, and reads back by id, GUID, version, latest and metadata', async () => {
    const client = new SchemaRegistryClient(config());
    const subject = `${uniq('orders')}-value`;
    const other = `${uniq('copy')}-value`;
    const v1: SchemaInfo = { schemaType: 'AVRO', schema: piiSchema('Order'), metadata: { properties: { owner: 'team-a', app: 'x' } } };

    const r1 = await client.registerFullResponse(subject, v1);
    const id1 = r1.id as number;
    expect(id1).toBeGreaterThan(0);
    expect(r1.guid).toMatch(/^[0-9a-f-]{36}$/);
    expect(r1.version).toBe(1);
    // same schema again: same id; under another subject: same id and GUID
    expect(await new SchemaRegistryClient(config()).register(subject, v1)).toBe(r1.id);
    const rOther = await client.registerFullResponse(other, v1);
    expect(rOther.id).toBe(r1.id);
    expect(rOther.guid).toBe(r1.guid);

    // a new version with a rule set gets a new, larger id
    const v2: SchemaInfo = { ...v1, ruleSet: { domainRules: [encryptRule(uniq('kek'))] }, metadata: { properties: { owner: 'team-b' } } };
    const r2 = await client.registerFullResponse(subject, v2);
    expect(r2.id).toBeGreaterThan(id1);
    expect(r2.version).toBe(2);

    const byId = await client.getBySubjectAndId(subject, id1);
    expect(JSON.parse(byId.schema)).toEqual(JSON.parse(v1.schema));
    expect(byId.metadata?.properties).toEqual({ owner: 'team-a', app: 'x' });
    expect((await client.getByGuid(r2.guid as string)).ruleSet?.domainRules?.[0]?.type).toBe('ENCRYPT');

    const latest = await client.getLatestSchemaMetadata(subject);
    expect(latest).toMatchObject({ id: r2.id, version: 2, subject, guid: r2.guid });
    expect(latest.ruleSet?.domainRules?.[0]?.params?.['encrypt.kms.type']).toBe('local-kms');
    expect(await client.getSchemaMetadata(subject, 1)).toMatchObject({ id: r1.id, version: 1 });
    expect(await client.getLatestWithMetadata(subject, { owner: 'team-a' })).toMatchObject({ id: r1.id, version: 1 });
    expect(await client.getLatestWithMetadata(subject, { owner: 'team-b' })).toMatchObject({ id: r2.id, version: 2 });
    await expect(client.getLatestWithMetadata(subject, { owner: 'nobody' })).rejects.toMatchObject({ status: 404, errorCode: 40403 });

    expect(await client.getAllVersions(subject)).toEqual([1, 2]);
    expect(await client.getAllSubjects()).toEqual(expect.arrayContaining([subject, other]));
    expect(await client.getId(subject, v1)).toBe(r1.id);
    expect(await client.getVersion(subject, v2)).toBe(2);

    // registering without a rule set inherits the latest version's: it is the same schema as v2
    expect(await new SchemaRegistryClient(config()).register(subject, { schemaType: 'AVRO', schema: v1.schema })).toBe(r2.id);
  });

  it('deletes versions and subjects, soft then permanent, and manages config', async () => {
    const client = new SchemaRegistryClient(config());
    const subject = `${uniq('del')}-value`;
    await client.register(subject, { schemaType: 'AVRO', schema: '"string"' });
    await client.register(subject, { schemaType: 'AVRO', schema: '{"type":"record","name":"R","fields":[]}' });
    expect(await client.deleteSubjectVersion(subject, 2)).toBe(2);
    expect(await client.getAllVersions(subject)).toEqual([1]);
    await expect(client.deleteSubjectVersion(subject, 1, true)).rejects.toMatchObject({ status: 404, errorCode: 40407 });
    expect(await client.deleteSubject(subject)).toEqual([1]);
    await expect(client.getLatestSchemaMetadata(subject)).rejects.toMatchObject({ status: 404, errorCode: 40401 });
    expect(await client.getSchemaMetadata(subject, 1, true)).toMatchObject({ version: 1 });
    expect(await client.deleteSubject(subject, true)).toEqual([1, 2]);
    await expect(client.getSchemaMetadata(subject, 1, true)).rejects.toMatchObject({ status: 404, errorCode: 40401 });

    expect(await client.updateCompatibility(subject, 'FULL' as never)).toBe('FULL');
    expect(await client.getCompatibility(subject)).toBe('FULL');
    expect(await client.getDefaultCompatibility()).toBe('BACKWARD');
  });
});

describe('DekRegistryClient against the dev registry', () => {
  it('registers and reads KEKs and DEKs; version -1 is the latest', async () => {
    const client = new DekRegistryClient(config());
    const kekName = uniq('kek');
    const kek = await client.registerKek(kekName, 'local-kms', 'mykey', false, { region: 'eu' }, 'a doc');
    expect(kek).toMatchObject({ name: kekName, kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false, kmsProps: { region: 'eu' }, doc: 'a doc' });
    expect(await new DekRegistryClient(config()).getKek(kekName)).toMatchObject({ name: kekName, shared: false });

    const subject = `${uniq('topic')}-value`;
    const d1 = await client.registerDek(kekName, subject, 'AES256_GCM' as never, 1, Buffer.from('wrapped-1').toString('base64'));
    expect(d1).toMatchObject({ kekName, subject, version: 1, algorithm: 'AES256_GCM' });
    expect(d1.ts).toBeGreaterThan(0);
    expect(d1.keyMaterial).toBeUndefined();
    await client.registerDek(kekName, subject, 'AES256_GCM' as never, 2, Buffer.from('wrapped-2').toString('base64'));
    const latest = await new DekRegistryClient(config()).getDek(kekName, subject, 'AES256_GCM' as never, -1);
    expect(latest).toMatchObject({ version: 2, encryptedKeyMaterial: Buffer.from('wrapped-2').toString('base64') });
    expect(await new DekRegistryClient(config()).getDek(kekName, subject, 'AES256_GCM' as never, 1)).toMatchObject({ version: 1 });
    // the same DEK version again: 409, which the executor treats as "someone else won"
    await expect(new DekRegistryClient(config()).registerDek(kekName, subject, 'AES256_GCM' as never, 2, 'QUJD')).rejects.toMatchObject({
      status: 409,
      errorCode: 40971,
    });
    await expect(client.getKek(uniq('missing'))).rejects.toMatchObject({ status: 404, errorCode: 40470 });
  });

  it('generates, wraps and returns keyMaterial for a shared KEK', async () => {
    const client = new DekRegistryClient(config());
    const kekName = uniq('shared');
    await client.registerKek(kekName, 'local-kms', 'mykey', true);
    const dek = await client.registerDek(kekName, `${uniq('t')}-value`, 'AES256_SIV' as never, 1);
    expect(dek.encryptedKeyMaterial).toBeTruthy();
    const raw = Buffer.from(dek.keyMaterial as string, 'base64');
    expect(raw.subarray(0, 2)).toEqual(Buffer.from([0x12, 0x40]));
    expect(raw).toHaveLength(66);
    // the official local-kms client unwraps what the dev registry wrapped
    const kms = new LocalKmsDriver().newKmsClient(new Map([['secret', LOCAL_SECRET]]), 'local-kms://mykey');
    const unwrapped = await kms.decrypt(Buffer.from(dek.encryptedKeyMaterial as string, 'base64'));
    expect(Buffer.from(unwrapped)).toEqual(raw);
  });
});

describe('Avro serdes with field encryption through the dev registry', () => {
  it('round-trips a record whose PII field is encrypted; the executor auto-creates the KEK and DEK', async () => {
    const kekName = uniq('kek');
    const topic = uniq('orders');
    const { client, serializer, deserializer } = serdes();
    await client.register(`${topic}-value`, { schemaType: 'AVRO', schema: piiSchema('Order'), ruleSet: { domainRules: [encryptRule(kekName)] } });

    const record = { id: 7, email: 'alice@example.com', note: null };
    // the serializer encrypts fields in place: hand it a copy
    const bytes = await serializer.serialize(topic, { ...record });
    expect(bytes.includes(Buffer.from('alice@example.com'))).toBe(false);
    expect(await deserializer.deserialize(topic, bytes)).toEqual(record);

    // a fresh deserializer (cold caches) decrypts too
    expect(await serdes().deserializer.deserialize(topic, bytes)).toEqual(record);

    const dekClient = new DekRegistryClient(config());
    expect(await dekClient.getKek(kekName)).toMatchObject({ kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false });
    expect(await dekClient.getDek(kekName, `${topic}-value`, 'AES256_GCM' as never, 1)).toMatchObject({ version: 1 });
  });

  it('round-trips with a shared KEK (the registry generates the DEK) and deterministic AES256_SIV', async () => {
    const kekName = uniq('shared');
    const topic = uniq('joins');
    await new DekRegistryClient(config()).registerKek(kekName, 'local-kms', 'mykey', true);
    const { client, serializer, deserializer } = serdes();
    await client.register(`${topic}-value`, {
      schemaType: 'AVRO',
      schema: piiSchema('Join'),
      ruleSet: { domainRules: [encryptRule(kekName, { 'encrypt.dek.algorithm': 'AES256_SIV' })] },
    });
    const record = { id: 1, email: 'bob@example.com', note: 'hi' };
    const a = await serializer.serialize(topic, { ...record });
    const b = await serdes().serializer.serialize(topic, { ...record });
    expect(Buffer.compare(a, b)).toBe(0); // deterministic: same DEK from the registry, same ciphertext
    expect(await deserializer.deserialize(topic, a)).toEqual(record);
  });

  it('rotates the DEK with encrypt.dek.expiry.days and still reads old messages', async () => {
    const kekName = uniq('rot');
    const topic = uniq('rotating');
    const clock = new ManualClock();
    const { client, serializer, deserializer } = serdes(clock);
    await client.register(`${topic}-value`, {
      schemaType: 'AVRO',
      schema: piiSchema('Rot'),
      ruleSet: { domainRules: [encryptRule(kekName, { 'encrypt.dek.expiry.days': '1' })] },
    });
    const first = await serializer.serialize(topic, { id: 1, email: 'one@example.com', note: null });
    clock.t += 2 * 86_400_000;
    const { serializer: later } = serdes(clock);
    const second = await later.serialize(topic, { id: 2, email: 'two@example.com', note: null });

    const dekClient = new DekRegistryClient(config());
    expect(await dekClient.getDek(kekName, `${topic}-value`, 'AES256_GCM' as never, -1)).toMatchObject({ version: 2 });
    expect(await deserializer.deserialize(topic, first)).toMatchObject({ email: 'one@example.com' });
    expect(await serdes().deserializer.deserialize(topic, second)).toMatchObject({ email: 'two@example.com' });
  });
});
