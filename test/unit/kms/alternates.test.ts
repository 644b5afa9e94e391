import { describe, expect, it } from 'vitest';
import { unwrapWithAlternates, wrapWithAlternates } from '../../../src/kms/alternates.js';
import type { KmsDriver } from '../../../src/kms/kms-driver.js';
import { RecryptError, type ErrorCode } from '../../../src/util/errors.js';
import { rejection } from './leak-check.js';

/** Per key id: an error code to fail with, or 'ok'. */
function driver(outcomes: Record<string, ErrorCode | 'ok'>): KmsDriver & { tried: string[] } {
  const tried: string[] = [];
  const run = async (id: string): Promise<Uint8Array> => {
    tried.push(id);
    const outcome = outcomes[id] ?? 'KMS_KEY_NOT_FOUND';
    if (outcome === 'ok') return Buffer.from(id);
    throw new RecryptError(outcome, `failed for ${id}`);
  };
  return { kmsType: 'test-kms', tried, wrap: (id) => run(id), unwrap: (id) => run(id) };
}

describe('wrapWithAlternates / unwrapWithAlternates', () => {
  it('uses the primary when it works, without touching alternates', async () => {
    const d = driver({ a: 'ok', b: 'ok' });
    expect(Buffer.from(await unwrapWithAlternates(d, ['a', 'b'], Uint8Array.of(1), {})).toString()).toBe('a');
    expect(d.tried).toEqual(['a']);
  });

  it('moves on after a transient failure (region failover) and after a permanent one', async () => {
    const t = driver({ a: 'KMS_UNAVAILABLE', b: 'ok' });
    expect(Buffer.from(await wrapWithAlternates(t, ['a', 'b'], Uint8Array.of(1), {})).toString()).toBe('b');
    const p = driver({ a: 'KMS_ACCESS_DENIED', b: 'KMS_KEY_NOT_FOUND', c: 'ok' });
    expect(Buffer.from(await unwrapWithAlternates(p, ['a', 'b', 'c'], Uint8Array.of(1), {})).toString()).toBe('c');
    expect(p.tried).toEqual(['a', 'b', 'c']);
  });

  it('all failed, one transient: throws a transient error so the work is retried, not dead-lettered', async () => {
    const d = driver({ a: 'KMS_ACCESS_DENIED', b: 'KMS_UNAVAILABLE', c: 'KMS_KEY_NOT_FOUND' });
    const err = await rejection(unwrapWithAlternates(d, ['a', 'b', 'c'], Uint8Array.of(1), {}));
    expect(err).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    expect((err as Error).message).toBe('test-kms unwrap failed with every kms key id: a -> KMS_ACCESS_DENIED, b -> KMS_UNAVAILABLE, c -> KMS_KEY_NOT_FOUND');
  });

  it('all failed permanently: throws the first (primary) permanent error\'s code', async () => {
    const d = driver({ a: 'KMS_KEY_DISABLED', b: 'KMS_ACCESS_DENIED' });
    const err = await rejection(unwrapWithAlternates(d, ['a', 'b'], Uint8Array.of(1), {}));
    expect(err).toMatchObject({ code: 'KMS_KEY_DISABLED', transient: false });
    expect((err as Error).cause).toMatchObject({ code: 'KMS_KEY_DISABLED' });
  });

  it('a single key id rethrows its error unchanged; ids are trimmed and de-duplicated; none is KMS_CONFIG', async () => {
    const d = driver({ a: 'KMS_UNWRAP_FAILED' });
    const err = await rejection(unwrapWithAlternates(d, ['a', ' a ', ''], Uint8Array.of(1), {}));
    expect((err as Error).message).toBe('failed for a');
    expect(d.tried).toEqual(['a']);
    expect(await rejection(wrapWithAlternates(d, [' ', ''], Uint8Array.of(1), {}))).toMatchObject({ code: 'KMS_CONFIG' });
  });

  it('a driver throwing a non-RecryptError does not carry its text on', async () => {
    const d: KmsDriver = {
      kmsType: 'test-kms',
      wrap: async () => {
        throw new Error('plaintext deadbeef');
      },
      unwrap: async () => Uint8Array.of(),
    };
    const err = await rejection(wrapWithAlternates(d, ['a', 'b'], Uint8Array.of(1), {}));
    expect(err).toMatchObject({ code: 'INTERNAL' });
    expect(JSON.stringify(err) + String(err) + String((err as Error).cause)).not.toContain('deadbeef');
  });
});
