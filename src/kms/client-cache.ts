/**
 * SDK clients per (endpoint, identity), shared by the cloud KMS drivers: created once, bounded in
 * number (oldest evicted first), and forgotten when creating one failed so the next call tries again.
 */
export class ClientCache<C> {
  readonly #clients = new Map<string, Promise<C>>();

  constructor(private readonly max = 64) {}

  get(key: string, create: () => Promise<C>): Promise<C> {
    let client = this.#clients.get(key);
    if (client === undefined) {
      client = create();
      client.catch(() => this.#clients.delete(key));
      if (this.#clients.size >= this.max) {
        const oldest = this.#clients.keys().next().value;
        if (oldest !== undefined) this.#clients.delete(oldest);
      }
      this.#clients.set(key, client);
    }
    return client;
  }
}
