// JSONata migration rules (UPGRADE/DOWNGRADE) against Confluent's official JS serdes with JsonataExecutor
// and FieldEncryptionExecutor registered (Avro in full; JSON Schema the one-pass upgrade). One Avro subject, two versions:
//   v1 { name, size: int, ssn: PII }   ENCRYPT on PII under kek A
//   v2 { name, height: int, ssn: PII } ENCRYPT on PII under kek B, migrationRules: UPGRADE size -> height,
//                                      DOWNGRADE height -> size
// Records the official serializer writes under v1 are re-encrypted and upgraded to v2 by recrypt in one
// pass (target = the writer's own subject, latest version); the official deserializer (use.latest, and
// the plain one) reads them field for field. A migration that fails takes the
// rule's action, with no record value in the error, and no partial record goes out.
import {
  AvroDeserializer, AvroSerializer, FieldEncryptionExecutor, JsonataExecutor, JsonDeserializer, JsonSerializer, LocalKmsDriver, RuleRegistry,
  SchemaRegistryClient, SerdeType,
} from '@confluentinc/schemaregistry';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DlqWriter } from '../../../src/dlq/index.js';
import { EnginePool, migrationResolver, RecordTransformer, SchemaStore } from '../../../src/engine/index.js';
import { DekManager } from '../../../src/keys/index.js';
import { LocalKmsDriver as RecryptLocalKms } from '../../../src/kms/local-kms.js';
import { DekRegistryClient, SchemaRegistryClient as RecryptSchemaRegistry } from '../../../src/registry/index.js';
import type { Rule } from '../../../src/registry/types.js';
import { LOCAL_SECRET, encryptRule, register, sourceRecord, startTestRegistry, type TestRegistry } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';
import { errorText, expectNoSecrets, haltOf, output, plain } from './harness.js';

let registry: TestRegistry;
beforeAll(async () => {
  registry = await startTestRegistry();
});
afterAll(async () => {
  await registry.close();
});

const record = (fields: { name: string; type: string; tags?: string[] }[]) => JSON.stringify({
  type: 'record', name: 'Widget', namespace: 'shop',
  fields: fields.map(({ tags, ...f }) => (tags ? { ...f, 'confluent:tags': tags } : f)),
});
const V1 = record([{ name: 'name', type: 'string' }, { name: 'size', type: 'int' }, { name: 'ssn', type: 'string', tags: ['PII'] }]);
const V2 = record([{ name: 'name', type: 'string' }, { name: 'height', type: 'int' }, { name: 'ssn', type: 'string', tags: ['PII'] }]);
/** v2 with a default for height: Avro schema resolution alone would also read v1 records (height -1, size dropped). */
const V2_RESOLVABLE = JSON.stringify({ ...JSON.parse(V2) as object, fields: [{ name: 'name', type: 'string' }, { name: 'height', type: 'int', default: -1 }, { name: 'ssn', type: 'string', 'confluent:tags': ['PII'] }] });

const rename = (from: string, to: string) => `$merge([$sift($, function($v, $k) {$k != '${from}'}), {'${to}': $.'${from}'}])`;
const jsonataRule = (name: string, mode: 'UPGRADE' | 'DOWNGRADE', expr: string, onFailure = 'ERROR'): Rule =>
  ({ name, kind: 'TRANSFORM', type: 'JSONATA', mode, expr, onFailure });

const SSN = '123-45-6789';

/** A subject with v1 and v2; `upgrade` replaces v2's UPGRADE expression. */
async function subject(upgrade = rename('size', 'height'), onFailure = 'ERROR', oneKek = false, v2Schema = V2) {
  const topic = uniqueName('jsonata');
  const name = `${topic}-value`;
  const kekA = uniqueName('kek-a');
  const v1 = await register(registry.url, name, { schemaType: 'AVRO', schema: V1, ruleSet: { domainRules: [encryptRule('enc', kekA)] } });
  const v2 = await register(registry.url, name, {
    schemaType: 'AVRO', schema: v2Schema,
    ruleSet: {
      domainRules: [encryptRule('enc', oneKek ? kekA : uniqueName('kek-b'))],
      migrationRules: [jsonataRule('upgrade', 'UPGRADE', upgrade, onFailure), jsonataRule('downgrade', 'DOWNGRADE', rename('height', 'size'))],
    },
  });
  return { topic, subject: name, v1, v2 };
}

