// All of recrypt's own env reading happens in service/config.ts, once, validated: the backfill worker
// settings and the backfill commands' Redis timeout included (they were read by cli/ before).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../src/backfill/index.js';
import { kafkaConnectionFromEnv, loadServiceConfig, localKmsSecret, logLevelFromEnv } from '../../../src/service/config.js';
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
  it('backfill settings and Redis timeout: defaults without env (backfill/\'s own, put under env by the backfill commands)', () => {
    const config = loadServiceConfig({});
    expect(config.backfill).toEqual({});
    expect({ ...DEFAULT_SETTINGS, ...config.backfill }).toEqual(DEFAULT_SETTINGS);
    expect(config.redisTimeoutMs).toBe(10_000);
    expect(Object.isFrozen(config.backfill)).toBe(true);
  });

  it('backfill settings and Redis timeout from env', () => {
    const config = loadServiceConfig({
      RECRYPT_BACKFILL_CONCURRENCY: '2', RECRYPT_BACKFILL_LOCK_MS: '6000', RECRYPT_BACKFILL_STALLED_INTERVAL_MS: '2000',
      RECRYPT_BACKFILL_PROGRESS_MS: '1000', RECRYPT_BACKFILL_RETRY_MS: '500', RECRYPT_REDIS_TIMEOUT_MS: '1500',
    });
    expect({ ...DEFAULT_SETTINGS, ...config.backfill }).toEqual({
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

describe('the local-kms secret (LOCAL_SECRET, LOCAL_SECRET_FILE)', () => {
  it('from LOCAL_SECRET, else from the file LOCAL_SECRET_FILE names (one trailing newline trimmed); the runtime gets it as kmsProps.secret', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'recrypt-config-')), 'local-secret');
    writeFileSync(file, 'from-file\n');
    expect(localKmsSecret({ LOCAL_SECRET: 'from-env', LOCAL_SECRET_FILE: file })).toBe('from-env');
    expect(localKmsSecret({ LOCAL_SECRET_FILE: file })).toBe('from-file');
    expect(localKmsSecret({ LOCAL_SECRET: '', LOCAL_SECRET_FILE: file })).toBe('from-file');
    expect(localKmsSecret({})).toBeUndefined();
    expect(loadServiceConfig({ LOCAL_SECRET_FILE: file }).kmsProps).toEqual({ secret: 'from-file' });
    expect(loadServiceConfig({}).kmsProps).toEqual({});
  });

  it('an unreadable LOCAL_SECRET_FILE is CONFIG_INVALID naming the variable, not the path\'s contents', () => {
    const err = refusal({ LOCAL_SECRET_FILE: join(tmpdir(), 'recrypt-no-such-dir', 'secret') });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toBe('LOCAL_SECRET_FILE names a file that cannot be read');
  });
});

describe('env read before the configuration (service/config.ts is the one env reader)', () => {
  it('logLevelFromEnv: LOG_LEVEL when valid, else info (loadServiceConfig refuses the invalid value)', () => {
    expect(logLevelFromEnv({ LOG_LEVEL: 'debug' })).toBe('debug');
    expect(logLevelFromEnv({})).toBe('info');
    expect(logLevelFromEnv({ LOG_LEVEL: 'loud' })).toBe('info');
    expect(() => loadServiceConfig({ LOG_LEVEL: 'loud' })).toThrow(RecryptError);
  });

  it('kafkaConnectionFromEnv: bootstrap servers and KAFKA_PROP_* as librdkafka properties', () => {
    const c = kafkaConnectionFromEnv({ KAFKA_BOOTSTRAP_SERVERS: 'b1:9093,b2:9093', KAFKA_PROP_SECURITY_PROTOCOL: 'SASL_SSL', KAFKA_PROP_SASL_MECHANISM: 'PLAIN' });
    expect(c).toEqual({ bootstrapServers: 'b1:9093,b2:9093', properties: { 'security.protocol': 'SASL_SSL', 'sasl.mechanism': 'PLAIN' } });
    expect(kafkaConnectionFromEnv({}).bootstrapServers).toBe('127.0.0.1:9092');
  });
});
