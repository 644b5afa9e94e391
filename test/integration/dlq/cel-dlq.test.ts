// CEL rules whose action is DLQ, run as a job (the code `recrypt run` runs): a record whose CEL
// condition is false, and one whose CEL_FIELD expression throws on a canary value, go to the DLQ with
// the rule's name and code in the headers and no record value anywhere (DLQ, target, logs, metrics,
// Redis); and the DLQ guard also looks for what a CEL_FIELD transform derives from tagged plaintext.
// (shout's tag set differs from digits': two CEL_FIELD transforms with the same mode and tag set would
// run only the first, as in the Go and Java clients.)
import avro from 'avsc';
import { afterAll, describe, expect, it } from 'vitest';
import { SchemaRegistryClient } from '../../../src/registry/index.js';
import { encodeFrame } from '../../../src/wire/index.js';
import { createTopic, deleteTopics, produceRaw, type RawRecord } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/stack.js';
import { stack } from '../helpers/stack.js';
import { assertNoCanaryAnywhere, assertNoRecordLost, canary, loadJob, metricValue, runToEnd } from './harness.js';

const orderSchema = {
  type: 'record', name: 'Order', namespace: 'celdlq',
  fields: [
    { name: 'id', type: 'long' },
    { name: 'ssn', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'email', type: 'string', 'confluent:tags': ['PII'] },
    { name: 'note', type: 'string' },
    { name: 'amount', type: 'double' },
  ],
};
const orderType = avro.Type.forSchema(orderSchema as avro.Schema);
interface Order { id: number; ssn: string; email: string; note: string; amount: number }

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });
const header = (r: RawRecord, name: string): string | undefined => r.headers[name]?.toString();

async function source(orders: Order[]): Promise<string> {
  const topic = await createTopic('cel-src', 1);
  created.push(topic);
  const registry = new SchemaRegistryClient({ baseUrls: [stack.registryUrl] });
  const id = (await registry.register(`${topic}-value`, { schemaType: 'AVRO', schema: JSON.stringify(orderSchema) })).id;
  await produceRaw(topic, orders.map((o, i) => ({ key: Buffer.from(`o${i}`), value: encodeFrame(id, orderType.toBuffer(o)) })));
  return topic;
}

function jobYaml(sourceTopic: string, target: string, dlqTopic: string, kek: string): string {
  return `apiVersion: recrypt/v1
kind: Job
metadata:
  name: ${uniqueName('cel-dlq').toLowerCase()}
spec:
  mode: encrypt
  source:
    topic: ${sourceTopic}
    startAt: earliest
    stopAt: end
  target:
    topic: ${target}
    createTopic: true
  rules:
    domainRules:
      - name: positive
        type: CEL
        kind: CONDITION
        mode: WRITE
        expr: 'message.amount > 0.0'
        onFailure: DLQ
      - name: digits
        type: CEL_FIELD
        kind: TRANSFORM
        mode: WRITE
        tags: [PII]
        expr: "name == 'ssn' ; string(int(value.replace('-', '')))"
        onFailure: DLQ
      - name: shout
        type: CEL_FIELD
        kind: TRANSFORM
        mode: WRITE
        tags: [PII, CONTACT]
        expr: "name == 'email' ; value.upperAscii()"
      - name: enc
        type: ENCRYPT
        mode: WRITEREAD
        tags: [PII]
        params:
          encrypt.kek.name: ${kek}
          encrypt.kms.type: local-kms
          encrypt.kms.key.id: mykey
        onFailure: ERROR,ERROR
  dlq:
    topic: ${dlqTopic}
    payload: redacted
  processing:
    batchSize: 50
    retryBackoffMs: 200
    retryBackoffMaxMs: 1000
`;
}

describe('CEL rules with onFailure DLQ', () => {
  it('a false condition and an expression that throws on a canary: both records in the DLQ, the good one encrypted, no value anywhere', async () => {
    const mails = [canary(), canary(), canary()].map((c) => `${c}@example.com`);
    const ssnCanary = canary();
    const orders: Order[] = [
      { id: 0, ssn: '123-45-6789', email: mails[0]!, note: 'ok', amount: 5 },
      { id: 1, ssn: '987-65-4321', email: mails[1]!, note: 'negative', amount: -1 },
      { id: 2, ssn: ssnCanary, email: mails[2]!, note: 'bad ssn', amount: 7 },
    ];
    const topic = await source(orders);
    const target = uniqueName('cel-tgt');
    const dlqTopic = uniqueName('cel-dlq');
    created.push(target, dlqTopic);
    const running = await runToEnd(loadJob(jobYaml(topic, target, dlqTopic, uniqueName('kek'))));
    expect(running.summary.halted).toBe(false);
    // The upper-cased forms are what the shout rule derives: they must not leave either.
    const canaries = [...mails, ...mails.map((m) => m.toUpperCase()), ssnCanary, '123-45-6789', '987-65-4321', '123456789'];
    const outcome = await assertNoCanaryAnywhere(running, { target: [target], dlq: [dlqTopic] }, canaries);
    assertNoRecordLost(running.summary, topic, outcome);
    expect(outcome.target).toHaveLength(1);
    expect(outcome.dlq.map((r) => [header(r, '__source.offset'), header(r, '__rule.name'), header(r, '__rule.exception')])).toEqual([
      ['1', 'positive', 'RULE_CONDITION_FAILED: RecryptError'],
      ['2', 'digits', 'RULE_EXPRESSION_FAILED: RecryptError'],
    ]);
    for (const r of outcome.dlq) expect(header(r, '__rule.mode')).toBe('WRITE');
    const metrics = await running.metrics.registry.metrics();
    expect(metricValue(metrics, 'recrypt_records_total', { outcome: 'dlq' })).toBe(2);
    const failed = running.logs.filter((l) => l.includes('rule failed')).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(failed.map((l) => [l['rule'], l['code']])).toContainEqual(['positive', 'RULE_CONDITION_FAILED']);
  });

  it('the guard looks for what a CEL_FIELD transform derives: an untagged field holding the upper-cased tagged email blocks the DLQ write', async () => {
    const mail = `${canary()}@example.com`;
    // The record fails the condition (DLQ); its untagged note carries what the shout rule would make of the email.
    const topic = await source([{ id: 0, ssn: '123-45-6789', email: mail, note: mail.toUpperCase(), amount: -1 }]);
    const target = uniqueName('cel-tgt');
    const dlqTopic = uniqueName('cel-dlq');
    created.push(target, dlqTopic);
    const running = await runToEnd(loadJob(jobYaml(topic, target, dlqTopic, uniqueName('kek'))));
    expect(running.summary.halted).toBe(true);
    expect(running.summary.partitions[0]).toMatchObject({ committed: 0, halted: { offset: 0, code: 'DLQ_PLAINTEXT_BLOCKED' } });
    const outcome = await assertNoCanaryAnywhere(running, { target: [target], dlq: [dlqTopic] }, [mail, mail.toUpperCase()]);
    expect(outcome.dlq).toHaveLength(0);
    expect(outcome.target).toHaveLength(0);
  });
});
