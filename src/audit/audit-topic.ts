/**
 * `recrypt audit`: reads a range of a topic (no group commits) and reports what is encrypted, under
 * which keys, and what is not.
 */
import { SchemaStore, type SubjectNameStrategy } from '../engine/index.js';
import type { KafkaConnection } from '../kafka/connection.js';
import type { SchemaRegistryApi } from '../registry/types.js';
import { Auditor } from './auditor.js';
import type { AuditReport, PartitionRange } from './report.js';
import { TopicReader, type OffsetSpec } from './topic-reader.js';

export interface AuditTopicOptions {
  readonly connection: KafkaConnection;
  readonly schemaRegistry: SchemaRegistryApi;
  readonly topic: string;
  readonly from: OffsetSpec;
  readonly to: OffsetSpec;
  readonly subjectNameStrategy: SubjectNameStrategy;
  readonly partitions?: readonly number[];
  readonly batchSize?: number;
  readonly maxListed?: number;
  /** Called with the range before reading starts (total = records expected, an upper bound). */
  readonly onStart?: (total: number, ranges: readonly PartitionRange[]) => void;
  /** Called after every batch. */
  readonly onProgress?: (done: number) => void;
  readonly shouldStop?: () => boolean;
}

export async function auditTopic(options: AuditTopicOptions): Promise<AuditReport> {
  const schemas = new SchemaStore(options.schemaRegistry);
  const auditor = new Auditor({
    schemas, registry: options.schemaRegistry, subjectNameStrategy: options.subjectNameStrategy,
    ...(options.maxListed === undefined ? {} : { maxListed: options.maxListed }),
  });
  const reader = new TopicReader({
    connection: options.connection, topic: options.topic,
    ...(options.partitions ? { partitions: options.partitions } : {}),
    ...(options.batchSize ? { batchSize: options.batchSize } : {}),
  });
  let started = Date.now();
  let finished = 0;
  let ranges: PartitionRange[] = [];
  try {
    await reader.open();
    const resolved = await reader.resolve(options.from, options.to);
    ranges = resolved.map((r) => ({ ...r, records: 0 }));
    const byPartition = new Map(ranges.map((r) => [r.partition, r]));
    options.onStart?.(ranges.reduce((n, r) => n + (r.to - r.from), 0), ranges);
    // records/s measures the read itself, not connecting and resolving offsets.
    started = Date.now();
    await reader.read(resolved, async (batch) => {
      await auditor.observeBatch(batch);
      for (const record of batch) byPartition.get(record.partition)!.records++;
      options.onProgress?.(auditor.records);
    }, options.shouldStop);
    finished = Date.now();
  } finally {
    await reader.close();
  }
  const durationMs = (finished || Date.now()) - started;
  const truncated = auditor.truncated;
  return {
    topic: options.topic,
    partitions: ranges,
    records: auditor.records,
    tombstones: auditor.tombstones,
    durationMs,
    recordsPerSecond: Math.round(auditor.records / Math.max(durationMs / 1000, 0.001)),
    schemas: auditor.summaries(),
    plaintext: {
      count: auditor.plaintextValues, records: auditor.plaintextRecords,
      findings: [...auditor.findings].sort((a, b) => a.partition - b.partition || a.offset - b.offset || a.field.localeCompare(b.field)),
      truncated: truncated.findings,
    },
    keys: auditor.keys(),
    undecodable: {
      count: auditor.undecodableCount,
      records: [...auditor.undecodable].sort((a, b) => a.partition - b.partition || a.offset - b.offset),
      truncated: truncated.undecodable,
    },
    clean: auditor.plaintextValues === 0 && auditor.undecodableCount === 0,
  };
}
