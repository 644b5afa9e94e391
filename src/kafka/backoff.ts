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
  /** Per partition: the unlisted librdkafka code its latest failures all had, and how many in a row. */
  private readonly repeats = new Map<string, { code: number; count: number }>();

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

  /**
   * Counts a failure with `code` (an unlisted librdkafka code; undefined for any other error, which
   * ends a run of them) for each partition key; returns the keys whose run reached `max`.
   */
  repeated(keys: Iterable<string>, code: number | undefined, max: number): Set<string> {
    const reached = new Set<string>();
    for (const key of keys) {
      if (code === undefined) {
        this.repeats.delete(key);
        continue;
      }
      const last = this.repeats.get(key);
      const count = last?.code === code ? last.count + 1 : 1;
      this.repeats.set(key, { code, count });
      if (count >= max) reached.add(key);
    }
    return reached;
  }

  /**
   * A committed transaction covered these partitions (their next failure starts from the initial
   * delay), or they were revoked (whoever gets them back starts afresh).
   */
  reset(keys: Iterable<string>): void {
    for (const key of keys) {
      this.failures.delete(key);
      this.repeats.delete(key);
    }
  }

  /** Failures counted since the partition's last commit. */
  failuresOf(key: string): number {
    return this.failures.get(key) ?? 0;
  }
}
