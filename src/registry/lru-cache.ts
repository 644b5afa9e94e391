/**
 * A bounded least-recently-used map with an optional time to live. Entries past their TTL read as
 * absent. Used for schema lookups: by id and GUID without TTL (schemas are immutable), "latest" and
 * metadata lookups with one.
 */
export interface LruCacheOptions {
  max: number;
  /** Entries older than this many ms read as absent; undefined keeps them until evicted. */
  ttlMs?: number;
  now?: () => number;
}

interface Entry<V> {
  value: V;
  expiresAt: number;
}

export class LruCache<K, V> {
  private readonly map = new Map<K, Entry<V>>();
  private readonly max: number;
  private readonly ttlMs: number | undefined;
  private readonly now: () => number;

  constructor(options: LruCacheOptions) {
    this.max = Math.max(1, Math.floor(options.max));
    this.ttlMs = options.ttlMs !== undefined && options.ttlMs > 0 ? options.ttlMs : undefined;
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    const entry = this.map.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.map.delete(key);
      return undefined;
    }
    // refresh recency
    this.map.delete(key);
    this.map.set(key, entry);
    return entry.value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    const expiresAt = this.ttlMs === undefined ? Number.POSITIVE_INFINITY : this.now() + this.ttlMs;
    this.map.set(key, { value, expiresAt });
    while (this.map.size > this.max) {
      const oldest = this.map.keys().next();
      if (oldest.done === true) break;
      this.map.delete(oldest.value);
    }
  }

  delete(key: K): void {
    this.map.delete(key);
  }

  /** Deletes every entry whose key matches. */
  deleteWhere(predicate: (key: K) => boolean): void {
    for (const key of [...this.map.keys()]) if (predicate(key)) this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
