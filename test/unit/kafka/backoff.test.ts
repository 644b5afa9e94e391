import { describe, expect, it } from 'vitest';
import { PartitionBackoff } from '../../../src/kafka/backoff.js';

// random() = 1: the delay is the full ceiling, so growth is visible exactly.
const backoff = () => new PartitionBackoff({ initialMs: 100, maxMs: 1600 }, () => 1);

describe('PartitionBackoff', () => {
  it('doubles per failure of a partition up to the maximum', () => {
    const b = backoff();
    expect([1, 2, 3, 4, 5, 6].map(() => b.next(['p0']))).toEqual([100, 200, 400, 800, 1600, 1600]);
  });

  it('keeps growing while only other partitions commit', () => {
    const b = backoff();
    b.next(['p0']);
    b.next(['p0']);
    b.reset(['p1']);
    expect(b.next(['p0'])).toBe(400);
    // A fresh partition failing next to it starts low, but a batch holding both waits for the worse one.
    expect(b.next(['p1'])).toBe(100);
    expect(b.next(['p0', 'p1'])).toBe(800);
    expect(b.failuresOf('p1')).toBe(2);
  });

  it('is reset only by a commit that covered the partition', () => {
    const b = backoff();
    for (let i = 0; i < 4; i++) b.next(['p0']);
    b.reset(['p0']);
    expect(b.failuresOf('p0')).toBe(0);
    expect(b.next(['p0'])).toBe(100);
  });

  it('jitters within the upper half of the ceiling', () => {
    const b = new PartitionBackoff({ initialMs: 100, maxMs: 1600 }, () => 0);
    expect(b.next(['p0'])).toBe(50);
    expect(b.next(['p0'])).toBe(100);
  });

  it('counts failures in a row with the same unlisted code per partition; another error or a commit starts again', () => {
    const b = backoff();
    expect([...b.repeated(['p0', 'p1'], 7, 3)]).toEqual([]);
    expect([...b.repeated(['p0', 'p1'], 7, 3)]).toEqual([]);
    b.repeated(['p1'], undefined, 3);
    expect([...b.repeated(['p0', 'p1'], 7, 3)]).toEqual(['p0']);
    b.reset(['p0']);
    expect([...b.repeated(['p0'], 7, 3)]).toEqual([]);
    expect([...b.repeated(['p0'], 8, 3)]).toEqual([]);
  });
});

