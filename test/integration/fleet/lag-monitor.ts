// Watches a consumer group from outside, as an operator's lag exporter would: every poll, each
// partition's committed offset (only committed transactions move it) and end offset. Gives the largest
// total lag seen and, per partition, when its committed offset moved: the pause a rebalance caused is
// the time between a partition's last commit before it was assigned elsewhere and its first after.
import kafkajs from 'kafkajs';

export interface Advance { readonly at: number; readonly offset: number }

export class LagMonitor {
  private readonly admin;
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private stopped = false;
  /** Per partition, every time its committed offset moved. */
  readonly advances = new Map<number, Advance[]>();
  maxLag = 0;
  polls = 0;
  failedPolls = 0;
  lastLag = Number.POSITIVE_INFINITY;
  /** Per partition, "committed/end" at the last poll (for a failure message). */
  lastSeen = '';

  constructor(bootstrap: string, private readonly groupId: string, private readonly topic: string, private readonly everyMs = 400) {
    this.admin = new kafkajs.Kafka({ brokers: [bootstrap], logLevel: kafkajs.logLevel.NOTHING, retry: { retries: 1, initialRetryTime: 100 } }).admin();
  }

  async start(): Promise<void> {
    await this.admin.connect();
    const loop = async () => {
      if (this.stopped) return;
      this.polling = this.poll();
      await this.polling;
      if (!this.stopped) this.timer = setTimeout(() => void loop(), this.everyMs);
    };
    void loop();
  }

  private async poll(): Promise<void> {
    try {
      const [committed, ends] = await Promise.all([
        this.admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] }),
        this.admin.fetchTopicOffsets(this.topic),
      ]);
      const at = Date.now();
      const offsets = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
      let lag = 0;
      const seen: string[] = [];
      for (const end of ends) {
        seen.push(`${end.partition}:${offsets.get(end.partition) ?? -1}/${end.high}`);
        const offset = offsets.get(end.partition) ?? -1;
        lag += Number(end.high) - Math.max(offset, Number(end.low));
        const list = this.advances.get(end.partition) ?? [];
        if (offset >= 0 && (list.length === 0 || list[list.length - 1]!.offset !== offset)) list.push({ at, offset });
        this.advances.set(end.partition, list);
      }
      this.polls += 1;
      this.lastLag = lag;
      this.lastSeen = seen.join(' ');
      this.maxLag = Math.max(this.maxLag, lag);
    } catch {
      // The broker is restarting: the next poll tries again.
      this.failedPolls += 1;
    }
  }

  /** Committed offsets as last seen, per partition. */
  committed(partition: number): number {
    const list = this.advances.get(partition) ?? [];
    return list.length ? list[list.length - 1]!.offset : -1;
  }

  /**
   * The pause a partition saw around `at` (the moment it was assigned to a new owner): from its last
   * commit at or before `at` to its first commit after it; undefined when it has no commit after.
   */
  pauseAround(partition: number, at: number): number | undefined {
    const list = this.advances.get(partition) ?? [];
    const after = list.find((a) => a.at > at);
    if (!after) return undefined;
    const before = [...list].reverse().find((a) => a.at <= at);
    return before ? after.at - before.at : undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.polling;
    await this.admin.disconnect().catch(() => undefined);
  }
}
