/**
 * The names a job goes by on Kafka: consumer groups and transactional ids, for streaming runs (`recrypt
 * run`, `recrypt serve`, a backfill's continueStreaming) and backfill tasks. All deterministic: a
 * restarted process or task reuses its transactional id (fencing its zombie and aborting what that
 * left open) and its group (finding its committed offsets). Changing one strands committed offsets.
 */

const PREFIX = 'recrypt';

/** The job's streaming group; backfill tasks over whole partitions use it too, so the cut-over to streaming is a commit. */
export function jobGroupId(job: string): string {
  return `${PREFIX}-${job}`;
}

/** A streaming run's transactional id: one per job and instance (the pod name, stable across restarts). */
export function streamingTransactionalId(job: string, instanceId: string): string {
  return `${PREFIX}-${job}-${instanceId}`;
}

/** A backfill task's transactional id: one per task (the start offset names it), whoever runs it. */
export function taskTransactionalId(job: string, topic: string, partition: number, from: number): string {
  return `${PREFIX}-${job}-task-${topic}-${partition}-${from}`;
}

/**
 * A backfill task's group. With one task per partition the job's own group holds each partition's
 * checkpoint (partitions do not collide, and the streaming job later finds them there). Sub-ranges of
 * one partition would overwrite each other's committed offset in one group (assign() has no
 * generations), so each gets its own group.
 */
export function taskGroupId(job: string, topic: string, partition: number, from: number, perTask: boolean): string {
  return perTask ? `${PREFIX}-${job}-${topic}-${partition}-${from}` : jobGroupId(job);
}

/** `recrypt dlq replay`'s group on the job's DLQ topics: its committed offsets are the replay's progress. */
export function dlqReplayGroupId(job: string): string {
  return `${PREFIX}-${job}-dlq-replay`;
}

/** One transactional id per job's replay: a second replay of the same job fences the first. */
export function dlqReplayTransactionalId(job: string): string {
  return `${PREFIX}-${job}-dlq-replay`;
}
