// engine/part-driver.ts on its own: both record parts through their drivers into one output record,
// a key that cannot be read taking the whole record, and the output partition (source, or Kafka's
// murmur2 of the output key). Schemas without rules (so no DEK is asked for): writer schema -> target
// schema, which moves each part to its target schema id.
import { describe, expect, it } from 'vitest';
import { keyHashPartition, PartsTransformer, SchemaStore, type PartsOptions } from '../../../src/engine/index.js';
import { createCodec } from '../../../src/formats/index.js';
import type { DekManager } from '../../../src/keys/index.js';
import type { RegisteredSchema, SchemaRegistryApi } from '../../../src/registry/types.js';
import { RecryptError } from '../../../src/util/errors.js';
import type { OutputRecord, ProcessedRecord, SourceRecord } from '../../../src/util/records.js';
import { decodeFrame, encodeFrame, encodeSchemaIdHeader, KEY_SCHEMA_ID_HEADER } from '../../../src/wire/index.js';

const TOPIC = 'orders';
const keySchema = JSON.stringify({ type: 'record', name: 'K', fields: [{ name: 'id', type: 'string' }] });
const valueSchema = JSON.stringify({ type: 'record', name: 'V', fields: [{ name: 'n', type: 'int' }] });
// Writer ids 1 (key) and 3 (value); target ids 2 (key) and 4 (value): same text, so each part keeps its fields.
const SCHEMAS = new Map<number, RegisteredSchema>([
  [1, { id: 1, schemaType: 'AVRO', schema: keySchema, subject: `${TOPIC}-key`, version: 1 }],
  [2, { id: 2, schemaType: 'AVRO', schema: keySchema, subject: 'orders.enc-key', version: 1 }],
  [3, { id: 3, schemaType: 'AVRO', schema: valueSchema, subject: `${TOPIC}-value`, version: 1 }],
  [4, { id: 4, schemaType: 'AVRO', schema: valueSchema, subject: 'orders.enc-value', version: 1 }],
]);
const registry = {
  getById: async (id: number) => {
    const schema = SCHEMAS.get(id);
    if (!schema) throw new RecryptError('REGISTRY_NOT_FOUND', `no schema ${id}`);
    return schema;
  },
} as unknown as SchemaRegistryApi;
const keyCodec = createCodec({ schema: keySchema });
const valueCodec = createCodec({ schema: valueSchema });
const keyOf = (id: string) => encodeFrame(1, keyCodec.encode({ id }));
const valueOf = (n: number) => encodeFrame(3, valueCodec.encode({ n }));

async function driver(options: { keys: boolean; partitioning: PartsOptions['partitioning'] }): Promise<PartsTransformer> {
  const schemas = new SchemaStore(registry);
  const topicFor = () => 'orders.enc';
  return new PartsTransformer({
    schemas, keys: {} as DekManager, mode: 'reencrypt', subjectNameStrategy: 'topic',
    target: { schema: await schemas.adopt(SCHEMAS.get(4)!, 'orders.enc-value'), subject: 'orders.enc-value', topicFor },
    ...(options.keys ? { keyTarget: { schema: await schemas.adopt(SCHEMAS.get(2)!, 'orders.enc-key'), subject: 'orders.enc-key', topicFor } } : {}),
    partitioning: options.partitioning,
  });
}

const record = (offset: number, key: Buffer | null, value: Buffer | null, partition = 1, headers: SourceRecord['headers'] = []): SourceRecord => ({
  topic: TOPIC, partition, offset, key, value, headers, timestamp: 1000 + offset,
});

function written(result: ProcessedRecord): OutputRecord {
  if (!('outputs' in result) || result.dlq === true) throw new Error(`expected a written record, got ${JSON.stringify(result)}`);
  expect(result.outputs).toHaveLength(1);
  return result.outputs[0]!;
}

describe('PartsTransformer', () => {
  it('writes both parts in one record at the source partition, each under its target schema', async () => {
    const parts = await driver({ keys: true, partitioning: 'source' });
    const [out] = await parts.process([record(0, keyOf('c-1'), valueOf(7), 2)]);
    const o = written(out!);
    expect(o.partition).toBe(2);
    expect(o.topic).toBe('orders.enc');
    const key = decodeFrame(o.key!, {});
    const value = decodeFrame(o.value!, {});
    expect(key.schemaRef).toEqual({ id: 2 });
    expect(keyCodec.decode(key.payload)).toEqual({ id: 'c-1' });
    expect(value.schemaRef).toEqual({ id: 4 });
    expect(valueCodec.decode(value.payload)).toEqual({ n: 7 });
    const stats = parts.drainStats();
    expect(stats.schemaMisses).toBe(2); // one writer schema per part
  });

  it('moves a key framed by the __key_schema_id header into the prefix and drops the header; a null key stays null', async () => {
    const parts = await driver({ keys: true, partitioning: 'source' });
    const headers = [{ key: KEY_SCHEMA_ID_HEADER, value: encodeSchemaIdHeader({ id: 1 }) }, { key: 'origin', value: Buffer.from('x') }];
    const [framed, nullKey] = await parts.process([record(0, keyCodec.encode({ id: 'h' }), valueOf(1), 0, headers), record(1, null, valueOf(2))]);
    const o = written(framed!);
    expect(decodeFrame(o.key!, {}).schemaRef).toEqual({ id: 2 });
    expect(o.headers.map((h) => h.key)).toEqual(['origin']);
    expect(written(nullKey!).key).toBeNull();
  });

  it('halts the whole record when its key is not in Confluent framing (no DLQ): nothing of it is written', async () => {
    const parts = await driver({ keys: true, partitioning: 'source' });
    const results = await parts.process([record(0, Buffer.from('plain-key'), valueOf(1)), record(1, keyOf('ok'), valueOf(2))]);
    expect('halt' in results[0]! && results[0].halt.code).toBe('WIRE_UNKNOWN_MAGIC');
    expect(written(results[1]!).key).not.toBeNull();
  });

  it('places records by Kafka\'s murmur2 of the output key with keyHash (a null key keeps its partition), also for passed-through keys', async () => {
    for (const keys of [true, false]) {
      const parts = await driver({ keys, partitioning: 'keyHash' });
      await expect(parts.process([record(0, keyOf('a'), valueOf(1))])).rejects.toThrow(/partition count/);
      parts.usePartitions(5);
      const batch = Array.from({ length: 20 }, (_, i) => record(i, keyOf(`customer-${i}`), valueOf(i), 4));
      const results = await parts.process([...batch, record(20, null, valueOf(0), 3)]);
      for (let i = 0; i < 20; i++) {
        const o = written(results[i]!);
        expect(o.partition).toBe(keyHashPartition(o.key!, 5));
        if (!keys) expect(o.key).toEqual(batch[i]!.key);
      }
      expect(new Set(results.slice(0, 20).map((r) => written(r).partition)).size).toBeGreaterThan(1);
      expect(written(results[20]!).partition).toBe(3);
    }
  });
});