function officialSerdes(useLatestVersion: boolean) {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  rules.registerExecutor(new JsonataExecutor());
  const client = new SchemaRegistryClient({ baseURLs: [registry.url], cacheCapacity: 1000 });
  const ruleConfig = { secret: LOCAL_SECRET };
  return {
    client,
    serializer: new AvroSerializer(client, SerdeType.VALUE, { useLatestVersion: false, useSchemaId: -1, autoRegisterSchemas: false, ruleConfig }, rules),
    deserializer: new AvroDeserializer(client, SerdeType.VALUE, { useLatestVersion, ruleConfig }, rules),
    rules, ruleConfig,
  };
}

/** The official serializer writing under a given schema id (v1). */
function writerAt(id: number) {
  const o = officialSerdes(false);
  return new AvroSerializer(o.client, SerdeType.VALUE, { useSchemaId: id, autoRegisterSchemas: false, ruleConfig: o.ruleConfig }, o.rules);
}

/** recrypt's engine re-encrypting `topic` onto the latest version of its own subject, migrations on. */
async function upgradeEngine(subjectName: string, topic: string, version?: number, dlqTopic?: string, threads?: EnginePool, acrossSubjects = false) {
  const schemaRegistry = new RecryptSchemaRegistry({ baseUrls: [registry.url] });
  const keys = new DekManager({
    dekRegistry: new DekRegistryClient({ baseUrls: [registry.url] }),
    kms: { get: () => new RecryptLocalKms({ secret: LOCAL_SECRET }) },
    kmsProps: { secret: LOCAL_SECRET },
  });
  const schemas = new SchemaStore(schemaRegistry);
  const registered = version === undefined ? await schemaRegistry.getLatest(subjectName) : await schemaRegistry.getVersion(subjectName, version);
  const target = await schemas.adopt(registered, subjectName);
  return new RecordTransformer({
    schemas, keys, mode: 'reencrypt', subjectNameStrategy: 'topic',
    target: { schema: target, subject: subjectName, topicFor: () => topic },
    migrations: migrationResolver(schemaRegistry, target, subjectName, acrossSubjects),
    ...(threads ? { threads } : {}),
    ...(dlqTopic === undefined ? {} : {
      dlq: new DlqWriter({ topic: dlqTopic, policy: 'reference', catchPoison: true, registry: schemaRegistry, keys, topics: { partitions: () => Promise.resolve(1) } }),
    }),
  });
}

