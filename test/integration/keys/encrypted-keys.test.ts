// `keys: rules` end to end (#23): Avro keys with a tagged field, written by Confluent's JS serializer,
// moved by `recrypt run` in encrypt mode (key and value encrypted in one record, partition kept),
// re-encrypted to AES256_SIV (equal keys -> equal key bytes) and placed by key hash (Kafka's murmur2, as
// librdkafka's murmur2_random producer places the same bytes); Confluent's deserializers read both parts
// back. Bad input: a key subject without schema is refused at start, an unframed key takes the DLQ
// (reference) or halts, and a key canary never shows in logs or DLQ records.
import {
  AvroDeserializer, AvroSerializer, FieldEncryptionExecutor, JsonDeserializer, JsonSerializer, LocalKmsDriver, RuleRegistry, SchemaRegistryClient, SerdeType,
} from '@confluentinc/schemaregistry';
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { keyHashPartition } from '../../../src/engine/index.js';
import { encryptRule, register } from '../helpers/csfle.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { consumeRaw, createTopic, deleteTopics, kafka, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';

const keySchema = JSON.stringify({
  type: 'record', name: 'CustomerKey', namespace: 'demo',
  fields: [
    { name: 'customerId', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'region', type: 'string' },
  ],
});
const valueSchema = JSON.stringify({
  type: 'record', name: 'Customer', namespace: 'demo',
  fields: [
    { name: 'name', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'balance', type: 'double' },
  ],
});

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

/** Confluent's Avro (or JSON Schema) serdes for one part (KEY or VALUE), with their own executor registry. */
function serdes(type: SerdeType, format: 'AVRO' | 'JSON' = 'AVRO') {
  LocalKmsDriver.register();
  const rules = new RuleRegistry();
  rules.registerExecutor(new FieldEncryptionExecutor());
  const client = new SchemaRegistryClient({ baseURLs: [stack.registryUrl], cacheCapacity: 1000 });
  const ruleConfig = { secret: stack.localSecret };
  const ser = { useLatestVersion: true, autoRegisterSchemas: false, ruleConfig };
  if (format === 'JSON') return { serializer: new JsonSerializer(client, type, ser, rules), deserializer: new JsonDeserializer(client, type, { ruleConfig }, rules) };
  return { serializer: new AvroSerializer(client, type, ser, rules), deserializer: new AvroDeserializer(client, type, { ruleConfig }, rules) };
}

interface JobOptions {
  mode?: 'encrypt' | 'reencrypt' | 'decrypt';
  keys?: 'rules' | 'passthrough';
  extraTarget?: string;
  rules?: string;
  dlq?: string;
}

function jobYaml(name: string, source: string, target: string, o: JobOptions = {}): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${name}
spec:
  mode: ${o.mode ?? 'encrypt'}
  keys: ${o.keys ?? 'rules'}
  source:
    topic: ${source}
    startAt: earliest
    stopAt: end
  target:
    topic: ${target}
    createTopic: true
${o.extraTarget ?? ''}${o.rules ?? ''}${o.dlq ?? ''}`;
}

function valueRules(kek: string, algorithm = 'AES256_GCM'): string {
  return `  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        mode: WRITEREAD
        tags: [PII]
        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: mykey
          encrypt.dek.algorithm: ${algorithm}
        onFailure: ERROR,ERROR
