/**
 * Turns a flood of identical events into a few log lines (issue 21, #8: one warning per failed record
 * made 1,500 lines for one halted run). Events are grouped by their fields (e.g. rule, action, code):
 * the first of a group is logged at once; later ones are counted and logged as one summary line per
 * group per interval. A group quiet for a whole interval is forgotten, so its next event is logged at
 * once again. `flush` logs what is counted (at job end); nothing is lost, only grouped.
 */
export type AggregateFields = Readonly<Record<string, string | number | boolean>>;

export interface LogAggregatorOptions<F extends AggregateFields> {
  /** How long events are counted before their summary line (ms). */
  readonly intervalMs: number;
  /** The first event of a group. */
  readonly first: (fields: F) => void;
  /** `count` more events of the group since its last line, over `intervalMs`. */
  readonly summary: (fields: F, count: number, intervalMs: number) => void;
}

interface Group<F> {
  readonly fields: F;
  pending: number;
}

export class LogAggregator<F extends AggregateFields> {
  private readonly groups = new Map<string, Group<F>>();
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly options: LogAggregatorOptions<F>) {}

  record(fields: F): void {
    const key = Object.entries(fields).map(([k, v]) => `${k}=${String(v)}`).join('\u0000');
    const group = this.groups.get(key);
    if (group) {
      group.pending += 1;
      return;
    }
    this.groups.set(key, { fields, pending: 0 });
    this.options.first(fields);
    this.start();
  }

  /** Logs every pending count now (job end) and forgets the groups. */
  flush(): void {
    for (const group of this.groups.values()) this.report(group);
    this.groups.clear();
    this.stop();
  }

  private tick(): void {
    for (const [key, group] of this.groups) {
      if (group.pending === 0) this.groups.delete(key);
      else this.report(group);
    }
    if (this.groups.size === 0) this.stop();
  }

  private report(group: Group<F>): void {
    if (group.pending === 0) return;
    const count = group.pending;
    group.pending = 0;
    this.options.summary(group.fields, count, this.options.intervalMs);
  }

  private start(): void {
    if (this.timer !== undefined) return;
    this.timer = setInterval(() => this.tick(), this.options.intervalMs);
    // Never keeps a finished process alive; flush() reports the rest.
    this.timer.unref?.();
  }

  private stop(): void {
    if (this.timer === undefined) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