describe('JSONata migrations with the official serdes (AVRO)', () => {
  it('re-encrypts and upgrades v1 records to v2 in one pass: the official v2 reader reads them field for field', async () => {
    const s = await subject();
    const written = await writerAt(s.v1).serialize(s.topic, { name: 'w1', size: 42, ssn: SSN });
    expectNoSecrets(written, [SSN]);
    // The official reader of the v1 record, migrated by the same JSONata: the reference. (The official
    // use.latest reader migrates the ciphertext and then decrypts under v2's rules, kek B, which did not
    // encrypt it: recrypt decrypts under the writer's rules first, docs/design/data-contract-rules.md 2.5.)
    const v1Read = plain(await officialSerdes(false).deserializer.deserialize(s.topic, written)) as Record<string, unknown>;
    expect(v1Read).toEqual({ name: 'w1', size: 42, ssn: SSN });
    const reference = { name: 'w1', height: 42, ssn: SSN };

    const engine = await upgradeEngine(s.subject, s.topic);
    const out = output((await engine.process([sourceRecord(s.topic, written)]))[0]);
    expectNoSecrets(out, [SSN]);
    expect(out.readInt32BE(1)).toBe(s.v2);
    expect(plain(await officialSerdes(true).deserializer.deserialize(s.topic, out))).toEqual(reference);
    expect(plain(await officialSerdes(false).deserializer.deserialize(s.topic, out))).toEqual(reference);
    // v2 records already on the topic pass through unchanged in shape (no migration between a version and itself).
    const again = output((await engine.process([sourceRecord(s.topic, out, 1)]))[0]);
    expect(plain(await officialSerdes(false).deserializer.deserialize(s.topic, again))).toEqual(reference);
  });

  it('with one KEK on both versions, the official use.latest reader of the v1 record and of recrypt\'s v2 record agree', async () => {
    const s = await subject(rename('size', 'height'), 'ERROR', true);
    const written = await writerAt(s.v1).serialize(s.topic, { name: 'w4', size: 5, ssn: SSN });
    const reference = plain(await officialSerdes(true).deserializer.deserialize(s.topic, written));
    expect(reference).toEqual({ name: 'w4', height: 5, ssn: SSN });
    const out = output((await (await upgradeEngine(s.subject, s.topic)).process([sourceRecord(s.topic, written)]))[0]);
    expectNoSecrets(out, [SSN]);
    expect(plain(await officialSerdes(true).deserializer.deserialize(s.topic, out))).toEqual(reference);
  });

  it('target.upgrade onto another topic: its subject holds v2, its default-strategy reader reads the upgraded records without migrating', async () => {
    const s = await subject();
    const outTopic = uniqueName('jsonata-out');
    const outV2 = await register(registry.url, `${outTopic}-value`, { schemaType: 'AVRO', schema: V2, ruleSet: { domainRules: [encryptRule('enc', uniqueName('kek-c'))] } });
    const written = await writerAt(s.v1).serialize(s.topic, { name: 'w6', size: 6, ssn: SSN });
    const engine = await upgradeEngine(`${outTopic}-value`, outTopic, undefined, undefined, undefined, true);
    const out = output((await engine.process([sourceRecord(s.topic, written)]))[0]);
    expectNoSecrets(out, [SSN]);
    expect(out.readInt32BE(1)).toBe(outV2);
    expect(plain(await officialSerdes(false).deserializer.deserialize(outTopic, out))).toEqual({ name: 'w6', height: 6, ssn: SSN });
    // Without target.upgrade, a cross-subject job keeps schema resolution: v2's height has no default, so the record fails.
    const plainEngine = await upgradeEngine(`${outTopic}-value`, outTopic);
    expect('halt' in (await plainEngine.process([sourceRecord(s.topic, written)]))[0]!).toBe(true);
  });

  it('downgrades v2 records to v1 with the DOWNGRADE rule when the job pins version 1', async () => {
    const s = await subject();
    const written = await writerAt(s.v2).serialize(s.topic, { name: 'w5', height: 9, ssn: SSN });
    const out = output((await (await upgradeEngine(s.subject, s.topic, 1)).process([sourceRecord(s.topic, written)]))[0]);
    expectNoSecrets(out, [SSN]);
    expect(out.readInt32BE(1)).toBe(s.v1);
    expect(plain(await officialSerdes(false).deserializer.deserialize(s.topic, out))).toEqual({ name: 'w5', size: 9, ssn: SSN });
  });

  it('with worker threads, every record still migrates (the threads have no plan for it and hand it back)', { timeout: 120_000 }, async () => {
    // A v2 that schema resolution could also reach: a thread converting instead of migrating would write height -1.
    const s = await subject(rename('size', 'height'), 'ERROR', false, V2_RESOLVABLE);
    const writer = writerAt(s.v1);
    const batch = [];
    for (let i = 0; i < 120; i++) batch.push(sourceRecord(s.topic, await writer.serialize(s.topic, { name: `w${i}`, size: i, ssn: SSN }), i));
    const pool = new EnginePool({ threads: 2, minSliceRecords: 16 });
    try {
      const engine = await upgradeEngine(s.subject, s.topic, undefined, undefined, pool);
      for (let round = 0; round < 2; round++) {
        const results = await engine.process(batch);
        const reader = officialSerdes(false).deserializer;
        for (let i = 0; i < batch.length; i++) {
          const out = output(results[i]);
          expect(out.readInt32BE(1)).toBe(s.v2);
          expect(plain(await reader.deserialize(s.topic, out))).toEqual({ name: `w${i}`, height: i, ssn: SSN });
        }
      }
    } finally {
      await pool.close();
    }
  });

  it('a migration that throws with onFailure ERROR halts; JSONata text quoting the record does not reach the error', async () => {
    const s = await subject("$error('bad ' & $.name)");
    const written = await writerAt(s.v1).serialize(s.topic, { name: 'CANARY-5521', size: 1, ssn: SSN });
    const engine = await upgradeEngine(s.subject, s.topic);
    const halt = haltOf((await engine.process([sourceRecord(s.topic, written)]))[0]);
    expect(halt.code).toBe('RULE_EXPRESSION_FAILED');
    expect(halt.message).toMatch(/rule upgrade/);
    expect(errorText(halt)).not.toMatch(/CANARY-5521|123-45/);
  });

  it('a migration that throws with onFailure DLQ diverts the record (no output on the target topic), the next record still upgrades', async () => {
    const s = await subject("$.name = 'poison' ? $error('no') : " + rename('size', 'height'), 'DLQ');
    const poison = await writerAt(s.v1).serialize(s.topic, { name: 'poison', size: 1, ssn: SSN });
    const good = await writerAt(s.v1).serialize(s.topic, { name: 'fine', size: 2, ssn: SSN });
    const engine = await upgradeEngine(s.subject, s.topic, undefined, `${s.topic}-dlq`);
    const [diverted, written] = await engine.process([sourceRecord(s.topic, poison), sourceRecord(s.topic, good, 1)]);
    expect(diverted && 'outputs' in diverted && diverted.dlq).toBe(true);
    if (!diverted || !('outputs' in diverted)) throw new Error('expected a DLQ record');
    expect(diverted.outputs.map((o) => o.topic)).toEqual([`${s.topic}-dlq`]);
    for (const o of diverted.outputs) expectNoSecrets(o.value ?? Buffer.alloc(0), [SSN]);
    expect(plain(await officialSerdes(false).deserializer.deserialize(s.topic, output(written)))).toEqual({ name: 'fine', height: 2, ssn: SSN });
  });

  it('onFailure NONE skips the rule; the unmigrated record does not encode under v2: a halt, never a partial record', async () => {
    const s = await subject('$undefinedFunction()', 'NONE');
    const written = await writerAt(s.v1).serialize(s.topic, { name: 'w2', size: 7, ssn: SSN });
    const engine = await upgradeEngine(s.subject, s.topic);
    const result = (await engine.process([sourceRecord(s.topic, written)]))[0];
    const halt = haltOf(result);
    expect(halt.code).toBe('RULE_EXPRESSION_FAILED');
    expect(halt.message).toMatch(/does not encode under the target schema/);
  });

  it('a migration that copies the tagged ssn into an untagged field halts (ERROR) or is diverted (DLQ): the plaintext never goes out', async () => {
    const copy = `$merge([$sift($, function($v, $k) {$k != 'size'}), {'height': $.size, 'name': $.ssn}])`;
    for (const onFailure of ['ERROR', 'NONE']) {
      const s = await subject(copy, onFailure);
      const written = await writerAt(s.v1).serialize(s.topic, { name: 'w7', size: 7, ssn: SSN });
      const halt = haltOf((await (await upgradeEngine(s.subject, s.topic)).process([sourceRecord(s.topic, written)]))[0]);
      expect(halt.code).toBe('RULE_EXPRESSION_FAILED');
      expect(halt.message).toMatch(/rule upgrade .*carries a tagged value in the clear/);
      expect(errorText(halt)).not.toMatch(/123-45/);
    }
    const s = await subject(copy, 'DLQ');
    const written = await writerAt(s.v1).serialize(s.topic, { name: 'w8', size: 8, ssn: SSN });
    const [diverted] = await (await upgradeEngine(s.subject, s.topic, undefined, `${s.topic}-dlq`)).process([sourceRecord(s.topic, written)]);
    if (!diverted || !('outputs' in diverted)) throw new Error('expected a DLQ record');
    expect(diverted.dlq).toBe(true);
    expect(diverted.outputs.map((o) => o.topic)).toEqual([`${s.topic}-dlq`]);
    for (const o of diverted.outputs) expectNoSecrets(o.value ?? Buffer.alloc(0), [SSN]);
  });

  it('a migration whose result does not fit v2 fails the rule instead of writing part of it', async () => {
    const s = await subject(`{'name': $.name}`);
    const written = await writerAt(s.v1).serialize(s.topic, { name: 'w3', size: 7, ssn: SSN });
    const engine = await upgradeEngine(s.subject, s.topic);
    const halt = haltOf((await engine.process([sourceRecord(s.topic, written)]))[0]);
    expect(halt.message).toMatch(/rule upgrade .*does not encode/);
  });
});

