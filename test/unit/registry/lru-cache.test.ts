import { describe, expect, it } from 'vitest';
import { LruCache } from '../../../src/registry/lru-cache.js';
import { SingleFlight } from '../../../src/registry/single-flight.js';

describe('LruCache', () => {
  it('evicts the least recently used entry beyond max', () => {
    const c = new LruCache<string, number>({ max: 2 });
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toBe(2);
  });

  it('expires entries after the TTL', () => {
    let now = 0;
    const c = new LruCache<string, number>({ max: 10, ttlMs: 100, now: () => now });
    c.set('a', 1);
    now = 99;
    expect(c.get('a')).toBe(1);
    now = 100;
    expect(c.get('a')).toBeUndefined();
  });
});

describe('SingleFlight', () => {
  it('shares one in-flight call per key and forgets it when done', async () => {
    const sf = new SingleFlight<number>();
    let calls = 0;
    const fn = async () => {
      calls++;
      await new Promise((r) => setTimeout(r, 10));
      return calls;
    };
    const [a, b] = await Promise.all([sf.run('k', fn), sf.run('k', fn)]);
    expect([a, b]).toEqual([1, 1]);
    expect(sf.size).toBe(0);
    await expect(sf.run('k', fn)).resolves.toBe(2);
  });

  it('shares failures too, then allows a retry', async () => {
    const sf = new SingleFlight<number>();
    const failing = sf.run('k', async () => {
      throw new Error('boom');
    });
    const same = sf.run('k', async () => 1);
    await expect(failing).rejects.toThrow('boom');
    await expect(same).rejects.toThrow('boom');
    await expect(sf.run('k', async () => 2)).resolves.toBe(2);
  });
});
