// The pipeline against fake clients (fake-kafka.ts): the cycle's outcomes applied to the partitions'
// state machines, without a broker. Exactly-once is checked on the fake broker's committed logs.
import { describe, expect, it } from 'vitest';
import { TransactionalPipeline, type PipelineOptions } from '../../../src/kafka/pipeline.js';
import type { SourceRecord } from '../../../src/kafka/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import { E, FakeBroker, FakeClients } from './fake-kafka.js';
import { broker, DST, pipeline, SRC, upper } from './pipeline-harness.js';

const expected = (p: number, n: number) => Array.from({ length: n }, (_, i) => `V${p}-${i}`);

describe('TransactionalPipeline on fake clients', () => {
  it('copies bounded ranges once, committing each batch with its offsets, and ends when every range is done', async () => {
    const b = broker(10);
    const summary = await pipeline(b).pipeline.run();
    expect(summary).toMatchObject({ records: 20, written: 20, halted: false });
    expect(summary.partitions.map((p) => [p.partition, p.committed, p.done])).toEqual([[0, 10, true], [1, 10, true]]);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 10), expected(1, 10)]);
    expect([...b.committed.values()]).toEqual([10, 10]);
  });

  it('ends a range that ends in transaction markers once everything before them is committed', async () => {
    const b = broker(3);
    b.append(SRC, 0, null, true);
    b.append(SRC, 1, null, true);
    const summary = await pipeline(b).pipeline.run();
    expect(summary.records).toBe(6);
    expect(summary.partitions.every((p) => p.done && p.committed === 3)).toBe(true);
  });

  it('stops at the end of its range, leaving later records unread', async () => {
    const b = broker(10);
    const clients = new FakeClients(b);
    const summary = await new TransactionalPipeline({
      name: 'unit', connection: { bootstrapServers: 'fake:9092', properties: {} }, clients, groupId: 'g', transactionalId: 'tx',
      startAt: 'earliest', ranges: [{ topic: SRC, partition: 0, from: 2, to: 6 }], processor: upper, batchSize: 3,
    }).run();
    expect(summary.partitions).toEqual([expect.objectContaining({ committed: 6, records: 4, done: true })]);
    expect(b.values(DST, 0)).toEqual(['V0-2', 'V0-3', 'V0-4', 'V0-5']);
  });

  it('halts one partition at the failing record, committing what came before it; the other goes on', async () => {
    const b = broker(10);
    const halting = async (batch: readonly SourceRecord[]) => {
      const ok = await upper(batch);
      return batch.map((r, i) => (r.partition === 0 && r.offset === 5 ? { halt: new RecryptError('CRYPTO_DECRYPT', 'test failure') } : ok[i]!));
    };
    const halts: number[] = [];
    const { pipeline: p } = pipeline(b, { processor: halting, observer: { onHalt: (_tp, offset) => halts.push(offset) } });
    const summary = await p.run();
    expect(halts).toEqual([5]);
    expect(summary.halted).toBe(true);
    expect(p.healthy).toBe(false);
    expect(summary.partitions[0]).toMatchObject({ committed: 5, halted: { offset: 5, code: 'CRYPTO_DECRYPT' }, done: false });
    expect(summary.partitions[1]).toMatchObject({ committed: 10, done: true });
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 5), expected(1, 10)]);
  });

  it('aborts a transaction whose commit fails transiently, rewinds, backs off and writes every record once', async () => {
    const b = broker(10);
    let failures = 2;
    b.faults.commit = () => (failures-- > 0 ? { code: E.ERR__TRANSPORT, message: 'Local: Broker transport failure' } : undefined);
    const aborts: string[] = [];
    const transient: string[] = [];
    const { pipeline: p } = pipeline(b, { observer: { onAbort: (e) => aborts.push(e.code), onTransientError: (e) => transient.push(e.code) } });
    const summary = await p.run();
    expect(aborts).toEqual(['KAFKA_UNAVAILABLE', 'KAFKA_UNAVAILABLE']);
    expect(transient).toEqual(['KAFKA_UNAVAILABLE', 'KAFKA_UNAVAILABLE']);
    expect(b.calls.filter((c) => c === 'abort')).toHaveLength(2);
    expect(summary.records).toBe(20);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 10), expected(1, 10)]);
  });

  it('resumes a commit that timed out (retriable, no abort needed) instead of aborting', async () => {
    const b = broker(4);
    let failures = 1;
    b.faults.commit = () => (failures-- > 0 ? { code: E.ERR__TIMED_OUT, message: 'timed out', isRetriable: true } : undefined);
    const aborts: string[] = [];
    const summary = await pipeline(b, { observer: { onAbort: (e) => aborts.push(e.code) } }).pipeline.run();
    expect(aborts).toEqual([]);
    expect(b.calls.filter((c) => c === 'commit').length).toBeGreaterThanOrEqual(3);
    expect(summary.records).toBe(8);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 4), expected(1, 4)]);
  });

  it('retries a transient transform failure without writing anything of the batch', async () => {
    const b = broker(6);
    let calls = 0;
    const flaky = async (batch: readonly SourceRecord[]) => {
      if (++calls <= 2) throw new RecryptError('KMS_UNAVAILABLE', 'kms down (test)');
      return upper(batch);
    };
    const summary = await pipeline(b, { processor: flaky }).pipeline.run();
    expect(summary.records).toBe(12);
    expect(b.calls).not.toContain('abort');
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 6), expected(1, 6)]);
  });

  it('halts at a record produce() refuses for good; the rest of its batch commits without it', async () => {
    const b = broker(8);
    b.faults.produce = (_topic, value) => (value?.toString() === 'V0-3' ? { code: E.ERR_MSG_SIZE_TOO_LARGE, message: 'Broker: Message size too large' } : undefined);
    const halts: Array<[number, string]> = [];
    const summary = await pipeline(b, { observer: { onHalt: (_tp, offset, e) => halts.push([offset, e.code]) } }).pipeline.run();
    expect(halts).toEqual([[3, 'RECORD_TOO_LARGE']]);
    expect(summary.partitions[0]).toMatchObject({ committed: 3, halted: { offset: 3, code: 'RECORD_TOO_LARGE' } });
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 3), expected(1, 8)]);
  });

  it('sends a refused record down the DLQ path when the job has one, and goes on', async () => {
    const b = broker(8);
    b.faults.produce = (topic, value) => (topic === DST && value?.toString() === 'V0-3' ? { code: E.ERR_MSG_SIZE_TOO_LARGE, message: 'too large' } : undefined);
    const refused: string[] = [];
    const summary = await pipeline(b, {
      onRefused: async (record, error) => {
        refused.push(`${record.partition}@${record.offset}:${error.code}`);
        return { outputs: [{ topic: 'dlq', partition: 0, key: null, value: null, headers: [], timestamp: record.timestamp }], dlq: true };
      },
    }).pipeline.run();
    expect(refused).toEqual(['0@3:RECORD_TOO_LARGE']);
    expect(summary).toMatchObject({ records: 16, written: 15, dlq: 1, halted: false });
    expect(b.values(DST, 0)).toEqual(expected(0, 8).filter((v) => v !== 'V0-3'));
    expect(b.values('dlq', 0)).toEqual([null]);
  });

  it('narrows a refusal at commit that names no record, one record per transaction, and halts at the refused one', async () => {
    const b = broker(8);
    // The broker refuses the batch holding p0@5 at commit (as a topic's max.message.bytes would).
    let poisoned = false;
    b.faults.produce = (_topic, value) => {
      if (value?.toString() === 'V0-5') poisoned = true;
      return undefined;
    };
    b.faults.commit = () => {
      if (!poisoned) return undefined;
      poisoned = false;
      return { code: E.ERR_MSG_SIZE_TOO_LARGE, message: 'ProduceRequest failed', isTxnRequiresAbort: true };
    };
    const halts: Array<[number, number, string]> = [];
    const summary = await pipeline(b, { observer: { onHalt: (tp, offset, e) => halts.push([tp.partition, offset, e.code]) } }).pipeline.run();
    expect(halts).toEqual([[0, 5, 'RECORD_TOO_LARGE']]);
    expect(summary.partitions[0]).toMatchObject({ committed: 5 });
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 5), expected(1, 8)]);
  });
});

