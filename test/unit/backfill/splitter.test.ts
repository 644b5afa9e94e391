import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { splitTasks, taskGroupId, taskId, taskTransactionalId, type PartitionPlan } from '../../../src/backfill/index.js';

function partition(p: number, from: number, to: number, topic = 'legacy.customers'): PartitionPlan {
  return { topic, partition: p, targetTopic: `${topic}.enc`, from, to, targetStart: 0 };
}

describe('splitTasks', () => {
  it('makes one task per partition by default, whatever taskRecords says (order is kept)', () => {
    const tasks = splitTasks('bf', [partition(0, 0, 5000), partition(1, 100, 250), partition(2, 7, 7)], { relaxOrdering: false, taskRecords: 1000 });
    expect(tasks.map((t) => [t.partition, t.from, t.to])).toEqual([[0, 0, 5000], [1, 100, 250], [2, 7, 7]]);
    // One task per partition: the job's own group holds the checkpoint (and is where streaming continues).
    expect(new Set(tasks.map((t) => t.groupId))).toEqual(new Set(['recrypt-bf']));
  });

  it('splits into ranges of at most taskRecords only when ordering is relaxed, each with its own group', () => {
    const tasks = splitTasks('bf', [partition(0, 10, 2510), partition(1, 0, 1000)], { relaxOrdering: true, taskRecords: 1000 });
    expect(tasks.map((t) => [t.partition, t.from, t.to])).toEqual([[0, 10, 1010], [0, 1010, 2010], [0, 2010, 2510], [1, 0, 1000]]);
    expect(new Set(tasks.map((t) => t.groupId)).size).toBe(tasks.length);
    expect(tasks[1]!.groupId).toBe('recrypt-bf-legacy.customers-0-1010');
  });

  it('keeps an empty partition as a task that completes at once', () => {
    expect(splitTasks('bf', [partition(3, 42, 42)], { relaxOrdering: true, taskRecords: 10 }).map((t) => [t.from, t.to])).toEqual([[42, 42]]);
  });

  it('derives deterministic ids: the same task always gets the same transactional id', () => {
    const a = splitTasks('bf', [partition(4, 0, 300)], { relaxOrdering: true, taskRecords: 100 });
    const b = splitTasks('bf', [partition(4, 0, 300)], { relaxOrdering: true, taskRecords: 100 });
    expect(a).toEqual(b);
    expect(a[2]).toMatchObject({
      id: taskId('legacy.customers', 4, 200),
      transactionalId: 'recrypt-bf-task-legacy.customers-4-200',
      groupId: taskGroupId('bf', 'legacy.customers', 4, 200, true),
    });
    expect(taskTransactionalId('bf', 't', 1, 0)).not.toBe(taskTransactionalId('bf', 't', 1, 1));
    expect(a.every((t) => !t.id.includes(':'))).toBe(true); // BullMQ refuses ':' in job ids
  });

  it('refuses a bad taskRecords or range', () => {
    expect(() => splitTasks('bf', [partition(0, 0, 10)], { relaxOrdering: true, taskRecords: 0 })).toThrow(/taskRecords/);
    expect(() => splitTasks('bf', [partition(0, 10, 5)], { relaxOrdering: false, taskRecords: 10 })).toThrow(/bad range/);
  });

  it('covers every offset of every partition exactly once, in order, within the size limit', () => {
    fc.assert(fc.property(
      fc.array(fc.tuple(fc.nat(10_000), fc.nat(10_000)), { minLength: 1, maxLength: 8 }),
      fc.integer({ min: 1, max: 3000 }), fc.boolean(),
      (ranges, taskRecords, relaxOrdering) => {
        const partitions = ranges.map(([a, n], i) => partition(i, a, a + n));
        const tasks = splitTasks('bf', partitions, { relaxOrdering, taskRecords });
        expect(new Set(tasks.map((t) => t.id)).size).toBe(tasks.length);
        expect(new Set(tasks.map((t) => t.transactionalId)).size).toBe(tasks.length);
        for (const p of partitions) {
          const own = tasks.filter((t) => t.partition === p.partition);
          expect(own[0]!.from).toBe(p.from);
          expect(own.at(-1)!.to).toBe(p.to);
          own.forEach((t, i) => {
            if (i > 0) expect(t.from).toBe(own[i - 1]!.to);
            if (relaxOrdering) expect(t.to - t.from).toBeLessThanOrEqual(taskRecords);
          });
          if (!relaxOrdering) expect(own).toHaveLength(1);
        }
      },
    ));
  });
});
