/**
 * A record's two parts under `keys: rules`: the key driver (a RecordTransformer of the key part, the
 * key subjects' rules) and the value driver, composed so that both parts of one source record leave in
 * one output record, in the same transaction, or the record fails as a whole:
 * - the key goes first; a key that halts or goes to the DLQ (a rule's DLQ action, or unreadable: not in
 *   Confluent framing, unknown schema) takes the whole record there; it never passes through as it was;
 * - the value then runs over the record with its key already transformed; a value that goes to the DLQ
 *   carries the key's tagged plaintexts to the guard (dlq-route.ts), and DLQ records never carry a key;
 * - the output partition is the source partition, or with `partition: keyHash` Kafka's default
 *   partitioner over the output key bytes (murmur2.ts): where a keyed producer of the target would put it.
 */
import type { OutputRecord, ProcessedRecord, SourceRecord } from '../util/records.js';
import { RecryptError } from '../util/errors.js';
import type { EngineStats } from './kernel/visitors.js';
import { keyHashPartition } from './murmur2.js';
import type { Side } from './plan.js';
import { RecordTransformer, type TransformerOptions, type TransformTarget } from './record-transformer.js';

/** What runtime/ drives per topic: one part (RecordTransformer) or both (PartsTransformer). */
export interface RecordEngine {
  readonly process: (batch: readonly SourceRecord[]) => Promise<ProcessedRecord[]>;
  drainStats(): EngineStats;
  targetSide(indexes?: readonly number[]): Side;
  /** The target topic's partition count, for engines that place records themselves. */
  usePartitions?(partitions: number): void;
}

export type OutputPartitioning = 'source' | 'keyHash';

export interface PartsOptions extends Omit<TransformerOptions, 'part' | 'otherPartPlaintexts'> {
  /** The key part's target (keys: rules): the target key subject and its schema, whose rules encrypt on write. Absent: keys pass through. */
  readonly keyTarget?: TransformTarget;
  readonly partitioning: OutputPartitioning;
}

export class PartsTransformer implements RecordEngine {
  /** Undefined when keys pass through (the driver then only places records: partition keyHash). */
  readonly key: RecordTransformer | undefined;
  readonly value: RecordTransformer;
  /** The source record of each record the value driver sees (its key already transformed), for the guard. */
  private readonly sources = new WeakMap<SourceRecord, SourceRecord>();
  private targetPartitions: number | undefined;

  constructor(private readonly options: PartsOptions) {
    const { keyTarget } = options;
    const key = keyTarget === undefined ? undefined : new RecordTransformer({ ...options, part: 'key', target: { ...keyTarget, topicFor: options.target.topicFor } });
    this.key = key;
    this.value = new RecordTransformer({
      ...options, part: 'value',
      ...(key === undefined ? {} : { otherPartPlaintexts: (record: SourceRecord) => key.partPlaintexts(this.sources.get(record) ?? record) }),
    });
  }

  /** The target topic's partition count, which `partition: keyHash` needs (runtime/ sets it once the topic is known). */
  usePartitions(partitions: number): void {
    this.targetPartitions = partitions;
  }

  targetSide(indexes?: readonly number[]): Side {
    return this.value.targetSide(indexes);
  }

  /** Both drivers' counts, summed. */
  drainStats(): EngineStats {
    const sum = this.value.drainStats();
    if (this.key === undefined) return sum;
    const more = this.key.drainStats();
    for (const algorithm of Object.keys(sum.encrypted) as (keyof EngineStats['encrypted'])[]) {
      sum.encrypted[algorithm] += more.encrypted[algorithm];
      sum.decrypted[algorithm] += more.decrypted[algorithm];
    }
    sum.dekMisses += more.dekMisses;
    sum.schemaMisses += more.schemaMisses;
    return sum;
  }

  readonly process = async (batch: readonly SourceRecord[]): Promise<ProcessedRecord[]> => {
    if (this.options.partitioning === 'keyHash' && this.targetPartitions === undefined) {
      throw new RecryptError('INTERNAL', 'partition keyHash: the target topic\'s partition count is not known');
    }
    if (this.key === undefined) return (await this.value.process(batch)).map((r) => this.placed(r));
    const keyed = await this.key.process(batch);
    const out: ProcessedRecord[] = new Array(batch.length);
    const rest: SourceRecord[] = [];
    const restAt: number[] = [];
    for (let i = 0; i < batch.length; i++) {
      const result = keyed[i]!;
      if ('halt' in result || result.dlq === true) {
        out[i] = result;
        continue;
      }
      const source = batch[i]!;
      const withKey: SourceRecord = { ...source, key: result.outputs[0]!.key, headers: result.outputs[0]!.headers };
      this.sources.set(withKey, source);
      rest.push(withKey);
      restAt.push(i);
    }
    if (rest.length > 0) {
      const valued = await this.value.process(rest);
      for (let j = 0; j < rest.length; j++) out[restAt[j]!] = this.placed(valued[j]!);
    }
    return out;
  };

  /** A written record at its output partition. */
  private placed(result: ProcessedRecord): ProcessedRecord {
    if (this.options.partitioning !== 'keyHash' || 'halt' in result || result.dlq === true) return result;
    const partitions = this.targetPartitions!;
    const outputs = result.outputs.map((o): OutputRecord => (o.key === null ? o : { ...o, partition: keyHashPartition(o.key, partitions) }));
    return { outputs };
  }
}
