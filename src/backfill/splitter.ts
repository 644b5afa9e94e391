/**
 * Splits the snapshotted partitions into tasks. Default: one task per partition, so records are written
 * in source order. Only a job that relaxes ordering gets offset-range sub-tasks of at most `taskRecords`
 * offsets, which different workers may run in parallel (the target partition then interleaves them).
 */
import { RecryptError } from '../util/errors.js';
import { taskGroupId, taskId, taskTransactionalId } from './names.js';
import type { PartitionPlan, TaskSpec } from './types.js';

export interface SplitOptions {
  readonly relaxOrdering: boolean;
  readonly taskRecords: number;
}

export function splitTasks(job: string, partitions: readonly PartitionPlan[], options: SplitOptions): TaskSpec[] {
  if (!Number.isSafeInteger(options.taskRecords) || options.taskRecords < 1) {
    throw new RecryptError('JOB_INVALID', `job ${job}: backfill.taskRecords must be a positive integer`);
  }
  const tasks: TaskSpec[] = [];
  for (const p of partitions) {
    if (p.from < 0 || p.to < p.from) {
      throw new RecryptError('INTERNAL', `bad range [${p.from}, ${p.to}) for ${p.topic}/${p.partition}`);
    }
    // An empty partition still gets its task: it completes at once and keeps the plan uniform.
    const step = options.relaxOrdering ? options.taskRecords : Math.max(p.to - p.from, 1);
    let from = p.from;
    do {
      const to = Math.min(p.to, from + step);
      tasks.push({
        id: taskId(p.topic, p.partition, from),
        topic: p.topic, partition: p.partition, from, to,
        transactionalId: taskTransactionalId(job, p.topic, p.partition, from),
        groupId: taskGroupId(job, p.topic, p.partition, from, options.relaxOrdering),
      });
      from = to;
    } while (from < p.to);
  }
  return tasks;
}