const jsonSchema = (sizeField: string) => JSON.stringify({
  $schema: 'http://json-schema.org/draft-07/schema#', title: 'Widget', type: 'object',
  properties: { name: { type: 'string' }, [sizeField]: { type: 'integer' }, ssn: { type: 'string', 'confluent:tags': ['PII'] } },
});

describe('JSONata migrations with the official serdes (JSON Schema)', () => {
  it('re-encrypts and upgrades v1 records to v2 in one pass: the official reader reads them field for field', async () => {
    const topic = uniqueName('jsonata-json');
    const name = `${topic}-value`;
    const kek = uniqueName('kek-j');
    const v1 = await register(registry.url, name, { schemaType: 'JSON', schema: jsonSchema('size'), ruleSet: { domainRules: [encryptRule('enc', kek)] } });
    const v2 = await register(registry.url, name, {
      schemaType: 'JSON', schema: jsonSchema('height'),
      ruleSet: {
        domainRules: [encryptRule('enc', kek)],
        migrationRules: [jsonataRule('upgrade', 'UPGRADE', rename('size', 'height')), jsonataRule('downgrade', 'DOWNGRADE', rename('height', 'size'))],
      },
    });
    LocalKmsDriver.register();
    const rules = new RuleRegistry();
    rules.registerExecutor(new FieldEncryptionExecutor());
    rules.registerExecutor(new JsonataExecutor());
    const client = new SchemaRegistryClient({ baseURLs: [registry.url], cacheCapacity: 1000 });
    const ruleConfig = { secret: LOCAL_SECRET };
    const written = await new JsonSerializer(client, SerdeType.VALUE, { useSchemaId: v1, autoRegisterSchemas: false, ruleConfig }, rules).serialize(topic, { name: 'j1', size: 11, ssn: SSN });
    expectNoSecrets(written, [SSN]);
    const latestReader = new JsonDeserializer(client, SerdeType.VALUE, { useLatestVersion: true, ruleConfig }, rules);
    const reference = plain(await latestReader.deserialize(topic, written));
    expect(reference).toEqual({ name: 'j1', height: 11, ssn: SSN });
    const out = output((await (await upgradeEngine(name, topic)).process([sourceRecord(topic, written)]))[0]);
    expectNoSecrets(out, [SSN]);
    expect(out.readInt32BE(1)).toBe(v2);
    expect(plain(await latestReader.deserialize(topic, out))).toEqual(reference);
    expect(plain(await new JsonDeserializer(client, SerdeType.VALUE, { ruleConfig }, rules).deserialize(topic, out))).toEqual(reference);
  });
});
