// Issue 7's fault-injection suite on the real stack (Kafka, dev registry, Redis, a private moto): every
// tagged field of every test record holds a canary; after each scenario no canary is in the DLQ topic
// (read_committed and read_uncommitted), the target, the logs, the metrics or Redis, and every source
// offset below the committed one is in the target or the DLQ exactly once.
import avro from 'avsc';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SchemaRegistryClient } from '../../../src/registry/index.js';
import { encodeFrame } from '../../../src/wire/index.js';
import { officialSerdes } from '../helpers/csfle.js';
import { consumeRaw, createTopic, deleteTopics, kafka, produceRaw, type RawRecord } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';
import {
  assertNoCanaryAnywhere, assertNoRecordLost, canary, loadJob, metricValue, runToEnd, startInProcess, startPrivateKms, type PrivateKms,
} from './harness.js';

const customerSchema = {
  type: 'record', name: 'Customer', namespace: 'dlqtest',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'name', type: 'string', 'confluent:tags': ['A'] },
    { name: 'email', type: 'string', 'confluent:tags': ['B'] },
    { name: 'country', type: 'string' },
    { name: 'address', type: { type: 'record', name: 'Address', fields: [
      { name: 'street', type: 'string', 'confluent:tags': ['A'] }, { name: 'city', type: 'string' },
    ] } },
    { name: 'phones', type: { type: 'array', items: 'string' }, 'confluent:tags': ['B'] },
    { name: 'notes', type: { type: 'map', values: 'string' }, 'confluent:tags': ['C'] },
    { name: 'alt', type: ['null', 'string'], default: null, 'confluent:tags': ['C'] },
    { name: 'contacts', type: { type: 'array', items: { type: 'record', name: 'Contact', fields: [
      { name: 'handle', type: 'string', 'confluent:tags': ['A'] }, { name: 'kind', type: 'string' },
    ] } } },
    { name: 'secret', type: 'bytes', 'confluent:tags': ['C'] },
  ],
};
const schemaText = JSON.stringify(customerSchema);
const avroType = avro.Type.forSchema(customerSchema as avro.Schema);
// A tagged int (tag B): encrypting it fails for the record (RULE_UNSUPPORTED_FIELD_TYPE), a failure about
// the record and not about a key, so the rule's DLQ action applies (a key failure halts instead).
const withAgeSchema = { ...customerSchema, fields: [...customerSchema.fields, { name: 'age', type: 'int', 'confluent:tags': ['B'] }] };
const withAgeText = JSON.stringify(withAgeSchema);
const withAgeType = avro.Type.forSchema(withAgeSchema as avro.Schema);

interface Customer {
  id: number; name: string; email: string; country: string; address: { street: string; city: string };
  phones: string[]; notes: Record<string, string>; alt: string | null; contacts: { handle: string; kind: string }[]; secret: Buffer;
}

const allCanaries: string[] = [];
function customer(id: number): Customer {
  const c = () => { const v = canary(); allCanaries.push(v); return v; };
  return {
    id, name: c(), email: c(), country: 'NL', address: { street: c(), city: 'Utrecht' }, phones: [c(), c()],
    notes: { first: c(), second: c() }, alt: c(), contacts: [{ handle: c(), kind: 'chat' }, { handle: c(), kind: 'mail' }],
    secret: Buffer.from(c()),
  };
}

const registry = () => new SchemaRegistryClient({ baseUrls: [stack.registryUrl] });
const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

async function plaintextSource(count: number, taggedInt = false): Promise<{ topic: string; people: Customer[]; id: number }> {
  const topic = await createTopic('dlq-src', 1);
  created.push(topic);
  const id = (await registry().register(`${topic}-value`, { schemaType: 'AVRO', schema: taggedInt ? withAgeText : schemaText })).id;
  const people = Array.from({ length: count }, (_, i) => (taggedInt ? { ...customer(i), age: 40 + i } : customer(i)));
  const type = taggedInt ? withAgeType : avroType;
  await produceRaw(topic, people.map((p, i) => ({ key: Buffer.from(`o${i}`), value: encodeFrame(id, type.toBuffer(p)), headers: { trace: Buffer.from('t') } })));
  return { topic, people, id };
}

