// A record the broker refuses at delivery (not at produce()): librdkafka puts the transaction in its
// abortable error state and answers every later produce() with ERR__STATE. That answer must lead to the
// real error and the refused record (it used to be retried for ever as a transient state error).
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaConnectionFromEnv } from '../../../src/service/config.js';
import { TransactionalPipeline } from '../../../src/kafka/pipeline.js';
import { snapshotOffsets } from '../../../src/kafka/topics.js';
import type { ProcessedRecord, SourceRecord } from '../../../src/kafka/types.js';
import type { RecryptError } from '../../../src/util/errors.js';
import { consumeRaw, createTopic, deleteTopics, produceRaw } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/stack.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

describe('a delivery the broker refuses', () => {
  it('halts at the refused record (INVALID_TIMESTAMP) even when later records of its transaction meet ERR__STATE', async () => {
    const source = await createTopic('refuse-delivery-src', 1);
    const target = await createTopic('refuse-delivery-dst', 1, { 'message.timestamp.before.max.ms': '3600000' });
    created.push(source, target);
    await produceRaw(source, Array.from({ length: 12 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: `value-${i}`, partition: 0 })));
    // Record 5's output carries a timestamp from 1970: the broker refuses its batch.
    const processor = async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => batch.map((r) => ({
      outputs: [{ topic: target, partition: 0, key: r.key, headers: [], value: r.value, timestamp: r.offset === 5 ? 1 : r.timestamp }],
    }));
    const connection = kafkaConnectionFromEnv();
    const ranges = (await snapshotOffsets(connection, [source])).map((p) => ({ topic: p.topic, partition: p.partition, to: p.high }));
    const halts: Array<{ offset: number; error: RecryptError }> = [];
    const aborts: string[] = [];
    const pipeline = new TransactionalPipeline({
      name: 'refused-delivery', connection, groupId: uniqueName('g'), transactionalId: uniqueName('tx'), startAt: 'earliest', ranges,
      processor, batchSize: 12, backoff: { initialMs: 50, maxMs: 400 },
      // One record in flight at a time: each produce() waits for the previous delivery, so the records
      // after the refused one meet the transaction in its abortable state.
      producerConfig: { 'queue.buffering.max.messages': 1, 'linger.ms': 0 },
      observer: { onHalt: (_tp, offset, error) => halts.push({ offset, error }), onAbort: (e) => aborts.push(e.code) },
    });
    const watchdog = setTimeout(() => pipeline.stop(), 60_000);
    const summary = await pipeline.run().finally(() => clearTimeout(watchdog));
    expect(halts.map((h) => [h.offset, h.error.code])).toEqual([[5, 'KAFKA_PRODUCE']]);
    expect(summary.partitions[0]).toMatchObject({ committed: 5, halted: { offset: 5, code: 'KAFKA_PRODUCE' } });
    const out = await consumeRaw(target, { count: 5 });
    expect(await consumeRaw(target, { idleMs: 1500 })).toHaveLength(5);
    expect(out.map((r) => r.key!.toString())).toEqual(['k0', 'k1', 'k2', 'k3', 'k4']);
  }, 120_000);

  it('halts the partition on an unknown target partition (a topic-level refusal), never taking the DLQ path', async () => {
    const source = await createTopic('refuse-topic-src', 1);
    const target = await createTopic('refuse-topic-dst', 1);
    const dlq = await createTopic('refuse-topic-dlq', 1);
    created.push(source, target, dlq);
    await produceRaw(source, Array.from({ length: 6 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: `value-${i}`, partition: 0 })));
    // The target has one partition: partition 3 does not exist.
    const processor = async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => batch.map((r) => ({
      outputs: [{ topic: target, partition: 3, key: r.key, headers: [], value: r.value, timestamp: r.timestamp }],
    }));
    const connection = kafkaConnectionFromEnv();
    const ranges = (await snapshotOffsets(connection, [source])).map((p) => ({ topic: p.topic, partition: p.partition, to: p.high }));
    const halts: Array<{ offset: number; error: RecryptError }> = [];
    const refused: number[] = [];
    const pipeline = new TransactionalPipeline({
      name: 'refused-topic', connection, groupId: uniqueName('g'), transactionalId: uniqueName('tx'), startAt: 'earliest', ranges,
      processor, batchSize: 6, backoff: { initialMs: 50, maxMs: 400 },
      observer: { onHalt: (_tp, offset, error) => halts.push({ offset, error }) },
      onRefused: async (record) => {
        refused.push(record.offset);
        return { outputs: [{ topic: dlq, partition: 0, key: null, value: null, headers: [], timestamp: record.timestamp }], dlq: true };
      },
    });
    const watchdog = setTimeout(() => pipeline.stop(), 30_000);
    const summary = await pipeline.run().finally(() => clearTimeout(watchdog));
    expect(refused).toEqual([]);
    expect(halts.map((h) => [h.offset, h.error.code])).toEqual([[0, 'KAFKA_TOPIC']]);
    expect(summary).toMatchObject({ dlq: 0, halted: true });
    expect(await consumeRaw(dlq, { idleMs: 1500 })).toHaveLength(0);
  }, 60_000);
});

