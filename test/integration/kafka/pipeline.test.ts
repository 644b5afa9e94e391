// The exactly-once loop against the real broker, with a simple processor standing in for the engine.
import { afterAll, describe, expect, it } from 'vitest';
import { kafkaConnectionFromEnv } from '../../../src/service/config.js';
import { TransactionalPipeline, type PipelineOptions } from '../../../src/kafka/pipeline.js';
import { snapshotOffsets } from '../../../src/kafka/topics.js';
import type { ProcessedRecord, SourceRecord } from '../../../src/kafka/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import { consumeRaw, createTopic, deleteTopics, produceInTransaction, produceRaw, type RawRecordInput } from '../helpers/kafka.js';
import { uniqueName } from '../helpers/stack.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

function upper(target: string) {
  return async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => batch.map((r) => ({
    outputs: [{ topic: target, partition: r.partition, key: r.key, headers: r.headers, timestamp: r.timestamp,
      value: r.value === null ? null : Buffer.from(r.value.toString().toUpperCase()) }],
  }));
}

async function topics(partitions: number): Promise<[string, string]> {
  const source = await createTopic('pipe-src', partitions);
  const target = await createTopic('pipe-dst', partitions);
  created.push(source, target);
  return [source, target];
}

function records(n: number, partitions: number, t0 = Date.now() - 10_000): RawRecordInput[] {
  return Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${i}`), value: i % 50 === 7 ? null : `value-${i}`, partition: i % partitions,
    headers: { trace: Buffer.from(`t${i}`) }, timestamp: String(t0 + i),
  }));
}

async function bounded(source: string, options: Partial<PipelineOptions> & Pick<PipelineOptions, 'processor'>) {
  const connection = kafkaConnectionFromEnv();
  const ranges = (await snapshotOffsets(connection, [source])).map((p) => ({ topic: p.topic, partition: p.partition, to: p.high }));
  return new TransactionalPipeline({
    name: 'test', connection, groupId: options.groupId ?? uniqueName('g'), transactionalId: uniqueName('tx'),
    startAt: 'earliest', ranges, batchSize: 100, backoff: { initialMs: 50, maxMs: 200 }, ...options,
  });
}

describe('TransactionalPipeline', () => {
  it('copies a bounded range once, keeping partition, key, headers, timestamp and tombstones', async () => {
    const [source, target] = await topics(3);
    const input = records(300, 3);
    await produceRaw(source, input);
    const groupId = uniqueName('g');
    const summary = await (await bounded(source, { processor: upper(target), groupId })).run();
    expect(summary.records).toBe(300);
    expect(summary.halted).toBe(false);

    const out = await consumeRaw(target, { count: 300 });
    expect(out).toHaveLength(300);
    const byKey = new Map(out.map((r) => [r.key!.toString(), r]));
    input.forEach((rec, i) => {
      const got = byKey.get(`k${i}`)!;
      expect(got.partition).toBe(rec.partition);
      expect(got.timestamp).toBe(rec.timestamp);
      expect(got.headers.trace).toEqual(Buffer.from(`t${i}`));
      expect(got.value?.toString() ?? null).toBe(rec.value === null ? null : String(rec.value).toUpperCase());
    });

    // Same group again: offsets were committed in the transactions, so nothing is written twice.
    const again = await (await bounded(source, { processor: upper(target), groupId })).run();
    expect(again.records).toBe(0);
    expect(await consumeRaw(target, { idleMs: 3000 })).toHaveLength(300);
  });

  it('finishes ranges that end in transaction markers', async () => {
    const [source, target] = await topics(1);
    await produceInTransaction(source, [{ value: 'a' }, { value: 'b' }], 'commit');
    await produceInTransaction(source, [{ value: 'aborted' }], 'abort');
    const summary = await (await bounded(source, { processor: upper(target) })).run();
    expect(summary.records).toBe(2);
    expect((await consumeRaw(target, { count: 2 })).map((r) => r.value?.toString())).toEqual(['A', 'B']);
  });

  it('halts only the failing partition, committing what came before the failing record', async () => {
    const [source, target] = await topics(2);
    await produceRaw(source, records(40, 2));
    const halting = async (batch: readonly SourceRecord[]) => {
      const ok = await upper(target)(batch);
      return batch.map((r, i) => (r.partition === 0 && r.offset === 5
        ? { halt: new RecryptError('CRYPTO_DECRYPT', 'test failure') } : ok[i]!));
    };
    const halts: number[] = [];
    const summary = await (await bounded(source, { processor: halting, observer: { onHalt: (_tp, offset) => halts.push(offset) } })).run();
    expect(halts).toEqual([5]);
    expect(summary.halted).toBe(true);
    const p0 = summary.partitions.find((p) => p.partition === 0)!;
    expect(p0.committed).toBe(5);
    expect(p0.halted).toEqual({ offset: 5, code: 'CRYPTO_DECRYPT' });
    const out = await consumeRaw(target, { count: 25 });
    expect(out.filter((r) => r.partition === 0)).toHaveLength(5);
    expect(out.filter((r) => r.partition === 1)).toHaveLength(20);
  });

  it('retries transient failures without skipping or duplicating records', async () => {
    const [source, target] = await topics(2);
    await produceRaw(source, records(100, 2));
    let calls = 0;
    const flaky = async (batch: readonly SourceRecord[]) => {
      calls += 1;
      if (calls <= 3) throw new RecryptError('KMS_UNAVAILABLE', 'kms down (test)');
      return upper(target)(batch);
    };
    const transient: string[] = [];
    const summary = await (await bounded(source, { processor: flaky, observer: { onTransientError: (e) => transient.push(e.code) } })).run();
    expect(transient).toEqual(['KMS_UNAVAILABLE', 'KMS_UNAVAILABLE', 'KMS_UNAVAILABLE']);
    expect(summary.records).toBe(100);
    const out = await consumeRaw(target, { count: 100 });
    expect(new Set(out.map((r) => r.key!.toString())).size).toBe(100);
    expect(await consumeRaw(target, { idleMs: 2000 })).toHaveLength(100);
  });

  it('aborts a transaction the broker refuses at commit, drops the batch fetched ahead, and replays it one record per transaction', async () => {
    const source = await createTopic('pipe-src', 2);
    // The broker refuses records over 1 KiB on the target: the failure surfaces at commit time, after
    // the next batch was already fetched ahead.
    const target = await createTopic('pipe-dst', 2, { 'max.message.bytes': '1024' });
    created.push(source, target);
    await produceRaw(source, records(600, 2));
    // Refused once: the replay finds no record to blame (each fits) and commits them all, once each.
    let failuresLeft = 1;
    let cycles = 0;
    const aborts: string[] = [];
    const failing = async (batch: readonly SourceRecord[]) => {
      const ok = await upper(target)(batch);
      cycles += 1;
      if (cycles >= 2 && failuresLeft > 0) {
        failuresLeft -= 1;
        return ok.map((r) => ('outputs' in r ? { outputs: r.outputs.map((o) => ({ ...o, value: Buffer.alloc(4096, 1) })) } : r));
      }
      return ok;
    };
    const summary = await (await bounded(source, { processor: failing, batchSize: 50, observer: { onAbort: (e) => aborts.push(e.code) } })).run();
    expect(aborts.length).toBeGreaterThanOrEqual(1);
    expect(summary.halted).toBe(false);
    expect(summary.records).toBe(600);
    const out = await consumeRaw(target, { count: 600 });
    expect(out).toHaveLength(600);
    expect(new Set(out.map((r) => r.key!.toString())).size).toBe(600);
    for (const p of [0, 1]) {
      const ids = out.filter((r) => r.partition === p).map((r) => Number(r.key!.toString().slice(1)));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    expect(out.every((r) => r.value === null || r.value.length < 100)).toBe(true);
    expect(await consumeRaw(target, { idleMs: 2000 })).toHaveLength(600);
  });

  it('with overlapTransform: a transaction refused at commit while the next batch was transformed ahead drops that transform; every record written once, in order', async () => {
    const source = await createTopic('pipe-src', 2);
    const target = await createTopic('pipe-dst', 2, { 'max.message.bytes': '1024' });
    created.push(source, target);
    await produceRaw(source, records(600, 2));
    let failuresLeft = 1;
    let cycles = 0;
    const transformed = new Map<string, number>();
    const failing = async (batch: readonly SourceRecord[]) => {
      for (const r of batch) transformed.set(r.key!.toString(), (transformed.get(r.key!.toString()) ?? 0) + 1);
      const ok = await upper(target)(batch);
      cycles += 1;
      // The third batch is refused at commit: by then the fourth is being transformed ahead.
      if (cycles >= 3 && failuresLeft > 0) {
        failuresLeft -= 1;
        return ok.map((r) => ('outputs' in r ? { outputs: r.outputs.map((o) => ({ ...o, value: Buffer.alloc(4096, 1) })) } : r));
      }
      return ok;
    };
    const aborts: string[] = [];
    let ahead = 0;
    const summary = await (await bounded(source, {
      processor: failing, batchSize: 50, overlapTransform: true,
      observer: { onAbort: (e) => aborts.push(e.code), onBatchCommitted: (i) => { if (i.transformedAhead) ahead += 1; } },
    })).run();
    expect(aborts.length).toBeGreaterThanOrEqual(1);
    expect(ahead).toBeGreaterThan(0);
    expect(summary).toMatchObject({ records: 600, halted: false });
    // Some records were transformed more than once (the refused batch, the batch transformed ahead of it).
    expect([...transformed.values()].some((n) => n > 1)).toBe(true);
    const out = await consumeRaw(target, { count: 600 });
    expect(out).toHaveLength(600);
    expect(new Set(out.map((r) => r.key!.toString())).size).toBe(600);
    for (const p of [0, 1]) {
      const ids = out.filter((r) => r.partition === p).map((r) => Number(r.key!.toString().slice(1)));
      expect(ids).toEqual([...ids].sort((a, b) => a - b));
    }
    expect(out.every((r) => r.value === null || r.value.length < 100)).toBe(true);
    expect(await consumeRaw(target, { idleMs: 2000 })).toHaveLength(600);
  });

  it('does not finish a range on an end seen in the fetch of a batch that then failed', async () => {
    // One fetch holds every record and the end of the partition; its transaction is refused once. The
    // end it saw must not finish the range: the records are read again and written once. The range
    // ends in a transaction marker, so only the end reported again after the seek can finish it.
    const source = await createTopic('pipe-src', 1);
    const target = await createTopic('pipe-dst', 1, { 'max.message.bytes': '1024' });
    created.push(source, target);
    await produceInTransaction(source, records(40, 1), 'commit');
    let refuse = true;
    const once = async (batch: readonly SourceRecord[]) => {
      const ok = await upper(target)(batch);
      if (!refuse) return ok;
      refuse = false;
      return ok.map((r) => ('outputs' in r ? { outputs: r.outputs.map((o) => ({ ...o, value: Buffer.alloc(4096, 1) })) } : r));
    };
    const aborts: string[] = [];
    const summary = await (await bounded(source, { processor: once, batchSize: 1000, observer: { onAbort: (e) => aborts.push(e.code) } })).run();
    expect(aborts.length).toBeGreaterThanOrEqual(1);
    expect(summary.records).toBe(40);
    expect(summary.partitions[0]).toMatchObject({ done: true, committed: 40 }); // 41 with the marker
    const out = await consumeRaw(target, { count: 40 });
    expect(new Set(out.map((r) => r.key!.toString())).size).toBe(40);
    expect(await consumeRaw(target, { idleMs: 1500 })).toHaveLength(40);
  });

  it('streams a subscribed topic until stopped', async () => {
    const [source, target] = await topics(2);
    await produceRaw(source, records(20, 2));
    const pipeline = new TransactionalPipeline({
      name: 'stream', connection: kafkaConnectionFromEnv(), groupId: uniqueName('g'), transactionalId: uniqueName('tx'),
      topics: [source], startAt: 'earliest', processor: upper(target),
    });
    const running = pipeline.run();
    await produceRaw(source, records(20, 2).map((r, i) => ({ ...r, key: Buffer.from(`late${i}`) })));
    const out = await consumeRaw(target, { count: 40 });
    pipeline.stop();
    const summary = await running;
    expect(out).toHaveLength(40);
    expect(summary.records).toBe(40);
  });
});
