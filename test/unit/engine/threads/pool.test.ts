// engine/threads/: a thread that exits or throws fails its batch with ENGINE_WORKER (transient: the
// pipeline retries the batch), and the pool starts a new thread, which gets the plans again, for the
// next batch. Schemas without rules (no DEK is needed): writer schema 1 -> target schema 2.
import { afterAll, describe, expect, it } from 'vitest';
import { EnginePool, RecordTransformer, SchemaStore } from '../../../../src/engine/index.js';
import { createCodec } from '../../../../src/formats/index.js';
import type { DekManager } from '../../../../src/keys/index.js';
import type { RegisteredSchema, SchemaRegistryApi } from '../../../../src/registry/types.js';
import { RecryptError, isTransient } from '../../../../src/util/errors.js';
import type { SourceRecord } from '../../../../src/util/records.js';
import { decodeFrame, encodeFrame } from '../../../../src/wire/index.js';

const schema = JSON.stringify({ type: 'record', name: 'V', fields: [{ name: 'n', type: 'int' }, { name: 's', type: 'string' }] });
const SCHEMAS = new Map<number, RegisteredSchema>([
  [1, { id: 1, schemaType: 'AVRO', schema, subject: 'in-value', version: 1 }],
  [2, { id: 2, schemaType: 'AVRO', schema, subject: 'out-value', version: 1 }],
]);
const registry = { getById: async (id: number) => SCHEMAS.get(id)! } as unknown as SchemaRegistryApi;
const codec = createCodec({ schema });

const pool = new EnginePool({ threads: 1, minSliceRecords: 4, entry: new URL('./failing-thread.ts', import.meta.url) });
afterAll(() => pool.close());

async function driver(): Promise<RecordTransformer> {
  const schemas = new SchemaStore(registry);
  return new RecordTransformer({
    schemas, keys: {} as DekManager, mode: 'reencrypt', subjectNameStrategy: 'topic', threads: pool,
    target: { schema: await schemas.adopt(SCHEMAS.get(2)!, 'out-value'), subject: 'out-value', topicFor: () => 'out' },
  });
}

const batch = (topic: string, count = 40): SourceRecord[] => Array.from({ length: count }, (_, i) => ({
  topic, partition: 0, offset: i, key: null, headers: [], timestamp: 0, value: encodeFrame(1, codec.encode({ n: i, s: `v${i}` })),
}));

async function expectWritten(transformer: RecordTransformer, records: readonly SourceRecord[]): Promise<void> {
  const out = await transformer.process(records);
  out.forEach((r, i) => {
    if (!('outputs' in r)) throw new Error(`record ${i} not written`);
    const frame = decodeFrame(r.outputs[0]!.value!);
    expect(frame.schemaRef).toEqual({ id: 2 });
    expect(codec.decode(frame.payload)).toEqual({ n: i, s: `v${i}` });
  });
}

describe('engine worker threads that fail', () => {
  it.each(['crash-exit', 'crash-throw'])('%s: the batch fails with ENGINE_WORKER, a new thread runs the next one', async (crash) => {
    const transformer = await driver();
    await expectWritten(transformer, batch('fine')); // compiles the plan (the threads learn it)
    const before = pool.counts.done;
    await expectWritten(transformer, batch('fine'));
    expect(pool.counts.done - before).toBeGreaterThan(0);

    const failure = await transformer.process(batch(crash)).then(() => undefined, (err: unknown) => err);
    expect(failure).toBeInstanceOf(RecryptError);
    expect((failure as RecryptError).code).toBe('ENGINE_WORKER');
    expect(isTransient(failure)).toBe(true);
    expect((failure as RecryptError).message).not.toContain('on purpose');

    // A new thread: it gets the driver and its plan replayed, so it runs the next batch itself.
    const after = pool.counts.done;
    await expectWritten(transformer, batch('fine'));
    expect(pool.counts.done - after).toBeGreaterThan(0);
  });

  it('runs small batches on the main thread alone', async () => {
    const transformer = await driver();
    await expectWritten(transformer, batch('fine'));
    const before = pool.counts.sent;
    await expectWritten(transformer, batch('crash-exit', 7));
    expect(pool.counts.sent).toBe(before);
  });
});
