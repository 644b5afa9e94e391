// `recrypt rewrap-deks` end to end: DEKs (several versions, one soft-deleted) of a KEK on moto's AWS
// KMS are re-wrapped under a second key; the old key is disabled; every record of the existing
// encrypted topic still decrypts, through recrypt and through Confluent's deserializer. Also the
// dev-registry-only switch of a KEK to another kms type, and the refusal to switch a KEK that rules pin.
//
// moto does not enforce key state (Decrypt under a disabled key still succeeds there), so "the old key
// is not needed any more" is proven two more ways: every stored DEK fails to decrypt under the old key
// id in moto, and recrypt decrypts with a driver that refuses the old key outright.
import {
  AvroDeserializer, AwsKmsDriver, FieldEncryptionExecutor, RuleRegistry, SchemaRegistryClient as OfficialClient, SerdeType,
} from '@confluentinc/schemaregistry';
import { CreateKeyCommand, DecryptCommand, DisableKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectSourceRecord } from '../../../src/audit/inspect.js';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/server.js';
import { DekManager } from '../../../src/keys/index.js';
import { createKmsDriverRegistry } from '../../../src/kms/driver-registry.js';
import type { KmsDriver } from '../../../src/kms/kms-driver.js';
import { DekRegistryClient, SchemaRegistryClient } from '../../../src/registry/index.js';
import type { Rule } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import { officialSerdes, register } from '../helpers/csfle.js';
import { recrypt } from '../helpers/cli.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw, type RawRecord, type RawRecordInput } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import { people, TAGGED_SCHEMA, type Customer } from './fixtures.js';

const DAY = 86_400_000;
const created: string[] = [];
let registry: DevRegistry;
let dataDir: string;
let kms: KMSClient;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'recrypt-rewrap-'));
  // Its own dev registry: the stack's may predate the rewrap=true support this test needs.
  registry = await startDevRegistry({ port: 0, host: '127.0.0.1', dataDir, localSecret: stack.localSecret });
  kms = new KMSClient({ region: 'us-east-1', endpoint: stack.kmsEndpoint });
  AwsKmsDriver.register();
});
afterAll(async () => {
  if (created.length) await deleteTopics(...created);
  await registry.close();
  rmSync(dataDir, { recursive: true, force: true });
  kms.destroy();
});

async function newKey(): Promise<{ arn: string; id: string }> {
  const meta = (await kms.send(new CreateKeyCommand({ Description: 'recrypt rewrap-deks test' }))).KeyMetadata!;
  return { arn: meta.Arn!, id: meta.KeyId! };
}

function cli(args: string[]) {
  return recrypt(args, { env: { SCHEMA_REGISTRY_URL: registry.url } });
}

/** A fresh official deserializer (its own caches) against the test registry. */
function officialDeserializer(): AvroDeserializer {
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const client = new OfficialClient({ baseURLs: [registry.url], cacheCapacity: 1000 });
  return new AvroDeserializer(client, SerdeType.VALUE, { ruleConfig: { secret: stack.localSecret } }, rules);
}

/** recrypt's keys with a KMS that refuses `refusedKeyId` (a disabled key, as real AWS KMS treats it). */
function keysRefusing(refusedKeyId: string | undefined, localSecret = stack.localSecret): DekManager {
  const base = createKmsDriverRegistry({ local: { secret: localSecret } });
  const guard = (driver: KmsDriver): KmsDriver => ({
    kmsType: driver.kmsType,
    wrap: (id, pt, props) => (id === refusedKeyId ? Promise.reject(new RecryptError('KMS_KEY_DISABLED', 'disabled')) : driver.wrap(id, pt, props)),
    unwrap: (id, ct, props) => (id === refusedKeyId ? Promise.reject(new RecryptError('KMS_KEY_DISABLED', 'disabled')) : driver.unwrap(id, ct, props)),
  });
  return new DekManager({ dekRegistry: new DekRegistryClient({ baseUrls: [registry.url] }), kms: { get: (type) => guard(base.get(type)) } });
}

