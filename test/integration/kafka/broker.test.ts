// The local broker is real and transactional: these are the guarantees recrypt's exactly-once loop
// relies on, checked against the broker itself.
import { afterAll, describe, expect, it } from 'vitest';
import { consumeRaw, createTopic, deleteTopics, produceInTransaction, produceRaw } from '../helpers/kafka.js';

const created: string[] = [];
afterAll(async () => { if (created.length) await deleteTopics(...created); });

describe('local Kafka broker', () => {
  it('keeps key, value, headers, timestamp and partition of raw records', async () => {
    const topic = await createTopic('raw', 3);
    created.push(topic);
    // Recent timestamps: the broker's retention would delete segments with years-old ones.
    const t0 = Date.now() - 60_000;
    await produceRaw(topic, [
      { key: Buffer.from('k1'), value: Buffer.from([0, 1, 2, 255]), headers: { h: Buffer.from('v') }, timestamp: String(t0), partition: 2 },
      { key: null, value: null, partition: 1, timestamp: String(t0 + 1) },
    ]);
    const records = await consumeRaw(topic, { count: 2 });
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ partition: 1, key: null, value: null, timestamp: String(t0 + 1) });
    expect(records[1]).toMatchObject({ partition: 2, timestamp: String(t0) });
    expect(records[1]!.key).toEqual(Buffer.from('k1'));
    expect(records[1]!.value).toEqual(Buffer.from([0, 1, 2, 255]));
    expect(records[1]!.headers.h).toEqual(Buffer.from('v'));
  });

  it('shows committed transactions to read_committed consumers and hides aborted ones', async () => {
    const topic = await createTopic('tx', 1);
    created.push(topic);
    await produceInTransaction(topic, [{ value: 'committed-1' }, { value: 'committed-2' }], 'commit');
    await produceInTransaction(topic, [{ value: 'aborted-1' }], 'abort');
    await produceInTransaction(topic, [{ value: 'committed-3' }], 'commit');

    const committed = await consumeRaw(topic, { isolation: 'read_committed', idleMs: 4000 });
    expect(committed.map((r) => r.value?.toString())).toEqual(['committed-1', 'committed-2', 'committed-3']);

    const uncommitted = await consumeRaw(topic, { isolation: 'read_uncommitted', idleMs: 4000 });
    expect(uncommitted.map((r) => r.value?.toString())).toEqual(['committed-1', 'committed-2', 'aborted-1', 'committed-3']);
  });
});
