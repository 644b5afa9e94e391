/**
 * The pipeline's partitions: one state record each (partition-state.ts), kept after a revoke for its
 * progress. The table decides which polled records the loop takes and where a partition's reading
 * resumes after a failed cycle; the pipeline makes the consumer calls (seek, pause, resume).
 */
import { partitionKey, type SourceRecord, type TopicPartition } from '../util/records.js';
import { firstOffsets, lastOffsets, type CommitPlan, type PartitionCounts } from './batch-cycle.js';
import type { TopicPartitionOffset } from './native.js';
import { assignedPartition, owned, progressOf, transition, type PartitionProgress, type PartitionState } from './partition-state.js';

export interface PartitionLag extends TopicPartition {
  readonly lag: number;
}

export class PartitionTable {
  private readonly states = new Map<string, PartitionState>();
  private revokes = 0;

  get(key: string): PartitionState | undefined {
    return this.states.get(key);
  }

  values(): IterableIterator<PartitionState> {
    return this.states.values();
  }

  /** A partition's state; one never assigned (records come from assigned partitions: cannot happen) is recorded as not ours. */
  stateOf(tp: TopicPartition): PartitionState {
    const key = partitionKey(tp.topic, tp.partition);
    let s = this.states.get(key);
    if (!s) {
      s = { ...assignedPartition(tp), status: 'revoked' };
      this.states.set(key, s);
    }
    return s;
  }

  /** A bounded range, positioned at `start`: done at once when `start` is past its end. */
  addRange(tp: TopicPartition, start: number, end: number): PartitionState {
    const state = assignedPartition(tp);
    state.progress = { topic: tp.topic, partition: tp.partition, committed: start, records: 0, written: 0, dlq: 0, end, done: false };
    this.states.set(state.key, state);
    transition(state, { type: 'position', offset: start });
    if (start >= end) transition(state, { type: 'finish' });
    return state;
  }

