/**
 * Retry decorator: retries a driver call only when it failed with a transient error (KMS_UNAVAILABLE:
 * unreachable, throttled, timed out, 5xx), at most `attempts` calls in all, sleeping a full-jitter
 * backoff between them: random(0, min(maxMs, baseMs * 2^(n-1))). Permanent errors (access denied,
 * unknown or disabled key, bad ciphertext, config) are thrown at once, never retried. After the last
 * attempt the transient error is thrown as is, so callers above (the pipeline) can back off longer.
 */
import { isTransient, RecryptError } from '../util/errors.js';
import type { KmsDriver, KmsProps } from './kms-driver.js';

export interface RetryOptions {
  /** Total calls, first included (>= 1). */
  readonly attempts: number;
  /** Backoff base in ms (> 0). */
  readonly baseMs: number;
  /** Cap of one backoff in ms (>= baseMs). */
  readonly maxMs: number;
  /** Injectable for tests. */
  readonly sleep?: (ms: number) => Promise<void>;
  /** Injectable for tests: uniform in [0, 1). */
  readonly random?: () => number;
}

export const DEFAULT_RETRY: Readonly<RetryOptions> = Object.freeze({ attempts: 4, baseMs: 100, maxMs: 2_000 });

/** Full-jitter delay before retry number `retry` (1 = first retry). */
export function backoffMs(retry: number, options: Pick<RetryOptions, 'baseMs' | 'maxMs'>, random: () => number = Math.random): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** Math.min(retry - 1, 30));
  return Math.floor(random() * ceiling);
}

export function withRetry(driver: KmsDriver, options: RetryOptions = DEFAULT_RETRY): KmsDriver {
  validate(options);
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const random = options.random ?? Math.random;
  const run = async (call: () => Promise<Uint8Array>): Promise<Uint8Array> => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (err) {
        if (!isTransient(err) || attempt >= options.attempts) throw err;
        await sleep(backoffMs(attempt, options, random));
      }
    }
  };
  return {
    kmsType: driver.kmsType,
    wrap: (kmsKeyId: string, plaintext: Uint8Array, props: KmsProps) => run(() => driver.wrap(kmsKeyId, plaintext, props)),
    unwrap: (kmsKeyId: string, ciphertext: Uint8Array, props: KmsProps) => run(() => driver.unwrap(kmsKeyId, ciphertext, props)),
  };
}

function validate(o: RetryOptions): void {
  const ok =
    Number.isInteger(o.attempts) && o.attempts >= 1 && o.attempts <= 100 &&
    Number.isFinite(o.baseMs) && o.baseMs > 0 &&
    Number.isFinite(o.maxMs) && o.maxMs >= o.baseMs;
  if (!ok) {
    throw new RecryptError('KMS_CONFIG', 'KMS retry options need 1 <= attempts <= 100, baseMs > 0 and maxMs >= baseMs');
  }
}
