import { describe, expect, it } from 'vitest';
import { createKmsDriverRegistry } from '../../../src/kms/driver-registry.js';
import type { KmsDriver } from '../../../src/kms/kms-driver.js';
import type { KmsCallLabels } from '../../../src/kms/metrics.js';
import { RecryptError } from '../../../src/util/errors.js';

describe('createKmsDriverRegistry', () => {
  it('serves every Confluent kms type', () => {
    expect(createKmsDriverRegistry().kmsTypes()).toEqual(['aws-kms', 'azure-kms', 'gcp-kms', 'hcvault', 'local-kms']);
  });

  it('unknown kms type -> KMS_UNSUPPORTED_TYPE (permanent)', () => {
    const registry = createKmsDriverRegistry();
    expect(() => registry.get('vault')).toThrow(expect.objectContaining({ code: 'KMS_UNSUPPORTED_TYPE', transient: false }));
  });

  it('decorates every driver with metrics inside retry (local-kms round trip, counted)', async () => {
    const seen: KmsCallLabels[] = [];
    const registry = createKmsDriverRegistry({ local: { secret: 'mysecret' }, count: (l) => seen.push(l) });
    const local = registry.get('local-kms');
    expect(local.kmsType).toBe('local-kms');
    const dek = Buffer.concat([Buffer.from('1a10', 'hex'), Buffer.alloc(16, 7)]);
    expect(Buffer.from(await local.unwrap('any', await local.wrap('any', dek, {}), {})).equals(dek)).toBe(true);
    expect(seen).toEqual([
      { kmsType: 'local-kms', operation: 'wrap', outcome: 'ok' },
      { kmsType: 'local-kms', operation: 'unwrap', outcome: 'ok' },
    ]);
  });

  it('extra drivers replace built-ins by kms type and get the same retry + metrics', async () => {
    let calls = 0;
    const flaky: KmsDriver = {
      kmsType: 'aws-kms',
      wrap: async () => {
        if (++calls < 3) throw new RecryptError('KMS_UNAVAILABLE', 'down');
        return Uint8Array.of(1);
      },
      unwrap: async () => {
        throw new RecryptError('KMS_ACCESS_DENIED', 'no');
      },
    };
    const seen: string[] = [];
    const registry = createKmsDriverRegistry({ drivers: [flaky], retry: { attempts: 3, baseMs: 1, maxMs: 1 }, count: (l) => seen.push(`${l.operation}:${l.outcome}`) });
    expect(await registry.get('aws-kms').wrap('k', Uint8Array.of(0), {})).toEqual(Uint8Array.of(1));
    await expect(registry.get('aws-kms').unwrap('k', Uint8Array.of(0), {})).rejects.toMatchObject({ code: 'KMS_ACCESS_DENIED' });
    expect(seen).toEqual(['wrap:KMS_UNAVAILABLE', 'wrap:KMS_UNAVAILABLE', 'wrap:ok', 'unwrap:KMS_ACCESS_DENIED']);
  });
});
