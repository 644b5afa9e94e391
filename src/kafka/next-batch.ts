/**
 * The batch after the one committing: fetched while the current transaction commits and, when the
 * pipeline overlaps transforms (PipelineOptions.overlapTransform), transformed then too. A speculative
 * transform's results are valid only if the current batch commits and the loop then accepts exactly
 * the records it transformed, with no revoke in between; otherwise they are dropped and the records
 * are transformed again (or, when the current batch did not commit, sought back and read again).
 *
 *   idle --start--> fetching --records, speculation allowed--> transforming --> transformed
 *                      |                                              |              |
 *                      +----------- take (committed) ----------------+--------------+--> idle: records [+ speculation]
 *                      +----------- drop (not committed) ------------+--------------+--> idle: records to seek back
 *
 * `take` and `drop` wait for a transform in flight to settle, so the processor never runs twice at
 * once. A speculative transform that fails is simply not used: the loop transforms the batch again
 * and meets the error there, on the one path that handles it.
 */
import type { SourceRecord } from '../util/records.js';
import type { Transformed } from './batch-cycle.js';

export interface Speculation {
  /** The records transformed, as the partition table previewed them; the loop uses the results only for exactly this batch. */
  readonly batch: readonly SourceRecord[];
  /** The table's revoke count when the transform started: one since then voids it. */
  readonly revocations: number;
  readonly transformed: Transformed;
}

export interface Speculator {
  /** The batch `accept` would take from `records` now, or undefined when no speculation may start (narrowing, nothing to take). */
  preview(records: readonly SourceRecord[]): readonly SourceRecord[] | undefined;
  revocations(): number;
  transform(batch: readonly SourceRecord[]): Promise<Transformed>;
}

interface Fetched {
  readonly records: SourceRecord[];
  readonly speculation?: Speculation;
}

export class NextBatch {
  private pending?: Promise<Fetched>;

  constructor(private readonly poll: () => Promise<SourceRecord[]>, private readonly speculator?: Speculator) {}

  /** A fetch (and transform) in flight or done and not yet taken or dropped. */
  get started(): boolean {
    return this.pending !== undefined;
  }

  /** Starts fetching the next batch, unless a fetch is pending already (its records would be lost). */
  start(): void {
    this.pending ??= this.poll().then((records) => this.speculate(records));
  }

  /** The records fetched (and the speculation, when one was made and succeeded); undefined when nothing was started. */
  async take(): Promise<Fetched | undefined> {
    const pending = this.pending;
    this.pending = undefined;
    return pending;
  }

  /** The records fetched, for the loop to seek back to: their speculation is discarded. */
  async drop(): Promise<SourceRecord[]> {
    const fetched = await this.take();
    return fetched?.records ?? [];
  }

  /** Waits for whatever is in flight, errors ignored (the loop is ending: unread records are read by the next run). */
  async settle(): Promise<void> {
    await this.take().catch(() => undefined);
  }

  private async speculate(records: SourceRecord[]): Promise<Fetched> {
    const speculator = this.speculator;
    const batch = speculator?.preview(records);
    if (!speculator || !batch || batch.length === 0) return { records };
    const revocations = speculator.revocations();
    try {
      return { records, speculation: { batch, revocations, transformed: await speculator.transform(batch) } };
    } catch {
      return { records };
    }
  }
}

/** The speculation's results, if they are valid for `batch` (the records the loop accepted) now. */
export function speculationFor(speculation: Speculation | undefined, batch: readonly SourceRecord[], revocations: number): Transformed | undefined {
  if (!speculation || speculation.revocations !== revocations) return undefined;
  const previewed = speculation.batch;
  if (previewed.length !== batch.length) return undefined;
  for (let i = 0; i < batch.length; i++) if (previewed[i] !== batch[i]) return undefined;
  return speculation.transformed;
}