interface JobSpecOptions {
  readonly mode?: string;
  readonly source: string;
  readonly target: string;
  readonly dlqTopic: string;
  readonly payload: string;
  readonly rules: string;
  readonly dlqKek?: string;
  readonly createTopic?: boolean;
  readonly stopAt?: string;
  readonly sourceBlock?: string;
}

function jobYaml(o: JobSpecOptions): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${uniqueName('dlq').toLowerCase()}
spec:
  mode: ${o.mode ?? 'encrypt'}
  source:
${o.sourceBlock ?? `    topic: ${o.source}`}
    startAt: earliest
    stopAt: ${o.stopAt ?? 'end'}
  target:
    topic: ${o.target}
    createTopic: ${o.createTopic ?? true}
  rules:
    domainRules:
${o.rules}
  dlq:
    topic: ${o.dlqTopic}
    payload: ${o.payload}
${o.dlqKek ?? ''}
  processing:
    batchSize: 50
    retryBackoffMs: 200
    retryBackoffMaxMs: 1000
`;
}

function rule(name: string, tags: string[], kek: string, onFailure: string, kms = 'local-kms', keyId = 'mykey'): string {
  return `      - name: ${name}
        type: ENCRYPT
        mode: WRITEREAD
        tags: [${tags.join(', ')}]
        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: ${kms}
          encrypt.kms.key.id: '${keyId}'
        onFailure: ${onFailure}