`;
}

const people = (n: number, tag: string) => Array.from({ length: n }, (_, i) => ({
  key: { customerId: `KeyCanary-${i % 20}-${tag}`, region: i % 2 ? 'eu' : 'us' },
  value: { name: `Name-${i}-${tag}`, balance: i / 4 },
}));

/** A source topic of 3 partitions with Confluent-serialized keys and values (no rules on the source). */
async function plaintextSource(n: number) {
  const source = await createTopic('keys-src', 3, { 'retention.ms': '-1' });
  created.push(source);
  await register(stack.registryUrl, `${source}-key`, { schemaType: 'AVRO', schema: keySchema });
  await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: valueSchema });
  const keys = serdes(SerdeType.KEY);
  const values = serdes(SerdeType.VALUE);
  const tag = uniqueName('t');
  const rows = people(n, tag);
  if (n > 0) await produceRaw(source, await Promise.all(rows.map(async (p, i) => ({
    key: Buffer.from(await keys.serializer.serialize(source, { ...p.key })),
    value: Buffer.from(await values.serializer.serialize(source, { ...p.value })),
    partition: i % 3,
  }))));
  return { source, rows, tag };
}

async function registerKeyTarget(subject: string, kek: string, algorithm = 'AES256_GCM'): Promise<void> {
  await register(stack.registryUrl, subject, {
    schemaType: 'AVRO', schema: keySchema,
    ruleSet: { domainRules: [encryptRule('encryptKeyPII', kek, { 'encrypt.dek.algorithm': algorithm })] },
  });
}

describe('recrypt run with keys: rules', () => {
  it('encrypts tagged key fields with the value in one record, keeps the partition; SIV gives equal keys equal bytes; keyHash places by murmur2', async () => {
    const { source, rows, tag } = await plaintextSource(120);
    const kek = uniqueName('kek');
    const encrypted = uniqueName('keys-enc');
    created.push(encrypted);
    await registerKeyTarget(`${encrypted}-key`, kek);

    const first = await recrypt(['run', writeJobFile(jobYaml(uniqueName('keys-enc').toLowerCase(), source, encrypted, { rules: valueRules(kek) }))]);
    expect(first.stderr).not.toContain('KeyCanary-');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/120 records \(120 written, 0 to DLQ\)/);

    const out = await consumeRaw(encrypted, { count: 120 });
    expect(out).toHaveLength(120);
    const keys = serdes(SerdeType.KEY);
    const values = serdes(SerdeType.VALUE);
    const seen = new Set<number>();
    for (const record of out) {
      // The key and value decrypt, with Confluent's deserializers, to the source record at the same partition.
      const key = await keys.deserializer.deserialize(encrypted, record.key!);
      const value = await values.deserializer.deserialize(encrypted, record.value!);
      const i = rows.findIndex((r) => r.value.name === value.name);
      expect(i).toBeGreaterThanOrEqual(0);
      seen.add(i);
      expect(key).toEqual(rows[i]!.key);
      expect(record.partition).toBe(i % 3);
      // On the wire, the tagged key field is ciphertext; the untagged one is as it was.
      expect(record.key!.includes(Buffer.from(rows[i]!.key.customerId))).toBe(false);
      expect(record.key!.includes(Buffer.from(rows[i]!.key.region))).toBe(true);
      expect(record.value!.includes(Buffer.from(rows[i]!.value.name))).toBe(false);
    }
    expect(seen.size).toBe(120);

    // Re-encrypt to AES256_SIV, placed by the encrypted key's hash: equal keys get equal bytes and one partition.
    const siv = uniqueName('keys-siv');
    created.push(siv);
    const sivKek = uniqueName('kek');
    await registerKeyTarget(`${siv}-key`, sivKek, 'AES256_SIV');
    const second = await recrypt(['run', writeJobFile(jobYaml(uniqueName('keys-siv').toLowerCase(), encrypted, siv, {
      mode: 'reencrypt', rules: valueRules(sivKek, 'AES256_SIV'), extraTarget: '    partition: keyHash\n',
    }))]);
    expect(second.stderr).not.toContain('KeyCanary-');
    expect(second.code, second.stderr).toBe(0);
    const sivOut = await consumeRaw(siv, { count: 120 });
    expect(sivOut).toHaveLength(120);
    const bytesByKey = new Map<string, string>();
    for (const record of sivOut) {
      const key = await keys.deserializer.deserialize(siv, record.key!);
      expect(key.customerId).toMatch(new RegExp(`^KeyCanary-\\d+-${tag}$`));
      expect(record.key!.includes(Buffer.from(key.customerId))).toBe(false);
      const id = `${key.customerId}/${key.region}`;
      const hex = record.key!.toString('hex');
      expect(bytesByKey.get(id) ?? hex).toBe(hex);
      bytesByKey.set(id, hex);
      expect(record.partition).toBe(keyHashPartition(record.key!, 3));
    }
    expect(bytesByKey.size).toBe(20);

    // librdkafka's murmur2_random (Kafka's default partitioner) puts the same key bytes where recrypt did.
    const probe = await createTopic('keys-probe', 3);
    created.push(probe);
    const producer = kafka().producer({ 'partitioner': 'murmur2_random', kafkaJS: { acks: -1 } } as never);
    await producer.connect();
    try {
      await producer.send({ topic: probe, messages: sivOut.slice(0, 30).map((r) => ({ key: r.key, value: Buffer.from(r.partition.toString()) })) });
    } finally {
      await producer.disconnect();
    }
    const landed = await consumeRaw(probe, { count: 30 });
    expect(landed).toHaveLength(30);
    for (const record of landed) expect(record.partition).toBe(Number(record.value!.toString()));
  });

  it('refuses a job whose source key subject has no schema, before anything is registered', async () => {
    const source = await createTopic('keys-nokey', 1);
    created.push(source);
    await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: valueSchema });
    const target = uniqueName('keys-nokey-enc');
    const kek = uniqueName('kek');
    await registerKeyTarget(`${target}-key`, kek);
    const result = await recrypt(['run', writeJobFile(jobYaml(uniqueName('keys-nokey').toLowerCase(), source, target, { rules: valueRules(kek) }))]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`source key subject ${source}-key has no schema`);
    expect(result.stderr).toContain('JOB_INVALID');
    // Refused before the job's rules were put on the target value subject.
    const latest = await fetch(`${stack.registryUrl}/subjects/${encodeURIComponent(`${target}-value`)}/versions/latest`);
    expect(latest.status).toBe(404);
  });

  it('refuses a target key subject without schema and keyHash over AES256_GCM key rules at start, and keySubject under passthrough at validate with file:line', async () => {
    const { source } = await plaintextSource(3);
    const target = uniqueName('keys-notarget');
    const kek = uniqueName('kek');
    const run = await recrypt(['run', writeJobFile(jobYaml(uniqueName('keys-nt').toLowerCase(), source, target, { rules: valueRules(kek) }))]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`target key subject ${target}-key has no schema`);

    // partition keyHash over a key rule that is not deterministic: equal keys would scatter.
    await registerKeyTarget(`${target}-key`, kek);
    const scatter = await recrypt(['run', writeJobFile(jobYaml(uniqueName('keys-gcm').toLowerCase(), source, target, {
      rules: valueRules(kek), extraTarget: '    partition: keyHash\n',
    }))]);
    expect(scatter.code).toBe(1);
    expect(scatter.stderr).toContain('JOB_UNSAFE');
    expect(scatter.stderr).toMatch(/partition keyHash but key rule encryptKeyPII of \S+ encrypts with AES256_GCM/);

    const file = writeJobFile(jobYaml('keys-static', source, target, { keys: 'passthrough', rules: valueRules(kek), extraTarget: `    keySubject: ${target}-k\n` }));
    const validate = await recrypt(['validate', file]);
    expect(validate.code).toBe(1);
    expect(validate.stdout + validate.stderr).toMatch(/job\.yaml:15:\d+: .*keySubject does nothing while keys is passthrough/);
  });

  it('sends an unframed key to the DLQ as a reference (no key, no canary), or halts without a DLQ', async () => {
    const { source } = await plaintextSource(0);
    const values = serdes(SerdeType.VALUE);
    const canary = `KeyCanary-raw-${uniqueName('c')}`;
    await produceRaw(source, [{ key: Buffer.from(canary), value: Buffer.from(await values.serializer.serialize(source, { name: 'n', balance: 1 })), partition: 0 }]);
    const kek = uniqueName('kek');
    const target = uniqueName('keys-raw-enc');
    const dlqTopic = uniqueName('keys-dlq');
    created.push(target, dlqTopic);
    await registerKeyTarget(`${target}-key`, kek);

    const halted = await recrypt(['run', writeJobFile(jobYaml(uniqueName('keys-raw-halt').toLowerCase(), source, target, { rules: valueRules(kek) }))]);
    expect(halted.code).not.toBe(0);
    expect(halted.stdout + halted.stderr).toMatch(/WIRE_UNKNOWN_MAGIC|WIRE_TRUNCATED/);
    expect(halted.stdout + halted.stderr).not.toContain(canary);
    expect(await consumeRaw(target, { idleMs: 2000 })).toHaveLength(0);

    const diverted = await recrypt(['run', writeJobFile(jobYaml(uniqueName('keys-raw-dlq').toLowerCase(), source, target, {
      rules: valueRules(kek), dlq: `  dlq:\n    topic: ${dlqTopic}\n    payload: redacted\n`,
    }))]);
    // Exit 4: records went to the DLQ (their source offsets committed).
    expect(diverted.code, diverted.stdout + diverted.stderr).toBe(4);
    expect(diverted.stdout).toMatch(/1 records \(0 written, 1 to DLQ\)/);
    expect(diverted.stdout + diverted.stderr).not.toContain(canary);
    const dlq = await consumeRaw(dlqTopic, { count: 1 });
    expect(dlq).toHaveLength(1);
    const record = dlq[0]!;
    expect(record.key).toBeNull();
    expect(record.value === null || record.value.length === 0).toBe(true);
    expect(record.headers['__dlq.payload']?.toString()).toBe('reference');
    expect(record.headers['__source.part']?.toString()).toBe('key');
    expect(record.headers['__source.topic']?.toString()).toBe(source);
    for (const [name, value] of Object.entries(record.headers)) {
      expect(name).not.toContain('KeyCanary');
      expect(value.includes(Buffer.from(canary))).toBe(false);
    }
    expect(await consumeRaw(target, { idleMs: 2000 })).toHaveLength(0);
  });

  it('keeps the key\'s tagged plaintext out of a value\'s DLQ record: the guard blocks it, and passes the record without it', async () => {
    // Source: keys encrypted by Confluent's serializer (key subject rule); values whose writer schema has a
    // rule that fails on read with action DLQ (the tagged field was written in plaintext, by hand).
    const noted = JSON.stringify({
      type: 'record', name: 'Noted', namespace: 'demo',
      fields: [{ name: 'name', type: 'string', 'confluent:tags': ['PII'] }, { name: 'note', type: 'string' }],
    });
    const source = await createTopic('keys-guard', 1, { 'retention.ms': '-1' });
    const sourceKek = uniqueName('kek');
    await registerKeyTarget(`${source}-key`, sourceKek);
    const writerId = await register(stack.registryUrl, `${source}-value`, {
      schemaType: 'AVRO', schema: noted, ruleSet: { domainRules: [{ ...encryptRule('encryptPII', sourceKek), onFailure: 'ERROR,DLQ' }] },
    });
    const keys = serdes(SerdeType.KEY);
    const canary = `KeyCanary-guard-${uniqueName('c')}`;
    const key = Buffer.from(await keys.serializer.serialize(source, { customerId: canary, region: 'eu' }));
    expect(key.includes(Buffer.from(canary))).toBe(false);
    const frame = (note: string) => {
      const prefix = Buffer.alloc(5);
      prefix.writeInt32BE(writerId, 1);
      return Buffer.concat([prefix, avro.Type.forSchema(JSON.parse(noted) as avro.Schema).toBuffer({ name: 'not ciphertext', note })]);
    };
    await produceRaw(source, [{ key, value: frame(`carries ${canary} untagged`), partition: 0 }, { key, value: frame('nothing of the key'), partition: 0 }]);
    const target = uniqueName('keys-guard-siv');
    const dlqTopic = uniqueName('keys-guard-dlq');
    created.push(source, target, dlqTopic);
    const kek = uniqueName('kek');
    await registerKeyTarget(`${target}-key`, kek);
    const job = (name: string) => writeJobFile(jobYaml(name, source, target, {
      mode: 'reencrypt', rules: valueRules(kek), dlq: `  dlq:\n    topic: ${dlqTopic}\n    payload: redacted\n`,
    }));

    const blocked = await recrypt(['run', job(uniqueName('keys-guard').toLowerCase())]);
    expect(blocked.code).not.toBe(0);
    expect(blocked.code).not.toBe(4);
    expect(blocked.stdout + blocked.stderr).toContain('DLQ_PLAINTEXT_BLOCKED');
    expect(blocked.stdout + blocked.stderr).not.toContain(canary);
    expect(await consumeRaw(dlqTopic, { idleMs: 2000 })).toHaveLength(0);

    // The same failure without the key's plaintext in the value goes to the DLQ, redacted, without its key.
    const only = await createTopic('keys-guard-2', 1, { 'retention.ms': '-1' });
    created.push(only);
    await registerKeyTarget(`${only}-key`, sourceKek);
    await register(stack.registryUrl, `${only}-value`, {
      schemaType: 'AVRO', schema: noted, ruleSet: { domainRules: [{ ...encryptRule('encryptPII', sourceKek), onFailure: 'ERROR,DLQ' }] },
    });
    const onlyKey = Buffer.from(await keys.serializer.serialize(only, { customerId: canary, region: 'eu' }));
    await produceRaw(only, [{ key: onlyKey, value: frame('nothing of the key'), partition: 0 }]);
    const passed = await recrypt(['run', writeJobFile(jobYaml(uniqueName('keys-guard-ok').toLowerCase(), only, target, {
      mode: 'reencrypt', rules: valueRules(kek), dlq: `  dlq:\n    topic: ${dlqTopic}\n    payload: redacted\n`,
    }))]);
    expect(passed.code, passed.stdout + passed.stderr).toBe(4);
    const dlq = await consumeRaw(dlqTopic, { count: 1 });
    expect(dlq).toHaveLength(1);
    expect(dlq[0]!.key).toBeNull();
    expect(dlq[0]!.headers['__dlq.payload']?.toString()).toBe('redacted');
    expect(dlq[0]!.headers['__source.part']).toBeUndefined();
    expect(dlq[0]!.value!.includes(Buffer.from(canary))).toBe(false);
  });

  it('decrypts keys (mode decrypt); a key whose read rule fails with action DLQ goes to the DLQ as a reference, the rest of the batch is written', async () => {
    const source = await createTopic('keys-dec', 1, { 'retention.ms': '-1' });
    const kek = uniqueName('kek');
    const keyWriterId = await register(stack.registryUrl, `${source}-key`, {
      schemaType: 'AVRO', schema: keySchema, ruleSet: { domainRules: [{ ...encryptRule('encryptKeyPII', kek), onFailure: 'ERROR,DLQ' }] },
    });
    await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: valueSchema, ruleSet: { domainRules: [encryptRule('encryptPII', kek)] } });
    const keys = serdes(SerdeType.KEY);
    const values = serdes(SerdeType.VALUE);
    const good = { customerId: `KeyCanary-dec-${uniqueName('c')}`, region: 'eu' };
    const goodKey = Buffer.from(await keys.serializer.serialize(source, { ...good }));
    expect(goodKey.includes(Buffer.from(good.customerId))).toBe(false);
    // A key whose tagged field a careless producer left in plaintext: its read rule fails.
    const canary = `KeyCanary-bad-${uniqueName('c')}`;
    const prefix = Buffer.alloc(5);
    prefix.writeInt32BE(keyWriterId, 1);
    const badKey = Buffer.concat([prefix, avro.Type.forSchema(JSON.parse(keySchema) as avro.Schema).toBuffer({ customerId: canary, region: 'us' })]);
    const value = Buffer.from(await values.serializer.serialize(source, { name: 'Name-dec', balance: 2 }));
    await produceRaw(source, [{ key: badKey, value, partition: 0 }, { key: goodKey, value, partition: 0 }]);

    const target = uniqueName('keys-plain');
    const dlqTopic = uniqueName('keys-dec-dlq');
    created.push(source, target, dlqTopic);
    await register(stack.registryUrl, `${target}-key`, { schemaType: 'AVRO', schema: keySchema });
    await register(stack.registryUrl, `${target}-value`, { schemaType: 'AVRO', schema: valueSchema });
    const result = await recrypt(['run', writeJobFile(jobYaml(uniqueName('keys-dec').toLowerCase(), source, target, {
      mode: 'decrypt', dlq: `  dlq:\n    topic: ${dlqTopic}\n    payload: redacted\n`,
    }))]);
    expect(result.code, result.stdout + result.stderr).toBe(4);
    expect(result.stdout).toMatch(/2 records \(1 written, 1 to DLQ\)/);
    expect(result.stdout + result.stderr).not.toContain('KeyCanary-');

    const out = await consumeRaw(target, { count: 1 });
    expect(out).toHaveLength(1);
    expect(out[0]!.key!.includes(Buffer.from(good.customerId))).toBe(true);
    expect(await keys.deserializer.deserialize(target, out[0]!.key!)).toEqual(good);
    expect(await values.deserializer.deserialize(target, out[0]!.value!)).toEqual({ name: 'Name-dec', balance: 2 });

    const dlq = await consumeRaw(dlqTopic, { count: 1 });
    expect(dlq).toHaveLength(1);
    const record = dlq[0]!;
    expect(record.key).toBeNull();
    expect(record.headers['__dlq.payload']?.toString()).toBe('reference');
    expect(record.headers['__source.part']?.toString()).toBe('key');
    expect(record.headers['__rule.name']?.toString()).toBe('encryptKeyPII');
    expect(record.headers['__source.schema.id']?.toString()).toBe(String(keyWriterId));
    expect(record.value === null || !record.value.includes(Buffer.from(canary))).toBe(true);
    for (const header of Object.values(record.headers)) expect(header.includes(Buffer.from(canary))).toBe(false);
  });

  it('encrypts a JSON Schema key\'s tagged field (Confluent\'s JSON deserializer reads it back)', async () => {
    const jsonKey = JSON.stringify({
      type: 'object', title: 'AccountKey', additionalProperties: false, required: ['account', 'bank'],
      properties: { account: { type: 'string', 'confluent:tags': ['PII'] }, bank: { type: 'string' } },
    });
    const source = await createTopic('keys-json', 2, { 'retention.ms': '-1' });
    await register(stack.registryUrl, `${source}-key`, { schemaType: 'JSON', schema: jsonKey });
    await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: valueSchema });
    const keys = serdes(SerdeType.KEY, 'JSON');
    const values = serdes(SerdeType.VALUE);
    const rows = Array.from({ length: 10 }, (_, i) => ({ key: { account: `KeyCanary-json-${i}-${uniqueName('a')}`, bank: `bank-${i % 3}` }, value: { name: `N${i}`, balance: i } }));
    await produceRaw(source, await Promise.all(rows.map(async (r, i) => ({
      key: Buffer.from(await keys.serializer.serialize(source, { ...r.key })), value: Buffer.from(await values.serializer.serialize(source, { ...r.value })), partition: i % 2,
    }))));
    const target = uniqueName('keys-json-enc');
    created.push(source, target);
    const kek = uniqueName('kek');
    await register(stack.registryUrl, `${target}-key`, { schemaType: 'JSON', schema: jsonKey, ruleSet: { domainRules: [encryptRule('encryptKeyPII', kek)] } });
    const result = await recrypt(['run', writeJobFile(jobYaml(uniqueName('keys-json').toLowerCase(), source, target, { rules: valueRules(kek) }))]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout + result.stderr).not.toContain('KeyCanary-');
    const out = await consumeRaw(target, { count: 10 });
    expect(out).toHaveLength(10);
    for (const record of out) {
      const value = await values.deserializer.deserialize(target, record.value!);
      const i = rows.findIndex((r) => r.value.name === value.name);
      expect(record.partition).toBe(i % 2);
      expect(record.key!.includes(Buffer.from(rows[i]!.key.account))).toBe(false);
      expect(record.key!.includes(Buffer.from(rows[i]!.key.bank))).toBe(true);
      expect(await keys.deserializer.deserialize(target, record.key!)).toEqual(rows[i]!.key);
    }
  });
});
