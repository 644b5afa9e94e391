// The pipeline against fake clients (fake-kafka.ts) when the broker refuses things: delivery failures
// that poison the transaction, topic-level refusals, unknown codes, commits that resume, rebalances
// while narrowing. Every record is checked written once (or not at all) on the fake broker.
import { describe, expect, it } from 'vitest';
import type { PartitionBackoff } from '../../../src/kafka/backoff.js';
import { planCommit } from '../../../src/kafka/batch-cycle.js';
import { TransactionalPipeline } from '../../../src/kafka/pipeline.js';
import { partitionKey, type SourceRecord } from '../../../src/kafka/types.js';
import { E, FakeClients } from './fake-kafka.js';
import { broker, DST, pipeline, SRC, upper } from './pipeline-harness.js';

/** Runs the pipeline, stopping it after `ms` should it not end by itself (a retry loop that never ends). */
async function runFor(p: TransactionalPipeline, ms = 3000) {
  const watchdog = setTimeout(() => p.stop(), ms);
  try {
    return await p.run();
  } finally {
    clearTimeout(watchdog);
  }
}

const expected = (p: number, n: number) => Array.from({ length: n }, (_, i) => `V${p}-${i}`);

describe('TransactionalPipeline on fake clients: refusals', () => {
  it('a delivery the broker refuses poisons the transaction (later produce() calls answer ERR__STATE): the real error narrows to the record, which halts', async () => {
    const b = broker(8);
    b.faults.delivery = (_topic, value) => (value?.toString() === 'V0-1' ? { code: E.ERR_INVALID_TIMESTAMP, message: 'Broker: Invalid timestamp' } : undefined);
    const halts: Array<[number, number, string]> = [];
    const summary = await runFor(pipeline(b, { observer: { onHalt: (tp, offset, e) => halts.push([tp.partition, offset, e.code]) } }).pipeline);
    expect(halts).toEqual([[0, 1, 'KAFKA_PRODUCE']]);
    expect(summary.partitions[0]).toMatchObject({ committed: 1, halted: { offset: 1, code: 'KAFKA_PRODUCE' } });
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 1), expected(1, 8)]);
  });

  it('a topic-level refusal (not allowed to write the target) halts the partitions of the batch, never blaming a record or taking the DLQ path', async () => {
    const b = broker(8);
    b.faults.produce = (_topic, value) => (value?.toString().startsWith('V0-')
      ? { code: E.ERR_TOPIC_AUTHORIZATION_FAILED, message: 'Broker: Topic authorization failed' } : undefined);
    const refused: string[] = [];
    const halts: Array<[number, number, string]> = [];
    const summary = await runFor(pipeline(b, {
      observer: { onHalt: (tp, offset, e) => halts.push([tp.partition, offset, e.code]) },
      onRefused: async (record) => {
        refused.push(`${record.partition}@${record.offset}`);
        return { outputs: [{ topic: 'dlq', partition: 0, key: null, value: null, headers: [], timestamp: 0 }], dlq: true };
      },
    }).pipeline);
    expect(refused).toEqual([]);
    expect(halts).toEqual([[0, 0, 'KAFKA_TOPIC']]);
    expect(summary).toMatchObject({ dlq: 0, halted: true });
    expect([b.values(DST, 0), b.values(DST, 1), b.values('dlq', 0)]).toEqual([[], expected(1, 8), []]);
  });

  it('an unknown target topic at commit halts the partitions of the batch (no record blamed)', async () => {
    const b = broker(3);
    b.faults.commit = () => ({ code: E.ERR_UNKNOWN_TOPIC_OR_PART, message: 'Broker: Unknown topic or partition', isTxnRequiresAbort: true });
    const halts: Array<[number, number, string]> = [];
    const summary = await runFor(pipeline(b, { batchSize: 8, observer: { onHalt: (tp, offset, e) => halts.push([tp.partition, offset, e.code]) } }).pipeline);
    expect(halts).toEqual([[0, 0, 'KAFKA_TOPIC'], [1, 0, 'KAFKA_TOPIC']]);
    expect(summary.halted).toBe(true);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([[], []]);
  });

  it('credentials or ACLs the broker refuses at commit stop the pipeline with KAFKA_AUTH: no retry loop, no halted partition, nothing written', async () => {
    const b = broker(3);
    let commits = 0;
    b.faults.commit = () => {
      commits += 1;
      return { code: E.ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, message: 'Broker: Transactional Id authorization failed', isTxnRequiresAbort: true };
    };
    const halts: string[] = [];
    const run = runFor(pipeline(b, { batchSize: 8, observer: { onHalt: (_tp, _offset, e) => halts.push(e.code) } }).pipeline);
    await expect(run).rejects.toMatchObject({ code: 'KAFKA_AUTH', transient: false });
    expect([commits, halts]).toEqual([1, []]);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([[], []]);
  });

  it('a commit that timed out three times and goes through when the abort resumes it counts as committed: no rewind, written once', async () => {
    const b = broker(4);
    let timeouts = 3;
    b.faults.commit = () => (timeouts-- > 0 ? { code: E.ERR__TIMED_OUT, message: 'Local: Timed out', isRetriable: true } : undefined);
    let aborts = 0;
    b.faults.abort = () => (++aborts === 1
      ? { code: E.ERR__CONFLICT, message: 'Conflicting commit_transaction API call is already in progress' }
      : { code: E.ERR__STATE, message: 'Operation not valid in state Ready' });
    const summary = await runFor(pipeline(b).pipeline);
    expect(aborts).toBe(1);
    expect(summary).toMatchObject({ records: 8, written: 8, halted: false });
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 4), expected(1, 4)]);
  });

  it('an error with a librdkafka code no list knows is retried, but after 10 failed cycles in a row with that code the partition halts', async () => {
    const b = broker(3);
    let commits = 0;
    b.faults.commit = () => (++commits <= 100 ? { code: 12345, message: 'Local: something new' } : undefined);
    const halts: Array<[number, number, string, string]> = [];
    const transient: string[] = [];
    const summary = await runFor(pipeline(b, {
      batchSize: 8,
      observer: { onHalt: (tp, offset, e) => halts.push([tp.partition, offset, e.code, e.message]), onTransientError: (e) => transient.push(e.code) },
    }).pipeline);
    expect(halts.map(([p, o, c]) => [p, o, c])).toEqual([[0, 0, 'KAFKA_TRANSACTION'], [1, 0, 'KAFKA_TRANSACTION']]);
    expect(halts[0]![3]).toMatch(/retried 10 times .*librdkafka code 12345/);
    expect(transient).toHaveLength(10);
    expect(summary.halted).toBe(true);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([[], []]);
  });

  it.each([
    ['a commit refusal', (b: ReturnType<typeof broker>) => {
      b.faults.commit = () => ({ code: 12345, message: 'Broker: something new', isTxnRequiresAbort: true });
    }],
    ['a delivery refusal (the commit fails with it)', (b: ReturnType<typeof broker>) => {
      b.faults.delivery = () => ({ code: 12345, message: 'Broker: something new' });
    }],
  ])('an unlisted code that comes with the abort-required flag (%s) is capped the same: 10 failed cycles in a row, then the partitions halt', async (_name, inject) => {
    const b = broker(3);
    inject(b);
    const halts: Array<[number, number, string, string]> = [];
    const transient: string[] = [];
    const summary = await runFor(pipeline(b, {
      batchSize: 8,
      observer: { onHalt: (tp, offset, e) => halts.push([tp.partition, offset, e.code, e.message]), onTransientError: (e) => transient.push(e.code) },
    }).pipeline);
    expect(halts.map(([p, o, c]) => [p, o, c])).toEqual([[0, 0, 'KAFKA_TRANSACTION'], [1, 0, 'KAFKA_TRANSACTION']]);
    expect(halts[0]![3]).toMatch(/retried 10 times .*librdkafka code 12345/);
    expect(transient).toHaveLength(10);
    expect(summary.halted).toBe(true);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([[], []]);
  });

  it('a commit in between starts the count again', async () => {
    const b = broker(12, 1);
    // Nine failures with an unknown code before each commit: never ten in a row.
    let n = 0;
    b.faults.commit = () => (++n % 10 !== 0 ? { code: 12345, message: 'Local: something new' } : undefined);
    const summary = await runFor(pipeline(b, { ranges: [{ topic: SRC, partition: 0, to: 12 }] }).pipeline);
    expect(summary).toMatchObject({ records: 12, halted: false });
    expect(b.values(DST, 0)).toEqual(expected(0, 12));
  });

  it('reports a lost connection as soon as a commit stalls (timed out, resumed), and its return once the commit goes through', async () => {
    const b = broker(4);
    let down = false;
    let commits = 0;
    b.faults.commit = () => {
      down = ++commits === 1;
      return down ? { code: E.ERR__TIMED_OUT, message: 'Local: Timed out', isRetriable: true } : undefined;
    };
    b.faults.metadata = () => (down ? { code: E.ERR__TRANSPORT, message: 'Local: Broker transport failure' } : undefined);
    const events: string[] = [];
    const summary = await runFor(pipeline(b, {
      observer: { onConnectionLost: (e) => events.push(`lost ${e.code}`), onConnectionRestored: () => events.push('back') },
    }).pipeline);
    expect(events).toEqual(['lost KAFKA_UNAVAILABLE', 'back']);
    expect(summary.records).toBe(8);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 4), expected(1, 4)]);
  });

  it('reports a lost connection while a commit hangs, before its first attempt times out', async () => {
    const b = broker(4);
    let down = false;
    let commits = 0;
    // The first commit hangs 600 ms (the brokers went away meanwhile); a probe after 100 ms sees them gone.
    b.faults.commitDelay = () => {
      if (++commits !== 1) return 0;
      down = true;
      return 600;
    };
    b.faults.commit = () => {
      down = false;
      return undefined;
    };
    b.faults.metadata = () => (down ? { code: E.ERR__TRANSPORT, message: 'Local: Broker transport failure' } : undefined);
    const events: string[] = [];
    const summary = await runFor(pipeline(b, {
      transactionTimeoutMs: 1000,
      observer: { onConnectionLost: (e) => events.push(`lost ${e.code}`), onConnectionRestored: () => events.push('back') },
    }).pipeline);
    expect(events).toEqual(['lost KAFKA_UNAVAILABLE', 'back']);
    expect(summary.records).toBe(8);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 4), expected(1, 4)]);
  });

  it('narrowing one partition single-steps only its records; the other partitions go in batches as usual', async () => {
    // p0's 4 records are refused at commit (no record named): p0 narrows. p1's records arrive then.
    const b = broker(4, 1);
    let poisoned = false;
    b.faults.produce = (_topic, value) => {
      if (value?.toString() === 'V0-3') poisoned = true;
      return undefined;
    };
    b.faults.commit = () => {
      if (!poisoned) return undefined;
      poisoned = false;
      if (b.log(SRC, 1).length === 0) for (let i = 0; i < 4; i++) b.append(SRC, 1, `v1-${i}`);
      return { code: E.ERR_MSG_SIZE_TOO_LARGE, message: 'ProduceRequest failed', isTxnRequiresAbort: true };
    };
    const batches: string[] = [];
    const processor = async (batch: readonly SourceRecord[]) => {
      batches.push(batch.map((r) => `${r.partition}@${r.offset}`).join(','));
      return upper(batch);
    };
    const summary = await runFor(pipeline(b, {
      processor, batchSize: 8, backoff: { initialMs: 0, maxMs: 0 },
      ranges: [{ topic: SRC, partition: 0, to: 4 }, { topic: SRC, partition: 1, to: 4 }],
    }).pipeline);
    expect(batches).toEqual(['0@0,0@1,0@2,0@3', '0@0,1@0,1@1,1@2,1@3', '0@1', '0@2', '0@3']);
    expect(summary.partitions.map((p) => [p.partition, p.committed])).toEqual([[0, 3], [1, 4]]);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 3), expected(1, 4)]);
  });
});

