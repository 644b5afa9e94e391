/**
 * The shapes a backfill keeps in Redis and on its BullMQ queue. By construction they hold job names,
 * topic names, partitions, offsets, counts and error codes: never a record key or value, a schema, a
 * rule parameter, a DEK or a secret (test/integration/backfill/redis-content.test.ts scans for them).
 */

/** One partition of one source topic, as snapshotted at submit. */
export interface PartitionPlan {
  readonly topic: string;
  readonly partition: number;
  readonly targetTopic: string;
  /** First offset the backfill covers: the job group's committed offset, else the low watermark. */
  readonly from: number;
  /** Exclusive end: the high watermark at submit. */
  readonly to: number;
  /** High watermark of the target partition at submit; the verification counts target records from here. */
  readonly targetStart: number;
}

/** A unit of work on the queue: one offset range of one partition. */
export interface TaskSpec {
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  readonly from: number;
  readonly to: number;
  /** Deterministic per task: a restarted task fences its zombie by reusing it. */
  readonly transactionalId: string;
  /** Whose committed offsets are the task's checkpoint. */
  readonly groupId: string;
}

export type BackfillState = 'running' | 'paused' | 'cancelled' | 'finalizing' | 'completed' | 'streaming';

export interface BackfillPlan {
  readonly job: string;
  /** sha256 of the job definition, so a worker with another version of the job does not run its tasks. */
  readonly specDigest: string;
  readonly createdAt: number;
  readonly relaxOrdering: boolean;
  readonly continueStreaming: boolean;
  readonly taskRecords: number;
  readonly partitions: readonly PartitionPlan[];
  readonly tasks: readonly TaskSpec[];
}

/** What the worker writes every few seconds for a running task (counts only). */
export interface TaskProgress {
  /** Next offset to read, as committed in the task's last transaction. */
  readonly committed: number;
  /** Records per second over the last interval (0 when idle). */
  readonly rate: number;
  /** Counted by the worker's runs; a run killed between two updates leaves a few uncounted. */
  readonly written: number;
  readonly dlq: number;
  readonly updatedAt: number;
  readonly halted?: { readonly offset: number; readonly code: string };
}

export interface PartitionReport {
  readonly topic: string;
  readonly partition: number;
  readonly targetTopic: string;
  readonly from: number;
  readonly to: number;
  /** Data records in [from, to) of the source, read read_committed (control records excluded). */
  readonly source: number;
  /** Data records in the target partition between its submit and finish high watermarks. */
  readonly target: number;
  readonly dlq: number;
  readonly ok: boolean;
}

export interface VerifyReport {
  readonly job: string;
  readonly at: number;
  readonly partitions: readonly PartitionReport[];
  readonly source: number;
  readonly target: number;
  readonly dlq: number;
  readonly ok: boolean;
  /** Target high watermarks (`topic/partition`) the counts stopped at: a later verify reuses them. */
  readonly targetEnd: Readonly<Record<string, number>>;
}
