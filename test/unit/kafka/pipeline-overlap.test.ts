// overlapTransform on fake clients (fake-kafka.ts): the batch after the one committing is transformed
// while that one commits, and its results are used only if the commit went through and the batch is
// then taken exactly as transformed. Every failure path (abort, halt, revoke, a transform still in
// flight) must end with each record written once, in order, from a transform the loop kept.
import { describe, expect, it } from 'vitest';
import { TransactionalPipeline, type PipelineOptions } from '../../../src/kafka/pipeline.js';
import type { BatchCommitted } from '../../../src/kafka/pipeline-types.js';
import type { ProcessedRecord, SourceRecord } from '../../../src/kafka/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import { E, FakeClients, type FakeBroker } from './fake-kafka.js';
import { broker, DST, pipeline, SRC } from './pipeline-harness.js';

const expected = (p: number, n: number) => Array.from({ length: n }, (_, i) => `V${p}-${i}`);
const tp = (r: { partition: number; offset: number }) => `${r.partition}@${r.offset}`;

/**
 * An uppercasing processor that records every call: the records it got, whether a transaction was
 * committing meanwhile (the overlap), and the call number in each output's `call` header, so a test can
 * tell which transform the written record came from. `during` runs at the start of a call made while
 * a transaction commits.
 */
function recordingProcessor(b: FakeBroker, options: { delayMs?: number; halt?: (r: SourceRecord) => boolean } = {}) {
  const calls: Array<{ records: string[]; overlapped: boolean }> = [];
  let running = 0;
  let maxRunning = 0;
  const state = { during: undefined as (() => void) | undefined };
  const processor = async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => {
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    // The fake's commit pushes 'commit' when it answers: a last call of 'sendOffsets' is a commit in flight.
    const overlapped = b.calls[b.calls.length - 1] === 'sendOffsets';
    const call = calls.push({ records: batch.map(tp), overlapped });
    if (overlapped && state.during) {
      const during = state.during;
      state.during = undefined;
      during();
    }
    try {
      if (options.delayMs) await new Promise((r) => setTimeout(r, options.delayMs));
      return batch.map((r) => (options.halt?.(r) ? { halt: new RecryptError('CRYPTO_DECRYPT', 'test') } : {
        outputs: [{ topic: DST, partition: r.partition, key: r.key, timestamp: r.timestamp,
          headers: [{ key: 'call', value: Buffer.from(String(call)) }], value: Buffer.from(r.value!.toString().toUpperCase()) }],
      }));
    } finally {
      running -= 1;
    }
  };
  return { processor, calls, state, maxRunning: () => maxRunning };
}

/** The call number each written record of `partition` came from. */
function writtenBy(b: FakeBroker, partition: number): number[] {
  return b.log(DST, partition).filter((m) => !m.marker).map((m) => Number(m.headers.find((h) => 'call' in h)!.call!.toString()));
}

/** Every commit answers after `ms` (the fake asks commitDelay again when the delayed call runs: 0 then). */
function slowCommits(b: FakeBroker, ms: number): void {
  let delayed = false;
  b.faults.commitDelay = () => {
    delayed = !delayed;
    return delayed ? ms : 0;
  };
}

async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(condition()).toBe(true);
}

