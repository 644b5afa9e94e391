// The engine's worker threads (engine/threads/, #24): a driver with a pool gives the same records as the
// main thread alone. AES256_SIV targets are deterministic, so outputs must be byte-identical; GCM outputs
// differ by their random IVs, so they are decrypted back and compared. Each batch mixes in what the
// threads hand back to the main thread: a second source topic (a schema miss), an unknown schema id
// and bytes that do not decode (halts), and ciphertext that does not authenticate (a read rule failure
// whose action is NONE). Avro, Protobuf and JSON Schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevRegistry, type DevRegistry } from '../../../src/devregistry/index.js';
import { EnginePool, RecordTransformer, SchemaStore, type JobMode } from '../../../src/engine/index.js';
import { createCodec } from '../../../src/formats/index.js';
import { DekManager } from '../../../src/keys/index.js';
import { LocalKmsDriver } from '../../../src/kms/local-kms.js';
import { DekRegistryClient, SchemaRegistryClient } from '../../../src/registry/index.js';
import type { RuleSet, SchemaInfo } from '../../../src/registry/types.js';
import type { ProcessedRecord, SourceRecord } from '../../../src/util/records.js';
import { decodeFrame, encodeFrame } from '../../../src/wire/index.js';
import { encryptRule } from '../helpers/csfle.js';
import { uniqueName } from '../helpers/stack.js';

const SECRET = 'threads-secret';
type Format = 'AVRO' | 'PROTOBUF' | 'JSON';
const SCHEMAS: Record<Format, string> = {
  AVRO: JSON.stringify({
    type: 'record', name: 'Msg',
    fields: [{ name: 'text', type: 'string', 'confluent:tags': ['PII'] }, { name: 'n', type: 'int' }, { name: 'note', type: 'string' }],
  }),
  PROTOBUF: 'syntax = "proto3";\npackage t;\nimport "confluent/meta.proto";\n'
    + 'message M { string text = 1 [(confluent.field_meta).tags = "PII"]; int32 n = 2; string note = 3; }\n',
  JSON: JSON.stringify({
    type: 'object', properties: { text: { type: 'string', 'confluent:tags': ['PII'] }, n: { type: 'integer' }, note: { type: 'string' } },
  }),
};
const INDEXES = (format: Format) => (format === 'PROTOBUF' ? [0] : undefined);

let registry: DevRegistry;
let client: SchemaRegistryClient;
const pool = new EnginePool({ threads: 2, minSliceRecords: 32 });
beforeAll(async () => {
  registry = await startDevRegistry({ port: 0, localSecret: SECRET });
  client = new SchemaRegistryClient({ baseUrls: [registry.url] });
});
afterAll(async () => {
  await pool.close();
  await registry.close();
});

async function engine(mode: JobMode, targetSubject: string, threads: EnginePool | undefined): Promise<RecordTransformer> {
  const keys = new DekManager({
    dekRegistry: new DekRegistryClient({ baseUrls: [registry.url] }),
    kms: { get: () => new LocalKmsDriver({ secret: SECRET }) }, kmsProps: { secret: SECRET },
  });
  const schemas = new SchemaStore(client);
  const target = await schemas.adopt(await client.getLatest(targetSubject), targetSubject);
  return new RecordTransformer({
    schemas, keys, mode, subjectNameStrategy: 'topic', maxInFlight: 8,
    target: { schema: target, subject: targetSubject, topicFor: () => 'out' },
    ...(threads ? { threads } : {}),
  });
}

async function subject(format: Format, ruleSet?: RuleSet): Promise<{ topic: string; id: number; info: SchemaInfo }> {
  const topic = uniqueName(`threads-${format.toLowerCase()}`);
  const info: SchemaInfo = { schemaType: format, schema: SCHEMAS[format], ...(ruleSet ? { ruleSet } : {}) };
  const { id } = await client.register(`${topic}-value`, info);
  return { topic, id, info };
}

function frame(format: Format, id: number, value: { text: string; n: number; note: string }): Buffer {
  const codec = createCodec({ schemaType: format, schema: SCHEMAS[format] }, new Map(), format === 'PROTOBUF' ? { messageIndexes: [0] } : {});
  return encodeFrame(id, codec.encode(value) as Buffer, INDEXES(format));
}

const record = (topic: string, offset: number, value: Buffer): SourceRecord => ({
  topic, partition: offset % 3, offset, key: Buffer.from(`k${offset}`), value, headers: [], timestamp: offset,
});

/** What a result is, comparably: the written bytes, or the halt's code, or the DLQ flag. */
function shape(result: ProcessedRecord | undefined): string {
  if (result === undefined) return 'missing';
  if ('halt' in result) return `halt ${result.halt.code}`;
  return `${result.dlq === true ? 'dlq ' : ''}${result.outputs.map((o) => `${o.topic}/${o.partition} ${o.value?.toString('hex')}`).join(',')}`;
}

async function runBoth(mode: JobMode, targetSubject: string, batches: readonly SourceRecord[][]) {
  const single = await engine(mode, targetSubject, undefined);
  const threaded = await engine(mode, targetSubject, pool);
  const before = { ...pool.counts };
  const out: { single: ProcessedRecord[]; threaded: ProcessedRecord[] }[] = [];
  for (const batch of batches) out.push({ single: await single.process(batch), threaded: await threaded.process(batch) });
  const stats = { single: single.drainStats(), threaded: threaded.drainStats() };
  return { out, stats, done: pool.counts.done - before.done };
}

