import { describe, expect, it } from 'vitest';
import type { KmsDriver } from '../../../src/kms/kms-driver.js';
import { backoffMs, DEFAULT_RETRY, withRetry } from '../../../src/kms/retry.js';
import { RecryptError, type ErrorCode } from '../../../src/util/errors.js';
import { rejection } from './leak-check.js';

/** A driver whose calls fail with the given codes, in order, then succeed. */
function scripted(codes: (ErrorCode | Error)[]): KmsDriver & { calls: number } {
  const d = {
    kmsType: 'test-kms',
    calls: 0,
    async wrap(): Promise<Uint8Array> {
      const next = codes[d.calls++];
      if (next === undefined) return Uint8Array.of(1);
      throw next instanceof Error ? next : new RecryptError(next, 'scripted');
    },
    async unwrap(): Promise<Uint8Array> {
      return d.wrap();
    },
  };
  return d;
}

const noSleep = { sleep: async () => undefined };

describe('withRetry', () => {
  it('retries transient KMS_UNAVAILABLE and returns the first success', async () => {
    const inner = scripted(['KMS_UNAVAILABLE', 'KMS_UNAVAILABLE']);
    const out = await withRetry(inner, { attempts: 3, baseMs: 1, maxMs: 1, ...noSleep }).wrap('k', Uint8Array.of(0), {});
    expect(out).toEqual(Uint8Array.of(1));
    expect(inner.calls).toBe(3);
  });

  it('is bounded: after `attempts` calls the transient error is thrown as is', async () => {
    const inner = scripted(Array(10).fill('KMS_UNAVAILABLE'));
    const err = await rejection(withRetry(inner, { attempts: 4, baseMs: 1, maxMs: 1, ...noSleep }).unwrap('k', Uint8Array.of(0), {}));
    expect(err).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    expect(inner.calls).toBe(4);
  });

  it.each<ErrorCode>(['KMS_ACCESS_DENIED', 'KMS_KEY_NOT_FOUND', 'KMS_KEY_DISABLED', 'KMS_UNWRAP_FAILED', 'KMS_CONFIG', 'KMS_UNSUPPORTED_TYPE'])(
    'never retries permanent %s',
    async (code) => {
      const inner = scripted([code]);
      const err = await rejection(withRetry(inner, { attempts: 5, baseMs: 1, maxMs: 1, ...noSleep }).wrap('k', Uint8Array.of(0), {}));
      expect(err).toMatchObject({ code, transient: false });
      expect(inner.calls).toBe(1);
    },
  );

  it('does not retry errors that are not RecryptErrors (unknown = permanent)', async () => {
    const inner = scripted([new Error('boom')]);
    await rejection(withRetry(inner, { attempts: 5, baseMs: 1, maxMs: 1, ...noSleep }).wrap('k', Uint8Array.of(0), {}));
    expect(inner.calls).toBe(1);
  });

  it('sleeps a full-jitter backoff capped at maxMs between attempts', async () => {
    const sleeps: number[] = [];
    const inner = scripted(Array(6).fill('KMS_UNAVAILABLE'));
    await rejection(
      withRetry(inner, { attempts: 6, baseMs: 100, maxMs: 500, random: () => 0.999999, sleep: async (ms) => void sleeps.push(ms) }).wrap('k', Uint8Array.of(0), {}),
    );
    expect(sleeps).toEqual([99, 199, 399, 499, 499]);
    const zero: number[] = [];
    await rejection(
      withRetry(scripted(['KMS_UNAVAILABLE', 'KMS_UNAVAILABLE', 'KMS_UNAVAILABLE']), { attempts: 3, baseMs: 100, maxMs: 500, random: () => 0, sleep: async (ms) => void zero.push(ms) }).wrap('k', Uint8Array.of(0), {}),
    );
    expect(zero).toEqual([0, 0]);
  });

  it('backoffMs stays within [0, min(maxMs, base * 2^(n-1))) for any n', () => {
    for (let n = 1; n < 80; n++) {
      const d = backoffMs(n, { baseMs: 50, maxMs: 1_000 }, Math.random);
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(1_000, 50 * 2 ** (n - 1)));
    }
  });

  it('keeps the kms type and rejects nonsense options', () => {
    expect(withRetry(scripted([])).kmsType).toBe('test-kms');
    expect(DEFAULT_RETRY.attempts).toBeGreaterThan(1);
    for (const bad of [{ attempts: 0, baseMs: 1, maxMs: 1 }, { attempts: 2, baseMs: 0, maxMs: 1 }, { attempts: 2, baseMs: 10, maxMs: 1 }, { attempts: 1.5, baseMs: 1, maxMs: 1 }]) {
      expect(() => withRetry(scripted([]), bad)).toThrow(expect.objectContaining({ code: 'KMS_CONFIG' }));
    }
  });
});
