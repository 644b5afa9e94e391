// All of recrypt's own env reading happens in service/config.ts, once, validated: the backfill worker
// settings and the backfill commands' Redis timeout included (they were read by cli/ before).
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../src/backfill/index.js';
import { loadServiceConfig } from '../../../src/service/config.js';
import { RecryptError } from '../../../src/util/errors.js';

function refusal(env: NodeJS.ProcessEnv): RecryptError {
  try {
    loadServiceConfig(env);
  } catch (err) {
    if (err instanceof RecryptError) return err;
    throw err;
  }
  throw new Error('expected CONFIG_INVALID');
}

describe('loadServiceConfig', () => {
  it('backfill settings and Redis timeout: defaults without env', () => {
    const config = loadServiceConfig({});
    expect(config.backfill).toEqual(DEFAULT_SETTINGS);
    expect(config.redisTimeoutMs).toBe(10_000);
    expect(Object.isFrozen(config.backfill)).toBe(true);
  });

  it('backfill settings and Redis timeout from env', () => {
    const config = loadServiceConfig({
      RECRYPT_BACKFILL_CONCURRENCY: '2', RECRYPT_BACKFILL_LOCK_MS: '6000', RECRYPT_BACKFILL_STALLED_INTERVAL_MS: '2000',
      RECRYPT_BACKFILL_PROGRESS_MS: '1000', RECRYPT_BACKFILL_RETRY_MS: '500', RECRYPT_REDIS_TIMEOUT_MS: '1500',
    });
    expect(config.backfill).toEqual({
      concurrency: 2, lockDurationMs: 6000, stalledIntervalMs: 2000, maxStalledCount: DEFAULT_SETTINGS.maxStalledCount, progressIntervalMs: 1000, retryDelayMs: 500,
    });
    expect(config.redisTimeoutMs).toBe(1500);
  });

  it('refuses a backfill setting that is not a positive integer, naming the variable only', () => {
    for (const value of ['0', '-3', '1.5', 'ten']) {
      const err = refusal({ RECRYPT_BACKFILL_LOCK_MS: value });
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toBe('RECRYPT_BACKFILL_LOCK_MS must be a positive integer');
    }
  });

  it('refuses a Redis timeout outside 100..600000 ms', () => {
    for (const value of ['99', '600001', 'soon']) {
      const err = refusal({ RECRYPT_REDIS_TIMEOUT_MS: value });
      expect(err.code).toBe('CONFIG_INVALID');
      expect(err.message).toContain('RECRYPT_REDIS_TIMEOUT_MS');
    }
  });
});