  assign(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      const known = this.states.get(partitionKey(tp.topic, tp.partition));
      if (known) transition(known, { type: 'assign' });
      else this.states.set(partitionKey(tp.topic, tp.partition), assignedPartition(tp));
    }
  }

  /** How many revokes the table has seen. */
  get revocations(): number {
    return this.revokes;
  }

  revoke(tps: readonly TopicPartition[]): void {
    this.revokes += 1;
    for (const tp of tps) {
      const s = this.states.get(partitionKey(tp.topic, tp.partition));
      if (s) transition(s, { type: 'revoke' });
    }
  }

  /**
   * A committed plan's progress: each partition's committed offset and counts; a range committed to its
   * end is done. Returns the partitions done now (the loop pauses them) and the batch's totals.
   */
  commit(plan: CommitPlan): { finished: PartitionState[]; totals: PartitionCounts } {
    const finished: PartitionState[] = [];
    const totals = { records: 0, written: 0, dlq: 0 };
    for (const [key, next] of plan.nextOffsets) {
      const s = this.stateOf(next);
      const p = progressOf(s);
      const c = plan.counts.get(key)!;
      p.committed = next.offset;
      p.records += c.records;
      p.written += c.written;
      p.dlq += c.dlq;
      totals.records += c.records;
      totals.written += c.written;
      totals.dlq += c.dlq;
      if (p.end !== undefined && p.committed >= p.end) {
        transition(s, { type: 'finish' });
        finished.push(s);
      }
    }
    return { finished, totals };
  }

  /** The group's committed offsets of newly assigned partitions (negative: none, auto.offset.reset decides). */
  positions(committed: readonly TopicPartitionOffset[]): void {
    for (const c of committed) {
      const s = this.states.get(partitionKey(c.topic, c.partition));
      if (s) transition(s, { type: 'position', offset: c.offset >= 0 ? c.offset : undefined });
    }
  }

  progress(): PartitionProgress[] {
    const out: PartitionProgress[] = [];
    for (const s of this.states.values()) if (s.progress) out.push(s.progress);
    return out;
  }

  anyHalted(): boolean {
    for (const s of this.states.values()) if (s.status === 'halted') return true;
    return false;
  }

  /**
   * Records between each owned partition's committed offset and its end (its range's, or `high`: the
   * consumer's cached high watermark, which throws while none is known). Halted partitions count.
   */
  lag(high: (topic: string, partition: number) => number): PartitionLag[] {
    const out: PartitionLag[] = [];
    for (const s of this.states.values()) {
      const p = s.progress;
      if (!owned(s) || !p) continue;
      try {
        const h = high(s.topic, s.partition);
        const end = p.end === undefined ? h : Math.min(h, p.end);
        if (end >= 0) out.push({ topic: s.topic, partition: s.partition, lag: Math.max(0, end - p.committed) });
      } catch {
        // No watermark cached yet for this partition.
      }
    }
    return out;
  }

  /** Every range done or halted (bounded mode). */
  allSettled(): boolean {
    for (const { progress: p } of this.states.values()) if (p && !p.done && !p.halted) return false;
    return true;
  }

  /** Drops records of partitions that are halted, paused, done, not owned, past their range, or stale. */
  accept(records: readonly SourceRecord[]): SourceRecord[] {
    return this.select(records, true);
  }

  /**
   * What `accept` would take now, changing nothing: the batch a speculative transform works on (the
   * loop accepts the records for real once the batch before them committed, and uses the speculation
   * only when that takes exactly these records).
   */
  preview(records: readonly SourceRecord[]): SourceRecord[] {
    return this.select(records, false);
  }

  private select(records: readonly SourceRecord[], mutate: boolean): SourceRecord[] {
    const out: SourceRecord[] = [];
    const expected = new Map<string, number>();
    for (const r of records) {
      const key = partitionKey(r.topic, r.partition);
      const s = this.states.get(key);
      // Taken while assigned (position not learned yet: auto.offset.reset decides) or running.
      if (s === undefined || (s.status !== 'running' && s.status !== 'assigned')) continue;
      const next = mutate ? s.expected : expected.has(key) ? expected.get(key) : s.expected;
      if (next !== undefined && r.offset < next) continue;
      const end = s.progress?.end;
      if (end !== undefined && r.offset >= end) {
        if (mutate) s.eofAt = r.offset;
        continue;
      }
      if (mutate) s.expected = r.offset + 1;
      else expected.set(key, r.offset + 1);
      out.push(r);
    }
    return out;
  }

  /** A held record's partition is still ours and not halted. */
  holds(record: SourceRecord): boolean {
    const s = this.states.get(partitionKey(record.topic, record.partition));
    return owned(s) && s.status !== 'halted';
  }

  /** The consumer reached the end of a partition. */
  seenEnd(tp: TopicPartition, offset: number): void {
    const s = this.states.get(partitionKey(tp.topic, tp.partition));
    if (s) s.eofAt = Math.max(offset, s.eofAt ?? -1);
  }

  /** Ends seen by fetches that overlapped a failed cycle may lie beyond records now unread again. */
  forgetEnds(): void {
    for (const s of this.states.values()) s.eofAt = undefined;
  }

  /** Refused at commit, record unknown: the batch's partitions replay one record per transaction up to its last record. */
  narrow(batch: readonly SourceRecord[]): void {
    for (const [key, last] of lastOffsets(batch)) {
      const s = this.states.get(key);
      if (s) s.narrowTo = Math.max(last, s.narrowTo ?? -1);
    }
  }

  /** The record's partition is narrowing (its records go one per transaction). */
  narrowing(record: SourceRecord): boolean {
    return this.states.get(partitionKey(record.topic, record.partition))?.narrowTo !== undefined;
  }

  /**
   * While narrowing: one record of the narrowing partitions per transaction until the refused record
   * is found. `take`: that record and the other partitions' records (they go as usual); `hold`: the
   * narrowing partitions' other records, which wait their turn.
   */
  oneNarrowingRecord(batch: readonly SourceRecord[]): { take: SourceRecord[]; hold: SourceRecord[] } {
    const take: SourceRecord[] = [];
    const hold: SourceRecord[] = [];
    let single = false;
    for (const r of batch) {
      if (!this.narrowing(r)) take.push(r);
      else if (!single) {
        take.push(r);
        single = true;
      } else hold.push(r);
    }
    return { take, hold };
  }

  /** Some partition has a narrowing bound set (read only: `pruneNarrowing` ends the bounds that are over). */
  anyNarrowing(): boolean {
    for (const s of this.states.values()) if (s.narrowTo !== undefined) return true;
    return false;
  }

  /** Narrowing ends per partition once its refused range is committed, or the partition is gone. True while any narrows. */
  pruneNarrowing(): boolean {
    let any = false;
    for (const s of this.states.values()) {
      if (s.narrowTo === undefined) continue;
      const p = s.progress;
      if (!owned(s) || s.status === 'halted' || !p || p.done || p.committed > s.narrowTo) s.narrowTo = undefined;
      else any = true;
    }
    return any;
  }

  /**
   * Where to seek so that every owned partition of `batch` reads its first record in the batch again
   * (every cycle commits its whole batch or rewinds it, so that record is its last committed offset).
   */
  rewind(batch: readonly SourceRecord[]): TopicPartitionOffset[] {
    const seeks: TopicPartitionOffset[] = [];
    for (const [key, tpo] of firstOffsets(batch)) {
      const s = this.states.get(key);
      // An end seen in the same fetch lies beyond these records, which are unread again.
      if (s) s.eofAt = undefined;
      if (!owned(s)) continue;
      s.expected = tpo.offset;
      seeks.push(tpo);
    }
    return seeks;
  }

  /**
   * Where to seek after dropping records fetched ahead of a cycle that did not commit: each partition
   * back to its first dropped record, unless the failed cycle's own rewind put it further back already.
   */
  drop(records: readonly SourceRecord[]): TopicPartitionOffset[] {
    const seeks: TopicPartitionOffset[] = [];
    for (const [key, first] of firstOffsets(records)) {
      const s = this.states.get(key);
      // An end seen by the dropped fetch lies beyond records that are now unread again.
      if (s) s.eofAt = undefined;
      if (!owned(s) || s.status === 'halted') continue;
      const expected = s.expected;
      const target = expected !== undefined && expected < first.offset ? expected : first.offset;
      s.expected = target;
      seeks.push({ ...first, offset: target });
    }
    return seeks;
  }

  /**
   * Ranges done: committed to their end, or the consumer has seen a position at or past the end (EOF,
   * or a record beyond the range) with everything read so far committed (the offsets in between were
   * transaction markers, which carry no records). Returns the partitions that are done now.
   */
  finishRangesAtEnd(): PartitionState[] {
    const finished: PartitionState[] = [];
    for (const s of this.states.values()) {
      const seen = s.eofAt;
      if (seen === undefined) continue;
      s.eofAt = undefined;
      const p = s.progress;
      if (!p || p.done || p.halted || p.end === undefined || seen < p.end) continue;
      const inFlight = (s.expected ?? p.committed) > p.committed;
      if (inFlight) continue;
      transition(s, { type: 'finish' });
      finished.push(s);
    }
    return finished;
  }

  /** Partitions whose back-off is over, now running again. */
  resumeDue(now: number): PartitionState[] {
    const due: PartitionState[] = [];
    for (const s of this.states.values()) {
      if (s.status !== 'paused' || (s.pausedUntil ?? 0) > now) continue;
      transition(s, { type: 'resume' });
      due.push(s);
    }
    return due;
  }
}
