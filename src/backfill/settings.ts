/**
 * Queue and lock settings for long tasks, in one frozen object.
 *
 * A task can run for hours, so it must never depend on finishing within one lock period: the worker
 * renews its lock while the task runs. lockDuration bounds how long a task waits before another worker
 * takes it over after its worker died (SIGKILL, node loss): the lock expires at most lockDuration after
 * the last renewal, and the next stalled check (every stalledInterval, once across all workers) moves the
 * task back to wait, where an idle worker takes it at once. Worst case: lockDuration + stalledInterval
 * (takeoverBoundMs), 5 s + 1 s by default (7.7 s was measured with a 2 s check on a loaded 2-core
 * machine: timers run late there; the check is one short Lua script per worker per interval). A stall is an interruption, never a failure: maxStalledCount
 * is effectively unlimited, and the task resumes from its Kafka checkpoint.
 *
 * Why a short lock is safe. BullMQ's own renewal (every lockDuration/2) would let a live worker lose its
 * lock after an event-loop stall of lockDuration/2; the worker renews every lockDuration/4 instead
 * (lockRenewMs: BullMQ's timer ticks every lockRenewTime/2 and extends a lock last extended more than
 * lockRenewTime/2 ago), so a live worker keeps its lock through a stall of 3/4 lockDuration, 3.75 s by
 * default, for one Redis call per worker about every second. Should a live worker still lose its lock
 * (a longer stall, Redis unreachable from it alone), two runs of the task exist for a moment but never
 * write twice: the new run's initTransactions under the task's transactional id aborts the old run's
 * open transaction and fences it before the new run reads the checkpoint, so the old run's next
 * produce or commit fails with KAFKA_FENCED and it stops (worker.ts puts nothing back: the lock is gone).
 */
import type { RedisOptions as QueueRedisOptions } from 'bullmq';
import { redisOptions, type RedisPolicy } from './redis.js';

export interface BackfillSettings {
  readonly concurrency: number;
  readonly lockDurationMs: number;
  readonly stalledIntervalMs: number;
  readonly maxStalledCount: number;
  /** How often a worker writes task progress (committed offset, rate, counts) to Redis. */
  readonly progressIntervalMs: number;
  /** Delay before a task interrupted by a transient failure runs again. */
  readonly retryDelayMs: number;
}

export const DEFAULT_SETTINGS: BackfillSettings = Object.freeze({
  concurrency: 4,
  lockDurationMs: 5_000,
  stalledIntervalMs: 1_000,
  maxStalledCount: 1_000_000,
  progressIntervalMs: 2_000,
  retryDelayMs: 5_000,
});

/** How often a running task's lock is renewed (BullMQ's lockRenewTime): see the header. */
export function lockRenewMs(settings: Pick<BackfillSettings, 'lockDurationMs'>): number {
  return Math.max(1, Math.floor(settings.lockDurationMs / 4));
}

/**
 * The longest a task of a killed worker waits before it is back on the queue for another worker: its
 * lock expires at most lockDuration after the last renewal, and the next stalled check finds it at most
 * stalledInterval later. (The check is two-phase: it marks the active tasks, and a marked task whose
 * lock is gone at the next check moves; a renewal unmarks it. With checks no sparser than the lock, a
 * marking check falls between the last renewal and the expiry; otherwise the marking check, at most one
 * interval after the last renewal, is followed by the moving one an interval later.)
 */
export function takeoverBoundMs(settings: Pick<BackfillSettings, 'lockDurationMs' | 'stalledIntervalMs'>): number {
  return Math.max(settings.lockDurationMs, settings.stalledIntervalMs) + settings.stalledIntervalMs;
}

/** BullMQ connection options: the URL with the process's reconnect policy (redis.ts). */
export function redisConnection(url: string, policy: RedisPolicy = {}): QueueRedisOptions {
  const { maxRetriesPerRequest, retryStrategy, connectTimeout, tls } = redisOptions(policy);
  return { url, maxRetriesPerRequest, ...(retryStrategy ? { retryStrategy } : {}), ...(connectTimeout !== undefined ? { connectTimeout } : {}), ...(tls ? { tls } : {}) };
}
