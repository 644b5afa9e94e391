// The DLQ circuit breaker (issue 21, defect 2): count-based over the last `window` records, the record
// that would make the DLQ count exceed maxRatio x window halts with DLQ_STORM and is not sent.
import { describe, expect, it } from 'vitest';
import { DlqBreaker } from '../../../src/dlq/index.js';
import { RecryptError } from '../../../src/util/errors.js';
import type { OutputRecord, ProcessedRecord, SourceRecord } from '../../../src/util/records.js';

const out = (topic: string): OutputRecord => ({ topic, partition: 0, key: null, value: null, headers: [], timestamp: 0 });
const ok: ProcessedRecord = { outputs: [out('target')] };
const dlq: ProcessedRecord = { outputs: [out('the-dlq')], dlq: true };

function records(from: number, n: number, partition = 0, topic = 'src'): SourceRecord[] {
  return Array.from({ length: n }, (_, i) => ({ topic, partition, offset: from + i, key: null, value: null, headers: [], timestamp: 0 }));
}

function haltsIn(results: readonly ProcessedRecord[]): number[] {
  return results.flatMap((r, i) => ('halt' in r ? [i] : []));
}

describe('DlqBreaker', () => {
  it('trips on the DLQ record that makes more than maxRatio x window (51 of 100): that record halts with DLQ_STORM, no DLQ output', () => {
    const breaker = new DlqBreaker({ maxRatio: 0.5, window: 100, dlqTopics: ['the-dlq'] });
    const batch = records(0, 60);
    const results = breaker.check(batch, batch.map(() => dlq));
    expect(haltsIn(results)).toEqual([50]);
    const halt = (results[50] as { halt: RecryptError }).halt;
    expect(halt.code).toBe('DLQ_STORM');
    expect(halt.message).toContain('51 of the last 51 records');
    expect(halt.message).toContain('dlq.maxRatio 0.5 of dlq.window 100');
    expect(halt.message).toContain('src/0@50');
    expect(halt.message).toContain('the-dlq');
    expect('outputs' in results[50]!).toBe(false);
    expect(breaker.dlqInWindow).toBe(50);
  });

  it('a steady ratio at the limit never trips; records leaving the window make room again', () => {
    const breaker = new DlqBreaker({ maxRatio: 0.5, window: 10 });
    // Alternating: 5 of every 10 go to the DLQ, for 1,000 records.
    for (let b = 0; b < 100; b++) {
      const batch = records(b * 10, 10);
      expect(haltsIn(breaker.check(batch, batch.map((_, i) => (i % 2 === 0 ? dlq : ok))))).toEqual([]);
    }
    // 5 DLQ records in the window: the next DLQ record replaces a leaving DLQ one (still 5), the one after would make 6.
    const tail = records(1000, 2);
    expect(haltsIn(breaker.check(tail, [dlq, dlq]))).toEqual([1]);
  });

  it('counts all partitions of the job together, but halts only the tripping record and later ones are not counted', () => {
    const breaker = new DlqBreaker({ maxRatio: 0.5, window: 10 });
    const batch = [...records(0, 4, 0), ...records(0, 4, 1)];
    expect(haltsIn(breaker.check(batch, batch.map(() => dlq)))).toEqual([5]);
    expect(breaker.dlqInWindow).toBe(5);
    // Partition 1 halted at offset 1: its offsets 2 and 3 of that batch were not counted; partition 0 goes on with ok records.
    const more = records(4, 5, 0);
    expect(haltsIn(breaker.check(more, more.map(() => ok)))).toEqual([]);
    expect(breaker.dlqInWindow).toBe(5);
  });

  it('a replayed batch (aborted transaction) is not counted twice', () => {
    const breaker = new DlqBreaker({ maxRatio: 0.5, window: 10 });
    const batch = records(0, 5);
    expect(haltsIn(breaker.check(batch, batch.map(() => dlq)))).toEqual([]);
    expect(haltsIn(breaker.check(batch, batch.map(() => dlq)))).toEqual([]);
    expect(breaker.dlqInWindow).toBe(5);
    expect(haltsIn(breaker.check(records(5, 1), [dlq]))).toEqual([0]);
  });

  it('halts from the engine are left alone and not counted; maxRatio 1 never trips', () => {
    const breaker = new DlqBreaker({ maxRatio: 0.5, window: 10 });
    const halt: ProcessedRecord = { halt: new RecryptError('KMS_KEY_NOT_FOUND', 'k') };
    const batch = records(0, 3);
    expect(breaker.check(batch, [ok, halt, dlq])[1]).toBe(halt);
    expect(breaker.dlqInWindow).toBe(0);
    const off = new DlqBreaker({ maxRatio: 1, window: 10 });
    const all = records(0, 50);
    expect(haltsIn(off.check(all, all.map(() => dlq)))).toEqual([]);
  });

  it('refuses settings out of range', () => {
    expect(() => new DlqBreaker({ maxRatio: 0, window: 10 })).toThrow(/maxRatio/);
    expect(() => new DlqBreaker({ maxRatio: 0.5, window: 0 })).toThrow(/window/);
  });

  it('records counted as written whose output is refused later and diverted (divertLate) count as DLQ records and trip it', () => {
    // A target topic whose max.message.bytes refuses every record: each is counted written by check, then
    // diverted by the refused-record path. Before, the breaker never saw a DLQ record and the source drained.
    const breaker = new DlqBreaker({ maxRatio: 0.5, window: 100 });
    const storms: number[] = [];
    for (let b = 0; b < 10 && storms.length === 0; b++) {
      const batch = records(b * 10, 10);
      expect(haltsIn(breaker.check(batch, batch.map(() => ok)))).toEqual([]);
      for (const record of batch) {
        const storm = breaker.divertLate(record);
        if (storm) {
          expect(storm.code).toBe('DLQ_STORM');
          expect(storm.message).toContain('51 of the last');
          storms.push(record.offset);
          break;
        }
      }
    }
    expect(storms).toEqual([50]);
    expect(breaker.dlqInWindow).toBe(50);
  });

  it('divertLate on a replay of the same record does not count it twice; a record never counted takes a slot of its own', () => {
    const breaker = new DlqBreaker({ maxRatio: 0.5, window: 10 });
    const batch = records(0, 4);
    breaker.check(batch, batch.map(() => ok));
    expect(breaker.divertLate(batch[1]!)).toBeUndefined();
    expect(breaker.divertLate(batch[1]!)).toBeUndefined();
    expect(breaker.dlqInWindow).toBe(1);
    expect(breaker.divertLate(records(0, 1, 3)[0]!)).toBeUndefined();
    expect(breaker.dlqInWindow).toBe(2);
  });

  it('divertLate never trips with maxRatio 1', () => {
    const breaker = new DlqBreaker({ maxRatio: 1, window: 10 });
    const batch = records(0, 20);
    breaker.check(batch, batch.map(() => ok));
    for (const record of batch) expect(breaker.divertLate(record)).toBeUndefined();
  });
});
