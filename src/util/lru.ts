/**
 * A bounded map that evicts the least recently used entry, with an optional time to live. `get`
 * refreshes recency; `peek` does not. Entries past their TTL read as absent. Plain Map insertion order
 * does the bookkeeping: O(1) per operation, and without a TTL `get` is one lookup and one re-insert
 * (no clock read, no wrapper object): keys/ looks DEK ciphers up per record.
 * One implementation for keys/ (DEK caches, no TTL) and registry/ (schemas forever, "latest" with a TTL).
 */
export interface LruOptions {
  /** Entries older than this many ms read as absent; undefined (or <= 0) keeps them until evicted. */
  ttlMs?: number;
  now?: () => number;
}

export class Lru<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();
  /** Expiry time per key, kept only when a TTL is set. */
  readonly #expiresAt: Map<K, number> | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;

  constructor(max: number, options: LruOptions = {}) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('Lru max must be a positive integer');
    this.#max = max;
    const ttl = options.ttlMs;
    this.#ttlMs = ttl !== undefined && ttl > 0 ? ttl : 0;
    this.#expiresAt = this.#ttlMs > 0 ? new Map() : undefined;
    this.#now = options.now ?? Date.now;
  }

  get size(): number {
    return this.#map.size;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value === undefined || this.#expired(key)) return undefined;
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  /** Reads without refreshing recency. */
  peek(key: K): V | undefined {
    const value = this.#map.get(key);
    return value === undefined || this.#expired(key) ? undefined : value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    this.#expiresAt?.set(key, this.#now() + this.#ttlMs);
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next();
      if (oldest.done === true) break;
      this.delete(oldest.value);
    }
  }

  delete(key: K): boolean {
    this.#expiresAt?.delete(key);
    return this.#map.delete(key);
  }

  /** Deletes every entry whose key matches. */
  deleteWhere(predicate: (key: K) => boolean): void {
    for (const key of [...this.#map.keys()]) if (predicate(key)) this.delete(key);
  }

  clear(): void {
    this.#map.clear();
    this.#expiresAt?.clear();
  }

  /** True (and the entry dropped) when the key's TTL has passed. */
  #expired(key: K): boolean {
    if (this.#expiresAt === undefined) return false;
    const expiresAt = this.#expiresAt.get(key);
    if (expiresAt === undefined || expiresAt > this.#now()) return false;
    this.delete(key);
    return true;
  }
}
