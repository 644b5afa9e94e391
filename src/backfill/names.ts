/**
 * Every name a backfill derives from its job: queue, task ids, transactional ids, consumer groups and
 * Redis keys. All deterministic, so a task that restarts anywhere reuses the same transactional id
 * (fencing its zombie) and the same group (finding its checkpoint). Groups and transactional ids
 * follow the one convention of jobs/kafka-names.ts.
 */
export { jobGroupId, taskGroupId, taskTransactionalId } from '../jobs/kafka-names.js';

/** BullMQ job ids must not contain ':'; topic names never do ([a-zA-Z0-9._-]). */
export function taskId(topic: string, partition: number, from: number): string {
  return `${topic}.p${partition}.o${from}`;
}

/** BullMQ keys live under `recrypt:queue:<job>:*`; the backfill's own under `recrypt:backfill:<job>:*`. */
export const QUEUE_PREFIX = 'recrypt:queue';

export function queueName(job: string): string {
  return job;
}

export const FINALIZE_TASK = 'finalize';

export function stateKeys(job: string) {
  const base = `recrypt:backfill:${job}`;
  return {
    plan: `${base}:plan`,
    state: `${base}:state`,
    done: `${base}:done`,
    report: `${base}:report`,
    task: (id: string) => `${base}:task:${id}`,
    pattern: `${base}:*`,
  };
}