`;
}

const header = (r: RawRecord, name: string): string | undefined => r.headers[name]?.toString();

describe('DLQ fault injection', () => {
  describe('failure in the 2nd of 3 rules on write, tagged fields in nested records, arrays, maps and unions', () => {
    it.each(['redacted', 'encrypted', 'reference'])('payload %s: every record in the DLQ, none with plaintext, rule 1 ran first', async (payload) => {
      // Rule B fails on every record's tagged int (RULE_UNSUPPORTED_FIELD_TYPE), a record failure.
      const { topic, people } = await plaintextSource(6, true);
      const target = uniqueName('dlq-tgt');
      const dlqTopic = uniqueName('dlq-dlq');
      created.push(target, dlqTopic);
      const kekB = uniqueName('kek-b');
      const dlqKek = uniqueName('kek-dlq');
      const job = loadJob(jobYaml({
        source: topic, target, dlqTopic, payload,
        rules: rule('ruleA', ['A'], uniqueName('kek-a'), 'ERROR,ERROR') + rule('ruleB', ['B'], kekB, 'DLQ,ERROR') + rule('ruleC', ['C'], uniqueName('kek-c'), 'ERROR,ERROR'),
        ...(payload === 'encrypted' ? { dlqKek: `    kek: { name: ${dlqKek}, kmsType: local-kms, kmsKeyId: dlq-key }` } : {}),
      }));
      const running = await runToEnd(job);
      expect(running.summary.halted).toBe(false);
      const outcome = await assertNoCanaryAnywhere(running, { target: [target], dlq: [dlqTopic] }, allCanaries);
      assertNoRecordLost(running.summary, topic, outcome);
      expect(outcome.target).toHaveLength(0);
      expect(outcome.dlq).toHaveLength(6);
      const metrics = await running.metrics.registry.metrics();
      expect(metricValue(metrics, 'recrypt_records_total', { outcome: 'dlq' })).toBe(6);
      expect(metricValue(metrics, 'recrypt_dlq_records_total', { policy: payload, cause: 'rule' })).toBe(6);
      for (const r of outcome.dlq) {
        const i = Number(header(r, '__source.offset'));
        expect(r.key).toBeNull();
        expect(header(r, '__rule.name')).toBe('ruleB');
        expect(header(r, '__rule.mode')).toBe('WRITE');
        expect(header(r, '__rule.topic')).toBe(target);
        expect(header(r, '__rule.subject')).toBe(`${target}-value`);
        expect(header(r, '__rule.exception')).toBe('RULE_UNSUPPORTED_FIELD_TYPE: RecryptError');
        expect(header(r, '__source.topic')).toBe(topic);
        expect(r.headers.trace).toBeUndefined();
        if (payload === 'reference') {
          expect(r.value).toBeNull();
        } else if (payload === 'redacted') {
          const schema = await registry().getById(r.value!.readInt32BE(1));
          const back = avro.Type.forSchema(JSON.parse(schema.schema) as avro.Schema).fromBuffer(r.value!.subarray(5)) as Customer;
          expect(schema.ruleSet).toBeUndefined();
          expect(back).toMatchObject({
            id: i, name: '', email: '', country: 'NL', address: { street: '', city: 'Utrecht' }, phones: ['', ''], age: 0,
            notes: { first: '', second: '' }, alt: '', contacts: [{ handle: '', kind: 'chat' }, { handle: '', kind: 'mail' }],
          });
          expect(back.secret.length).toBe(0);
        } else {
          // Confluent's own deserializer, holding the DLQ KEK, reads every tagged value back.
          const official = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
          // The tagged int cannot be encrypted: it is redacted (0) instead.
          expect(await official.deserializer.deserialize(dlqTopic, r.value!)).toEqual({ ...people[i], age: 0 });
        }
      }
      // Issue 21 #8: one warning for the first failure, then counts (flushed at job end), not one line per record.
      const failedLines = running.logs.filter((l) => l.includes('rule failed'));
      expect(failedLines).toHaveLength(1);
      expect(JSON.parse(failedLines[0]!)).toMatchObject({ rule: 'ruleB', direction: 'write', action: 'DLQ', code: 'RULE_UNSUPPORTED_FIELD_TYPE' });
      const counted = running.logs.filter((l) => l.includes('rule failures')).map((l) => JSON.parse(l) as { rule: string; count: number });
      expect(counted.every((l) => l.rule === 'ruleB')).toBe(true);
      expect(counted.reduce((n, l) => n + l.count, 0)).toBe(5);
    });
  });

  it('a guard hit blocks the write and halts: a tagged value copied into an untagged field', async () => {
    const topic = await createTopic('dlq-src', 1);
    created.push(topic);
    const id = (await registry().register(`${topic}-value`, { schemaType: 'AVRO', schema: withAgeText })).id;
    const p = { ...customer(0), age: 41 }; // the tagged int fails the rule: the record goes to the DLQ
    p.country = p.name; // the untagged field carries rule A's value: redaction cannot remove it
    await produceRaw(topic, [{ key: Buffer.from('o0'), value: encodeFrame(id, withAgeType.toBuffer(p)) }]);
    const target = uniqueName('dlq-tgt');
    const dlqTopic = uniqueName('dlq-dlq');
    created.push(target, dlqTopic);
    const kekA = uniqueName('kek-a');
    const running = await runToEnd(loadJob(jobYaml({ source: topic, target, dlqTopic, payload: 'redacted', rules: rule('ruleA', ['A', 'B', 'C'], kekA, 'DLQ,ERROR') })));
    expect(running.summary.halted).toBe(true);
    expect(running.summary.partitions[0]).toMatchObject({ committed: 0, halted: { offset: 0, code: 'DLQ_PLAINTEXT_BLOCKED' } });
    const outcome = await assertNoCanaryAnywhere(running, { target: [target], dlq: [dlqTopic] }, allCanaries);
    expect(outcome.dlq).toHaveLength(0);
    expect(outcome.target).toHaveLength(0);
    const metrics = await running.metrics.registry.metrics();
    expect(metricValue(metrics, 'recrypt_dlq_guard_blocks_total', { policy: 'redacted' })).toBe(1);
    expect(running.logs.some((l) => l.includes('DLQ guard blocked') && l.includes('"where":"value"'))).toBe(true);
  });

  describe('the KMS', () => {
    let kms: PrivateKms;
    let keyArn: string;
    const savedEndpoint = process.env.AWS_ENDPOINT_URL_KMS;
    beforeAll(async () => {
      kms = await startPrivateKms();
      process.env.AWS_ENDPOINT_URL_KMS = kms.endpoint;
      const client = new KMSClient({ endpoint: kms.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
      keyArn = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
    });
    afterAll(async () => {
      process.env.AWS_ENDPOINT_URL_KMS = savedEndpoint;
      await kms?.close();
    });

    it('issue 21 #2: the KMS key gone (permanent), onFailure DLQ: the partition halts with KMS_KEY_NOT_FOUND, nothing in the DLQ', async () => {
      // The key exists while the job is prepared (its KMS check passes) and is gone when the first DEK is
      // wrapped: before the fix every record went to the DLQ and the run "succeeded" with offsets committed.
      // (moto accepts DisableKey but still encrypts with a disabled key: a fresh moto stands for deletion.)
      const { topic } = await plaintextSource(4);
      const target = uniqueName('dlq-tgt');
      const dlqTopic = uniqueName('dlq-dlq');
      created.push(target, dlqTopic);
      const client = new KMSClient({ endpoint: kms.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } });
      const doomedKey = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
      try {
        const running = await runToEnd(loadJob(jobYaml({
          source: topic, target, dlqTopic, payload: 'redacted', rules: rule('pii', ['A', 'B', 'C'], uniqueName('kek-aws'), 'DLQ,ERROR', 'aws-kms', doomedKey),
        })), { beforeStart: () => kms.forgetKeys() });
        expect(running.summary.halted).toBe(true);
        expect(running.summary.partitions[0]).toMatchObject({ committed: 0, halted: { offset: 0, code: 'KMS_KEY_NOT_FOUND' } });
        expect(running.summary.dlq).toBe(0);
        const existing = new Set(await listTopics());
        const outcome = await assertNoCanaryAnywhere(running, { target: [target], dlq: existing.has(dlqTopic) ? [dlqTopic] : [] }, allCanaries);
        assertNoRecordLost(running.summary, topic, outcome);
        expect(outcome.dlq).toHaveLength(0);
        expect(outcome.target).toHaveLength(0);
        expect(running.transient).toEqual([]);
        const metrics = await running.metrics.registry.metrics();
        expect(metricValue(metrics, 'recrypt_dlq_records_total')).toBe(0);
        expect(metricValue(metrics, 'recrypt_partition_halts_total', { code: 'KMS_KEY_NOT_FOUND' })).toBe(1);
        expect(metricValue(metrics, 'recrypt_rule_failures_total', { rule: 'pii', action: 'ERROR', code: 'KMS_KEY_NOT_FOUND' })).toBeGreaterThanOrEqual(1);
      } finally {
        // Later tests create their keys in the fresh moto (keyArn was made before): give them theirs back.
        keyArn = (await client.send(new CreateKeyCommand({}))).KeyMetadata!.Arn!;
      }
    });

    it('stopped mid-stream (transient): nothing goes to the DLQ; records are written once the KMS is back', async () => {
      const t1 = await createTopic('dlq-km1', 1);
      const t2 = await createTopic('dlq-km2', 1);
      created.push(t1, t2, `${t1}.enc`, `${t2}.enc`, `${t1}.dlq`, `${t2}.dlq`);
      for (const t of [t1, t2]) await registry().register(`${t}-value`, { schemaType: 'AVRO', schema: schemaText });
      const id1 = (await registry().getLatest(`${t1}-value`)).id;
      const id2 = (await registry().getLatest(`${t2}-value`)).id;
      const job = loadJob(jobYaml({
        source: t1, target: "'{topic}.enc'", dlqTopic: "'{topic}.dlq'", payload: 'redacted', stopAt: 'never',
        sourceBlock: `    topics: [${t1}, ${t2}]`,
        rules: rule('pii', ['A', 'B', 'C'], uniqueName('kek-aws'), 'DLQ,ERROR', 'aws-kms', keyArn),
      }));
      const running = await startInProcess(job);
      try {
        await produceRaw(t1, Array.from({ length: 5 }, (_, i) => ({ key: Buffer.from(`o${i}`), value: encodeFrame(id1, avroType.toBuffer(customer(i))) })));
        expect(await consumeRaw(`${t1}.enc`, { count: 5 })).toHaveLength(5);
        await kms.down();
        // t2's target subject needs a DEK of its own: wrapping it needs the KMS, which refuses connections.
        await produceRaw(t2, Array.from({ length: 5 }, (_, i) => ({ key: Buffer.from(`o${i}`), value: encodeFrame(id2, avroType.toBuffer(customer(i))) })));
        await new Promise((r) => setTimeout(r, 6000));
        expect(running.transient).toContain('KMS_UNAVAILABLE');
        expect(await consumeRaw(`${t2}.enc`, { idleMs: 2000, isolation: 'read_uncommitted' })).toHaveLength(0);
        await kms.up();
        expect(await consumeRaw(`${t2}.enc`, { count: 5 })).toHaveLength(5);
      } finally {
        running.run.pipeline.stop();
      }
      const summary = await running.run.done;
      const existing = new Set(await listTopics());
      const outcome = await assertNoCanaryAnywhere(running, { target: [`${t1}.enc`, `${t2}.enc`], dlq: [`${t1}.dlq`, `${t2}.dlq`].filter((t) => existing.has(t)) }, allCanaries);
      expect(outcome.dlq).toHaveLength(0);
      for (const t of [t1, t2]) assertNoRecordLost(summary, t, { target: await consumeRaw(`${t}.enc`, { idleMs: 2000 }), dlq: [] });
      expect(outcome.target).toHaveLength(10);
      expect(metricValue(await running.metrics.registry.metrics(), 'recrypt_dlq_records_total')).toBe(0);
    });
  });

  describe('poison records', () => {
    it.each(['source', 'redacted'])('payload %s: bad magic, unknown schema id, truncated, tampered ciphertext, missing DEK version', async (payload) => {
      const topic = await createTopic('dlq-poison', 1);
      const target = uniqueName('dlq-tgt');
      const dlqTopic = uniqueName('dlq-dlq');
      created.push(topic, target, dlqTopic);
      const sourceKek = uniqueName('kek-src');
      const readDlq = { name: 'pii', kind: 'TRANSFORM' as const, mode: 'WRITEREAD' as const, type: 'ENCRYPT', tags: ['A', 'B', 'C'], onFailure: 'ERROR,DLQ', disabled: false,
        params: { 'encrypt.kek.name': sourceKek, 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'mykey', 'encrypt.dek.expiry.days': '1' } };
      const id = (await registry().register(`${topic}-value`, { schemaType: 'AVRO', schema: schemaText, ruleSet: { domainRules: [readDlq] } })).id;
      const official = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
      const people = Array.from({ length: 10 }, (_, i) => customer(i));
      const encrypted = await Promise.all(people.map(async (p) => Buffer.from(await official.serializer.serialize(topic, structuredClone(p)))));
      const plainPayload = (i: number) => avroType.toBuffer(people[i]!);
      const rewriteName = (bytes: Buffer, change: (ct: Buffer) => void): Buffer => {
        const value = avroType.fromBuffer(bytes.subarray(5)) as Customer;
        const ct = Buffer.from(value.name, 'base64');
        change(ct);
        value.name = ct.toString('base64');
        return encodeFrame(bytes.readInt32BE(1), avroType.toBuffer(value));
      };
      const values: Buffer[] = [
        encrypted[0]!, encrypted[1]!, encrypted[2]!,
        Buffer.concat([Buffer.from([5]), plainPayload(3)]), // bad magic: a plaintext producer without framing
        encodeFrame(987_654_321, plainPayload(4)), // unknown schema id
        Buffer.from([0, 0, 0]), // truncated
        rewriteName(encrypted[6]!, (ct) => { ct[20] = ct[20]! ^ 0x01; }), // tampered ciphertext
        rewriteName(encrypted[7]!, (ct) => { ct.writeInt32BE(77, 1); }), // DEK version 77 does not exist
        encrypted[8]!, encrypted[9]!,
      ];
      expect(id).toBe(encrypted[0]!.readInt32BE(1));
      await produceRaw(topic, values.map((value, i) => ({ key: Buffer.from(`o${i}`), value })));

      const running = await runToEnd(loadJob(jobYaml({
        mode: 'reencrypt', source: topic, target, dlqTopic, payload,
        rules: rule('reenc', ['A', 'B', 'C'], uniqueName('kek-tgt'), 'ERROR,ERROR', 'local-kms', 'mykey').replace('encrypt.kms.key.id', 'encrypt.dek.algorithm: AES256_SIV\n          encrypt.kms.key.id'),
      })));
      expect(running.summary.halted).toBe(false);
      const outcome = await assertNoCanaryAnywhere(running, { target: [target], dlq: [dlqTopic] }, allCanaries);
      assertNoRecordLost(running.summary, topic, outcome);
      expect(outcome.target.map((r) => r.key!.toString())).toEqual(['o0', 'o1', 'o2', 'o8', 'o9']);
      const byOffset = new Map(outcome.dlq.map((r) => [Number(header(r, '__source.offset')), r]));
      expect([...byOffset.keys()].sort()).toEqual([3, 4, 5, 6, 7]);
      expect(header(byOffset.get(3)!, '__rule.exception')).toBe('WIRE_UNKNOWN_MAGIC: RecryptError');
      expect(header(byOffset.get(4)!, '__rule.exception')).toBe('ENGINE_UNKNOWN_SCHEMA: RecryptError');
      expect(header(byOffset.get(4)!, '__source.schema.id')).toBe('987654321');
      expect(header(byOffset.get(5)!, '__rule.exception')).toBe('WIRE_TRUNCATED: RecryptError');
      expect(header(byOffset.get(6)!, '__rule.exception')).toBe('CRYPTO_DECRYPT: RecryptError');
      expect(header(byOffset.get(7)!, '__rule.exception')).toBe('DEK_NOT_FOUND: RecryptError');
      for (const o of [3, 4, 5]) {
        // Unreadable records: reference payload whatever the policy, no rule headers.
        expect(byOffset.get(o)!.value).toBeNull();
        expect(header(byOffset.get(o)!, '__rule.name')).toBeUndefined();
      }
      for (const o of [6, 7]) {
        const r = byOffset.get(o)!;
        expect(header(r, '__rule.name')).toBe('pii');
        expect(header(r, '__rule.mode')).toBe('READ');
        expect(header(r, '__rule.topic')).toBe(topic);
        if (payload === 'source') expect(r.value!.equals(values[o]!)).toBe(true);
        else {
          const back = avroType.fromBuffer(r.value!.subarray(5)) as Customer;
          expect(back).toMatchObject({ name: '', email: '', country: 'NL', address: { street: '', city: 'Utrecht' }, alt: '' });
        }
      }
      const metrics = await running.metrics.registry.metrics();
      expect(metricValue(metrics, 'recrypt_dlq_records_total', { cause: 'poison' })).toBe(3);
      expect(metricValue(metrics, 'recrypt_dlq_records_total', { cause: 'rule' })).toBe(2);
    });
  });

  it('issue 21 #2: a DLQ storm (unreadable records after good ones, dlq.window 100) halts with DLQ_STORM; what came before is committed once', async () => {
    const topic = await createTopic('dlq-storm', 1);
    created.push(topic);
    const id = (await registry().register(`${topic}-value`, { schemaType: 'AVRO', schema: schemaText })).id;
    const good = 60;
    const total = 3000;
    // Every bad record is a plaintext producer's payload without framing (bad magic byte): unreadable, to
    // the job-level DLQ as a reference record. It carries canaries, which must reach neither DLQ nor logs.
    const poison = Buffer.concat([Buffer.from([5]), avroType.toBuffer(customer(-1))]);
    await produceRaw(topic, Array.from({ length: total }, (_, i) => ({
      key: Buffer.from(`o${i}`), value: i < good ? encodeFrame(id, avroType.toBuffer(customer(i))) : poison,
    })));
    const target = uniqueName('dlq-tgt');
    const dlqTopic = uniqueName('dlq-dlq');
    created.push(target, dlqTopic);
    const job = loadJob(jobYaml({ source: topic, target, dlqTopic, payload: 'reference', rules: rule('pii', ['A', 'B', 'C'], uniqueName('kek'), 'DLQ,ERROR') })
      .replace('    payload: reference\n', '    payload: reference\n    maxRatio: 0.5\n    window: 100\n'));
    expect(job.spec.dlq).toMatchObject({ maxRatio: 0.5, window: 100 });
    const running = await runToEnd(job);
    // Among the last 100 records (10 of them good), the 51st DLQ record would make 51 > 0.5 x 100.
    const haltAt = good + 50;
    expect(running.summary.halted).toBe(true);
    expect(running.summary.partitions[0]).toMatchObject({ committed: haltAt, halted: { offset: haltAt, code: 'DLQ_STORM' } });
    expect(running.summary).toMatchObject({ written: good, dlq: 50 });
    const outcome = await assertNoCanaryAnywhere(running, { target: [target], dlq: [dlqTopic] }, allCanaries);
    assertNoRecordLost(running.summary, topic, outcome);
    expect(outcome.target).toHaveLength(good);
    expect(outcome.dlq).toHaveLength(50);
    expect(outcome.dlq.every((r) => r.value === null && header(r, '__rule.exception') === 'WIRE_UNKNOWN_MAGIC: RecryptError')).toBe(true);
    expect(Math.max(...outcome.dlq.map((r) => Number(header(r, '__source.offset'))))).toBe(haltAt - 1);
    const metrics = await running.metrics.registry.metrics();
    expect(metricValue(metrics, 'recrypt_partition_halts_total', { code: 'DLQ_STORM' })).toBe(1);
    // The record that tripped the breaker was built but never produced: not counted either.
    expect(metricValue(metrics, 'recrypt_dlq_records_total', { policy: 'reference', cause: 'poison' })).toBe(50);
  });

  it('payload source where the target tags a field the source leaves in plaintext: refused at run time, halt', async () => {
    const topic = await createTopic('dlq-src-pt', 1);
    const target = uniqueName('dlq-tgt');
    const dlqTopic = uniqueName('dlq-dlq');
    created.push(topic, target, dlqTopic);
    const onlyA = { name: 'piiA', kind: 'TRANSFORM' as const, mode: 'WRITEREAD' as const, type: 'ENCRYPT', tags: ['A'], onFailure: 'ERROR,DLQ', disabled: false,
      params: { 'encrypt.kek.name': uniqueName('kek-src'), 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': 'mykey' } };
    await registry().register(`${topic}-value`, { schemaType: 'AVRO', schema: schemaText, ruleSet: { domainRules: [onlyA] } });
    const official = officialSerdes(stack.registryUrl, 'AVRO', {}, { secret: stack.localSecret });
    const good = Buffer.from(await official.serializer.serialize(topic, customer(0)));
    const bad = avroType.fromBuffer(good.subarray(5)) as Customer;
    bad.name = `${bad.name.slice(0, 20)}${bad.name[20] === 'A' ? 'B' : 'A'}${bad.name.slice(21)}`; // tampered: fails authentication
    await produceRaw(topic, [{ key: Buffer.from('o0'), value: encodeFrame(good.readInt32BE(1), avroType.toBuffer(bad)) }]);
    const running = await runToEnd(loadJob(jobYaml({
      mode: 'reencrypt', source: topic, target, dlqTopic, payload: 'source', rules: rule('all', ['A', 'B', 'C'], uniqueName('kek-tgt'), 'ERROR,ERROR'),
    })));
    expect(running.summary.partitions[0]).toMatchObject({ committed: 0, halted: { offset: 0, code: 'DLQ_BUILD_FAILED' } });
    const outcome = await assertNoCanaryAnywhere(running, { target: [target], dlq: [dlqTopic] }, allCanaries);
    expect([...outcome.dlq, ...outcome.target]).toHaveLength(0);
  });

  it('a compacted DLQ topic: the job-level one refuses the job at start, a rule’s own one halts at its first record', async () => {
    const { topic } = await plaintextSource(3);
    const compacted = await createTopic('dlq-compact', 1, { 'cleanup.policy': 'compact' });
    created.push(compacted);
    const refused = startInProcess(loadJob(jobYaml({
      source: topic, target: uniqueName('dlq-tgt'), dlqTopic: compacted, payload: 'reference', rules: rule('pii', ['A'], uniqueName('kek'), 'DLQ,ERROR'),
    })));
    await expect(refused).rejects.toMatchObject({ code: 'KAFKA_TOPIC', message: expect.stringMatching(/compacted.*cleanup\.policy=delete/) });

    // The job-level DLQ is fine; the failing rule (a tagged int) names its own, compacted, DLQ topic.
    const { topic: withAge } = await plaintextSource(3, true);
    const target = uniqueName('dlq-tgt');
    const dlqTopic = uniqueName('dlq-dlq');
    created.push(target, dlqTopic);
    const kek = uniqueName('kek-b');
    const ownDlqRule = `${rule('ruleB', ['B'], kek, 'DLQ,ERROR').replace('        onFailure:', `          dlq.topic: ${compacted}\n        onFailure:`)}`;
    const running = await runToEnd(loadJob(jobYaml({ source: withAge, target, dlqTopic, payload: 'reference', rules: ownDlqRule })));
    expect(running.summary.halted).toBe(true);
    expect(running.summary.partitions[0]).toMatchObject({ committed: 0, halted: { offset: 0, code: 'KAFKA_TOPIC' } });
    const outcome = await assertNoCanaryAnywhere(running, { target: [target], dlq: [compacted] }, allCanaries);
    assertNoRecordLost(running.summary, withAge, outcome);
    expect(outcome.target).toHaveLength(0);
    expect(outcome.dlq).toHaveLength(0);
    // One per record of the batch the halt came in (the records after it are transformed, not committed).
    expect(metricValue(await running.metrics.registry.metrics(), 'recrypt_dlq_failures_total', { code: 'KAFKA_TOPIC' })).toBeGreaterThanOrEqual(1);
    expect(running.logs.some((l) => l.includes('DLQ record not written'))).toBe(true);
  });

  it('the DLQ topic unavailable (createTopic false, topic missing): halt, nothing written, offset not committed', async () => {
    const { topic, id } = await plaintextSource(5);
    // offset 5: unreadable; offsets 6..8: fine again
    await produceRaw(topic, [
      { key: Buffer.from('o5'), value: Buffer.concat([Buffer.from([9]), avroType.toBuffer(customer(5))]) },
      ...[6, 7, 8].map((i) => ({ key: Buffer.from(`o${i}`), value: encodeFrame(id, avroType.toBuffer(customer(i))) })),
    ]);
    const target = await createTopic('dlq-tgt', 1);
    const dlqTopic = uniqueName('dlq-missing');
    created.push(target);
    const running = await runToEnd(loadJob(jobYaml({
      source: topic, target, dlqTopic, payload: 'redacted', createTopic: false, rules: rule('pii', ['A', 'B', 'C'], uniqueName('kek'), 'DLQ,ERROR'),
    })));
    expect(running.summary.halted).toBe(true);
    expect(running.summary.partitions[0]).toMatchObject({ committed: 5, halted: { offset: 5, code: 'KAFKA_TOPIC' } });
    expect(await listTopics()).not.toContain(dlqTopic);
    const outcome = await assertNoCanaryAnywhere(running, { target: [target], dlq: [] }, allCanaries);
    assertNoRecordLost(running.summary, topic, outcome);
    expect(outcome.target.map((r) => r.key!.toString())).toEqual(['o0', 'o1', 'o2', 'o3', 'o4']);
    expect(metricValue(await running.metrics.registry.metrics(), 'recrypt_dlq_failures_total', { code: 'KAFKA_TOPIC' })).toBe(1);
    expect(running.logs.some((l) => l.includes('DLQ record not written'))).toBe(true);
  });
});

async function listTopics(): Promise<string[]> {
  const admin = kafka().admin();
  await admin.connect();
  try {
    return await admin.listTopics();
  } finally {
    await admin.disconnect();
  }
}
