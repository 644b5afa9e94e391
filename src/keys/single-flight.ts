/**
 * Keyed single-flight: concurrent calls with the same key share one in-flight promise; different keys
 * never wait on each other. A settled promise (resolved or rejected) is forgotten at once, so failures
 * are never cached and the next call starts afresh.
 */
export class SingleFlight<K, V> {
  readonly #inFlight = new Map<K, Promise<V>>();

  run(key: K, work: () => Promise<V>): Promise<V> {
    const existing = this.#inFlight.get(key);
    if (existing !== undefined) return existing;
    let promise: Promise<V>;
    try {
      promise = work();
    } catch (err) {
      return Promise.reject(err);
    }
    const tracked = promise.finally(() => {
      if (this.#inFlight.get(key) === tracked) this.#inFlight.delete(key);
    });
    this.#inFlight.set(key, tracked);
    return tracked;
  }

  get size(): number {
    return this.#inFlight.size;
  }
}
