/**
 * One batch from the consumer, for streaming jobs: what the first consume returns (the first record,
 * waited for, and whatever is queued behind it), topped up until the batch is full or `waitMs` have
 * passed since the first records arrived (job processing.commitIntervalMs). A quiet topic still commits
 * within waitMs; a busy one fills its batches and commits less often. Bounded runs (backfill tasks,
 * stopAt end) take one consume: their last batch has nothing to wait for.
 */
import type { SourceRecord } from '../util/records.js';

export interface GatherOptions {
  readonly batchSize: number;
  readonly waitMs: number;
  /** Stop topping up (shutdown requested). */
  readonly stopped: () => boolean;
  readonly now?: () => number;
}

export async function gatherBatch(consume: (max: number) => Promise<SourceRecord[]>, options: GatherOptions): Promise<SourceRecord[]> {
  const { batchSize, waitMs, stopped } = options;
  const now = options.now ?? Date.now;
  const first = await consume(batchSize);
  if (first.length === 0 || first.length >= batchSize || waitMs <= 0) return first;
  const deadline = now() + waitMs;
  let batch = first;
  while (batch.length < batchSize && now() < deadline && !stopped()) {
    const more = await consume(batchSize - batch.length);
    if (more.length > 0) batch = batch.concat(more);
  }
  return batch;
}
