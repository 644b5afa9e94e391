/**
 * Records as the consume -> transform -> produce loop sees them (shared by engine/ and kafka/). The loop knows nothing about rules or
 * schemas: a RecordProcessor (the engine, wired in by jobs/service) turns source records into output
 * records, or says that a partition must halt.
 */
import type { RecryptError } from './errors.js';

export interface RecordHeader {
  readonly key: string;
  readonly value: Buffer;
}

export interface SourceRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
  readonly timestamp: number;
}

export interface OutputRecord {
  readonly topic: string;
  readonly partition: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: readonly RecordHeader[];
  readonly timestamp: number;
}

/** What became of one source record: written (to a target and/or a DLQ), or a halt of its partition. */
export type ProcessedRecord =
  | { readonly outputs: readonly OutputRecord[]; readonly dlq?: boolean }
  | { readonly halt: RecryptError };

/**
 * Transforms a batch; returns one ProcessedRecord per input, in order. Throwing a transient
 * RecryptError means "nothing of this batch may be written yet": the loop rewinds, pauses the batch's
 * partitions and retries after a backoff. Any other throw stops the pipeline.
 */
export type RecordProcessor = (batch: readonly SourceRecord[]) => Promise<ProcessedRecord[]>;

export interface TopicPartition {
  readonly topic: string;
  readonly partition: number;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