describe.each(['AVRO', 'PROTOBUF', 'JSON'] as const)('engine worker threads, %s', (format) => {
  const kek = uniqueName('kek');
  const siv = { domainRules: [{ ...encryptRule('siv', kek, { 'encrypt.dek.algorithm': 'AES256_SIV' }) }] };
  // Read failures pass the field as it is (NONE), so a record with plaintext in its tagged field is written.
  const gcm = { domainRules: [{ ...encryptRule('gcm', kek, { 'encrypt.dek.algorithm': 'AES256_GCM' }), onFailure: 'ERROR,NONE' }] };
  const values = (count: number, from: number) => Array.from({ length: count }, (_, i) => ({ text: `secret ${from + i}`, n: from + i, note: `note ${i % 7}` }));

  /** Batches of plain records with the misses and failures mixed in. */
  async function plainBatches(plain: { topic: string; id: number }, other: { topic: string; id: number }, sizes: readonly number[]) {
    let offset = 0;
    return sizes.map((size) => {
      const batch = values(size, offset).map((v) => record(plain.topic, offset++, frame(format, plain.id, v)));
      batch.splice(size >> 1, 0, record(other.topic, offset++, frame(format, other.id, { text: 'other', n: 1, note: '' })));
      batch.splice(size - 3, 0, record(plain.topic, offset++, encodeFrame(999_999, Buffer.from('x'), INDEXES(format))));
      batch.splice(size - 40, 0, record(plain.topic, offset++, Buffer.concat([frame(format, plain.id, values(1, 0)[0]!).subarray(0, 8), Buffer.from([0xff, 0xff])])));
      return batch;
    });
  }

  it('encrypts to AES256_SIV byte for byte as the main thread does, then re-encrypts GCM to SIV the same', { timeout: 120_000 }, async () => {
    const plain = await subject(format);
    const other = await subject(format);
    const sivTarget = await subject(format, siv);
    const batches = await plainBatches(plain, other, [300, 400, 400]);
    const encrypted = await runBoth('encrypt', `${sivTarget.topic}-value`, batches);
    for (const { single, threaded } of encrypted.out) expect(threaded.map(shape)).toEqual(single.map(shape));
    expect(encrypted.done).toBeGreaterThan(300); // the later batches ran on the threads
    expect(encrypted.stats.threaded).toEqual(encrypted.stats.single);
    expect(encrypted.out[0]!.threaded.map(shape).filter((s) => s.startsWith('halt'))).toHaveLength(2);

    // GCM source records (written by the main thread), one with plaintext where ciphertext belongs.
    const gcmSource = await subject(format, gcm);
    const toGcm = await engine('encrypt', `${gcmSource.topic}-value`, undefined);
    const gcmBatches: SourceRecord[][] = [];
    let offset = 0;
    for (const batch of batches) {
      const written = await toGcm.process(batch.filter((r) => r.topic === plain.topic).slice(0, 300));
      const gcmRecords = written.flatMap((r) => ('outputs' in r ? [record(gcmSource.topic, offset++, r.outputs[0]!.value!)] : []));
      gcmRecords.splice(100, 0, record(gcmSource.topic, offset++, frame(format, gcmSource.id, { text: 'not ciphertext', n: 0, note: '' })));
      gcmBatches.push(gcmRecords);
    }
    const reencrypted = await runBoth('reencrypt', `${sivTarget.topic}-value`, gcmBatches);
    for (const { single, threaded } of reencrypted.out) expect(threaded.map(shape)).toEqual(single.map(shape));
    expect(reencrypted.done).toBeGreaterThan(300);
    expect(reencrypted.stats.threaded).toEqual(reencrypted.stats.single);
  });

  it('encrypts to AES256_GCM on the threads, and decrypting gives the source values back', { timeout: 120_000 }, async () => {
    const plain = await subject(format);
    const other = await subject(format);
    const gcmTarget = await subject(format, gcm);
    const plainTarget = await subject(format);
    const batches = await plainBatches(plain, other, [300, 400]);
    const threaded = await engine('encrypt', `${gcmTarget.topic}-value`, pool);
    const decrypt = await engine('decrypt', `${plainTarget.topic}-value`, pool);
    const codec = createCodec({ schemaType: format, schema: SCHEMAS[format] }, new Map(), format === 'PROTOBUF' ? { messageIndexes: [0] } : {});
    const before = pool.counts.done;
    for (const batch of batches) {
      const encrypted = await threaded.process(batch);
      const written = encrypted.flatMap((r, i) => ('outputs' in r ? [{ source: batch[i]!, value: r.outputs[0]!.value! }] : []));
      for (const { value } of written) expect(value.includes(Buffer.from('secret '))).toBe(false);
      const back = await decrypt.process(written.map((w, i) => record(gcmTarget.topic, i, w.value)));
      back.forEach((r, i) => {
        if (!('outputs' in r)) throw new Error(`record ${i} did not decrypt: ${shape(r)}`);
        const got = codec.decode(decodeFrame(r.outputs[0]!.value!, { messageIndexes: format === 'PROTOBUF' }).payload);
        const want = codec.decode(decodeFrame(written[i]!.source.value!, { messageIndexes: format === 'PROTOBUF' }).payload);
        expect(got).toEqual(want);
      });
    }
    expect(pool.counts.done - before).toBeGreaterThan(300);
  });
});
