/**
 * Metrics decorator: counts every call that reaches the driver, labelled by kms type, operation and
 * outcome (`ok` or the RecryptError code; `INTERNAL` for anything else). Labels never carry key ids,
 * KEK names, props or values, so cardinality stays bounded and nothing sensitive reaches a metrics
 * backend. Placed inside the retry decorator, it counts real KMS calls: each attempt once.
 */
import { errorCodeOf, type ErrorCode } from '../util/errors.js';
import type { KmsDriver, KmsProps } from './kms-driver.js';
import type { KmsOperation } from './kms-error.js';

export interface KmsCallLabels {
  readonly kmsType: string;
  readonly operation: KmsOperation;
  readonly outcome: 'ok' | ErrorCode;
}

/** Counter callback, e.g. a prom-client Counter's `inc` bound to these labels. */
export type KmsCallCounter = (labels: KmsCallLabels) => void;

/** Optional latency callback, seconds. */
export type KmsCallTimer = (labels: KmsCallLabels, seconds: number) => void;

export function withMetrics(driver: KmsDriver, count: KmsCallCounter, time?: KmsCallTimer): KmsDriver {
  const run = async (operation: KmsOperation, call: () => Promise<Uint8Array>): Promise<Uint8Array> => {
    const started = process.hrtime.bigint();
    let outcome: KmsCallLabels['outcome'] = 'ok';
    try {
      return await call();
    } catch (err) {
      outcome = errorCodeOf(err);
      throw err;
    } finally {
      const labels: KmsCallLabels = Object.freeze({ kmsType: driver.kmsType, operation, outcome });
      safely(() => count(labels));
      if (time !== undefined) {
        const seconds = Number(process.hrtime.bigint() - started) / 1e9;
        safely(() => time(labels, seconds));
      }
    }
  };
  return {
    kmsType: driver.kmsType,
    wrap: (kmsKeyId: string, plaintext: Uint8Array, props: KmsProps) => run('wrap', () => driver.wrap(kmsKeyId, plaintext, props)),
    unwrap: (kmsKeyId: string, ciphertext: Uint8Array, props: KmsProps) => run('unwrap', () => driver.unwrap(kmsKeyId, ciphertext, props)),
  };
}

/** A broken metrics sink must not fail a KMS call. */
function safely(fn: () => void): void {
  try {
    fn();
  } catch {
    // ignored on purpose
  }
}
