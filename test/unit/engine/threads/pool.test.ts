// engine/threads/: a thread that exits or throws fails its batch with ENGINE_WORKER (transient: the
// pipeline retries the batch), and the pool starts a new thread, which gets the plans again, for the
// next batch. Schemas without rules (no DEK is needed): writer schema 1 -> target schema 2.
import { afterAll, describe, expect, it } from 'vitest';
import { cipherFromDekProto, createAesGcmFieldCipher, newDekMaterial } from '../../../../src/crypto/index.js';
import { EnginePool, PartsTransformer, RecordTransformer, SchemaStore } from '../../../../src/engine/index.js';
import { createCodec } from '../../../../src/formats/index.js';
import type { DekManager, WriteDek } from '../../../../src/keys/index.js';
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

describe('engine worker threads given DEKs', () => {
  const tagged = JSON.stringify({ type: 'record', name: 'V', fields: [{ name: 'n', type: 'int' }, { name: 's', type: 'string', 'confluent:tags': ['PII'] }] });
  const rules = { domainRules: [{ name: 'enc', kind: 'TRANSFORM' as const, mode: 'WRITEREAD' as const, type: 'ENCRYPT', tags: ['PII'], params: { 'encrypt.kek.name': 'k' } }] };
  const target: RegisteredSchema = { id: 3, schemaType: 'AVRO', schema: tagged, subject: 'enc-value', version: 1, ruleSet: rules };
  const taggedCodec = createCodec({ schema: tagged });

  /** An encrypting driver whose write DEK comes from `dek` (a keys/ stand-in at the DEK boundary). */
  async function encrypting(dek: WriteDek): Promise<RecordTransformer> {
    const schemas = new SchemaStore({ getById: async (id: number) => (id === 3 ? target : { ...SCHEMAS.get(1)!, id: 5, schema: tagged }) } as unknown as SchemaRegistryApi);
    const keys = { peekWrite: () => dek, dekForWrite: async () => dek, peekRead: () => undefined } as unknown as DekManager;
    return new RecordTransformer({
      schemas, keys, mode: 'encrypt', subjectNameStrategy: 'topic', threads: pool,
      target: { schema: await schemas.adopt(target, 'enc-value'), subject: 'enc-value', topicFor: () => 'out' },
    });
  }
  const plainBatch = (): SourceRecord[] => Array.from({ length: 40 }, (_, i) => ({
    topic: 'tagged', partition: 0, offset: i, key: null, headers: [], timestamp: 0, value: encodeFrame(5, taggedCodec.encode({ n: i, s: `secret ${i}` })),
  }));
  async function encryptTwice(dek: WriteDek): Promise<number> {
    const transformer = await encrypting(dek);
    await transformer.process(plainBatch());
    const before = pool.counts.done;
    const out = await transformer.process(plainBatch());
    out.forEach((r, i) => {
      if (!('outputs' in r)) throw new Error(`record ${i} not written`);
      const { s } = taggedCodec.decode(decodeFrame(r.outputs[0]!.value!).payload) as { s: string };
      expect(dek.cipher.decrypt(Buffer.from(s, 'base64')).toString()).toBe(`secret ${i}`);
    });
    return pool.counts.done - before;
  }

  it('rebuild a cipher crypto/ made from a DEK proto and encrypt with it', async () => {
    const dek = { version: 1, cipher: cipherFromDekProto('AES256_GCM', newDekMaterial('AES256_GCM')) };
    expect(await encryptTwice(dek)).toBeGreaterThan(0);
  });

  it('leave the records of a cipher made elsewhere (no material to hand over) to the main thread', async () => {
    const dek = { version: 1, cipher: createAesGcmFieldCipher('AES256_GCM', Buffer.alloc(32, 7)) };
    expect(await encryptTwice(dek)).toBe(0);
  });
});

describe('engine worker threads under keys: rules', () => {
  it('transform both parts of each record, keys and values, in source order', async () => {
    const keySchema = JSON.stringify({ type: 'record', name: 'K', fields: [{ name: 'id', type: 'string' }] });
    const keyCodec = createCodec({ schema: keySchema });
    const schemas = new SchemaStore({
      getById: async (id: number) => (id === 7 || id === 8 ? { id, schemaType: 'AVRO', schema: keySchema, subject: id === 7 ? 'in-key' : 'out-key', version: 1 } : SCHEMAS.get(id)!),
    } as unknown as SchemaRegistryApi);
    const topicFor = () => 'out';
    const parts = new PartsTransformer({
      schemas, keys: {} as DekManager, mode: 'reencrypt', subjectNameStrategy: 'topic', threads: pool, partitioning: 'source',
      target: { schema: await schemas.adopt(SCHEMAS.get(2)!, 'out-value'), subject: 'out-value', topicFor },
      keyTarget: { schema: await schemas.adopt({ id: 8, schemaType: 'AVRO', schema: keySchema, subject: 'out-key', version: 1 }, 'out-key'), subject: 'out-key', topicFor },
    });
    const records = (): SourceRecord[] => batch('keyed', 60).map((r, i) => ({ ...r, key: encodeFrame(7, keyCodec.encode({ id: `key ${i}` })) }));
    await parts.process(records());
    const before = pool.counts.done;
    const out = await parts.process(records());
    out.forEach((r, i) => {
      if (!('outputs' in r)) throw new Error(`record ${i} not written`);
      const key = decodeFrame(r.outputs[0]!.key!);
      expect(key.schemaRef).toEqual({ id: 8 });
      expect(keyCodec.decode(key.payload)).toEqual({ id: `key ${i}` });
      expect(codec.decode(decodeFrame(r.outputs[0]!.value!).payload)).toEqual({ n: i, s: `v${i}` });
    });
    expect(pool.counts.done - before).toBeGreaterThan(40); // keys and values
  });
});