describe('TransactionalPipeline on fake clients: a revoke while narrowing', () => {
  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(condition()).toBe(true);
  }

  it('drops the held records of a partition revoked (and given back) during narrowing: each record is written once', async () => {
    const b = broker(3);
    let poisoned = false;
    b.faults.produce = (_topic, value) => {
      if (value?.toString() === 'V0-1') poisoned = true;
      return undefined;
    };
    b.faults.commit = () => {
      if (!poisoned) return undefined;
      poisoned = false;
      return { code: E.ERR_MSG_SIZE_TOO_LARGE, message: 'ProduceRequest failed', isTxnRequiresAbort: true };
    };
    const clients = new FakeClients(b);
    let rebalanceDuring: (() => void) | undefined;
    const processor = async (batch: readonly SourceRecord[]) => {
      // The first cycle of the narrowing (one record, p0@0): p1 is revoked and given back meanwhile.
      if (batch.length === 1 && rebalanceDuring) {
        rebalanceDuring();
        rebalanceDuring = undefined;
      }
      return upper(batch);
    };
    const p = new TransactionalPipeline({
      name: 'unit', connection: { bootstrapServers: 'fake:9092', properties: {} }, clients, groupId: 'g', transactionalId: 'tx',
      startAt: 'earliest', topics: [SRC], processor, batchSize: 8, backoff: { initialMs: 1, maxMs: 5 },
    });
    const running = p.run();
    await until(() => clients.consumer_ !== undefined && clients.producer_?.isConnected() === true);
    const consumer = clients.consumer_!;
    rebalanceDuring = () => {
      consumer.rebalance('revoke', [{ topic: SRC, partition: 1 }]);
      consumer.rebalance('assign', [{ topic: SRC, partition: 1 }]);
    };
    consumer.rebalance('assign', [{ topic: SRC, partition: 0 }, { topic: SRC, partition: 1 }]);
    await until(() => rebalanceDuring === undefined && b.values(DST, 1).length >= 3 && !p.healthy);
    await new Promise((r) => setTimeout(r, 100));
    p.stop();
    await running;
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 1), expected(1, 3)]);
    expect([b.committed.get(`${SRC}\u00000`), b.committed.get(`${SRC}\u00001`)]).toEqual([1, 3]);
  });

  it('a partition revoked and given back while the transaction is open: the commit aborts and is retried, each record written once', async () => {
    const b = broker(3);
    const clients = new FakeClients(b);
    let rebalanceAtBegin: (() => void) | undefined;
    b.faults.onBegin = () => {
      rebalanceAtBegin?.();
      rebalanceAtBegin = undefined;
    };
    const aborts: string[] = [];
    const p = new TransactionalPipeline({
      name: 'unit', connection: { bootstrapServers: 'fake:9092', properties: {} }, clients, groupId: 'g', transactionalId: 'tx',
      startAt: 'earliest', topics: [SRC], processor: upper, batchSize: 8, backoff: { initialMs: 1, maxMs: 5 },
      observer: { onAbort: (e) => aborts.push(e.code) },
    });
    const running = p.run();
    await until(() => clients.consumer_ !== undefined && clients.producer_?.isConnected() === true);
    const consumer = clients.consumer_!;
    rebalanceAtBegin = () => {
      consumer.rebalance('revoke', [{ topic: SRC, partition: 1 }]);
      consumer.rebalance('assign', [{ topic: SRC, partition: 1 }]);
    };
    consumer.rebalance('assign', [{ topic: SRC, partition: 0 }, { topic: SRC, partition: 1 }]);
    await until(() => rebalanceAtBegin === undefined && b.values(DST, 0).length >= 3 && b.values(DST, 1).length >= 3);
    await new Promise((r) => setTimeout(r, 100));
    p.stop();
    await running;
    expect(aborts).toEqual(['KAFKA_TRANSACTION']);
    expect([b.values(DST, 0), b.values(DST, 1)]).toEqual([expected(0, 3), expected(1, 3)]);
  });
});