async function expectAllDecrypt(topic: string, records: RawRecord[], customers: Customer[], keys: DekManager): Promise<void> {
  const schemaRegistry = new SchemaRegistryClient({ baseUrls: [registry.url] });
  const official = officialDeserializer();
  for (const r of records) {
    const c = customers[Number(r.key!.toString().slice(1))]!;
    const source = { topic, partition: r.partition, offset: Number(r.offset), key: r.key, value: r.value, headers: [], timestamp: 0 };
    const inspected = await inspectSourceRecord(source, { schemaRegistry, subjectNameStrategy: 'topic', keys });
    expect(inspected.fields.filter((f) => f.decryptError !== undefined)).toEqual([]);
    expect(inspected.decryptedValue).toEqual({ ...c });
    expect(await official.deserialize(topic, r.value!)).toEqual({ ...c });
  }
}

describe('recrypt rewrap-deks', () => {
  it('alternate mode (Confluent compatible): re-wraps every DEK version under a new aws-kms key; the old key can go', async () => {
    const [a, b] = [await newKey(), await newKey()];
    const topic = await createTopic('rewrap', 2);
    created.push(topic);
    const subject = `${topic}-value`;
    const kek = uniqueName('kek').replaceAll('-', '_');
    const rule: Rule = {
      name: 'encryptPII', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], onFailure: 'ERROR,ERROR',
      params: { 'encrypt.kek.name': kek, 'encrypt.kms.type': 'aws-kms', 'encrypt.kms.key.id': a.arn, 'encrypt.dek.expiry.days': '1' },
    };
    await register(registry.url, subject, { schemaType: 'AVRO', schema: TAGGED_SCHEMA, ruleSet: { domainRules: [rule] } });
    // Three DEK generations (expiry is one day): the first record of a generation is written with a
    // clock two days ahead, which rotates the DEK; the rest with the real clock, which keeps it.
    const customers = people(60);
    const input: RawRecordInput[] = [];
    for (let gen = 0; gen < 3; gen++) {
      const ahead = officialSerdes(registry.url, 'AVRO', {}, { secret: stack.localSecret, clock: () => Date.now() + (gen === 0 ? 0 : 2 * DAY) });
      const now = officialSerdes(registry.url, 'AVRO', {}, { secret: stack.localSecret });
      for (const [i, c] of customers.slice(gen * 20, gen * 20 + 20).entries()) {
        const serializer = (i === 0 ? ahead : now).serializer;
        input.push({ key: Buffer.from(`c${c.id}`), value: Buffer.from(await serializer.serialize(topic, { ...c })), partition: c.id % 2 });
      }
    }
    await produceRaw(topic, input);
    const dekRegistry = new DekRegistryClient({ baseUrls: [registry.url] });
    // (Each encrypted field asks for the DEK, so a generation can rotate more than once.)
    const versions = await dekRegistry.listDekVersions(kek, subject, 'AES256_GCM', true);
    expect(versions.length).toBeGreaterThanOrEqual(3);
    await dekRegistry.deleteDekVersion(kek, subject, 1, 'AES256_GCM');
    const before = await dekRegistry.getDek(kek, subject, 2, 'AES256_GCM', true);

    const dry = await cli(['rewrap-deks', '--kek', kek, '--kms-key-id', b.arn, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({ mode: 'alternate', dryRun: true, kekUpdates: [] });
    expect((await dekRegistry.getDek(kek, subject, 2, 'AES256_GCM', true))!.encryptedKeyMaterial).toBe(before!.encryptedKeyMaterial);

    const run = await cli(['rewrap-deks', '--kek', kek, '--kms-key-id', b.arn]);
    expect(run.code, run.stdout + run.stderr).toBe(0);
    expect(run.stdout).toContain('mode alternate');
    expect(run.stdout).toContain(`DEKs: ${versions.length} (${versions.length} re-wrapped`);
    expect(run.stderr).toContain('v1 (soft-deleted): rewrapped');

    // The KEK keeps key A (the rule names it) and trusts B; DEK v1 is still soft-deleted.
    const stored = await dekRegistry.getKek(kek);
    expect(stored).toMatchObject({ kmsKeyId: a.arn, kmsProps: { 'encrypt.alternate.kms.key.ids': b.arn } });
    expect(await dekRegistry.listDekVersions(kek, subject, 'AES256_GCM', false)).toEqual(versions.slice(1));
    await kms.send(new DisableKeyCommand({ KeyId: a.id }));
    for (const version of versions) {
      const dek = (await dekRegistry.getDek(kek, subject, version, 'AES256_GCM', true))!;
      const blob = Buffer.from(dek.encryptedKeyMaterial!, 'base64');
      await expect(kms.send(new DecryptCommand({ KeyId: a.arn, CiphertextBlob: blob }))).rejects.toThrow();
      await kms.send(new DecryptCommand({ KeyId: b.arn, CiphertextBlob: blob }));
    }

    const records = await consumeRaw(topic, { count: 60 });
    expect(records).toHaveLength(60);
    await expectAllDecrypt(topic, records, customers, keysRefusing(a.arn));

    const shown = await cli(['inspect', '--topic', topic, '--partition', '1', '--offset', '0', '--decrypt']);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('DEK version 1');
    expect(shown.stdout).toContain(`decrypted: "${customers[1]!.name}"`);
    const audit = await cli(['audit', '--topic', topic, '--json']);
    expect(audit.code, audit.stderr).toBe(0);
    const used = JSON.parse(audit.stdout).keys.map((k: { version: number }) => k.version);
    expect(used[0]).toBe(1);
    expect(used.length).toBeGreaterThanOrEqual(3);

    // Idempotent; and moving the KEK itself is refused while rules name key A.
    const again = await cli(['rewrap-deks', '--kek', kek, '--kms-key-id', b.arn, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout).deks.map((d: { status: string }) => d.status)).toEqual(versions.map(() => 'already-new-key'));
    const pinned = await cli(['rewrap-deks', '--kek', kek, '--kms-key-id', b.arn, '--switch']);
    expect(pinned.code).toBe(1);
    expect(pinned.stderr).toContain('KEK_MISMATCH');
    expect((await dekRegistry.getKek(kek))!.kmsKeyId).toBe(a.arn);
  });

  it('switch mode (dev registry only): moves a local-kms KEK to aws-kms in one atomic commit', async () => {
    const b = await newKey();
    const topic = await createTopic('rewrap-switch', 1);
    created.push(topic);
    const subject = `${topic}-value`;
    const kek = uniqueName('kek').replaceAll('-', '_');
    const dekRegistry = new DekRegistryClient({ baseUrls: [registry.url] });
    await dekRegistry.createKek({ name: kek, kmsType: 'local-kms', kmsKeyId: 'old-local-key' });
    // The rule names only the KEK: the registry's KEK record says where it lives.
    const rule: Rule = { name: 'encryptPII', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', tags: ['PII'], onFailure: 'ERROR,ERROR', params: { 'encrypt.kek.name': kek } };
    await register(registry.url, subject, { schemaType: 'AVRO', schema: TAGGED_SCHEMA, ruleSet: { domainRules: [rule] } });
    const serdes = officialSerdes(registry.url, 'AVRO', {}, { secret: stack.localSecret });
    const customers = people(15);
    await produceRaw(topic, await Promise.all(customers.map(async (c) => ({ key: Buffer.from(`c${c.id}`), value: Buffer.from(await serdes.serializer.serialize(topic, { ...c })) }))));

    const run = await cli(['rewrap-deks', '--kek', kek, '--kms-type', 'aws-kms', '--kms-key-id', b.arn, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const result = JSON.parse(run.stdout);
    expect(result).toMatchObject({ mode: 'switch', ok: true, to: { kmsType: 'aws-kms', kmsKeyId: b.arn } });
    expect(result.deks.map((d: { status: string }) => d.status)).toEqual(['rewrapped']);
    expect(await dekRegistry.getKek(kek)).toMatchObject({ kmsType: 'aws-kms', kmsKeyId: b.arn });

    // Decrypts without the local secret at all (a wrong one), through recrypt and Confluent's client.
    const records = await consumeRaw(topic, { count: 15 });
    await expectAllDecrypt(topic, records, customers, keysRefusing(undefined, 'not-the-secret'));
  });
});
