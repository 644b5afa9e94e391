/**
 * Queue and lock settings for long tasks, in one frozen object.
 *
 * A task can run for hours, so it must never depend on finishing within one lock period: BullMQ renews
 * the lock every lockDuration/2 while the task runs. lockDuration bounds how long a task waits before
 * another worker takes it over after its worker died (SIGKILL, node loss): the lock expires, the next
 * stalled check (every stalledInterval) moves the task back to wait. A stall is an interruption, never a
 * failure: maxStalledCount is effectively unlimited, and the task resumes from its Kafka checkpoint.
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
  lockDurationMs: 120_000,
  stalledIntervalMs: 30_000,
  maxStalledCount: 1_000_000,
  progressIntervalMs: 2_000,
  retryDelayMs: 5_000,
});

/** BullMQ connection options: the URL with the process's reconnect policy (redis.ts). */
export function redisConnection(url: string, policy: RedisPolicy = {}): QueueRedisOptions {
  const { maxRetriesPerRequest, retryStrategy, connectTimeout } = redisOptions(policy);
  return { url, maxRetriesPerRequest, ...(retryStrategy ? { retryStrategy } : {}), ...(connectTimeout !== undefined ? { connectTimeout } : {}) };
}
