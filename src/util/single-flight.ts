/**
 * Keyed single-flight: concurrent calls with the same key share one in-flight promise (a burst of
 * identical registry GETs or DEK fetches on a cold cache becomes one request); different keys never
 * wait on each other. A settled promise, resolved or rejected, is forgotten at once, so failures are
 * shared by the callers that were waiting but never cached: the next call starts afresh. A `work` that
 * throws synchronously gives a rejected promise and leaves nothing behind.
 * One implementation for keys/ (KEK and DEK loads) and registry/ (schema lookups).
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

  /** Keys with a call in flight. */
  get size(): number {
    return this.#inFlight.size;
  }
}
