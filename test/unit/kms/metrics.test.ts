import { describe, expect, it } from 'vitest';
import type { KmsDriver } from '../../../src/kms/kms-driver.js';
import { withMetrics, type KmsCallLabels } from '../../../src/kms/metrics.js';
import { withRetry } from '../../../src/kms/retry.js';
import { RecryptError } from '../../../src/util/errors.js';
import { rejection } from './leak-check.js';

const KEY_ID = 'arn:aws:kms:us-east-1:111122223333:key/secret-looking-key-id';

function failing(errors: unknown[]): KmsDriver {
  let i = 0;
  return {
    kmsType: 'aws-kms',
    wrap: async () => {
      const e = errors[i++];
      if (e === undefined) return Uint8Array.of(9);
      throw e;
    },
    unwrap: async () => Uint8Array.of(7),
  };
}

describe('withMetrics', () => {
  it('counts each call with exactly kmsType, operation and outcome; never the key id or props', async () => {
    const seen: KmsCallLabels[] = [];
    const d = withMetrics(failing([new RecryptError('KMS_KEY_NOT_FOUND', `key ${KEY_ID} not found`), new Error('raw')]), (l) => seen.push(l));
    await rejection(d.wrap(KEY_ID, Uint8Array.of(1), { secret: 's3cr3t' }));
    await rejection(d.wrap(KEY_ID, Uint8Array.of(1), { secret: 's3cr3t' }));
    await d.wrap(KEY_ID, Uint8Array.of(1), { secret: 's3cr3t' });
    await d.unwrap(KEY_ID, Uint8Array.of(1), { secret: 's3cr3t' });
    expect(seen).toEqual([
      { kmsType: 'aws-kms', operation: 'wrap', outcome: 'KMS_KEY_NOT_FOUND' },
      { kmsType: 'aws-kms', operation: 'wrap', outcome: 'INTERNAL' },
      { kmsType: 'aws-kms', operation: 'wrap', outcome: 'ok' },
      { kmsType: 'aws-kms', operation: 'unwrap', outcome: 'ok' },
    ]);
    for (const labels of seen) {
      expect(Object.keys(labels).sort()).toEqual(['kmsType', 'operation', 'outcome']);
      expect(JSON.stringify(labels)).not.toContain('secret-looking');
      expect(JSON.stringify(labels)).not.toContain('s3cr3t');
    }
  });

  it('inside retry, counts every attempt (real KMS calls)', async () => {
    const seen: KmsCallLabels[] = [];
    const d = withRetry(
      withMetrics(failing([new RecryptError('KMS_UNAVAILABLE', 'x'), new RecryptError('KMS_UNAVAILABLE', 'x')]), (l) => seen.push(l)),
      { attempts: 3, baseMs: 1, maxMs: 1, sleep: async () => undefined },
    );
    await d.wrap(KEY_ID, Uint8Array.of(1), {});
    expect(seen.map((l) => l.outcome)).toEqual(['KMS_UNAVAILABLE', 'KMS_UNAVAILABLE', 'ok']);
  });

  it('reports latency when given a timer, and a throwing sink never fails the call', async () => {
    const times: number[] = [];
    const d = withMetrics(
      failing([]),
      () => {
        throw new Error('metrics backend down');
      },
      (_l, s) => times.push(s),
    );
    expect(await d.wrap(KEY_ID, Uint8Array.of(1), {})).toEqual(Uint8Array.of(9));
    expect(times).toHaveLength(1);
    expect(times[0]).toBeGreaterThanOrEqual(0);
  });
});
