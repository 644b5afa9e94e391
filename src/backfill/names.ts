/**
 * Every name a backfill derives from its job: queue, task ids, transactional ids, consumer groups and
 * Redis keys. All deterministic, so a task that restarts anywhere reuses the same transactional id
 * (fencing its zombie) and the same group (finding its checkpoint).
 */

/** The job's streaming group: `recrypt run` and `recrypt serve` use it too, so the cut-over is a commit. */
export function jobGroupId(job: string): string {
  return `recrypt-${job}`;
}

/** BullMQ job ids must not contain ':'; topic names never do ([a-zA-Z0-9._-]). */
export function taskId(topic: string, partition: number, from: number): string {
  return `${topic}.p${partition}.o${from}`;
}

export function taskTransactionalId(job: string, topic: string, partition: number, from: number): string {
  return `recrypt-${job}-task-${topic}-${partition}-${from}`;
}

/**
 * With one task per partition the job's own group holds each partition's checkpoint (partitions do not
 * collide, and the streaming job later finds them there). Sub-ranges of one partition would overwrite
 * each other's committed offset in one group (assign() has no generations), so each gets its own group.
 */
export function taskGroupId(job: string, topic: string, partition: number, from: number, perTask: boolean): string {
  return perTask ? `recrypt-${job}-${topic}-${partition}-${from}` : jobGroupId(job);
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
