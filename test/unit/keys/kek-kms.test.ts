// The one walk over a KEK's KMS key ids (keys/kek-kms.ts): every failure, transient or permanent,
// moves on to the next key id; when all fail, a transient error wins (retry, never DLQ), else the
// primary's permanent error. A fake KMS driver fails or succeeds per key id.
import { describe, expect, it } from 'vitest';
import { kmsKeyIdsFor, runWithKeyIds, type KmsOperation } from '../../../src/keys/kek-kms.js';
import type { KmsDriver, KmsDriverRegistry } from '../../../src/kms/kms-driver.js';
import type { Kek } from '../../../src/registry/types.js';
import { RecryptError, type ErrorCode } from '../../../src/util/errors.js';
import { rejection } from '../kms/leak-check.js';

const KEK: Kek = { name: 'kek1', kmsType: 'test-kms', kmsKeyId: 'a', shared: false };

/** Per key id: an error code to fail with, or 'ok' (the output names the key id that produced it). */
function fakeKms(outcomes: Record<string, ErrorCode | 'ok'>): KmsDriverRegistry & { tried: string[] } {
  const tried: string[] = [];
  const run = async (id: string): Promise<Uint8Array> => {
    tried.push(id);
    const outcome = outcomes[id] ?? 'KMS_KEY_NOT_FOUND';
    if (outcome === 'ok') return Buffer.from(id);
    throw new RecryptError(outcome, `test-kms call with key ${id} failed`);
  };
  const driver: KmsDriver = { kmsType: 'test-kms', wrap: (id) => run(id), unwrap: (id) => run(id) };
  return { tried, get: () => driver };
}

const run = (kms: KmsDriverRegistry, ids: string[], op: KmsOperation = 'unwrap', hook?: (op: KmsOperation, t: string, ok: boolean) => void) =>
  runWithKeyIds(kms, KEK, ids, {}, op, Uint8Array.of(1), hook);
const text = (bytes: Uint8Array): string => Buffer.from(bytes).toString();

describe('runWithKeyIds', () => {
  it('uses the primary when it works, without touching the alternates', async () => {
    const kms = fakeKms({ a: 'ok', b: 'ok' });
    expect(text(await run(kms, ['a', 'b']))).toBe('a');
    expect(kms.tried).toEqual(['a']);
  });

  it('a transient failure of the first key id moves on to the next (region failover), for wrap and unwrap', async () => {
    for (const op of ['wrap', 'unwrap'] as const) {
      const kms = fakeKms({ a: 'KMS_UNAVAILABLE', b: 'ok' });
      expect(text(await run(kms, ['a', 'b'], op))).toBe('b');
      expect(kms.tried).toEqual(['a', 'b']);
    }
  });

  it('permanent failures move on too, in order', async () => {
    const kms = fakeKms({ a: 'KMS_ACCESS_DENIED', b: 'KMS_KEY_NOT_FOUND', c: 'ok' });
    expect(text(await run(kms, ['a', 'b', 'c']))).toBe('c');
    expect(kms.tried).toEqual(['a', 'b', 'c']);
  });

  it('all failed, one transient: throws a transient error of that code, naming each id and its code', async () => {
    const kms = fakeKms({ a: 'KMS_ACCESS_DENIED', b: 'KMS_UNAVAILABLE', c: 'KMS_KEY_NOT_FOUND' });
    const err = await rejection(run(kms, ['a', 'b', 'c']));
    expect(err).toMatchObject({ code: 'KMS_UNAVAILABLE', transient: true });
    expect((err as Error).message).toBe('KEK kek1: test-kms unwrap failed with every kms key id: a -> KMS_ACCESS_DENIED, b -> KMS_UNAVAILABLE, c -> KMS_KEY_NOT_FOUND');
    expect((err as Error).cause).toMatchObject({ code: 'KMS_UNAVAILABLE' });
  });

  it('all failed permanently: throws the primary\'s code, permanent', async () => {
    const kms = fakeKms({ a: 'KMS_KEY_DISABLED', b: 'KMS_ACCESS_DENIED' });
    const err = await rejection(run(kms, ['a', 'b']));
    expect(err).toMatchObject({ code: 'KMS_KEY_DISABLED', transient: false });
    expect((err as Error).cause).toMatchObject({ code: 'KMS_KEY_DISABLED' });
  });

  it('a single key id rethrows its error unchanged; ids are trimmed and de-duplicated; none is KMS_CONFIG', async () => {
    const kms = fakeKms({ a: 'KMS_UNWRAP_FAILED' });
    const err = await rejection(run(kms, ['a', ' a ', '']));
    expect((err as Error).message).toBe('test-kms call with key a failed');
    expect(kms.tried).toEqual(['a']);
    expect(await rejection(run(kms, [' ', ''], 'wrap'))).toMatchObject({ code: 'KMS_CONFIG' });
    expect(kms.tried).toEqual(['a']);
  });

  it('reports every attempt to the hook with its outcome', async () => {
    const seen: string[] = [];
    await run(fakeKms({ a: 'KMS_UNAVAILABLE', b: 'ok' }), ['a', 'b'], 'wrap', (op, type, ok) => seen.push(`${op}:${type}:${ok}`));
    expect(seen).toEqual(['wrap:test-kms:false', 'wrap:test-kms:true']);
  });

  it('a driver throwing a non-RecryptError does not carry its text on', async () => {
    const driver: KmsDriver = {
      kmsType: 'test-kms',
      wrap: async () => {
        throw new Error('plaintext deadbeef');
      },
      unwrap: async () => Uint8Array.of(),
    };
    const err = await rejection(run({ get: () => driver }, ['a', 'b'], 'wrap'));
    expect(err).toMatchObject({ code: 'INTERNAL' });
    expect(JSON.stringify(err) + String(err) + String((err as Error).cause) + String(((err as Error).cause as Error).cause)).not.toContain('deadbeef');
  });
});

describe('kmsKeyIdsFor', () => {
  it('the KEK\'s key id, then the first alternates found: KEK kmsProps, rule, base config; no duplicates', () => {
    const alt = 'encrypt.alternate.kms.key.ids';
    expect(kmsKeyIdsFor({ ...KEK, kmsProps: { [alt]: 'k1, a' } }, ['r1'], { [alt]: 'b1' })).toEqual(['a', 'k1']);
    expect(kmsKeyIdsFor(KEK, ['r1', 'r2'], { [alt]: 'b1' })).toEqual(['a', 'r1', 'r2']);
    expect(kmsKeyIdsFor(KEK, [], { [alt]: 'b1,b2' })).toEqual(['a', 'b1', 'b2']);
    expect(kmsKeyIdsFor(KEK, [], {})).toEqual(['a']);
  });
});