describe('TransactionalPipeline on fake clients: rebalancing', () => {
  function group(b: FakeBroker, processor: PipelineOptions['processor'], observer?: PipelineOptions['observer']) {
    const clients = new FakeClients(b);
    const p = new TransactionalPipeline({
      name: 'unit', connection: { bootstrapServers: 'fake:9092', properties: {} }, clients, groupId: 'g', transactionalId: 'tx',
      startAt: 'earliest', topics: [SRC], processor, batchSize: 4, backoff: { initialMs: 1, maxMs: 5 }, observer,
    });
    return { pipeline: p, clients };
  }

  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(condition()).toBe(true);
  }

  it('a partition revoked during a transaction: the transaction aborts, nothing of it is written, the rest goes on', async () => {
    const b = broker(8);
    let revokeDuring: (() => void) | undefined;
    const processor = async (batch: readonly SourceRecord[]) => {
      revokeDuring?.();
      revokeDuring = undefined;
      return upper(batch);
    };
    const aborts: string[] = [];
    const { pipeline: p, clients } = group(b, processor, { onAbort: (e) => aborts.push(e.code) });
    const running = p.run();
    await until(() => clients.consumer_ !== undefined && clients.producer_?.isConnected() === true);
    const consumer = clients.consumer_!;
    // Revoke p0 while the first batch (which holds p0 records) is being transformed: its sendOffsets
    // then fails with a stale generation and the transaction aborts.
    revokeDuring = () => consumer.rebalance('revoke', [{ topic: SRC, partition: 0 }]);
    consumer.rebalance('assign', [{ topic: SRC, partition: 0 }, { topic: SRC, partition: 1 }]);
    await until(() => aborts.length > 0);
    expect(aborts[0]).toBe('KAFKA_UNAVAILABLE');
    expect(b.values(DST, 0)).toEqual([]);
    // The rebalance completes: this consumer keeps p1 in the new generation.
    consumer.rebalance('assign', []);
    await until(() => b.values(DST, 1).length === 8);
    expect(b.values(DST, 0)).toEqual([]);
    expect(p.partitions.find((x) => x.partition === 1)).toMatchObject({ committed: 8 });

    // Given back: read from its committed offset (none: the start), written once.
    consumer.rebalance('assign', [{ topic: SRC, partition: 0 }]);
    await until(() => b.values(DST, 0).length === 8);
    p.stop();
    const summary = await running;
    expect(summary.halted).toBe(false);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 8), expected(1, 8)]);
    expect([b.committed.get(`${SRC}\u00000`), b.committed.get(`${SRC}\u00001`)]).toEqual([8, 8]);
  });

  it('a halted partition revoked and given back starts again from its committed offset', async () => {
    const b = broker(6);
    let haltAt: number | undefined = 2;
    const processor = async (batch: readonly SourceRecord[]) => {
      const ok = await upper(batch);
      return batch.map((r, i) => (r.partition === 0 && r.offset === haltAt ? { halt: new RecryptError('CRYPTO_DECRYPT', 'test') } : ok[i]!));
    };
    const { pipeline: p, clients } = group(b, processor);
    const running = p.run();
    await until(() => clients.consumer_ !== undefined && clients.producer_?.isConnected() === true);
    const consumer = clients.consumer_!;
    consumer.rebalance('assign', [{ topic: SRC, partition: 0 }, { topic: SRC, partition: 1 }]);
    await until(() => !p.healthy && b.values(DST, 1).length === 6);
    expect(b.values(DST, 0)).toEqual(expected(0, 2));

    consumer.rebalance('revoke', [{ topic: SRC, partition: 0 }]);
    expect(p.healthy).toBe(true);
    haltAt = undefined;
    consumer.rebalance('assign', [{ topic: SRC, partition: 0 }]);
    await until(() => b.values(DST, 0).length === 6);
    p.stop();
    await running;
    expect(b.values(DST, 0)).toEqual(expected(0, 6));
  });
});
