// Which polled records the loop takes, and where partitions resume after a failed cycle (partition-table.ts).
import { describe, expect, it } from 'vitest';
import { transition } from '../../../src/kafka/partition-state.js';
import { PartitionTable } from '../../../src/kafka/partition-table.js';
import { partitionKey, type SourceRecord } from '../../../src/kafka/types.js';

const rec = (partition: number, offset: number): SourceRecord =>
  ({ topic: 't', partition, offset, key: null, value: null, headers: [], timestamp: 0 });
const tp = (partition: number) => ({ topic: 't', partition });

function table(): PartitionTable {
  const t = new PartitionTable();
  t.addRange(tp(0), 0, 10);
  t.addRange(tp(1), 0, 10);
  return t;
}

describe('PartitionTable', () => {
  it('takes records of running and assigned partitions in order, advancing the expected offset', () => {
    const t = table();
    t.assign([tp(2)]);
    expect(t.accept([rec(0, 0), rec(0, 1), rec(2, 40)]).map((r) => r.offset)).toEqual([0, 1, 40]);
    expect([t.get(partitionKey('t', 0))?.expected, t.get(partitionKey('t', 2))?.expected]).toEqual([2, 41]);
    // Stale (prefetched before a seek back): dropped.
    expect(t.accept([rec(0, 1)])).toEqual([]);
  });

  it('drops records of paused, halted, done, revoked and unknown partitions, and records past the range end', () => {
    const t = table();
    t.assign([tp(2), tp(3), tp(4)]);
    transition(t.get(partitionKey('t', 0))!, { type: 'pause', until: 1 });
    transition(t.get(partitionKey('t', 2))!, { type: 'halt', offset: 0, code: 'X' });
    t.revoke([tp(3)]);
    transition(t.get(partitionKey('t', 4))!, { type: 'finish' });
    expect(t.accept([rec(0, 0), rec(2, 0), rec(3, 0), rec(4, 0), rec(9, 0), rec(1, 10)])).toEqual([]);
    expect(t.get(partitionKey('t', 1))?.eofAt).toBe(10);
  });

  it('previews what accept would take, changing nothing: the batch a transform ahead works on', () => {
    const t = table();
    t.assign([tp(2)]);
    transition(t.get(partitionKey('t', 2))!, { type: 'halt', offset: 0, code: 'X' });
    const polled = [rec(0, 0), rec(0, 1), rec(0, 1), rec(1, 9), rec(1, 10), rec(2, 0)];
    const preview = t.preview(polled);
    // The duplicate offset (stale) and what is past the range end or halted are left out, as accept does.
    expect(preview.map((r) => `${r.partition}@${r.offset}`)).toEqual(['0@0', '0@1', '1@9']);
    expect([t.get(partitionKey('t', 0))?.expected, t.get(partitionKey('t', 1))?.eofAt]).toEqual([0, undefined]);
    expect(t.preview(polled)).toEqual(preview);
    // accept then takes the very same record objects.
    const accepted = t.accept(polled);
    expect(accepted).toHaveLength(preview.length);
    expect(accepted.every((r, i) => r === preview[i])).toBe(true);
    expect(t.get(partitionKey('t', 1))?.eofAt).toBe(10);
  });

  it('commits a plan: progress per partition, totals, and the ranges now done', () => {
    const t = table();
    const plan = {
      outputs: [], sources: [], halts: [],
      nextOffsets: new Map([[partitionKey('t', 0), { topic: 't', partition: 0, offset: 4 }], [partitionKey('t', 1), { topic: 't', partition: 1, offset: 10 }]]),
      counts: new Map([[partitionKey('t', 0), { records: 4, written: 3, dlq: 1 }], [partitionKey('t', 1), { records: 10, written: 10, dlq: 0 }]]),
    };
    const { finished, totals } = t.commit(plan);
    expect(totals).toEqual({ records: 14, written: 13, dlq: 1 });
    expect(finished.map((s) => s.partition)).toEqual([1]);
    expect(t.progress().map((p) => [p.committed, p.records, p.done])).toEqual([[4, 4, false], [10, 10, true]]);
  });

  it('rewinds a failed batch to its first record per owned partition, forgetting ends seen', () => {
    const t = table();
    t.accept([rec(0, 0), rec(0, 1), rec(1, 0)]);
    t.seenEnd(tp(1), 10);
    expect(t.rewind([rec(0, 0), rec(0, 1), rec(1, 0)])).toEqual([{ topic: 't', partition: 0, offset: 0 }, { topic: 't', partition: 1, offset: 0 }]);
    expect([t.get(partitionKey('t', 0))?.expected, t.get(partitionKey('t', 1))?.eofAt]).toEqual([0, undefined]);
    t.revoke([tp(0)]);
    expect(t.rewind([rec(0, 0)])).toEqual([]);
  });

  it('seeks dropped records back to the earlier of their first offset and the rewind, skipping halted partitions', () => {
    const t = table();
    t.accept([rec(0, 0), rec(0, 1), rec(0, 2), rec(1, 0)]);
    t.rewind([rec(0, 0)]);
    expect(t.drop([rec(0, 3), rec(1, 1)])).toEqual([{ topic: 't', partition: 0, offset: 0 }, { topic: 't', partition: 1, offset: 1 }]);
    transition(t.get(partitionKey('t', 1))!, { type: 'halt', offset: 1, code: 'X' });
    expect(t.drop([rec(1, 2)])).toEqual([]);
  });

  it('finishes a range whose end was seen once everything read is committed, not while records are in flight', () => {
    const t = table();
    t.accept([rec(0, 8), rec(0, 9)]);
    t.seenEnd(tp(0), 11);
    expect(t.finishRangesAtEnd()).toEqual([]);
    t.get(partitionKey('t', 0))!.progress!.committed = 10;
    t.seenEnd(tp(0), 11);
    expect(t.finishRangesAtEnd().map((s) => [s.partition, s.status])).toEqual([[0, 'done']]);
    expect(t.allSettled()).toBe(false);
    transition(t.get(partitionKey('t', 1))!, { type: 'finish' });
    expect(t.allSettled()).toBe(true);
  });

  it('narrows partitions until their refused range is committed', () => {
    const t = table();
    t.narrow([rec(0, 3), rec(0, 5), rec(1, 2)]);
    expect(t.pruneNarrowing()).toBe(true);
    t.get(partitionKey('t', 0))!.progress!.committed = 6;
    t.get(partitionKey('t', 1))!.progress!.committed = 3;
    expect(t.pruneNarrowing()).toBe(false);
  });

  it('while narrowing takes one record of the narrowing partitions and every record of the others, holding the rest in order', () => {
    const t = table();
    t.addRange({ topic: 't', partition: 2 }, 0, 10);
    t.narrow([rec(0, 3), rec(2, 4)]);
    const key = (r: SourceRecord) => `${r.partition}@${r.offset}`;
    const { take, hold } = t.oneNarrowingRecord([rec(1, 0), rec(0, 0), rec(2, 0), rec(0, 1), rec(1, 1), rec(2, 1)]);
    expect([take.map(key), hold.map(key)]).toEqual([['1@0', '0@0', '1@1'], ['2@0', '0@1', '2@1']]);
  });

  it('resumes paused partitions whose back-off is over', () => {
    const t = table();
    transition(t.get(partitionKey('t', 0))!, { type: 'pause', until: 100 });
    transition(t.get(partitionKey('t', 1))!, { type: 'pause', until: 300 });
    expect(t.resumeDue(200).map((s) => [s.partition, s.status])).toEqual([[0, 'running']]);
  });

  it('counts lag from the committed offset to the range end or high watermark, halted partitions included, revoked ones not', () => {
    const t = table();
    t.assign([tp(2), tp(3)]);
    t.positions([{ topic: 't', partition: 2, offset: 5 }, { topic: 't', partition: 3, offset: 1 }]);
    transition(t.get(partitionKey('t', 2))!, { type: 'halt', offset: 5, code: 'X' });
    t.revoke([tp(3)]);
    const high = (_topic: string, partition: number) => {
      if (partition === 1) throw new Error('no watermark yet');
      return 20;
    };
    expect(t.lag(high)).toEqual([{ topic: 't', partition: 0, lag: 10 }, { topic: 't', partition: 2, lag: 15 }]);
  });
});