describe('TransactionalPipeline with overlapTransform', () => {
  it('transforms the next batch while the current one commits, and writes every record once, in order, from that transform', async () => {
    const b = broker(8);
    slowCommits(b, 10);
    const rec = recordingProcessor(b);
    const batches: BatchCommitted[] = [];
    const summary = await pipeline(b, { overlapTransform: true, processor: rec.processor, observer: { onBatchCommitted: (i) => batches.push(i) } }).pipeline.run();
    expect(summary).toMatchObject({ records: 16, written: 16, halted: false });
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 8), expected(1, 8)]);
    // Four batches of four: the first transformed on its own, the other three while the one before committed.
    expect(rec.calls.map((c) => c.overlapped)).toEqual([false, true, true, true]);
    expect(batches.map((i) => i.transformedAhead)).toEqual([false, true, true, true]);
    expect(rec.calls.flatMap((c) => c.records)).toHaveLength(16);
    expect(rec.maxRunning()).toBe(1);
    expect(batches.every((i) => i.transaction !== undefined && i.latencyMs >= i.commitMs)).toBe(true);
  });

  it('off by default: each batch is transformed after the one before committed', async () => {
    const b = broker(8);
    slowCommits(b, 5);
    const rec = recordingProcessor(b);
    await pipeline(b, { processor: rec.processor }).pipeline.run();
    expect(rec.calls.map((c) => c.overlapped)).toEqual([false, false, false, false]);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 8), expected(1, 8)]);
  });

  it('an abort of batch N with N+1 already transformed: N+1 is sought back, read and transformed again; nothing written twice or lost', async () => {
    const b = broker(8);
    slowCommits(b, 10);
    let commits = 0;
    // The second transaction (p0@4-7) fails at commit, after p1@0-3 was transformed ahead.
    b.faults.commit = () => (++commits === 2 ? { code: E.ERR__TRANSPORT, message: 'Local: Broker transport failure' } : undefined);
    const rec = recordingProcessor(b);
    const aborts: string[] = [];
    const summary = await pipeline(b, { overlapTransform: true, processor: rec.processor, observer: { onAbort: (e) => aborts.push(e.code) } }).pipeline.run();
    expect(aborts).toEqual(['KAFKA_UNAVAILABLE']);
    expect(summary).toMatchObject({ records: 16, written: 16, halted: false });
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 8), expected(1, 8)]);
    // p1@0-3 was transformed ahead (call 3) and dropped; what was written of it came from a later call.
    const speculated = rec.calls.findIndex((c) => c.overlapped && c.records[0] === '1@0') + 1;
    expect(speculated).toBe(3);
    const p1Calls = writtenBy(b, 1);
    expect(p1Calls.slice(0, 4).every((call) => call > speculated)).toBe(true);
    // Each record of p1's first four transformed exactly twice (the dropped speculation, then for real).
    const p1First = rec.calls.flatMap((c) => c.records).filter((r) => ['1@0', '1@1', '1@2', '1@3'].includes(r));
    expect(p1First).toHaveLength(8);
    expect([b.committed.get(`${SRC}\u00000`), b.committed.get(`${SRC}\u00001`)]).toEqual([8, 8]);
  });

  it('a commit that fails while the transform ahead is still running: the loop waits for it (one transform at a time), then drops it', async () => {
    const b = broker(8);
    // The first commit answers (with a failure) after 5 ms, while the 15 ms transform ahead runs.
    slowCommits(b, 5);
    let commits = 0;
    b.faults.commit = () => (++commits === 1 ? { code: E.ERR__TRANSPORT, message: 'Local: Broker transport failure' } : undefined);
    const rec = recordingProcessor(b, { delayMs: 15 });
    const summary = await pipeline(b, { overlapTransform: true, processor: rec.processor }).pipeline.run();
    expect(rec.maxRunning()).toBe(1);
    expect(summary).toMatchObject({ records: 16, written: 16 });
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 8), expected(1, 8)]);
    expect(rec.calls[1]).toMatchObject({ overlapped: true, records: ['0@4', '0@5', '0@6', '0@7'] });
    expect(writtenBy(b, 0).slice(4).every((call) => call > 2)).toBe(true);
  });

  it('a halt committed in batch N drops the transform ahead of the halted partition\'s next records: none of them is written', async () => {
    const b = broker(8);
    slowCommits(b, 10);
    const rec = recordingProcessor(b, { halt: (r) => r.partition === 0 && r.offset === 2 });
    const halts: string[] = [];
    const summary = await pipeline(b, { overlapTransform: true, processor: rec.processor, observer: { onHalt: (p, offset) => halts.push(tp({ partition: p.partition, offset })) } }).pipeline.run();
    expect(halts).toEqual(['0@2']);
    expect(summary.halted).toBe(true);
    expect(rec.calls[1]).toMatchObject({ overlapped: true, records: ['0@4', '0@5', '0@6', '0@7'] });
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 2), expected(1, 8)]);
    expect(b.committed.get(`${SRC}\u00000`)).toBe(2);
  });

  it('a partition revoked and given back while the next batch is transformed ahead: that transform is dropped, each record written once', async () => {
    const b = broker(8);
    slowCommits(b, 10);
    const clients = new FakeClients(b);
    const rec = recordingProcessor(b);
    const options: PipelineOptions = {
      name: 'unit', connection: { bootstrapServers: 'fake:9092', properties: {} }, clients, groupId: 'g', transactionalId: 'tx',
      startAt: 'earliest', topics: [SRC], processor: rec.processor, batchSize: 4, backoff: { initialMs: 1, maxMs: 5 }, overlapTransform: true,
    };
    const p = new TransactionalPipeline(options);
    const running = p.run();
    await until(() => clients.consumer_ !== undefined && clients.producer_?.isConnected() === true);
    const consumer = clients.consumer_!;
    let revoked = false;
    rec.state.during = () => {
      consumer.rebalance('revoke', [{ topic: SRC, partition: 0 }]);
      consumer.rebalance('assign', [{ topic: SRC, partition: 0 }]);
      revoked = true;
    };
    consumer.rebalance('assign', [{ topic: SRC, partition: 0 }, { topic: SRC, partition: 1 }]);
    await until(() => revoked && b.values(DST, 0).length >= 8 && b.values(DST, 1).length >= 8);
    await new Promise((r) => setTimeout(r, 50));
    p.stop();
    const summary = await running;
    expect(summary.halted).toBe(false);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 8), expected(1, 8)]);
    expect([b.committed.get(`${SRC}\u00000`), b.committed.get(`${SRC}\u00001`)]).toEqual([8, 8]);
    // The transform that ran ahead across the revoke (call 2) was not used.
    const speculated = rec.calls.findIndex((c) => c.overlapped) + 1;
    expect(speculated).toBe(2);
    expect([...writtenBy(b, 0), ...writtenBy(b, 1)]).not.toContain(speculated);
  });
});
