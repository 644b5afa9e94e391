// keys/kek-cache.ts: the KEKs a DekManager has seen, cached for the TTL, fetched once at a time,
// checked against each rule, registered from a rule only when asked to; registry calls are counted.
import { describe, expect, it } from 'vitest';
import { trackedWith, type KeysMetric } from '../../../src/keys/hooks.js';
import { KekCache } from '../../../src/keys/kek-cache.js';
import { resolveEncryptionParams } from '../../../src/rules/index.js';
import type { Rule } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import { rejection } from '../kms/leak-check.js';
import { FakeDekRegistry, ManualClock } from './fakes.js';

const params = (extra: Record<string, string> = {}) =>
  resolveEncryptionParams({ name: 'enc', kind: 'TRANSFORM', mode: 'WRITEREAD', type: 'ENCRYPT', params: { 'encrypt.kek.name': 'kek1', ...extra } } as Rule, undefined);
const withKms = (keyId = 'mykey') => params({ 'encrypt.kms.type': 'local-kms', 'encrypt.kms.key.id': keyId });

function setup() {
  const registry = new FakeDekRegistry();
  const clock = new ManualClock();
  const counted: string[] = [];
  const cache = new KekCache({
    registry, now: clock.fn, ttlMs: 60_000,
    tracked: trackedWith((metric: KeysMetric, labels) => counted.push(`${metric}:${labels.outcome}`)),
  });
  return { registry, clock, counted, cache };
}

describe('KekCache', () => {
  it('registers a missing KEK from the rule only with create, and serves it from cache until the TTL', async () => {
    const { registry, clock, counted, cache } = setup();
    expect(await rejection(cache.getOrCreate(withKms(), { create: false }))).toMatchObject({ code: 'KEK_NOT_FOUND' });
    expect(await rejection(cache.getOrCreate(params(), { create: true }))).toMatchObject({ code: 'KEK_NOT_FOUND' });
    const kek = await cache.getOrCreate(withKms(), { create: true });
    expect(kek).toMatchObject({ name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false });
    expect(registry.calls['createKek']).toBe(1);
    await cache.getOrCreate(params(), { create: false });
    expect(registry.calls['getKek']).toBe(3);
    clock.advance(60_000);
    await cache.getOrCreate(params(), { create: false });
    expect(registry.calls['getKek']).toBe(4);
    expect(counted).toEqual(['registry_get_kek:ok', 'registry_get_kek:ok', 'registry_get_kek:ok', 'registry_create_kek:ok', 'registry_get_kek:ok']);
  });

  it('concurrent misses share one fetch; a lost create race (409) takes the winner\'s KEK', async () => {
    const { registry, cache } = setup();
    const all = await Promise.all(Array.from({ length: 20 }, () => cache.getOrCreate(params(), { create: false }).catch((e: unknown) => e)));
    expect(registry.calls['getKek']).toBe(1);
    expect(all.every((e) => e instanceof RecryptError && e.code === 'KEK_NOT_FOUND')).toBe(true);
    registry.hook = (method) => {
      if (method === 'createKek') registry.keks.set('kek1', { name: 'kek1', kmsType: 'local-kms', kmsKeyId: 'mykey', shared: false, doc: 'theirs' });
    };
    expect(await cache.getOrCreate(withKms(), { create: true })).toMatchObject({ doc: 'theirs' });
    expect(registry.conflicts).toBe(1);
  });

  it('a rule naming another kms key id or type is KEK_MISMATCH, also against a KEK seen before (synchronously)', async () => {
    const { cache } = setup();
    expect(cache.matchesSeen(withKms())).toBe(false);
    await cache.getOrCreate(withKms(), { create: true });
    expect(cache.matchesSeen(withKms())).toBe(true);
    expect(cache.matchesSeen(params())).toBe(true);
    expect(cache.matchesSeen(withKms('otherkey'))).toBe(false);
    expect(() => cache.assertMatchesSeen(withKms('otherkey'))).toThrow(expect.objectContaining({ code: 'KEK_MISMATCH' }));
    expect(() => cache.assertMatchesSeen(params({ 'encrypt.kms.type': 'aws-kms' }))).toThrow(expect.objectContaining({ code: 'KEK_MISMATCH' }));
    expect(await rejection(cache.getOrCreate(withKms('otherkey'), { create: true }))).toMatchObject({ code: 'KEK_MISMATCH' });
    cache.clear();
    expect(cache.matchesSeen(withKms())).toBe(false);
  });
});
