// The one LRU cache of recrypt: keys/ (DEK ciphers and "latest" pointers, no TTL) and registry/
// (schemas forever, "latest" and metadata lookups with a TTL).
import { describe, expect, it } from 'vitest';
import { Lru } from '../../../src/util/lru.js';

describe('Lru', () => {
  it('evicts the least recently used entry beyond max', () => {
    const c = new Lru<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.get('a')).toBe(1); // a is now the most recent
    c.set('c', 3);
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBe(1);
    expect(c.get('c')).toBe(3);
    expect(c.size).toBe(2);
  });

  it('evicts in least-recently-used order: insertion, then every get and set refreshes', () => {
    const c = new Lru<string, number>(3);
    c.set('a', 1);
    c.set('b', 2);
    c.set('c', 3);
    c.get('a'); // order b, c, a
    c.set('b', 20); // order c, a, b
    c.set('d', 4);
    expect([...['a', 'b', 'c', 'd']].map((k) => c.peek(k))).toEqual([1, 20, undefined, 4]);
    c.set('e', 5); // a was the oldest
    expect(c.peek('a')).toBeUndefined();
    expect(c.peek('b')).toBe(20);
  });

  it('peek reads without refreshing recency', () => {
    const c = new Lru<string, number>(2);
    c.set('a', 1);
    c.set('b', 2);
    expect(c.peek('a')).toBe(1);
    c.set('c', 3);
    expect(c.peek('a')).toBeUndefined();
    expect(c.peek('b')).toBe(2);
  });

  it('never holds more than max entries; overwriting a key does not grow it', () => {
    const one = new Lru<number, number>(1);
    const many = new Lru<number, number>(100);
    for (let i = 0; i < 1000; i++) {
      one.set(i, i);
      many.set(i % 150, i);
      expect(one.size).toBe(1);
      expect(many.size).toBeLessThanOrEqual(100);
    }
    expect(one.get(999)).toBe(999);
    const c = new Lru<string, number>(2);
    c.set('a', 1);
    c.set('a', 2);
    expect(c.size).toBe(1);
    expect(c.get('a')).toBe(2);
  });

  it('rejects a max that is not a positive integer', () => {
    for (const max of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => new Lru(max)).toThrow(RangeError);
    }
  });

  it('delete, deleteWhere and clear', () => {
    const c = new Lru<string, number>(10);
    for (const k of ['s1\u0000a', 's1\u0000b', 's2\u0000a']) c.set(k, 1);
    expect(c.delete('s2\u0000a')).toBe(true);
    expect(c.delete('s2\u0000a')).toBe(false);
    c.set('s2\u0000a', 2);
    c.deleteWhere((k) => k.startsWith('s1\u0000'));
    expect(c.size).toBe(1);
    expect(c.get('s2\u0000a')).toBe(2);
    c.clear();
    expect(c.size).toBe(0);
  });

  it('expires entries after the TTL; set restarts it; peek honours it', () => {
    let now = 0;
    const c = new Lru<string, number>(10, { ttlMs: 100, now: () => now });
    c.set('a', 1);
    now = 99;
    expect(c.get('a')).toBe(1);
    now = 100;
    expect(c.get('a')).toBeUndefined();
    expect(c.size).toBe(0);
    c.set('b', 2);
    now = 150;
    c.set('b', 3);
    now = 249;
    expect(c.peek('b')).toBe(3);
    now = 250;
    expect(c.peek('b')).toBeUndefined();
  });

  it('an expired entry that is evicted or deleted leaves no expiry behind', () => {
    let now = 0;
    const c = new Lru<string, number>(1, { ttlMs: 10, now: () => now });
    c.set('a', 1);
    c.set('b', 2); // evicts a
    now = 5;
    c.set('a', 3);
    now = 14;
    expect(c.get('a')).toBe(3); // its own TTL (from 5), not the evicted entry's (from 0)
  });

  it('without a TTL (or with ttlMs <= 0) entries never expire and the clock is never read', () => {
    let reads = 0;
    const now = () => {
      reads++;
      return 1e15;
    };
    for (const c of [new Lru<string, number>(2, { now }), new Lru<string, number>(2, { ttlMs: 0, now })]) {
      c.set('a', 1);
      expect(c.get('a')).toBe(1);
      expect(c.peek('a')).toBe(1);
    }
    expect(reads).toBe(0);
  });
});
