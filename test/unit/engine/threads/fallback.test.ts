// engine/threads/: a thread that fails every batch, or never answers, must not stall the pipeline.
// A slice not answered by its deadline ends its thread and fails the batch (ENGINE_WORKER); after
// MAX_FAILED_BATCHES_IN_ROW failed batches in a row the pool stops offloading and every batch runs on
// the main thread (logged once, with the error code only); a batch the threads ran resets the count.
// Each failure uses a driver's first batches (ModeChooser's warm-up: always shared with the threads).
import { afterAll, describe, expect, it } from 'vitest';
import { EnginePool, RecordTransformer, SchemaStore } from '../../../../src/engine/index.js';
import { MAX_FAILED_BATCHES_IN_ROW } from '../../../../src/engine/threads/pool.js';
import { createCodec } from '../../../../src/formats/index.js';
import type { DekManager } from '../../../../src/keys/index.js';
import type { RegisteredSchema, SchemaRegistryApi } from '../../../../src/registry/types.js';
import { RecryptError } from '../../../../src/util/errors.js';
import type { LogFields } from '../../../../src/util/logger.js';
import type { SourceRecord } from '../../../../src/util/records.js';
import { decodeFrame, encodeFrame } from '../../../../src/wire/index.js';

const schema = JSON.stringify({ type: 'record', name: 'V', fields: [{ name: 'n', type: 'int' }, { name: 's', type: 'string' }] });
const SCHEMAS = new Map<number, RegisteredSchema>([
  [1, { id: 1, schemaType: 'AVRO', schema, subject: 'in-value', version: 1 }],
  [2, { id: 2, schemaType: 'AVRO', schema, subject: 'out-value', version: 1 }],
]);
const registry = { getById: async (id: number) => SCHEMAS.get(id)! } as unknown as SchemaRegistryApi;
const codec = createCodec({ schema });
const entry = new URL('./failing-thread.ts', import.meta.url);

const pools: EnginePool[] = [];
afterAll(() => Promise.all(pools.map((p) => p.close())));

function newPool(options: { sliceDeadlineMinMs?: number } = {}): { pool: EnginePool; warnings: { message: string; fields: LogFields }[] } {
  const warnings: { message: string; fields: LogFields }[] = [];
  const pool = new EnginePool({ threads: 1, minSliceRecords: 4, entry, ...options, warn: (message, fields) => warnings.push({ message, fields }) });
  pools.push(pool);
  return { pool, warnings };
}

async function driver(pool: EnginePool): Promise<RecordTransformer> {
  const schemas = new SchemaStore(registry);
  return new RecordTransformer({
    schemas, keys: {} as DekManager, mode: 'reencrypt', subjectNameStrategy: 'topic', threads: pool,
    target: { schema: await schemas.adopt(SCHEMAS.get(2)!, 'out-value'), subject: 'out-value', topicFor: () => 'out' },
  });
}

const batch = (topic: string): SourceRecord[] => Array.from({ length: 40 }, (_, i) => ({
  topic, partition: 0, offset: i, key: null, headers: [], timestamp: 0, value: encodeFrame(1, codec.encode({ n: i, s: `v${i}` })),
}));

async function expectWritten(transformer: RecordTransformer, records: readonly SourceRecord[]): Promise<void> {
  const out = await transformer.process(records);
  out.forEach((r, i) => {
    if (!('outputs' in r)) throw new Error(`record ${i} not written`);
    expect(codec.decode(decodeFrame(r.outputs[0]!.value!).payload)).toEqual({ n: i, s: `v${i}` });
  });
}

async function expectWorkerFailure(transformer: RecordTransformer, records: readonly SourceRecord[]): Promise<RecryptError> {
  const failure = await transformer.process(records).then(() => undefined, (err: unknown) => err);
  expect(failure).toBeInstanceOf(RecryptError);
  expect((failure as RecryptError).code).toBe('ENGINE_WORKER');
  return failure as RecryptError;
}

describe('engine worker threads that keep failing', () => {
  it(`stop being used after ${MAX_FAILED_BATCHES_IN_ROW} failed batches in a row: every batch runs on the main thread, logged once`, async () => {
    const { pool, warnings } = newPool();
    const first = await driver(pool);
    await expectWorkerFailure(first, batch('crash-throw'));
    await expectWorkerFailure(first, batch('crash-throw'));
    expect(pool.offloading).toBe(true);
    const second = await driver(pool);
    await expectWorkerFailure(second, batch('crash-throw'));
    expect(pool.offloading).toBe(false);

    const sent = pool.counts.sent;
    await expectWritten(second, batch('crash-throw'));
    await expectWritten(await driver(pool), batch('crash-throw'));
    expect(pool.counts.sent).toBe(sent);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.fields).toEqual({ failures: MAX_FAILED_BATCHES_IN_ROW, code: 'ENGINE_WORKER' });
    expect(JSON.stringify(warnings)).not.toMatch(/v\d|crash/);
  });

  it('count failures in a row only: a batch the threads ran resets the count', async () => {
    const { pool, warnings } = newPool();
    const first = await driver(pool);
    await expectWorkerFailure(first, batch('crash-throw'));
    await expectWorkerFailure(first, batch('crash-throw'));
    const second = await driver(pool);
    const sent = pool.counts.sent;
    await expectWritten(second, batch('fine'));
    expect(pool.counts.sent).toBeGreaterThan(sent);
    await expectWorkerFailure(second, batch('crash-throw'));
    const third = await driver(pool);
    await expectWorkerFailure(third, batch('crash-throw'));
    expect(pool.offloading).toBe(true);
    expect(warnings).toHaveLength(0);
  });
});

describe('an engine worker thread that never answers', () => {
  it('is ended at the slice deadline; the batch fails with ENGINE_WORKER and a new thread runs the next one', async () => {
    // The deadline counts from the slice's message, so it also covers a new thread's start-up (~1-2 s
    // here: tsx compiles the sources); the first batch starts the thread.
    const { pool } = newPool({ sliceDeadlineMinMs: 4_000 });
    const transformer = await driver(pool);
    await expectWritten(transformer, batch('fine'));
    const started = Date.now();
    const failure = await expectWorkerFailure(transformer, batch('crash-hang'));
    expect(failure.message).toMatch(/did not answer a slice of \d+ records within \d+ ms/);
    expect(Date.now() - started).toBeLessThan(9_000);

    const done = pool.counts.done;
    await expectWritten(transformer, batch('fine'));
    expect(pool.counts.done).toBeGreaterThan(done);
  });
});
