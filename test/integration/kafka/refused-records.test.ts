// Records the producer or broker refuses for good (issue 21 #1): the partition halts at that record
// with RECORD_TOO_LARGE (records before it committed once), or the record takes the DLQ path, and
// the run ends instead of retrying the transaction for ever.
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaConnectionFromEnv } from '../../../src/service/config.js';
import { TransactionalPipeline, type PipelineOptions } from '../../../src/kafka/pipeline.js';
import { snapshotOffsets } from '../../../src/kafka/topics.js';
import type { ProcessedRecord, SourceRecord } from '../../../src/kafka/types.js';
import type { RecryptError } from '../../../src/util/errors.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw, type RawRecordInput } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/stack.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

const records = (n: number, partitions: number): RawRecordInput[] =>
  Array.from({ length: n }, (_, i) => ({ key: Buffer.from(`k${i}`), value: `value-${i}`, partition: i % partitions }));

/** Copies records; p0@5 grows to `size` random (incompressible, like ciphertext) bytes, as encryption grows a record. */
function growing(target: string, size: number) {
  return async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => batch.map((r) => ({
    outputs: [{ topic: target, partition: r.partition, key: r.key, headers: [], timestamp: r.timestamp,
      value: r.partition === 0 && r.offset === 5 ? randomBytes(size) : r.value }],
  }));
}

async function run(source: string, options: Partial<PipelineOptions> & Pick<PipelineOptions, 'processor'>) {
  const connection = kafkaConnectionFromEnv();
  const ranges = (await snapshotOffsets(connection, [source])).map((p) => ({ topic: p.topic, partition: p.partition, to: p.high }));
  const halts: Array<{ offset: number; error: RecryptError }> = [];
  const aborts: string[] = [];
  const pipeline = new TransactionalPipeline({
    name: 'refused', connection, groupId: uniqueName('g'), transactionalId: uniqueName('tx'), startAt: 'earliest', ranges,
    batchSize: 8, backoff: { initialMs: 50, maxMs: 400 },
    observer: { onHalt: (_tp, offset, error) => halts.push({ offset, error }), onAbort: (e) => aborts.push(e.code) },
    ...options,
  });
  const summary = await pipeline.run();
  return { summary, halts, aborts };
}

async function expectHaltedAtFive(target: string, summary: Awaited<ReturnType<typeof run>>['summary']) {
  const p0 = summary.partitions.find((p) => p.partition === 0)!;
  expect(p0.committed).toBe(5);
  expect(p0.halted).toEqual({ offset: 5, code: 'RECORD_TOO_LARGE' });
  expect(summary.partitions.find((p) => p.partition === 1)).toMatchObject({ committed: 20, done: true });
  // Exactly once: p0's five records before the refused one, all of p1, nothing twice.
  const out = await consumeRaw(target, { count: 25 });
  expect(await consumeRaw(target, { idleMs: 1500 })).toHaveLength(25);
  expect(out.filter((r) => r.partition === 0).map((r) => r.key!.toString())).toEqual(['k0', 'k2', 'k4', 'k6', 'k8']);
  expect(new Set(out.map((r) => r.key!.toString())).size).toBe(25);
}

describe('refused output records', () => {
  it("halts at a record over the producer's message.max.bytes before producing it, naming the settings to raise", async () => {
    const source = await createTopic('refuse-src', 2);
    const target = await createTopic('refuse-dst', 2);
    created.push(source, target);
    await produceRaw(source, records(40, 2));
    const { summary, halts, aborts } = await run(source, { processor: growing(target, 8000), producerConfig: { 'message.max.bytes': 4000 } });
    expect(halts.map((h) => h.offset)).toEqual([5]);
    const message = halts[0]!.error.message;
    expect(message).toContain('message.max.bytes');
    expect(message).toContain('KAFKA_PROP_MESSAGE_MAX_BYTES');
    expect(message).toContain('max.message.bytes');
    expect(message).toContain('4000');
    expect(aborts).toEqual([]); // refused before producing: no transaction was poisoned
    await expectHaltedAtFive(target, summary);
  });

  it("halts at a record over the target topic's max.message.bytes (known at start) before producing it", async () => {
    const source = await createTopic('refuse-src', 2);
    const target = await createTopic('refuse-dst', 2, { 'max.message.bytes': '2048' });
    created.push(source, target);
    await produceRaw(source, records(40, 2));
    const { summary, halts, aborts } = await run(source, {
      processor: growing(target, 4096), topicMaxBytes: new Map([[target, 2048]]),
    });
    expect(halts[0]!.error.message).toContain(`max.message.bytes of topic ${target}`);
    expect(aborts).toEqual([]);
    await expectHaltedAtFive(target, summary);
  });

  it('narrows a refusal the broker reports only at commit to its record, and halts there', async () => {
    const source = await createTopic('refuse-src', 2);
    const target = await createTopic('refuse-dst', 2, { 'max.message.bytes': '2048' });
    created.push(source, target);
    await produceRaw(source, records(40, 2));
    // The pipeline is not told the topic's limit: only the broker knows, at commit.
    const { summary, halts, aborts } = await run(source, { processor: growing(target, 4096) });
    expect(aborts.length).toBeGreaterThanOrEqual(1);
    expect(aborts).toContain('RECORD_TOO_LARGE');
    expect(halts.map((h) => h.offset)).toEqual([5]);
    await expectHaltedAtFive(target, summary);
  });

  it('sends a refused record down the DLQ path when one is given, and goes on', async () => {
    const source = await createTopic('refuse-src', 2);
    const target = await createTopic('refuse-dst', 2);
    const dlq = await createTopic('refuse-dlq', 1);
    created.push(source, target, dlq);
    await produceRaw(source, records(40, 2));
    const refused: string[] = [];
    const { summary, halts } = await run(source, {
      processor: growing(target, 8000), producerConfig: { 'message.max.bytes': 4000 },
      onRefused: async (record, error) => {
        refused.push(`${record.partition}@${record.offset}:${error.code}`);
        return { outputs: [{ topic: dlq, partition: 0, key: null, value: null, headers: [{ key: 'code', value: Buffer.from(error.code) }], timestamp: record.timestamp }], dlq: true };
      },
    });
    expect(halts).toEqual([]);
    expect(refused).toEqual(['0@5:RECORD_TOO_LARGE']);
    expect(summary.records).toBe(40);
    expect(summary.dlq).toBe(1);
    expect(await consumeRaw(target, { count: 39 })).toHaveLength(39);
    const dead = await consumeRaw(dlq, { count: 1 });
    expect(dead.map((r) => [r.value, r.headers.code?.toString()])).toEqual([[null, 'RECORD_TOO_LARGE']]);
  });
});
