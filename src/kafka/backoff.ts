/**
 * Retry delays per partition. Each failure of a cycle counts against every partition the cycle held;
 * the delay grows with the most-failed of them (full exponential, half of it jittered). Only a
 * committed transaction that covered a partition resets its count: a transform that succeeds before
 * a commit that keeps failing must not bring the delay back down (it did, and a refused record was
 * retried twice a second for ever).
 */
export interface BackoffSettings {
  readonly initialMs: number;
  readonly maxMs: number;
}

export class PartitionBackoff {
  private readonly failures = new Map<string, number>();

  constructor(private readonly settings: BackoffSettings, private readonly random: () => number = Math.random) {}

  /** Counts one more failure for each partition key; returns how long to wait before retrying them. */
  next(keys: Iterable<string>): number {
    let worst = 0;
    for (const key of keys) {
      const n = (this.failures.get(key) ?? 0) + 1;
      this.failures.set(key, n);
      worst = Math.max(worst, n);
    }
    const { initialMs, maxMs } = this.settings;
    const ceiling = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(worst, 1) - 1, 16));
    return Math.round(ceiling / 2 + this.random() * (ceiling / 2));
  }

  /** A committed transaction covered these partitions: their next failure starts from the initial delay. */
  reset(keys: Iterable<string>): void {
    for (const key of keys) this.failures.delete(key);
  }

  /** Failures counted since the partition's last commit. */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}
