import { describe, expect, it } from 'vitest';
import { gatherBatch } from '../../../src/kafka/batch-gather.js';
import type { SourceRecord } from '../../../src/util/records.js';

const rec = (offset: number): SourceRecord => ({ topic: 't', partition: 0, offset, key: null, value: null, headers: [], timestamp: 0 });

/** A consumer whose queue receives `arrivals[i]` records at clock tick i; each consume advances the clock 10 ms. */
function trickle(arrivals: number[]) {
  let clock = 0;
  let next = 0;
  let queued: SourceRecord[] = [];
  const calls: number[] = [];
  const consume = async (max: number) => {
    calls.push(max);
    const tick = Math.floor(clock / 10);
    for (let i = 0; i <= tick && i < arrivals.length; i++) {
      while ((arrivals[i] ?? 0) > 0) { queued.push(rec(next++)); arrivals[i]! -= 1; }
    }
    clock += 10;
    const out = queued.slice(0, max);
    queued = queued.slice(max);
    return out;
  };
  return { consume, now: () => clock, calls };
}

describe('gatherBatch (processing.commitIntervalMs)', () => {
  it('tops a partial batch up until waitMs have passed, then commits what it has', async () => {
    const t = trickle([3, 0, 2, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 5]);
    const batch = await gatherBatch(t.consume, { batchSize: 100, waitMs: 50, stopped: () => false, now: t.now });
    expect(batch.map((r) => r.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]); // the 5 at 140 ms wait for the next batch
    expect(t.now()).toBeLessThanOrEqual(70);
  });

  it('returns as soon as the batch is full, asking only for what is missing', async () => {
    const t = trickle([3, 4, 10]);
    const batch = await gatherBatch(t.consume, { batchSize: 8, waitMs: 1000, stopped: () => false, now: t.now });
    expect(batch).toHaveLength(8);
    expect(t.calls).toEqual([8, 5, 1]);
  });

  it('takes one consume when waitMs is 0 (bounded runs) or nothing arrived', async () => {
    const t = trickle([3, 4]);
    expect(await gatherBatch(t.consume, { batchSize: 8, waitMs: 0, stopped: () => false, now: t.now })).toHaveLength(3);
    const empty = trickle([]);
    expect(await gatherBatch(empty.consume, { batchSize: 8, waitMs: 1000, stopped: () => false, now: empty.now })).toEqual([]);
    expect(empty.calls).toEqual([8]);
  });

  it('stops topping up when a shutdown is requested', async () => {
    const t = trickle([1, 1, 1, 1, 1, 1]);
    let stop = false;
    const consume = async (max: number) => { const r = await t.consume(max); if (t.calls.length === 2) stop = true; return r; };
    const batch = await gatherBatch(consume, { batchSize: 100, waitMs: 10_000, stopped: () => stop, now: t.now });
    expect(batch).toHaveLength(2);
  });
});
