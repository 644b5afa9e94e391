// Shared by the pipeline suites over fake clients: a fake broker with source records, an uppercasing
// processor, and a bounded pipeline over partitions 0 and 1 of the source.
import { TransactionalPipeline, type PipelineOptions } from '../../../src/kafka/pipeline.js';
import type { ProcessedRecord, SourceRecord } from '../../../src/kafka/types.js';
import { FakeBroker, FakeClients } from './fake-kafka.js';

export const SRC = 'src';
export const DST = 'dst';

export function broker(perPartition: number, partitions = 2): FakeBroker {
  const b = new FakeBroker();
  for (let p = 0; p < partitions; p++) {
    for (let i = 0; i < perPartition; i++) b.append(SRC, p, `v${p}-${i}`);
  }
  return b;
}

export const upper = async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => batch.map((r) => ({
  outputs: [{ topic: DST, partition: r.partition, key: r.key, headers: r.headers, timestamp: r.timestamp,
    value: r.value === null ? null : Buffer.from(r.value.toString().toUpperCase()) }],
}));

export function pipeline(b: FakeBroker, options: Partial<PipelineOptions> = {}): { pipeline: TransactionalPipeline; clients: FakeClients } {
  const clients = new FakeClients(b);
  const ranges = [0, 1].map((partition) => ({ topic: SRC, partition, to: b.log(SRC, partition).length }));
  const p = new TransactionalPipeline({
    name: 'unit', connection: { bootstrapServers: 'fake:9092', properties: {} }, clients, groupId: 'g', transactionalId: 'tx',
    startAt: 'earliest', ranges, processor: upper, batchSize: 4, backoff: { initialMs: 1, maxMs: 5 }, ...options,
  });
  return { pipeline: p, clients };
}