describe('TransactionalPipeline on fake clients: back-off and revokes', () => {
  async function until(condition: () => boolean): Promise<void> {
    for (let i = 0; i < 2000 && !condition(); i++) await new Promise((r) => setTimeout(r, 5));
    expect(condition()).toBe(true);
  }

  it('forgets the failures of a revoked partition: given back, its back-off starts from the initial delay', async () => {
    const b = broker(3, 1);
    const clients = new FakeClients(b);
    let failing = true;
    b.faults.commit = () => (failing ? { code: E.ERR__TRANSPORT, message: 'Local: Broker transport failure' } : undefined);
    const p = new TransactionalPipeline({
      name: 'unit', connection: { bootstrapServers: 'fake:9092', properties: {} }, clients, groupId: 'g', transactionalId: 'tx',
      startAt: 'earliest', topics: [SRC], processor: upper, batchSize: 8, backoff: { initialMs: 1, maxMs: 5 },
    });
    const backoff = (p as unknown as { backoff: PartitionBackoff }).backoff;
    const key = partitionKey(SRC, 0);
    const running = p.run();
    await until(() => clients.consumer_ !== undefined && clients.producer_?.isConnected() === true);
    const consumer = clients.consumer_!;
    consumer.rebalance('assign', [{ topic: SRC, partition: 0 }]);
    await until(() => backoff.failuresOf(key) >= 2);
    consumer.rebalance('revoke', [{ topic: SRC, partition: 0 }]);
    expect(backoff.failuresOf(key)).toBe(0);
    failing = false;
    consumer.rebalance('assign', [{ topic: SRC, partition: 0 }]);
    await until(() => b.values(DST, 0).length === 3);
    p.stop();
    await running;
    expect(b.values(DST, 0)).toEqual(expected(0, 3));
  });
});

describe('planCommit', () => {
  it('leaves out the partitions the consumer no longer owns', () => {
    const rec = (partition: number, offset: number): SourceRecord => ({ topic: SRC, partition, offset, key: null, value: null, headers: [], timestamp: 0 });
    const batch = [rec(0, 5), rec(1, 7), rec(0, 6)];
    const results = batch.map((r) => ({ outputs: [{ topic: DST, partition: r.partition, key: null, value: null, headers: [], timestamp: 0 }] }));
    const plan = planCommit(batch, results, (key) => key !== partitionKey(SRC, 1));
    expect(plan.sources).toEqual([0, 2]);
    expect([...plan.nextOffsets.values()]).toEqual([{ topic: SRC, partition: 0, offset: 7 }]);
  });
});
