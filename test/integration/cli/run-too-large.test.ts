// Issue 21 #1 end to end: a record that fits the source topic but not the target once encrypted.
// Without a DLQ the run halts that partition at the record with RECORD_TOO_LARGE (exit 3), records
// before it written once; with a DLQ the record goes there as a reference record (exit 4). `plan` and
// `run` warn that the target's max.message.bytes is below the source's.
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { register } from '../helpers/csfle.js';
import { recrypt, writeJobFile } from '../helpers/cli.js';
import { CUSTOMER_SCHEMA, customers, frame } from '../helpers/customers.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { stack, uniqueName } from '../helpers/stack.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

const TARGET_MAX = 16_384;
const customerType = avro.Type.forSchema(JSON.parse(CUSTOMER_SCHEMA) as avro.Schema);

function jobYaml(o: { name: string; source: string; target: string; dlqTopic?: string; dlqWindow?: number }): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${o.name}
spec:
  mode: encrypt
  source: { topic: ${o.source}, startAt: earliest, stopAt: end }
  target: { topic: ${o.target}, createTopic: true }
  rules:
    domainRules:
      - name: encryptPII
        type: ENCRYPT
        tags: [PII]
        params: { encrypt.kek.name: ${uniqueName('kek')}, encrypt.kms.type: local-kms, encrypt.kms.key.id: k }
        onFailure: ERROR,ERROR
${o.dlqTopic ? `  dlq:\n    topic: ${o.dlqTopic}\n    payload: reference\n${o.dlqWindow ? `    window: ${o.dlqWindow}\n` : ''}` : ''}  processing:
    retryBackoffMs: 100
`;
}

/**
 * 40 customers over 2 partitions; customer 6 (partition 0, offset 3) has a 13 KB name: about 13.5 KB
 * plaintext, under the target's 16 KiB limit, but about 18 KB once its name is encrypted and base64'd.
 */
async function topicsWithBigRecord() {
  const source = await createTopic('big-src', 2);
  const target = await createTopic('big-enc', 2, { 'max.message.bytes': String(TARGET_MAX) });
  created.push(source, target);
  const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
  const batch = customers(40, 2, schemaId);
  const big = { id: 6, name: `${batch.canary}BIG${'x'.repeat(13_000)}`, email: 'big@example.com', country: 'NL', balance: 1 };
  const value = frame(schemaId, customerType.toBuffer(big));
  expect(value.length).toBeLessThan(TARGET_MAX);
  batch.records[6] = { ...batch.records[6]!, value };
  await produceRaw(source, batch.records);
  return { source, target, canary: batch.canary, schemaId };
}

describe('recrypt run with a record that outgrows the target topic', () => {
  it('plan warns that the target limit is below the source limit', async () => {
    const { source, target } = await topicsWithBigRecord();
    const job = writeJobFile(jobYaml({ name: uniqueName('plan-big').toLowerCase(), source, target }));
    const r = await recrypt(['plan', job]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(`target topic ${target} has max.message.bytes ${TARGET_MAX}, below source topic ${source}'s`);
  });

  it('halts the partition at that record with RECORD_TOO_LARGE, writing the records before it once (exit 3)', async () => {
    const { source, target, canary } = await topicsWithBigRecord();
    const job = writeJobFile(jobYaml({ name: uniqueName('big').toLowerCase(), source, target }));
    const r = await recrypt(['run', job], { timeoutMs: 100_000 });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toContain(`HALTED: 1 partition halted: ${source}/0 at offset 3 (RECORD_TOO_LARGE)`);
    expect(r.stdout).toMatch(/23 records \(23 written, 0 to DLQ\)/);
    expect(r.stderr).toContain('max.message.bytes'); // the start-up warning and the halt's hint
    expect(r.stderr).toContain('message.max.bytes');
    expect(r.stdout + r.stderr).not.toContain(canary);
    const out = await consumeRaw(target, { count: 23 });
    expect(await consumeRaw(target, { idleMs: 1500 })).toHaveLength(23);
    expect(out.filter((o) => o.partition === 0).map((o) => o.key!.toString())).toEqual(['c0', 'c2', 'c4']);
    expect(new Set(out.map((o) => o.key!.toString())).size).toBe(23);
  });

  it('sends that record to the DLQ as a reference record and goes on (exit 4)', async () => {
    const { source, target, canary, schemaId } = await topicsWithBigRecord();
    const dlqTopic = uniqueName('big-dlq');
    created.push(dlqTopic);
    const job = writeJobFile(jobYaml({ name: uniqueName('big-dlq').toLowerCase(), source, target, dlqTopic }));
    const r = await recrypt(['run', job], { timeoutMs: 100_000 });
    expect(r.code, r.stderr).toBe(4);
    expect(r.stdout).toMatch(/40 records \(39 written, 1 to DLQ\)/);
    expect(r.stdout + r.stderr).not.toContain(canary);
    expect(await consumeRaw(target, { count: 39 })).toHaveLength(39);
    const dead = await consumeRaw(dlqTopic, { count: 1 });
    expect(dead).toHaveLength(1);
    const [d] = dead;
    expect(d!.value).toBeNull();
    expect(d!.headers['__rule.exception']?.toString()).toBe('RECORD_TOO_LARGE: RecryptError');
    expect(d!.headers['__source.topic']?.toString()).toBe(source);
    expect(d!.headers['__source.partition']?.toString()).toBe('0');
    expect(d!.headers['__source.offset']?.toString()).toBe('3');
    expect(d!.headers['__source.schema.id']?.toString()).toBe(String(schemaId));
    expect(d!.headers['__dlq.payload']?.toString()).toBe('reference');
  });

  it('a target that refuses every record does not drain the source into the DLQ: DLQ_STORM halts (exit 3)', async () => {
    const source = await createTopic('all-big-src', 1);
    const target = await createTopic('all-big-enc', 1, { 'max.message.bytes': '1024' });
    const dlqTopic = uniqueName('all-big-dlq');
    created.push(source, target, dlqTopic);
    const schemaId = await register(stack.registryUrl, `${source}-value`, { schemaType: 'AVRO', schema: CUSTOMER_SCHEMA });
    const batch = customers(60, 1, schemaId);
    // Every record about 900 bytes plaintext: under the target's 1 KiB, over it once its name is encrypted.
    batch.records = batch.records.map((r, i) => ({ ...r, value: frame(schemaId, customerType.toBuffer({ id: i, name: `${batch.canary}${'n'.repeat(850)}`, email: 'e@example.com', country: 'NL', balance: 1 })) }));
    await produceRaw(source, batch.records);
    const job = writeJobFile(jobYaml({ name: uniqueName('all-big').toLowerCase(), source, target, dlqTopic, dlqWindow: 10 }));
    const r = await recrypt(['run', job], { timeoutMs: 100_000 });
    // Before: every record went to the DLQ as a reference record and the run ended "diverted" (exit 4).
    expect(r.code, r.stderr).toBe(3);
    expect(r.stdout).toContain(`HALTED: 1 partition halted: ${source}/0 at offset 5 (DLQ_STORM)`);
    expect(r.stdout + r.stderr).not.toContain(batch.canary);
    expect(await consumeRaw(dlqTopic, { count: 5 })).toHaveLength(5);
    expect(await consumeRaw(dlqTopic, { idleMs: 1500 })).toHaveLength(5);
    expect(await consumeRaw(target, { idleMs: 1500 })).toHaveLength(0);
  });
});
